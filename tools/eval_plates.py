#!/usr/bin/env python3
"""Evaluates `custos plate read` on a folder of labelled road photos (docs/plates.md).

Each NAME.txt beside NAME.jpg holds one line `file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE` (the
OpenALPR benchmark format of ../shared/data/plates/us). Runs the CLI once over all photos with
--json --timing and reports:
  detection   a read whose character box lies mostly (>= 50 %) inside the labelled plate box
  top-1       that read's text equals the label (upper case, spaces and dashes ignored)
  top-5       the label is among that read's candidates
  first       the image's first (best) plate equals the label
  ms/photo    mean time per photo, reading included, model loading excluded
Exit status 1 if a --min-* floor is not met.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def norm(s):
    return re.sub(r"[^A-Z0-9]", "", s.upper())


def on_plate(read, plate):
    rx, ry, rw, rh = read
    px, py, pw, ph = plate
    ix = max(0, min(rx + rw, px + pw) - max(rx, px))
    iy = max(0, min(ry + rh, py + ph) - max(ry, py))
    return rw * rh > 0 and ix * iy >= 0.5 * rw * rh


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "../shared/data/plates/us"))
    ap.add_argument("--custos", default=os.path.join(ROOT, "build/custos"))
    ap.add_argument("--country", default="us")
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos")
    ap.add_argument("--misses", action="store_true", help="list the photos read wrong")
    ap.add_argument("--min-detection", type=float, default=0)
    ap.add_argument("--min-top1", type=float, default=0)
    ap.add_argument("extra", nargs="*", help="more flags for `custos plate read` (after --)")
    args = ap.parse_args()
    labels = {}
    for txt in sorted(glob.glob(os.path.join(args.data, "*.txt"))):
        f, x, y, w, h, text = open(txt).read().split()[:6]
        labels[os.path.join(args.data, f)] = ((int(x), int(y), int(w), int(h)), norm(text))
    if not labels:
        sys.exit(f"no labelled photos in {args.data} (see ../shared/data/PROVENANCE.md)")
    files = list(labels)[: args.limit or None]
    cmd = [args.custos, "plate", "read", "--json", "--timing", "--country", args.country,
           *args.extra, *files]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"custos plate read failed ({run.returncode}): {run.stderr.strip()}")
    results = json.loads(run.stdout)
    det = top1 = top5 = first = 0
    ms = 0.0
    for entry in results:
        box, want = labels[entry["file"]]
        ms += entry.get("time_ms", 0)
        plates = entry.get("plates", [])
        hit = next((p for p in plates if on_plate(p["box"], box)), None)
        if plates and norm(plates[0]["text"]) == want:
            first += 1
        if hit is None:
            if args.misses:
                print(f"MISS {os.path.basename(entry['file'])}: want {want}, nothing on the plate")
            continue
        det += 1
        cands = [norm(c["text"]) for c in hit["candidates"]]
        top1 += norm(hit["text"]) == want
        top5 += want in cands[:5]
        if args.misses and norm(hit["text"]) != want:
            print(f"MISS {os.path.basename(entry['file'])}: want {want}, read {hit['text']} "
                  f"({hit['confidence']}), candidates {' '.join(cands)}")
    n = len(results)
    report = {"photos": n, "detection": round(det / n, 3), "top1": round(top1 / n, 3),
              "top5": round(top5 / n, 3), "first_plate_top1": round(first / n, 3),
              "ms_per_photo": round(ms / n, 1)}
    print(json.dumps(report))
    ok = report["detection"] >= args.min_detection and report["top1"] >= args.min_top1
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
