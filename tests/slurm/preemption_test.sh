#!/usr/bin/env bash
# Preemption with requeue, end to end with the real dtrain on the local cluster:
# slurm/train.sbatch with a 1-minute time limit and an early warning (--signal=B:USR1@25)
# gets USR1 mid-run, dtrain checkpoints and exits 75, the script requeues the job, the rerun
# resumes with --resume (and is warned and requeued again as often as needed), and the final
# parameters are bit-identical to those of an uninterrupted job of the same configuration
# (params_sha256 of `dtrain inspect --json` on each job's latest checkpoint).
#
# Slurm checks time limits and warnings every 30 s and sends a warning up to 30 s early, so
# with --time=1 and USR1@25 the warning comes 5-35 s after a run starts: the training must
# last longer than that (PREEMPT_EPOCHS [45] of the cnn on synthetic data, 45-120 s here while
# the reference job shares the 2 cores) or nothing is preempted and the test fails. Every
# rerun would be warned again after 5-35 s; to keep the test short, once the job has been
# requeued PREEMPT_RESTARTS [1] times the test raises its time limit so the rerun finishes.
#   preemption_test.sh WORK_DIR   (env: DTRAIN, DTRAIN_ROOT, SLURM_CONF)
# DTRAIN_TEST_LAYOUT [--ntasks=2] places the ranks of both jobs (the multinode tests use
# "--nodes=2 --ntasks-per-node=1" on a 2-node cluster of emulated hosts).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
: "${DTRAIN:?DTRAIN (the dtrain binary) must be set}"
need_cluster
help_text="$("$DTRAIN" train --help)"  # whole: `| grep -q` can end in SIGPIPE under pipefail
grep -q -- --checkpoint-dir <<< "$help_text" || fail "$DTRAIN has no --checkpoint-dir option"
rm -rf "$work" && mkdir -p "$work"

opts=(--data synthetic --model cnn --epochs "${PREEMPT_EPOCHS:-45}" --seed 7 --keep 2)
start=$SECONDS
read -r -a layout <<< "${DTRAIN_TEST_LAYOUT:---ntasks=2}"
# The reference runs at the same time: it uses the cores while the other job waits to be
# requeued, and sharing the cores slows both, which keeps the preempted run long enough.
ref="$(DTRAIN_JOB_DIR="$work/ref" DTRAIN_REQUEUE=0 submit "${layout[@]}" --time=15 \
  --chdir="$work" --output="$work/ref.out" "$DTRAIN_ROOT/slurm/train.sbatch" "${opts[@]}")"
job="$(DTRAIN_JOB_DIR="$work/job" submit "${layout[@]}" --time=1 --signal=B:USR1@25 \
  --chdir="$work" --output="$work/job.out" "$DTRAIN_ROOT/slurm/train.sbatch" "${opts[@]}")"

raised=0
raise_limit_after_requeue() {
  local r
  [ "$raised" = 0 ] || return 0
  r="$(job_field "$1" Restarts)"
  if [ "${r:-0}" -ge "${PREEMPT_RESTARTS:-1}" ]; then
    scontrol update JobId="$1" TimeLimit=15 || fail "scontrol update JobId=$1 TimeLimit=15 failed"
    raised=1
    echo "job $1 requeued $r time(s) after $((SECONDS - start)) s: time limit raised to 15 min for the rest" >&2
  fi
}
state="$(wait_job "$job" 900 raise_limit_after_requeue)"
restarts="$(job_field "$job" Restarts)"
echo "preempted job $job: $state after $((SECONDS - start)) s, $restarts restart(s)"
ref_state="$(wait_job "$ref" 900)"
echo "reference job $ref: $ref_state after $((SECONDS - start)) s (run time $(job_field "$ref" RunTime))"
[ "$ref_state" = COMPLETED ] || { show_file "$work/ref.out"; fail "reference job $ref ended $ref_state"; }
[ "$state" = COMPLETED ] || { show_file "$work/job.out"; fail "job $job ended $state, expected COMPLETED"; }
[ "${restarts:-0}" -ge 1 ] || { show_file "$work/job.out";
  fail "job $job finished without being preempted: the warning came after training ended (raise PREEMPT_EPOCHS)"; }
for pattern in "warning signal USR1" "dtrain exited with 75" "requeueing job $job" "job $job restart 1" "--resume"; do
  grep -q -- "$pattern" "$work/job.out" || { show_file "$work/job.out"; fail "'$pattern' is not in the job log"; }
done
grep "warning signal USR1\|restart [0-9]* on\|exited with" "$work/job.out" | sed 's/^/  /'

want="$(latest_params_sha "$work/ref/checkpoints" "$work/ref.out")"
got="$(latest_params_sha "$work/job/checkpoints" "$work/job.out")"
echo "params_sha256: uninterrupted $want, preempted $got"
[ "$want" = "$got" ] || fail "the preempted and requeued run ended with different parameters than the uninterrupted one"
echo "PASS: $restarts requeue(s), parameters bit-identical ($((SECONDS - start)) s)"
