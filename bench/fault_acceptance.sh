#!/usr/bin/env bash
# Issue 12's acceptance runs: a real cnn job with one rank made silent, REPS times for each
# case, every rank in turn: SIGSTOP at np=2 and np=3 on this machine, and (root) a cut link at
# np=2 and np=3 on emulated hosts (mpirun on the first host, --tcp-retries 3). Each run must
# end by itself with exit code 4 within --comm-timeout (5 s) + 10 s of the fault, name the
# silent rank, and leave no process (tests/faults/fault_lib.sh). Prints one line per run, then
# per case: runs that held, and the median and largest seconds from fault to the job's end.
#   bench/fault_acceptance.sh [--reps N] [--no-hosts] [--out DIR]
# Environment: DTRAIN [build/src/dtrain].
set -euo pipefail
cd "$(dirname "$0")/.."
export DTRAIN_ROOT="$PWD"
reps=10 hosts=1 out="bench/results/faults-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="${2:?}"; shift 2 ;;
    --no-hosts) hosts=0; shift ;;
    --out) out="${2:?}"; shift 2 ;;
    *) echo "fault_acceptance: unknown option $1" >&2; exit 2 ;;
  esac
done
export DTRAIN="${DTRAIN:-$DTRAIN_ROOT/build/src/dtrain}"
source scripts/mpi-env.sh
export OPENBLAS_NUM_THREADS=1
mkdir -p "$out/runs"
source tests/faults/fault_lib.sh
: > "$out/runs.txt"
one() { fault_run "$@" 2> /dev/null | tee -a "$out/runs.txt" || echo "$1 np=$2 rank=$3 FAILED" | tee -a "$out/runs.txt"; }

for rep in $(seq 1 "$reps"); do
  for np in 2 3; do
    for victim in $(seq 0 $((np - 1))); do one sigstop "$np" "$victim" "$out/runs"; done
  done
done
if [ "$hosts" = 1 ]; then
  name=dtfa
  bash cluster/emulated-hosts.sh start 3 --name "$name" --subnet 206 --tcp-retries 3 > /dev/null
  trap 'bash cluster/emulated-hosts.sh stop --name '"$name"' > /dev/null 2>&1 || true' EXIT
  export FAULT_HOSTS_NAME="$name"
  for rep in $(seq 1 "$reps"); do
    for np in 2 3; do
      for victim in $(seq 1 $((np - 1))); do one linkcut "$np" "$victim" "$out/runs"; done
    done
  done
fi
{
  echo "fault acceptance: $reps round(s), --comm-timeout $fault_timeout, $(lscpu | sed -n 's/^Model name: *//p')"
  printf '%-8s %-4s %6s %10s %10s\n' case np held median_s max_s
  for kind in sigstop linkcut; do
    for np in 2 3; do
      lines="$(grep "^$kind np=$np " "$out/runs.txt" || true)"
      [ -n "$lines" ] || continue
      total=$(wc -l <<< "$lines")
      held=$(grep -c "rc=4 .*named=yes left=0" <<< "$lines" || true)
      secs="$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<< "$lines" | sort -g)"
      median=$(awk '{v[NR] = $1} END {m = int((NR + 1) / 2); print (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2}' <<< "$secs")
      printf '%-8s %-4s %6s %10s %10s\n' "$kind" "$np" "$held/$total" "$median" "$(tail -n 1 <<< "$secs")"
    done
  done
} | tee "$out/summary.txt"
