#!/usr/bin/env bash
# Makes the demo's "road" camera video from the labelled US road photos of ../shared/data:
# each car photo (scaled to 1280 px wide) slides 1280 px across a grey road (1920x1080, 10 fps)
# in 4 s, entering at the left edge, then 1 s of empty road, so the detector tracks one passing
# vehicle at a time, every car crosses the middle of the picture (the demo's counting line) and
# the plate reader sees its plate at full resolution. The first COUNT photos by name that are at least 1280 px wide
# are used (no selection by how well they read); their labels are written beside the video
# (road.plates.tsv: second, plate) so a demo user can check what the reader found.
#
# usage: tools/road_video.sh PLATES_DIR OUT.mp4 [COUNT]   (called by tools/setup.sh)
set -euo pipefail
src=$1
out=$2
count=${3:-12}
[ -d "$src" ] || { echo "road_video: $src is not a folder" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
: > "$tmp/labels.tsv"
for photo in $(find "$src" -maxdepth 1 -name '*.jpg' | LC_ALL=C sort); do
  [ "$n" -lt "$count" ] || break
  label=${photo%.jpg}.txt
  [ -s "$label" ] || continue
  width=$(ffprobe -v error -select_streams v:0 -show_entries stream=width -of csv=p=0 "$photo")
  [ "${width:-0}" -ge 1280 ] || continue
  # 4 s of the car moving 1280 px to the right (from x = -320), then 1 s of empty road.
  ffmpeg -v error -y -f lavfi -i "color=c=0x5a5a5a:s=1920x1080:r=10:d=5" \
    -loop 1 -framerate 10 -t 4 -i "$photo" \
    -filter_complex "[1:v]scale=1280:-2,crop=1280:'min(ih,720)'[car];[0:v][car]overlay=x='320*t-320':y='(H-h)/2':eof_action=pass:format=auto[v]" \
    -map '[v]' -an -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -g 20 -bf 0 \
    -r 10 "$tmp/$(printf '%03d' "$n").mp4"
  printf '%d\t%s\n' $((n * 5)) "$(cut -f6 "$label" | tr -d '\r\n')" >> "$tmp/labels.tsv"
  echo "file '$tmp/$(printf '%03d' "$n").mp4'" >> "$tmp/list.txt"
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "road_video: no photo of at least 1280 px with a label in $src" >&2; exit 1; }
ffmpeg -v error -y -f concat -safe 0 -i "$tmp/list.txt" -c copy -movflags +faststart "$out.part.mp4"
mv "$out.part.mp4" "$out"
mv "$tmp/labels.tsv" "${out%.mp4}.plates.tsv"
echo "road_video: $n cars, $((n * 5)) s -> $out"
