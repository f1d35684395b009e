#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for Custos and builds it: Debian packages, the project's
# Python virtual environment (.venv, whose openvino wheel carries the OpenVINO C++ SDK), the
# models named in models/manifest.yaml (into var/models/), the sample video (var/data/), and
# the CMake build (build/, CLI at build/custos). Idempotent: re-running only redoes what is
# missing or out of date.
#
# usage: tools/setup.sh [--build-dir DIR] [--cmake-args "..."] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=build
CMAKE_ARGS=""
DO_BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --cmake-args) CMAKE_ARGS=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3-venv
  clang clang-format clang-tidy
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  libopencv-dev libabsl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  nlohmann-json3-dev libsodium-dev libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev
  libdlib-dev libopenblas-dev liblapack-dev
  golang-go
  ffmpeg
  chromium
  gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-tools gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with a nodejs package of another origin (it conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  step "Installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

step "Python virtual environment (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
if ! .venv/bin/pip freeze 2>/dev/null | grep -qx "openvino==2026.4.1" \
   || ! .venv/bin/python -c "import tensorboard.compat.proto.graph_pb2, yaml" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
  # Only the TensorFlow protobuf definitions inside tensorboard are used (model conversion).
  .venv/bin/pip install -q --disable-pip-version-check --no-deps tensorboard==2.21.0
fi

step "Models (models/manifest.yaml -> var/models/)"
.venv/bin/python tools/models/provision.py

step "Sample video (Debian opencv-doc: vtest.avi -> var/data/)"
mkdir -p var/data
if [ ! -s var/data/vtest.avi ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download opencv-doc >/dev/null && dpkg-deb -x opencv-doc_*.deb x)
  cp "$tmp"/x/usr/share/doc/opencv-doc/examples/data/vtest.avi var/data/
  rm -rf "$tmp"
fi

# The demo's cameras play H.264 (what RTSP cameras send and browsers play back); vtest.avi is
# MPEG-4 part 2, so it is transcoded once, deterministically enough for a demo.
if [ ! -s var/data/vtest.mp4 ]; then
  ffmpeg -v error -y -i var/data/vtest.avi -an -c:v libx264 -preset veryfast -crf 23 \
    -pix_fmt yuv420p -g 20 -bf 0 -movflags +faststart var/data/vtest.mp4.part.mp4
  mv var/data/vtest.mp4.part.mp4 var/data/vtest.mp4
fi

# The demo's road camera (plate reading, vehicle counts): cars from the labelled US road photos
# of ../shared/data passing one at a time. Without that folder the demo runs without it.
if [ ! -s var/data/road.mp4 ]; then
  if [ -d ../shared/data/plates/us ]; then
    tools/road_video.sh ../shared/data/plates/us var/data/road.mp4
  else
    echo "no ../shared/data/plates/us: the demo runs without its road camera"
  fi
fi

# --- Web UI (web/ -> web/dist, served by the API server; docs/web.md) ---------------------
step "Web UI (web/ -> web/dist)"
# Rebuilt only when dist is missing or older than a source, package or lock file.
if [ ! -f web/dist/index.html ] \
   || [ -n "$(find web/index.html web/package.json web/package-lock.json web/vite.config.ts \
                   web/tsconfig.json web/src web/public -newer web/dist/index.html -print -quit)" ]; then
  [ -d web/node_modules ] && [ ! web/package-lock.json -nt web/node_modules/.package-lock.json ] \
    || (cd web && npm ci --no-audit --no-fund)
  (cd web && npm run build)
fi
# --- end Web UI ---------------------------------------------------------------------------

if [ "$DO_BUILD" -eq 1 ]; then
  step "Build ($BUILD_DIR)"
  # shellcheck disable=SC2086
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $CMAKE_ARGS >/dev/null
  cmake --build "$BUILD_DIR"
fi
step "Setup done: CLI at $ROOT/$BUILD_DIR/custos"
