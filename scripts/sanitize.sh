#!/usr/bin/env bash
# The sanitizer leg of CI (issue 12): an AddressSanitizer + UndefinedBehaviorSanitizer build
# of dtrain and its tests in build-asan/, then the unit and mpi tests under it. A finding
# stops the test (UBSan does not recover) so CTest reports it as a failure.
#   scripts/sanitize.sh [CTEST LABEL REGEX, default "unit|mpi"]
set -euo pipefail
cd "$(dirname "$0")/.."
labels="${1:-unit|mpi}"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDTRAIN_SANITIZE=ON \
  -DDTRAIN_WERROR="${DTRAIN_WERROR:-OFF}" > /dev/null
# Only the test programs the labels run (and what they link), not bench/ or the e2e tests.
mapfile -t targets < <(cmake --build build-asan --target help |
  sed -n 's/^\.\.\. \(\(unit\|mpi\)_test_[a-z0-9_]*\).*/\1/p')
cmake --build build-asan -j "$(nproc)" --target "${targets[@]}"
source scripts/mpi-env.sh
# Open MPI keeps some start-up allocations until exit on purpose; those (and only those) are
# suppressed, every leak in dtrain's code still fails the test.
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd build-asan
ctest --output-on-failure --timeout 600 -L "$labels"
