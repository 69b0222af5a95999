#!/usr/bin/env bash
# The main job: install dependencies, build, and train the reference CNN on Fashion-MNIST
# for 5 epochs on 2 MPI ranks. Extra arguments go to dtrain, e.g. --epochs 1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
source scripts/mpi-env.sh
mkdir -p out
# dtrain's defaults are the main job (cnn, Fashion-MNIST, 5 epochs, batch 128, Adam); options
# may be given once only, so out/metrics.jsonl is added only when the caller names no file.
metrics=(--metrics out/metrics.jsonl)
for arg in "$@"; do [[ "$arg" == --metrics* ]] && metrics=(); done
exec mpirun -np "${NP:-2}" --bind-to none build/src/dtrain "${metrics[@]}" "$@"
