#!/usr/bin/env bash
# A rank that stops answering, then a rank killed, under Slurm: the job is requeued and resumes
# each time, end to end with the real dtrain on the local cluster. slurm/train.sbatch runs
# dtrain with --comm-timeout 5 and a checkpoint every 10 steps. Once a checkpoint exists, rank
# 1 is stopped (SIGSTOP): the watchdog ends the ranks with exit code 4, srun --kill-on-bad-exit
# ends the stopped one, and the script requeues the job. Once the rerun has written a newer
# checkpoint, its rank 0 is killed (SIGKILL: srun exits 137, or rank 1's watchdog ends the step
# first with 4 naming rank 0), and the script requeues it again. The
# last run resumes from the last checkpoint and finishes, with final parameters bit-identical
# to those of an uninterrupted job with the same checkpoint steps (params_sha256 of
# `dtrain inspect --json`).
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

# rank_after RANK CHECKPOINT: the pid of the job's dtrain rank RANK (SLURM_PROCID) once the
# job's latest checkpoint is another than CHECKPOINT.
rank_after() {
  local pid="" until=$((SECONDS + 300)) p
  until [ -n "$pid" ]; do
    [ "$SECONDS" -lt "$until" ] || { show_file "$work/job.out"; fail "job $job wrote no checkpoint after '$2'"; }
    if [ -s "$work/job/checkpoints/latest" ] && [ "$(cat "$work/job/checkpoints/latest")" != "$2" ]; then
      for p in $(pgrep -f -- "--metrics $work/job/" || true); do
        tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_PROCID=$1" && pid=$p
      done
    fi
    sleep 0.2
  done
  echo "$pid"
}
rank1="$(rank_after 1 none)"
kill -STOP "$rank1"
# The checkpoint the stopped run ends with, read after the stop: training runs ~50 steps/s, so
# a `latest` read before it could be overtaken by one more checkpoint of the same run, which
# rank_after 0 below would then take for the rerun's (both faults in one run, one requeue; seen
# in CI). Once rank 1 is stopped no step completes, so after a second no checkpoint follows.
sleep 1
stopped_at="$(cat "$work/job/checkpoints/latest")"
echo "rank 1 of job $job (pid $rank1) stopped after $((SECONDS - start)) s, at checkpoint $stopped_at"
rank0="$(rank_after 0 "$stopped_at")"
kill -KILL "$rank0"
echo "rank 0 of job $job (pid $rank0) killed after $((SECONDS - start)) s, at checkpoint $(cat "$work/job/checkpoints/latest")"

state="$(wait_job "$job" 600)"
restarts="$(job_field "$job" Restarts)"
echo "job $job: $state after $((SECONDS - start)) s, $restarts restart(s)"
ref_state="$(wait_job "$ref" 600)"
[ "$ref_state" = COMPLETED ] || { show_file "$work/ref.out"; fail "reference job $ref ended $ref_state"; }
[ "$state" = COMPLETED ] || { show_file "$work/job.out"; fail "job $job ended $state, expected COMPLETED"; }
[ "${restarts:-0}" -ge 2 ] || { show_file "$work/job.out"; fail "job $job was requeued ${restarts:-0} times, expected 2"; }
for pattern in "silent: rank 1 (" "requeueing job $job" "job $job restart 1" "job $job restart 2" "resuming from"; do
  grep -q -- "$pattern" "$work/job.out" || { show_file "$work/job.out"; fail "'$pattern' is not in the job log"; }
done
# The killed rank 0: srun ends the step (137), unless rank 1's watchdog ends it first (4,
# naming rank 0); both are requeued.
grep -qE "a rank was killed \(SIGKILL\)|silent: rank 0 \(" "$work/job.out" ||
  { show_file "$work/job.out"; fail "the job log shows neither the killed rank nor rank 0 named silent"; }
# srun returns 4, or the killed stopped rank's 137 that the script reads as 4 (exit-reason).
grep -qE "dtrain exited with 4|treating exit [0-9]+ as 4" "$work/job.out" ||
  { show_file "$work/job.out"; fail "the job log shows no exit 4"; }
grep "comm-timeout\|restart [0-9]* on\|exited with\|as 4\|resuming from" "$work/job.out" | cut -c1-240 | sed 's/^/  /'

want="$(latest_params_sha "$work/ref/checkpoints" "$work/ref.out")"
got="$(latest_params_sha "$work/job/checkpoints" "$work/job.out")"
echo "params_sha256: uninterrupted $want, stopped-and-requeued $got"
[ "$want" = "$got" ] || fail "the requeued run ended with different parameters than the uninterrupted one"
echo "PASS: comm-timeout exit 4 and a killed rank, requeued $restarts times, parameters bit-identical ($((SECONDS - start)) s)"
