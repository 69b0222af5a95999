#!/usr/bin/env bash
# One sim test (tests/sim/CMakeLists.txt): P ranks under smpirun run every algorithm of
# MpiCommunicator on the collectives tests' lengths (allreduce-hash-smpi), and the same
# algorithm classes run in one process over InProcessTransport threads
# (allreduce-hash-in-process). Every exact sum must be right (wrong 0, `mpi` included) and
# every hash of a float sum the same on both sides: the simulated code path sums in the same
# order as the real algorithms.
# Usage: compare.sh SMPI_PROGRAM IN_PROCESS_PROGRAM PLATFORM P [K]   (K ranks per host)
set -euo pipefail
smpi_program=$1 in_process=$2 platform=$3 p=$4 k=${5:-1}
here="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # smpirun leaves smpitmp-* files in the current directory
bash "$here/../../cluster/platforms/make-platform.sh" hostfile "$p" "$k" > "$work/hosts"
sizes=$(sed 's/.*://' "$work/hosts" | paste -sd, -)
smpirun -np "$p" -platform "$platform" -hostfile "$work/hosts" \
  --cfg=smpi/privatization:1 --cfg=smpi/simulate-computation:no \
  --cfg=smpi/coll-selector:ompi --cfg=smpi/bw-factor:0:1 --cfg=smpi/lat-factor:0:1 \
  --log=root.thr:critical --log=xbt_cfg.thr:critical \
  "$smpi_program" > "$work/smpi.txt"
"$in_process" "$p" "$sizes" > "$work/in_process.txt"
status=0
if grep -v '^wrong mpi ' "$work/smpi.txt" | diff "$work/in_process.txt" - > "$work/diff.txt"; then
  :
else
  echo "simulated (+) and in-process (-) results differ at P=$p, hosts $sizes:"
  cat "$work/diff.txt"
  status=1
fi
if grep -v ' 0$' "$work/smpi.txt" | grep '^wrong'; then
  echo "wrong sums under SMPI at P=$p"
  status=1
fi
echo "P=$p hosts $sizes: $(grep -c '^hash' "$work/smpi.txt") hashes, $(grep -c '^wrong' "$work/smpi.txt") exact checks"
exit $status
