#!/usr/bin/env bash
# slurm/train.sbatch, scaling.sbatch and mpi-tests.sbatch run outside a Slurm allocation refuse with a
# clear message and exit code 2, before starting anything. Needs no cluster.
#   refuse_outside_allocation_test.sh   (env: DTRAIN_ROOT)
set -euo pipefail
: "${DTRAIN_ROOT:?DTRAIN_ROOT (the source tree) must be set}"
fail() { echo "FAIL (refuse_outside_allocation): $*" >&2; exit 1; }

for script in train.sbatch scaling.sbatch mpi-tests.sbatch; do
  set +e
  # No SLURM_* variable may leak in from a surrounding allocation (ctest run inside salloc).
  msg="$(env $(env | sed -n 's/^\(SLURM_[A-Z_]*\)=.*/-u \1/p') DTRAIN=/bin/false \
    bash "$DTRAIN_ROOT/slurm/$script" --epochs 1 2>&1)"
  rc=$?
  set -e
  echo "$script: exit $rc: $msg"
  [ "$rc" = 2 ] || fail "$script outside an allocation exited $rc, expected 2"
  grep -q "not inside a Slurm allocation" <<< "$msg" || fail "$script: the message does not say it needs an allocation"
  grep -q "sbatch slurm/$script" <<< "$msg" || fail "$script: the message does not say how to submit it"
done
echo "PASS"
