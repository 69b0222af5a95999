#!/usr/bin/env bash
# Installs everything dtrain needs to build, run and test on Debian 12 (bookworm).
# Runs apt-get as root, or through sudo when started as another user.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenmpi-dev openmpi-bin
  libopenblas-dev
  libprotobuf-dev protobuf-compiler
  libboost-program-options-dev
  libgtest-dev googletest
  zlib1g-dev libpng-dev nlohmann-json3-dev libssl-dev
  dataset-fashion-mnist
  slurmctld slurmd slurm-client munge         # the local Slurm cluster of the slurm tests
  gnuplot-nox                                 # scaling plots (bench/scaling_sweep.sh)
  iproute2                                    # emulated network hosts (cluster/emulated-hosts.sh)
)

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
