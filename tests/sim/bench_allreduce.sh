#!/usr/bin/env bash
# The sim test of dtrain-smpi itself (docs/simulation.md): `bench allreduce --json` under
# smpirun with every algorithm, SMPI's MPI_Allreduce under both coll-selectors, one rank a host
# and 3 ranks a host. Every line must have wrong 0, every algorithm and size must be there, and
# a second run must print the same bytes (simulated times are deterministic).
# Usage: bench_allreduce.sh DTRAIN_SMPI PLATFORMS_DIR
set -euo pipefail
binary=$1 platforms=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # smpirun leaves smpitmp-* files in the current directory
algos=auto,ring,rd,rabenseifner,hierarchical,mpi
run() {  # P K PLATFORM SELECTOR OUT
  bash "$platforms/make-platform.sh" hostfile "$1" "$2" > "$work/hosts"
  smpirun -np "$1" -platform "$platforms/$3" -hostfile "$work/hosts" \
    --cfg=smpi/privatization:1 --cfg=smpi/simulate-computation:no \
    --cfg=smpi/coll-selector:"$4" --cfg=smpi/bw-factor:0:1 --cfg=smpi/lat-factor:0:1 \
    --log=root.thr:critical --log=xbt_cfg.thr:critical \
    "$binary" bench allreduce --json --algo "$algos" --min-bytes 4 --max-bytes 1048576 \
    --iters 2 > "$5"
}
status=0
check() {  # FILE WHAT
  local lines expected
  lines=$(grep -c '^{"algo"' "$1" || true)
  expected=$((6 * 19))  # 6 algorithms x 4 B .. 1 MiB
  if [ "$lines" -ne "$expected" ]; then
    echo "$2: $lines result lines, expected $expected"; status=1
  fi
  if grep '^{"algo"' "$1" | grep -v '"wrong":0[,}]'; then
    echo "$2: wrong sums above"; status=1
  fi
}
run 5 1 flat-10g.xml ompi "$work/ompi.json"
check "$work/ompi.json" "P=5, ompi selector"
run 5 1 flat-10g.xml mpich "$work/mpich.json"
check "$work/mpich.json" "P=5, mpich selector"
run 6 3 multicore-25g.xml ompi "$work/shm.json"
check "$work/shm.json" "P=6 on 2 hosts of 3"
if ! grep -q '"algo":"auto".*"chosen":"hierarchical"' "$work/shm.json"; then
  echo "P=6 on 2 hosts of 3: auto did not choose hierarchical"; status=1
fi
run 5 1 flat-10g.xml ompi "$work/again.json"
if ! cmp -s "$work/ompi.json" "$work/again.json"; then
  echo "two runs of the same simulation printed different figures:"
  diff "$work/ompi.json" "$work/again.json" | head
  status=1
fi
grep -h '"bytes":1048576' "$work/ompi.json" "$work/shm.json"
exit $status
