#!/usr/bin/env bash
# The test suite, as CI runs it (.ci/run calls exactly this):
#   1. tools/setup.sh (idempotent: packages, .venv, models, sample video, build/)
#   2. every test of build/ through ctest (unit, real-data, CLI and server end-to-end, RTSP,
#      the web UI in Chromium against `custos demo`, the web UI's vitest suite)
#   3. an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/) and its tests
#      except the end-to-end ones, the web UI's own (TypeScript) tests and those that run
#      OpenVINO (its TBB cannot load under ASan)
#   4. clang-format check of every C++ file
# Long soak and load runs are not here: see bench/README.md.
#
# usage: tools/test.sh [--quick]   (--quick skips the sanitizer build)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
JOBS=$(nproc)

tools/setup.sh

printf '\n==> Tests (build/)\n'
ctest --test-dir build --output-on-failure -j "$JOBS"

if [ "$QUICK" -eq 0 ]; then
  printf '\n==> AddressSanitizer + UBSan build (build-asan/)\n'
  tools/setup.sh --build-dir build-asan \
    --cmake-args "-DCUSTOS_SANITIZE=ON -DCUSTOS_BENCHMARKS=OFF"
  # OpenVINO and TBB are not instrumented; their one-time allocations are not ours to report.
  export ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -LE "e2e|openvino|web"
fi

printf '\n==> clang-format\n'
git ls-files '*.h' '*.cc' | xargs clang-format --dry-run --Werror
printf '\nAll tests passed.\n'
