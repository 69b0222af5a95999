# Helpers sourced by the Slurm tests. They talk to the cluster named by SLURM_CONF (the CTest
# fixture starts one with cluster/local-slurm.sh) and cancel the jobs they submitted when the
# test script exits, whatever the outcome, so a failed test leaves no job running.
set -euo pipefail

: "${DTRAIN_ROOT:?DTRAIN_ROOT (the source tree) must be set}"
export PATH="$PATH:/usr/sbin:/sbin"

submitted_jobs=()
test_name="$(basename "$0" .sh)"

cleanup_jobs() {
  local j
  for j in "${submitted_jobs[@]}"; do scancel "$j" 2>/dev/null || true; done
}
trap cleanup_jobs EXIT

fail() {
  echo "FAIL ($test_name): $*" >&2
  exit 1
}

need_cluster() {
  [ -n "${SLURM_CONF:-}" ] || fail "SLURM_CONF is not set: start a cluster (cluster/local-slurm.sh start) and export its SLURM_CONF"
  scontrol ping 2>/dev/null | grep -q 'is UP' ||
    fail "no slurmctld answers for SLURM_CONF=$SLURM_CONF (cluster/local-slurm.sh start)"
}

submit() {  # submit SBATCH-ARGS...: prints the job id
  local id
  id="$(sbatch --parsable "$@")" || fail "sbatch $* failed"
  id="${id%%;*}"
  submitted_jobs+=("$id")
  echo "$id"
}

job_field() {  # job_field JOBID NAME: one field of 'scontrol show job'
  scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

wait_job() {  # wait_job JOBID TIMEOUT [HOOK]: waits for a final state and prints it
  # Polls scontrol itself: sbatch --wait polls with growing intervals (a 1 s job took 10 s).
  # HOOK, when given, is run with the job id at every poll.
  local id="$1" hook="${3:-}" state end=$((SECONDS + $2))
  while :; do
    [ -z "$hook" ] || "$hook" "$id"
    state="$(job_field "$id" JobState)"
    case "$state" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|REQUEUE_HOLD|SPECIAL_EXIT)
        echo "$state"; return 0 ;;
    esac
    [ "$SECONDS" -lt "$end" ] || { echo "TIMEOUT_WAITING($state)"; return 0; }
    sleep 0.5
  done
}

show_file() {  # show_file PATH: print a file for the log of a failed test
  echo "--- $1" >&2
  if [ -f "$1" ]; then cat "$1" >&2; else echo "(missing)" >&2; fi
}

latest_params_sha() {  # latest_params_sha CHECKPOINT_DIR JOB_LOG: params_sha256 of its latest checkpoint
  local dir="$1" file json
  [ -s "$dir/latest" ] || { show_file "$2"; fail "no $dir/latest"; }
  file="$dir/$(head -n 1 "$dir/latest")"
  json="$("$DTRAIN" inspect "$file" --json)" || fail "dtrain inspect $file failed"
  sed -n 's/.*"params_sha256" *: *"\([0-9a-f]\{64\}\)".*/\1/p' <<< "$json" | grep . ||
    fail "no params_sha256 in: dtrain inspect $file --json: $json"
}

emulated_bytes_sent() {  # bytes the emulated hosts DTRAIN_TEST_HOSTS have sent on their links
  bash "$DTRAIN_ROOT/cluster/emulated-hosts.sh" counters --name "$DTRAIN_TEST_HOSTS" |
    awk 'NR > 1 {s += $2} END {printf "%d\n", s}'
}
