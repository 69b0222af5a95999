#!/usr/bin/env bash
# slurm/mpi-tests.sbatch on the local cluster: dtrain's MPI test binaries launched by srun
# --mpi=pmix instead of mpiexec, at 2 ranks here to stay short, all pass.
#   mpi_tests_sbatch_test.sh WORK_DIR   (env: BUILD_DIR, DTRAIN_ROOT, SLURM_CONF)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
: "${BUILD_DIR:?BUILD_DIR (the build tree with tests/mpi_test_*) must be set}"
need_cluster
rm -rf "$work" && mkdir -p "$work"
start=$SECONDS
job="$(MPI_TEST_RANKS=2 submit --ntasks=2 --time=10 --chdir="$work" --output="$work/job.out" \
  "$DTRAIN_ROOT/slurm/mpi-tests.sbatch")"
state="$(wait_job "$job" 240)"
echo "job $job: $state after $((SECONDS - start)) s"
cat "$work/job.out"
[ "$state" = COMPLETED ] || fail "job $job ended $state"
n="$(grep -c '^PASS mpi_test_' "$work/job.out" || true)"
[ "$n" -ge 1 ] && ! grep -q '^FAIL' "$work/job.out" || fail "expected every MPI test to pass under srun ($n passed)"
echo "PASS: $n MPI test binaries under srun"
