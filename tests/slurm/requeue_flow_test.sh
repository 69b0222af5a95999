#!/usr/bin/env bash
# slurm/train.sbatch's signal handling on the local cluster, with fake_dtrain.sh in place of
# dtrain so it takes seconds:
#  1. USR1 to the batch shell (what #SBATCH --signal=B:USR1@N delivers; sent here with
#     scancel --batch so the moment is known) is forwarded once to the ranks, which checkpoint
#     and exit 75; the script requeues the job; the rerun sees SLURM_RESTART_COUNT=1, passes
#     --resume and finishes the remaining epochs: every epoch in the metrics exactly once.
#  2. scancel (SIGTERM to the whole job) is not turned into a requeue: the job stays CANCELLED.
#  3. A checkpointed stop whose other ranks srun ends on their way out (143 hides rank 0's 75)
#     is still requeued: rank 0's line in DTRAIN_EXIT_REASON_FILE says what happened.
#   requeue_flow_test.sh WORK_DIR   (env: DTRAIN_ROOT, SLURM_CONF)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
need_cluster
rm -rf "$work" && mkdir -p "$work"
fake="$DTRAIN_ROOT/tests/slurm/fake_dtrain.sh"
epochs=10

wait_for_epoch() {  # wait_for_epoch METRICS N JOB: until the metrics file has epoch N
  local end=$((SECONDS + 60))
  until grep -q "\"epoch\":$2[,}]" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || { show_file "$work/$3.out"; fail "epoch $2 never appeared in $1"; }
    sleep 0.2
  done
}

# --- 1. warning signal -> checkpoint, exit 75, requeue, resume
start=$SECONDS
job="$(DTRAIN="$fake" DTRAIN_JOB_DIR="$work/a" FAKE_LOG="$work/a.log" FAKE_EPOCH_SECONDS=1 \
  submit --ntasks=2 --time=5 --chdir="$work" --output="$work/a.out" \
  "$DTRAIN_ROOT/slurm/train.sbatch" --epochs "$epochs")"
wait_for_epoch "$work/a/metrics.jsonl" 2 a
scancel --batch --signal=USR1 "$job"
state="$(wait_job "$job" 120)"
echo "job $job: $state after $((SECONDS - start)) s, restarts $(job_field "$job" Restarts)"
{ [ "$state" = COMPLETED ] && [ "$(job_field "$job" Restarts)" = 1 ]; } ||
  { show_file "$work/a.out"; show_file "$work/a.log"; fail "job $job: $state with $(job_field "$job" Restarts) restarts, expected COMPLETED after 1 restart"; }
for pattern in "warning signal USR1" "dtrain exited with 75" "requeueing job $job" \
    "job $job restart 1" "--resume" "dtrain exited with 0"; do
  grep -q -- "$pattern" "$work/a.out" || { show_file "$work/a.out"; fail "'$pattern' is not in the job log"; }
done
# Each rank got the forwarded USR1 once and stopped; both reruns resumed from the checkpoint.
[ "$(grep -c 'stopped by a signal' "$work/a.out")" = 2 ] || { show_file "$work/a.out"; fail "expected both ranks to stop on the signal"; }
[ "$(grep -c 'restart 1 resume 1 from epoch [1-9]' "$work/a.log")" = 2 ] ||
  { show_file "$work/a.log"; fail "the requeued ranks did not resume from a checkpoint"; }
for e in $(seq "$epochs"); do
  n="$(grep -cE "\"epoch\":$e[,}]" "$work/a/metrics.jsonl" || true)"
  [ "$n" = 1 ] || { show_file "$work/a/metrics.jsonl"; fail "epoch $e appears $n times in the metrics, expected once"; }
done

# --- 2. scancel: the job ends CANCELLED and is not requeued
job="$(DTRAIN="$fake" DTRAIN_JOB_DIR="$work/b" FAKE_LOG="$work/b.log" FAKE_EPOCH_SECONDS=1 \
  submit --ntasks=2 --time=5 --chdir="$work" --output="$work/b.out" \
  "$DTRAIN_ROOT/slurm/train.sbatch" --epochs 60)"
wait_for_epoch "$work/b/metrics.jsonl" 1 b
scancel "$job"
state="$(wait_job "$job" 60)"
sleep 2  # a wrong requeue would show up as PENDING by now
state2="$(job_field "$job" JobState)"
{ [ "$state" = CANCELLED ] && [ "$state2" = CANCELLED ] && [ "$(job_field "$job" Restarts)" = 0 ]; } ||
  { show_file "$work/b.out"; fail "cancelled job $job: $state then $state2, restarts $(job_field "$job" Restarts); expected CANCELLED, no restart"; }

# --- 3. rank 0 exits 75, srun ends rank 1 (143): still a checkpointed stop, requeued
job="$(DTRAIN="$fake" DTRAIN_JOB_DIR="$work/c" FAKE_LOG="$work/c.log" FAKE_EPOCH_SECONDS=1 \
  FAKE_MASKED_STOP=1 submit --ntasks=2 --time=5 --chdir="$work" --output="$work/c.out" \
  "$DTRAIN_ROOT/slurm/train.sbatch" --epochs 4)"
wait_for_epoch "$work/c/metrics.jsonl" 1 c
scancel --batch --signal=USR1 "$job"
state="$(wait_job "$job" 120)"
{ [ "$state" = COMPLETED ] && [ "$(job_field "$job" Restarts)" = 1 ]; } ||
  { show_file "$work/c.out"; fail "job $job: $state with $(job_field "$job" Restarts) restarts, expected COMPLETED after 1 restart (a masked exit 75)"; }
grep -q "stopped-with-checkpoint step [0-9]*: treating exit [0-9]* as 75" "$work/c.out" ||
  { show_file "$work/c.out"; fail "the masked exit was not read from DTRAIN_EXIT_REASON_FILE"; }
echo "PASS: requeue after USR1 resumed from the checkpoint; scancel did not requeue; a masked 75 was requeued ($((SECONDS - start)) s)"
