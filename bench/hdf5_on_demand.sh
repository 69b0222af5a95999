#!/usr/bin/env bash
# HDF5 on-demand reading against in-memory IDX for the main job (cnn, np=2, global batch
# 128): training throughput and each rank's peak resident set (GNU time's %M).
#   bench/hdf5_on_demand.sh [ROUNDS] [MAX_STEPS]     (defaults 3 rounds, 200 steps; BUILD=dir)
# The HDF5 copy is Fashion-MNIST (uint8, 60000x28x28 = 44.9 MiB of training examples) read
# with --data-memory-mb 10, i.e. 4.5x larger than the in-memory limit; runs interleave IDX
# and HDF5 so load from other processes hits both alike; medians are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi-env.sh
rounds=${1:-3}
steps=${2:-200}
build=${BUILD:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/bench/fashion_to_hdf5" "$out/fashion.h5" > /dev/null
common=(--model cnn --epochs 1 --max-steps "$steps" --batch-size 128 --val-size 1000 --progress never)
run() {  # tag, dtrain options...
  local tag=$1
  shift
  mpirun -np 2 --bind-to none /usr/bin/time -f "maxrss_kb %M" "$build/src/dtrain" "${common[@]}" \
    --metrics "$out/$tag.jsonl" "$@" > "$out/$tag.log" 2>&1
  local sps rss
  sps=$(grep '"event":"epoch"' "$out/$tag.jsonl" | sed 's/.*"samples_per_sec":\([0-9.e+]*\).*/\1/')
  rss=$(grep maxrss_kb "$out/$tag.log" | awk '{print $2}' | sort -n | tail -1)
  echo "$tag $sps $rss"
}
results=()
for ((r = 0; r < rounds; ++r)); do
  results+=("$(run idx-$r --data /usr/share/datasets/fashion-mnist)")
  results+=("$(run h5-$r --data "$out/fashion.h5" --data-memory-mb 10)")
done
printf '%s\n' "${results[@]}"
printf '%s\n' "${results[@]}" | awk '
  { kind = substr($1, 1, index($1, "-") - 1); sps[kind, ++n[kind]] = $2; rss[kind, n[kind]] = $3 }
  function median(arr, kind, count,   i, j, t, v) {
    for (i = 1; i <= count; ++i) v[i] = arr[kind, i]
    for (i = 1; i <= count; ++i) for (j = i + 1; j <= count; ++j) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
  }
  END {
    si = median(sps, "idx", n["idx"]); sh = median(sps, "h5", n["h5"])
    ri = median(rss, "idx", n["idx"]); rh = median(rss, "h5", n["h5"])
    printf "median samples/s: idx %.0f, hdf5 on demand %.0f (ratio %.3f)\n", si, sh, sh / si
    printf "median peak RSS per rank (max of 2 ranks): idx %.1f MiB, hdf5 on demand %.1f MiB\n", ri / 1024, rh / 1024
  }'
