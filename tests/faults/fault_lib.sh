# Sourced by the fault tests and bench/fault_acceptance.sh: start a real training job, make one
# rank silent (SIGSTOP, or its host's link cut), and check how the job ends:
#   - by itself, within --comm-timeout + 10 s of the fault, with exit code 4;
#   - with a message naming the silent rank ("silent: rank R (");
#   - with no dtrain, orted or mpirun process left (on this machine and in every emulated host).
# fault_run prints one line "kind np=N rank=R rc=C seconds=S named=yes|no left=K" and returns
# non-zero if any of these does not hold. Needs DTRAIN (the binary) and, for link cuts, the
# hosts of the caller (FAULT_HOSTS_NAME, started with --tcp-retries).
: "${DTRAIN:?DTRAIN (the dtrain binary) must be set}"
fault_timeout="${FAULT_COMM_TIMEOUT:-5}"

rank_pid() {  # rank_pid TAG RANK: the pid of the rank of the job whose --metrics is TAG
  local p
  for p in $(pgrep -f -- "--metrics $1" || true); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo "$p"; return 0; }
  done
  return 1
}

left_processes() {  # left_processes TAG: processes of that job still running, and any orted
  local n=0 ns
  n=$(pgrep -f -- "--metrics $1" | wc -l)
  if [ -n "${FAULT_HOSTS_NAME:-}" ]; then
    for ns in $(bash "$DTRAIN_ROOT/cluster/emulated-hosts.sh" hosts --name "$FAULT_HOSTS_NAME"); do
      n=$((n + $(ip netns pids "$ns" | wc -l)))
    done
  fi
  echo "$n"
}

# fault_run KIND NP RANK WORK: KIND sigstop (ranks on this machine) or linkcut (ranks on the
# emulated hosts FAULT_HOSTS_NAME, one per host, mpirun on the first host; RANK's host is cut).
fault_run() {
  local kind="$1" np="$2" victim="$3" work="$4"
  local tag="$work/metrics-$kind-np$np-r$victim-$RANDOM.jsonl" log pid start end rc launch
  log="${tag%.jsonl}.log"
  if [ "$kind" = linkcut ]; then
    local hosts_tool="$DTRAIN_ROOT/cluster/emulated-hosts.sh"
    local first
    first="$(bash "$hosts_tool" hosts --name "$FAULT_HOSTS_NAME" | head -n 1)"
    launch=(env $(bash "$hosts_tool" env --name "$FAULT_HOSTS_NAME" | sed -n "s/^export \([A-Z_a-z]*\)='\(.*\)'$/\1=\2/p")
      bash "$hosts_tool" run --name "$FAULT_HOSTS_NAME" "$first"
      mpirun -np "$np" --hostfile "/tmp/dtrain-hosts-$FAULT_HOSTS_NAME/hostfile")
  else
    launch=(mpirun -np "$np" --oversubscribe --bind-to none)
  fi
  # Long enough never to finish first; a checkpoint-free run so the fault is the only story.
  timeout 300 "${launch[@]}" "$DTRAIN" --data synthetic --model cnn --epochs 200 --seed 1 \
    --progress never --comm-timeout "$fault_timeout" --stall-warning 2 --metrics "$tag" > "$log" 2>&1 &
  local job=$!
  # The fault comes during training: after the first epoch's metrics line.
  local until=$((SECONDS + 120))
  until grep -q '"event":"epoch"' "$tag" 2>/dev/null; do
    if [ "$SECONDS" -ge "$until" ] || ! kill -0 "$job" 2>/dev/null; then
      cat "$log" >&2; echo "fault_run: the job never reached its first epoch" >&2; kill "$job" 2>/dev/null; return 1
    fi
    sleep 0.2
  done
  sleep "0.$((RANDOM % 10))"  # anywhere in the step: computing, or waiting in a bucket
  start=$(date +%s.%N)
  if [ "$kind" = linkcut ]; then
    bash "$DTRAIN_ROOT/cluster/emulated-hosts.sh" cut --name "$FAULT_HOSTS_NAME" "${FAULT_HOSTS_NAME}$((victim + 1))" > /dev/null
  else
    pid="$(rank_pid "$tag" "$victim")" || { echo "fault_run: no rank $victim" >&2; kill "$job"; return 1; }
    kill -STOP "$pid"
  fi
  wait "$job" && rc=0 || rc=$?
  end=$(date +%s.%N)
  [ "$kind" = linkcut ] &&
    bash "$DTRAIN_ROOT/cluster/emulated-hosts.sh" heal --name "$FAULT_HOSTS_NAME" "${FAULT_HOSTS_NAME}$((victim + 1))" > /dev/null
  local seconds named=no left
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')
  grep -q "silent: rank $victim (" "$log" && named=yes
  sleep 1
  left="$(left_processes "$tag")"
  echo "$kind np=$np rank=$victim rc=$rc seconds=$seconds named=$named left=$left"
  local ok=1
  [ "$rc" = 4 ] || ok=0
  [ "$named" = yes ] || ok=0
  [ "$left" = 0 ] || ok=0
  awk -v s="$seconds" -v t="$fault_timeout" 'BEGIN {exit !(s <= t + 10)}' || ok=0
  if [ "$ok" = 0 ]; then
    echo "--- $log" >&2; cat "$log" >&2
    # Leave nothing behind for the next run, whatever happened.
    pkill -CONT -f -- "--metrics $tag" 2>/dev/null || true
    pkill -KILL -f -- "--metrics $tag" 2>/dev/null || true
    return 1
  fi
}

# fault_sweep KIND FIRST_VICTIM REPS WORK: REPS rounds of fault_run at np=2 and np=3, the fault
# on every rank from FIRST_VICTIM up in turn (1 for link cuts: rank 0's host runs mpirun).
# Prints the number of runs that did not hold.
fault_sweep() {
  local kind="$1" first="$2" reps="$3" work="$4" failed=0 rep np victim
  for rep in $(seq 1 "$reps"); do
    for np in 2 3; do
      for victim in $(seq "$first" $((np - 1))); do
        fault_run "$kind" "$np" "$victim" "$work" >&2 || failed=$((failed + 1))
      done
    done
  done
  echo "$failed"
}
