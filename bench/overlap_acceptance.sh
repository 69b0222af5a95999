#!/usr/bin/env bash
# The figures of issue 11 side by side in one run, rounds interleaved (each round visits every
# configuration once, so slow phases of a shared machine spread over all of them; medians of
# the rounds are reported):
#   shared memory, cnn, --max-steps S: np=1; np=2 --overlap off; np=2 --overlap on (default).
#     exposed share = exposed_comm_seconds(on) / comm_seconds(off): the waiting left of the
#     allreduce time it replaces; scaling = samples/s(np=2 on) / samples/s(np=1).
#   with --hosts RATE (root; cluster/emulated-hosts.sh): one rank per emulated host over a
#     RATE link: np=1; np=2 defaults; np=2 --overlap off; np=2 --grad-compression fp16 / bf16.
#   with --accuracy: cnn, 5 epochs, np=2 on shared memory with --grad-compression none, fp16,
#     bf16 (test accuracy, once each).
#
#   bench/overlap_acceptance.sh [--steps S] [--rounds N] [--hosts 1gbit] [--accuracy] [--out DIR]
# Environment: DTRAIN [build/src/dtrain]. Writes DIR/results.csv and prints the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
steps=150 rounds=3 hosts_rate="" accuracy=0 out="bench/results/overlap-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="${2:?}"; shift 2 ;;
    --rounds) rounds="${2:?}"; shift 2 ;;
    --hosts) hosts_rate="${2:?}"; shift 2 ;;
    --accuracy) accuracy=1; shift ;;
    --out) out="${2:?}"; shift 2 ;;
    *) echo "overlap_acceptance: unknown option $1" >&2; exit 2 ;;
  esac
done
DTRAIN="${DTRAIN:-$root/build/src/dtrain}"
source "$root/scripts/mpi-env.sh"
export OPENBLAS_NUM_THREADS=1
mkdir -p "$out/runs"
echo "place,config,round,samples_per_sec,comm_seconds,exposed_comm_seconds,test_acc" > "$out/results.csv"

field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p" <<< "$2"; }
record() {  # place config round metrics-file
  local epoch final
  epoch="$(grep '"event":"epoch"' "$4" | tail -n 1)"
  final="$(grep '"event":"final"' "$4" | tail -n 1)"
  echo "$1,$2,$3,$(field samples_per_sec "$epoch"),$(field comm_seconds "$epoch"),$(field exposed_comm_seconds "$epoch"),$(field test_acc "$final")" >> "$out/results.csv"
}
run_shm() {  # config round np args...
  local config="$1" round="$2" np="$3"; shift 3
  local m="$out/runs/shm-$config-r$round.jsonl"
  timeout 1800 mpirun -np "$np" --bind-to none "$DTRAIN" --progress never --metrics "$m" "$@" \
    > "$out/runs/shm-$config-r$round.log" 2>&1 || { cat "$out/runs/shm-$config-r$round.log" >&2; exit 1; }
  record shm "$config" "$round" "$m"
}

hosts_tool="$root/cluster/emulated-hosts.sh"
if [ -n "$hosts_rate" ]; then
  [ -x "$hosts_tool" ] || { echo "overlap_acceptance: no $hosts_tool" >&2; exit 2; }
  trap 'bash "$hosts_tool" stop --name dtov > /dev/null 2>&1 || true' EXIT
  bash "$hosts_tool" start 2 --name dtov --subnet 7 --rate "$hosts_rate" > /dev/null
fi
run_hosts() {  # config round np args...
  local config="$1" round="$2" np="$3"; shift 3
  local m="$out/runs/hosts-$config-r$round.jsonl"
  ( eval "$(bash "$hosts_tool" env --name dtov)"
    timeout 1800 mpirun -np "$np" --hostfile "$DTRAIN_HOSTFILE" "$DTRAIN" --progress never \
      --metrics "$m" "$@" ) > "$out/runs/hosts-$config-r$round.log" 2>&1 ||
    { cat "$out/runs/hosts-$config-r$round.log" >&2; exit 1; }
  record "hosts-$hosts_rate" "$config" "$round" "$m"
}

short=(--epochs 1 --max-steps "$steps")
for round in $(seq "$rounds"); do
  echo "overlap_acceptance: round $round" >&2
  run_shm np1 "$round" 1 "${short[@]}"
  run_shm np2-off "$round" 2 "${short[@]}" --overlap off
  run_shm np2-on "$round" 2 "${short[@]}" --overlap on
  if [ -n "$hosts_rate" ]; then
    run_hosts np1 "$round" 1 "${short[@]}"
    run_hosts np2-on "$round" 2 "${short[@]}"
    run_hosts np2-off "$round" 2 "${short[@]}" --overlap off
    run_hosts np2-fp16 "$round" 2 "${short[@]}" --grad-compression fp16
    run_hosts np2-bf16 "$round" 2 "${short[@]}" --grad-compression bf16
  fi
done
if [ "$accuracy" = 1 ]; then
  for c in none fp16 bf16; do
    echo "overlap_acceptance: accuracy, 5 epochs, $c" >&2
    run_shm "acc-$c" 1 2 --epochs 5 --grad-compression "$c"
  done
fi

python3 - "$out/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for (place, config) in sorted({(r["place"], r["config"]) for r in rows}):
    sel = [r for r in rows if r["place"] == place and r["config"] == config]
    m = {k: statistics.median(float(r[k]) for r in sel if r[k]) for k in
         ("samples_per_sec", "comm_seconds", "exposed_comm_seconds", "test_acc") if any(r[k] for r in sel)}
    med[(place, config)] = m
    print(f"{place:12s} {config:10s} n={len(sel)} " + " ".join(f"{k}={v:.4g}" for k, v in m.items()))
def ratio(a, b, key):
    return med[a][key] / med[b][key]
if ("shm", "np2-on") in med:
    print(f"shm: exposed(on)/comm(off) = {med[('shm','np2-on')]['exposed_comm_seconds'] / med[('shm','np2-off')]['comm_seconds']:.3f}"
          f"  (on: exposed {med[('shm','np2-on')]['exposed_comm_seconds']:.3f} s of comm {med[('shm','np2-on')]['comm_seconds']:.3f} s)")
    print(f"shm: scaling np2 on / np1 = {ratio(('shm','np2-on'), ('shm','np1'), 'samples_per_sec'):.3f};"
          f" np2 off / np1 = {ratio(('shm','np2-off'), ('shm','np1'), 'samples_per_sec'):.3f}")
for place in sorted({p for p, _ in med if p.startswith("hosts")}):
    for c in ("np2-on", "np2-off", "np2-fp16", "np2-bf16"):
        if (place, c) in med:
            print(f"{place}: {c} / np1 = {ratio((place, c), (place, 'np1'), 'samples_per_sec'):.3f}")
for c in ("acc-none", "acc-fp16", "acc-bf16"):
    if ("shm", c) in med:
        print(f"accuracy 5 epochs np=2 {c}: {med[('shm', c)]['test_acc']:.4f}")
PY
