#!/usr/bin/env bash
# Prints params_sha256 of short training runs of every built-in family (np=2, a fixed
# number of steps) and, with --main-job, of the main job (cnn, 5 epochs, np=2). A refactoring
# that claims "behaviour does not change" runs this before and after and compares the lines:
# the runs are bitwise reproducible for the same ranks and algorithm table, so any changed
# digest is a changed computation.
#   bash bench/params_fingerprint.sh [--main-job] [--build DIR] [--steps N]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build steps=40 main_job=0
while [ $# -gt 0 ]; do
  case "$1" in
    --main-job) main_job=1 ;;
    --build) build=$2; shift ;;
    --steps) steps=$2; shift ;;
    *) echo "params_fingerprint.sh: unknown option '$1' (--main-job, --build DIR, --steps N)" >&2; exit 2 ;;
  esac
  shift
done
source scripts/mpi-env.sh
dtrain=$build/src/dtrain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A text corpus every Debian machine has, for the language model.
corpus=/usr/share/common-licenses/GPL-3

# One run: name, then dtrain's options; prints "name params_sha256 final-line".
run() {
  local name=$1
  shift
  local dir="$work/$name"
  mpirun -np 2 --bind-to none "$dtrain" --checkpoint-dir "$dir" --metrics "$dir.jsonl" \
    --progress never "$@" > "$dir.log" 2>&1 || { echo "$name: dtrain failed"; cat "$dir.log"; exit 1; }
  local sha
  sha=$("$dtrain" inspect "$dir" --json | sed -n 's/.*"params_sha256": *"\([0-9a-f]*\)".*/\1/p')
  printf '%-18s %s\n' "$name" "$sha"
}

for model in cnn mlp rnn lstm autoencoder conv-autoencoder gan gan-mlp; do
  run "$model" --model "$model" --epochs 1 --max-steps "$steps" --val-size 500
done
run charlstm --model charlstm --data "text:$corpus" --epochs 1 --max-steps "$steps"
run cnn-fp16-ring --model cnn --epochs 1 --max-steps "$steps" --val-size 500 \
  --grad-compression fp16 --allreduce ring --overlap off
run gpt --model gpt --data "text:$corpus" --epochs 1 --max-steps "$steps"
if [ "$main_job" = 1 ]; then
  run main-job
fi
