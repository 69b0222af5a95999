#!/usr/bin/env bash
# Installs everything dtrain needs to build, run and test on Debian 12 (bookworm).
# Runs apt-get as root, or through sudo when started as another user.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenmpi-dev openmpi-bin
  libopenblas-dev                             # BLAS, and the LAPACK (dsyev) it bundles
  libprotobuf-dev protobuf-compiler
  libboost-program-options-dev
  libgtest-dev googletest
  zlib1g-dev libpng-dev nlohmann-json3-dev libssl-dev
  libfreetype-dev fonts-dejavu-core           # captions of --output-dir pictures
  clang-14 libclang-rt-14-dev                 # fuzzing: libFuzzer, ASan and UBSan for clang
  dataset-fashion-mnist
  slurmctld slurmd slurm-client munge         # the local Slurm cluster of the slurm tests
  gnuplot-nox                                 # scaling plots, dtrain plot
  libhdf5-dev                                 # --data FILE.h5 (serial HDF5)
  libonnx-dev                                 # dtrain export: onnx protobuf classes, checker
  nodejs                                      # the ONNX Runtime check of exported models
  iproute2                                    # emulated network hosts (cluster/emulated-hosts.sh)
  libsimgrid-dev                              # smpicxx, smpirun: dtrain-smpi, simulated clusters
)

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"

# npm: Debian's package, unless a nodejs that bundles it (NodeSource) is installed already.
if ! command -v npm > /dev/null; then
  "${sudo[@]}" apt-get install -y -q --no-install-recommends npm
fi

# ONNX Runtime for the export tests, project-local (.deps/node, ignored by git). Its npm
# package ships the CPU runtime; the install script would also fetch CUDA libraries from
# GitHub, which we neither need nor can reach, hence install-cuda=skip.
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/.deps/node"
npm install --prefix "$root/.deps/node" --no-audit --no-fund --no-save \
  --onnxruntime-node-install-cuda=skip onnxruntime-node@1.20.1
