#!/usr/bin/env bash
# Single-rank training throughput of every built-in image family, dtrain against its PyTorch
# peer (bench/torch_families.py: the same network, batch, optimizer and threads), interleaved
# model by model and round by round so that both see the same machine state. PyTorch runs
# with glibc's malloc thresholds raised (without them it returns its activation buffers to
# the kernel and faults them back in every step: ~40% slower here), its best case.
#   bench/families_vs_pytorch.sh [rounds=3] [steps=150] [threads=1] [models...]
# Prints each run, then a table of medians (samples/s; a GAN counts real images), their ratio,
# and each side's peak resident set (GNU time's maximum RSS of the whole process: dtrain loads
# the 70,000 images, PyTorch the same plus its interpreter and libraries).
# Needs: a Release build in build/, apt-get install python3-torch dataset-fashion-mnist time.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
steps="${2:-150}"
threads="${3:-1}"
shift $(($# < 3 ? $# : 3))
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(cnn mlp lstm autoencoder conv-autoencoder gan gan-mlp)
source scripts/mpi-env.sh
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
field() { sed -n "s/.*\"samples_per_sec\": *\([0-9.e+]*\).*/\1/p" | head -1; }
for i in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    /usr/bin/time -f %M -o "$out/rss" build/src/dtrain --model "$m" --epochs 1 \
      --max-steps "$steps" --threads "$threads" --progress never --metrics "$out/m.jsonl" \
      > /dev/null
    d=$(grep '"event":"epoch"' "$out/m.jsonl" | field)
    dr=$(tail -1 "$out/rss")
    t=$(MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296 \
      /usr/bin/time -f %M -o "$out/rss" \
      /usr/bin/python3 bench/torch_families.py --model "$m" --steps "$steps" --threads "$threads" |
      field)
    tr=$(tail -1 "$out/rss")
    printf 'round %d %-17s dtrain %8.0f  pytorch %8.0f samples/s  rss %4d / %4d MiB  (load %s)\n' \
      "$i" "$m" "$d" "$t" $((dr / 1024)) $((tr / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
    echo "$d" >> "$out/$m.d"
    echo "$t" >> "$out/$m.t"
    echo $((dr / 1024)) >> "$out/$m.dr"
    echo $((tr / 1024)) >> "$out/$m.tr"
  done
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '\n%-17s %14s %14s %8s %12s %12s   (medians of %d rounds, %d steps, batch 128, %d thread(s))\n' \
  model dtrain pytorch ratio "dtrain MiB" "pytorch MiB" "$rounds" "$steps" "$threads"
for m in "${models[@]}"; do
  dm=$(median "$out/$m.d")
  tm=$(median "$out/$m.t")
  printf '%-17s %14.0f %14.0f %7.2fx %12.0f %12.0f\n' "$m" "$dm" "$tm" \
    "$(echo "$dm / $tm" | bc -l)" "$(median "$out/$m.dr")" "$(median "$out/$m.tr")"
done
