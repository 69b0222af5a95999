#!/usr/bin/env bash
# Peak resident set of every rank of a training run, next to what the run's data and model
# hold: the issue's "RSS below 1.2x what the data and model need", measured.
#   bench/memory_budget.sh [np=2] [model=cnn] [extra dtrain options...]
# Runs the job under mpirun with GNU time around each rank (peak RSS of that process), then
# the same job on 8,000 synthetic images with the mlp: the runtime's own share (libraries,
# Open MPI, OpenBLAS; it holds 6.3 MB of data and 3.3 MB of model state itself). Prints the
# data's bytes (images are kept as bytes), the model state (parameters, gradients and the
# optimizer's arrays: 16 bytes a parameter with Adam) and each rank's RSS above the runtime.
# Activations come on top of data and model; heaptrack shows them (README, "Memory").
# Needs: a Release build in build/, apt-get install dataset-fashion-mnist time.
set -euo pipefail
cd "$(dirname "$0")/.."
np="${1:-2}"
model="${2:-cnn}"
shift $(($# < 2 ? $# : 2))
source scripts/mpi-env.sh
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# run TAG ARGS...: the job under mpirun, each rank's peak RSS in $out/TAG.rss.RANK (KiB).
run() {
  local tag="$1"
  shift
  mpirun -np "$np" --oversubscribe sh -c \
    '/usr/bin/time -f %M -o "$0.rss.$OMPI_COMM_WORLD_RANK" "$@"' "$out/$tag" \
    build/src/dtrain "$@" --progress never --checkpoint-dir "$out/$tag-ckpt" \
    --output-dir "$out/$tag-out" > "$out/$tag.log" 2>&1 ||
    { cat "$out/$tag.log"; exit 1; }
}
run job --model "$model" "$@"
run runtime --model mlp --data synthetic --epochs 1

# The model line: "dtrain: model M (task T, P parameters...), DATA: A train / B val / C test".
# Prints "parameters examples" of a run's log.
sizes() {
  local line
  line=$(grep '^dtrain: model' "$1" | head -1)
  echo "$(sed -n 's/.* \([0-9]*\) parameters.*/\1/p' <<< "$line")" \
    "$(sed -n 's/.*: \([0-9]*\) train \/ \([0-9]*\) val \/ \([0-9]*\) test$/\1 \2 \3/p' <<< "$line" |
      awk '{print $1 + $2 + $3}')"
}
grep '^dtrain: model' "$out/job.log" | head -1
awk -v job_sizes="$(sizes "$out/job.log")" -v runtime_sizes="$(sizes "$out/runtime.log")" \
  -v np="$np" -v dir="$out" '
  function rss(tag, r,   f, v) { f = dir "/" tag ".rss." r; getline v < f; close(f); return v / 1024 }
  # MiB of the data of a run (28x28 bytes and an int32 label an example) and model state
  # (parameters, gradients, Adam m and v: 16 bytes a parameter).
  function data(s,   a) { split(s, a, " "); return a[2] * (784 + 4) / 1048576 }
  function state(s,   a) { split(s, a, " "); return a[1] * 16 / 1048576 }
  BEGIN {
    split(job_sizes, j, " ")
    need = data(job_sizes) + state(job_sizes)
    printf "data %.1f MiB (%d examples as bytes), model state %.1f MiB (%d parameters x 16 B)\n",
      data(job_sizes), j[2], state(job_sizes), j[1]
    for (r = 0; r < np; ++r) {
      job = rss("job", r)
      # The runtime: the small run less its own data and model state.
      base = rss("runtime", r) - data(runtime_sizes) - state(runtime_sizes)
      printf "rank %d: peak RSS %.1f MiB; the runtime %.1f MiB; the rest %.1f MiB = %.2fx data + model state\n",
        r, job, base, job - base, (job - base) / need
    }
  }'
