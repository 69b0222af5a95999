#!/usr/bin/env bash
# Simulated allreduce times (docs/simulation.md, "First figures"): dtrain's algorithms and
# SMPI's MPI_Allreduce (Open MPI's and MPICH's selection) under SimGrid on the shipped
# platforms, from `dtrain-smpi bench allreduce --json`, 8 B .. 16 MiB, P = 2 .. 128.
# Simulated times are deterministic: one timed iteration per point is enough, and the machine's
# load does not change them (only the wall time of the sweep).
#
#   bash bench/sim_allreduce_sweep.sh [OUT_DIR]
#   PLATFORMS="flat-10g multicore-25g" RANKS="2 8 32" CAPS="128:16777216" bash bench/...
#
# Writes OUT_DIR/results.jsonl (the bench's JSON lines plus "platform", "ranks_per_host" and
# "selector"), OUT_DIR/runs.tsv (wall seconds and peak RSS of each simulation) and
# OUT_DIR/table.md. Each simulation runs alone (never two at once) under a 600 s limit; at
# P = 128 and 16 MiB one needs about 5 GB. Keep P <= 128 on a shared machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=${1:-$root/bench/results/sim-allreduce-$(date -u +%Y%m%d)}
platforms=${PLATFORMS:-flat-10g fattree-25g fattree-100g multicore-25g}
ranks=${RANKS:-2 4 8 16 32 64 128}
# The largest message per P, "P_UP_TO:BYTES ...": the simulation's wall time grows with P and
# the message size (P = 32 up to 16 MiB took 167 s for our five algorithms, load included),
# so larger P stop earlier to keep each simulation well inside 10 minutes.
caps=${CAPS:-16:16777216 32:4194304 128:1048576}
max_bytes_for() {
  local cap
  for cap in $caps; do
    if [ "$1" -le "${cap%%:*}" ]; then echo "${cap#*:}"; return; fi
  done
  echo 1048576
}
binary=${DTRAIN_SMPI:-$root/build/src/dtrain-smpi}
[ -x "$binary" ] || { echo "no $binary: build with libsimgrid-dev installed (scripts/build.sh)" >&2; exit 2; }
mkdir -p "$out"
: > "$out/results.jsonl"
printf 'platform\tranks\tselector\talgos\twall_s\tmax_rss_kb\tstatus\n' > "$out/runs.tsv"
out=$(mkdir -p "$out" && cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # smpirun leaves smpitmp-* files in the current directory
hosts=$work/hosts

simulate() {  # PLATFORM P K SELECTOR ALGOS
  local platform=$1 p=$2 k=$3 selector=$4 algos=$5 status=ok
  bash "$root/cluster/platforms/make-platform.sh" hostfile "$p" "$k" > "$hosts"
  local start=$SECONDS
  if ! /usr/bin/time -f %M -o "$hosts.time" timeout 600 smpirun -np "$p" \
      -platform "$root/cluster/platforms/$platform.xml" -hostfile "$hosts" \
      --cfg=smpi/privatization:1 --cfg=smpi/simulate-computation:no \
      --cfg=smpi/coll-selector:"$selector" --cfg=smpi/bw-factor:0:1 --cfg=smpi/lat-factor:0:1 \
      --log=root.thr:critical --log=xbt_cfg.thr:critical \
      "$binary" bench allreduce --json --algo "$algos" --min-bytes 8 \
      --max-bytes "$(max_bytes_for "$p")" \
      --iters 1 > "$hosts.json"; then
    status=failed
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$platform" "$p" "$selector" "$algos" \
    $((SECONDS - start)) "$(tail -1 "$hosts.time")" "$status" >> "$out/runs.tsv"
  grep '^{"algo"' "$hosts.json" | sed "s/}\$/,\"platform\":\"$platform\",\"ranks_per_host\":$k,\"selector\":\"$selector\"}/" \
    >> "$out/results.jsonl" || true
  echo "$platform P=$p K=$k $selector $algos: $((SECONDS - start)) s, $status" >&2
}

for platform in $platforms; do
  k=1
  [ "$platform" = multicore-25g ] && k=8
  for p in $ranks; do
    # Ours and MPI_Allreduce in separate simulations: each keeps its scratch, and at P = 128
    # and 16 MiB together they would pass 8 GB.
    simulate "$platform" "$p" "$k" ompi auto,ring,rd,rabenseifner,hierarchical
    simulate "$platform" "$p" "$k" ompi mpi
    simulate "$platform" "$p" "$k" mpich mpi
  done
done
python3 "$root/bench/sim_allreduce_table.py" "$out/results.jsonl" > "$out/table.md"
echo "wrote $out/results.jsonl, $out/runs.tsv, $out/table.md" >&2
