#!/usr/bin/env bash
# The sanitizer leg of CI (issue 12): an AddressSanitizer + UndefinedBehaviorSanitizer build
# of dtrain and its tests in build-asan/, then the unit and mpi tests under it. A finding
# stops the test (UBSan does not recover) so CTest reports it as a failure. Then a
# ThreadSanitizer build (build-tsan/) of the tests whose code runs threads: the communication
# thread, the synchronizer and compression that run on it, the watchdog, and the pool of the
# engine's own loops.
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
cd ..

thread_tests=(unit_test_comm_thread unit_test_gradient_synchronizer unit_test_gradient_compression
  unit_test_watchdog unit_test_parallel)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDTRAIN_TSAN=ON \
  -DDTRAIN_WERROR="${DTRAIN_WERROR:-OFF}" > /dev/null
cmake --build build-tsan -j "$(nproc)" --target "${thread_tests[@]}" unit_test_collectives
cd build-tsan
# halt_on_error: a data race fails the test instead of scrolling by.
regex="^($(IFS='|'; echo "${thread_tests[*]}"))\$"
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" ctest --output-on-failure --timeout 600 \
  -R "$regex" || status=1
# The host barrier and the hierarchical algorithms (staged and in place) between threads that
# share memory, ordered only by the barrier's atomics. The flat algorithms' cases are left
# out: their threads meet only in the in-process transport's mutexes, and with them the
# binary takes ~2.5 min under TSan; without them ~1 min.
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
  GTEST_FILTER='-*/ring_*:*/rd_*:*/rabenseifner_*:Collectives.ScratchStopsGrowingInSteadyState' \
  timeout 600 tests/unit_test_collectives || status=1
exit $status
