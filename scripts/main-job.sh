#!/usr/bin/env bash
# The main job: install dependencies, build, and train the reference CNN on Fashion-MNIST
# for 5 epochs on 2 MPI ranks. Extra arguments go to dtrain, e.g. --epochs 1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
source scripts/mpi-env.sh
mkdir -p out
exec mpirun -np "${NP:-2}" --bind-to none build/src/dtrain --epochs 5 --metrics out/metrics.jsonl "$@"
