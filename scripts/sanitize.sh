#!/usr/bin/env bash
# The sanitizer leg of CI (issue 12): an AddressSanitizer + UndefinedBehaviorSanitizer build
# of dtrain and its tests in build-asan/, then the unit and mpi tests under it. A finding
# stops the test (UBSan does not recover) so CTest reports it as a failure.
#   scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDTRAIN_SANITIZE=ON \
  -DDTRAIN_WERROR="${DTRAIN_WERROR:-OFF}" > /dev/null
# Only the test programs the labels run (and what they link), not bench/ or the e2e tests.
mapfile -t targets < <(cmake --build build-asan --target help |
  sed -n 's/^\.\.\. \(\(unit\|mpi\)_test_[a-z0-9_]*\).*/\1/p')
cmake --build build-asan -j "$(nproc)" --target "${targets[@]}"
source scripts/mpi-env.sh
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd build-asan
status=0
# Leaks count in the unit tests. Under mpirun they cannot: Open MPI's components keep
# start-up allocations and are unloaded (dlclose) before LeakSanitizer looks, so their
# reports have no module to suppress by; ASan's memory errors and UBSan still stop those tests.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" ctest --output-on-failure --timeout 600 -L unit ||
  status=1
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" ctest --output-on-failure --timeout 600 -L mpi ||
  status=1
exit $status
