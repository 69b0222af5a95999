#!/usr/bin/env bash
# Single-rank training throughput of the reference CNN (batch 128, Adam, 1 thread): dtrain
# against PyTorch (Debian's python3-torch, bench/torch_peer.py), interleaved so both see
# the same machine state. Prints each run and the medians and their ratio.
#   bench/throughput_vs_pytorch.sh [rounds=3] [steps=300]
# Needs: a Release build in build/, apt-get install python3-torch dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
steps="${2:-300}"
source scripts/mpi-env.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
out="$(mktemp -d)"
for i in $(seq "$rounds"); do
  build/src/dtrain --epochs 1 --max-steps "$steps" --threads 1 --progress never \
    --metrics "$out/dtrain.jsonl" > /dev/null
  d=$(grep '"event":"epoch"' "$out/dtrain.jsonl" | sed 's/.*"samples_per_sec":\([0-9.]*\).*/\1/')
  t=$(/usr/bin/python3 bench/torch_peer.py --epochs 1 --max-steps "$steps" --no-eval --threads 1 |
      grep '"event": "epoch"' | sed 's/.*"samples_per_sec": \([0-9.]*\).*/\1/')
  printf 'round %d: dtrain %.0f samples/s, pytorch %.0f samples/s\n' "$i" "$d" "$t"
  echo "$d" >> "$out/d"; echo "$t" >> "$out/t"
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
dm=$(median "$out/d"); tm=$(median "$out/t")
printf 'median: dtrain %.0f samples/s, pytorch %.0f samples/s, ratio %.2fx\n' "$dm" "$tm" \
  "$(echo "$dm / $tm" | bc -l)"
rm -rf "$out"
