#!/usr/bin/env bash
# The cost of the watchdog (--comm-timeout, --stall-warning; issue 12) on the main job's
# throughput, side by side in one run with rounds interleaved: the cnn at np=2 on this machine
# with the watchdog off (--comm-timeout 0 --stall-warning 0) and on (the defaults, 600 / 60 s;
# the period, and so the heartbeat rate, is that of a 60 s stall warning: 2 s). Each run trains
# EPOCHS epochs; its figure is the median samples/s of its epochs after the first (warm-up).
# Prints the median over the rounds per configuration and on/off, and (noise-free) the CPU
# time of the watchdog threads ("dtrain-watchdog", from /proc) as a share of the ranks' CPU
# time in the "on" runs.
#   bench/watchdog_overhead.sh [--rounds N] [--epochs E] [--data DIR|synthetic] [--out DIR]
#                              [--overlap on|off]
# --overlap off [default on] gives the steadier figure on 2 cores: with overlap each rank's
# communication thread busy-polls beside its training thread, and 4 busy threads on 2 cores
# make epoch times vary by +-20%, far more than the effect measured.
# Environment: DTRAIN [build/src/dtrain].
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
rounds=7 epochs=4 data=synthetic overlap=on out="bench/results/watchdog-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?}"; shift 2 ;;
    --epochs) epochs="${2:?}"; shift 2 ;;
    --data) data="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --overlap) overlap="${2:?}"; shift 2 ;;
    *) echo "watchdog_overhead: unknown option $1" >&2; exit 2 ;;
  esac
done
DTRAIN="${DTRAIN:-$root/build/src/dtrain}"
source "$root/scripts/mpi-env.sh"
export OPENBLAS_NUM_THREADS=1
mkdir -p "$out/runs"
echo "config,round,samples_per_sec,watchdog_cpu_share" > "$out/results.csv"

# cpu_ticks PID: "watchdog-thread-ns process-ns": CPU time run so far, in nanoseconds
# (/proc/PID/task/*/schedstat; stat's 10 ms ticks are too coarse for a thread this idle).
cpu_ticks() {
  local pid="$1" t wd=0 all=0 ticks
  for t in /proc/"$pid"/task/*; do
    ticks=$(awk '{print $1}' "$t/schedstat" 2>/dev/null) || continue
    all=$((all + ticks))
    [ "$(cat "$t/comm" 2>/dev/null)" = dtrain-watchdog ] && wd=$((wd + ticks))
  done
  echo "$wd $all"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) {print "nan"; exit} m = int((NR + 1) / 2); print (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2}'; }

run() {  # run CONFIG ROUND OPTIONS...
  local config="$1" round="$2"; shift 2
  local metrics="$out/runs/$config-$round.jsonl"
  mpirun -np 2 --bind-to core "$DTRAIN" --data "$data" --model cnn --epochs "$epochs" --seed 1 \
    --progress never --overlap "$overlap" --metrics "$metrics" "$@" > "$out/runs/$config-$round.log" 2>&1 &
  local job=$! samples="$out/runs/$config-$round.cpu" p
  : > "$samples"
  # The ranks' last CPU sample before they exit (every 0.5 s).
  while kill -0 "$job" 2> /dev/null; do
    for p in $(pgrep -f -- "--metrics $metrics" || true); do
      [ -r "/proc/$p/environ" ] && tr '\0' '\n' < "/proc/$p/environ" | grep -q '^OMPI_COMM_WORLD_RANK=' &&
        echo "$p $(cpu_ticks "$p")" >> "$samples"
    done
    sleep 0.5
  done
  wait "$job"
  local share
  share="$(awk '{wd[$1] = $2; all[$1] = $3} END {for (p in wd) {w += wd[p]; a += all[p]} if (a > 0) printf "%.5f", w / a; else print "nan"}' "$samples")"
  local figure
  figure="$(grep '"event":"epoch"' "$metrics" | tail -n +2 |
    sed -n 's/.*"samples_per_sec":\([0-9.e+-]*\).*/\1/p' | median)"
  echo "$config,$round,$figure,$share" >> "$out/results.csv"
}

for round in $(seq 1 "$rounds"); do
  # Alternate which goes first, so neither always runs on a warmer machine.
  if [ $((round % 2)) = 1 ]; then
    run off "$round" --comm-timeout 0 --stall-warning 0
    run on "$round"
  else
    run on "$round"
    run off "$round" --comm-timeout 0 --stall-warning 0
  fi
done
off="$(awk -F, '$1 == "off" {print $3}' "$out/results.csv" | median)"
on="$(awk -F, '$1 == "on" {print $3}' "$out/results.csv" | median)"
{
  echo "watchdog overhead: cnn np=2 --overlap $overlap, --data $data, $epochs epochs x $rounds rounds, $(lscpu | sed -n 's/^Model name: *//p')"
  echo "  off (--comm-timeout 0 --stall-warning 0): median $off samples/s"
  echo "  on  (defaults: 600 s / 60 s):             median $on samples/s"
  awk -v a="$on" -v b="$off" 'BEGIN {printf "  on / off = %.4f (overhead %.2f%%)\n", a / b, 100 * (1 - a / b)}'
  awk -F, '$1 == "on" && $4 != "nan" {print $4}' "$out/results.csv" | sort -g |
    awk '{v[NR] = $1} END {if (NR) printf "  watchdog threads: median %.3f%% of the ranks CPU time (largest %.3f%%)\n", 100 * v[int((NR + 1) / 2)], 100 * v[NR]}'
} | tee "$out/summary.txt"
