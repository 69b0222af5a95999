#!/usr/bin/env bash
# A rank that stops answering under Slurm: the job is requeued and resumes, end to end with the
# real dtrain on the local cluster. slurm/train.sbatch runs dtrain with --comm-timeout 5 and a
# checkpoint every 10 steps; once a checkpoint exists, rank 1 is stopped (SIGSTOP). The
# watchdog ends the ranks with exit code 4, srun --kill-on-bad-exit ends the stopped one, the
# script requeues the job, the rerun resumes from the last checkpoint and finishes, and its
# final parameters are bit-identical to those of an uninterrupted job with the same
# checkpoint steps (params_sha256 of `dtrain inspect --json`).
#   comm_timeout_requeue_test.sh WORK_DIR   (env: DTRAIN, DTRAIN_ROOT, SLURM_CONF)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
: "${DTRAIN:?DTRAIN (the dtrain binary) must be set}"
need_cluster
rm -rf "$work" && mkdir -p "$work"

opts=(--data synthetic --model cnn --epochs 6 --seed 5 --keep 2 --checkpoint-every-steps 10
  --comm-timeout 5 --stall-warning 2)
start=$SECONDS
read -r -a layout <<< "${DTRAIN_TEST_LAYOUT:---ntasks=2}"
ref="$(DTRAIN_JOB_DIR="$work/ref" DTRAIN_REQUEUE=0 submit "${layout[@]}" --time=10 \
  --chdir="$work" --output="$work/ref.out" "$DTRAIN_ROOT/slurm/train.sbatch" "${opts[@]}")"
job="$(DTRAIN_JOB_DIR="$work/job" submit "${layout[@]}" --time=10 \
  --chdir="$work" --output="$work/job.out" "$DTRAIN_ROOT/slurm/train.sbatch" "${opts[@]}")"

# Rank 1 of the job: the dtrain process whose environment says SLURM_PROCID=1 and which
# writes into the job's directory.
rank1=""
until=$((SECONDS + 300))
until [ -n "$rank1" ]; do
  [ "$SECONDS" -lt "$until" ] || { show_file "$work/job.out"; fail "job $job never wrote a checkpoint"; }
  if [ -s "$work/job/checkpoints/latest" ]; then
    for p in $(pgrep -f -- "--metrics $work/job/" || true); do
      tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_PROCID=1" && rank1=$p
    done
  fi
  sleep 0.2
done
kill -STOP "$rank1"
echo "rank 1 of job $job (pid $rank1) stopped after $((SECONDS - start)) s, at checkpoint $(cat "$work/job/checkpoints/latest")"

state="$(wait_job "$job" 600)"
restarts="$(job_field "$job" Restarts)"
echo "job $job: $state after $((SECONDS - start)) s, $restarts restart(s)"
ref_state="$(wait_job "$ref" 600)"
[ "$ref_state" = COMPLETED ] || { show_file "$work/ref.out"; fail "reference job $ref ended $ref_state"; }
[ "$state" = COMPLETED ] || { show_file "$work/job.out"; fail "job $job ended $state, expected COMPLETED"; }
[ "${restarts:-0}" -ge 1 ] || { show_file "$work/job.out"; fail "job $job was never requeued"; }
for pattern in "silent: rank 1 (" "requeueing job $job" "job $job restart 1" "resuming from"; do
  grep -q -- "$pattern" "$work/job.out" || { show_file "$work/job.out"; fail "'$pattern' is not in the job log"; }
done
# srun returns 4, or the killed stopped rank's 137 that the script reads as 4 (exit-reason).
grep -qE "dtrain exited with 4|treating exit [0-9]+ as 4" "$work/job.out" ||
  { show_file "$work/job.out"; fail "the job log shows no exit 4"; }
grep "comm-timeout\|restart [0-9]* on\|exited with\|as 4\|resuming from" "$work/job.out" | cut -c1-240 | sed 's/^/  /'

sha() {  # sha CHECKPOINT_DIR: params_sha256 of its latest checkpoint
  local dir="$1" file json
  [ -s "$dir/latest" ] || { show_file "$work/job.out"; fail "no $dir/latest"; }
  file="$dir/$(head -n 1 "$dir/latest")"
  json="$("$DTRAIN" inspect "$file" --json)" || fail "dtrain inspect $file failed"
  sed -n 's/.*"params_sha256" *: *"\([0-9a-f]\{64\}\)".*/\1/p' <<< "$json" | grep . ||
    fail "no params_sha256 in: dtrain inspect $file --json: $json"
}
want="$(sha "$work/ref/checkpoints")"
got="$(sha "$work/job/checkpoints")"
echo "params_sha256: uninterrupted $want, stopped-and-requeued $got"
[ "$want" = "$got" ] || fail "the requeued run ended with different parameters than the uninterrupted one"
echo "PASS: comm-timeout exit 4, requeued $restarts time(s), parameters bit-identical ($((SECONDS - start)) s)"
