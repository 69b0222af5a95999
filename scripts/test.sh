#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit, mpi, e2e) with CTest.
# DTRAIN_WERROR=ON (CI sets it) turns warnings into errors for dtrain's own code.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DDTRAIN_WERROR="${DTRAIN_WERROR:-OFF}"
source scripts/mpi-env.sh
cd build
ctest --output-on-failure --timeout 600 "$@"
