#!/usr/bin/env bash
# sbatch slurm/train.sbatch on the local cluster: a short synthetic run on 2 ranks launched
# with srun --mpi=pmix completes, and its metrics file has one line per epoch and a final line
# with world_size 2.
#   train_sbatch_test.sh WORK_DIR   (env: DTRAIN, DTRAIN_ROOT, SLURM_CONF)
# DTRAIN_TEST_LAYOUT [--ntasks=2] places the ranks: the multinode tests run it with
# "--nodes=2 --ntasks-per-node=1" on a 2-node cluster of emulated hosts, and then also check
# that the job ran on both nodes and that its traffic crossed the hosts' links
# (DTRAIN_TEST_HOSTS names the emulated hosts).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
: "${DTRAIN:?DTRAIN (the dtrain binary) must be set}"
need_cluster

rm -rf "$work" && mkdir -p "$work"
epochs=2
start=$SECONDS
read -r -a layout <<< "${DTRAIN_TEST_LAYOUT:---ntasks=2}"
[ -z "${DTRAIN_TEST_HOSTS:-}" ] || before="$(emulated_bytes_sent)"
job="$(DTRAIN_JOB_DIR="$work/job" submit "${layout[@]}" --time=5 --chdir="$work" --output="$work/job.out" \
  "$DTRAIN_ROOT/slurm/train.sbatch" --data synthetic --model mlp --epochs "$epochs")"
state="$(wait_job "$job" 120)"
echo "job $job: $state after $((SECONDS - start)) s (submit to end)"
if [ "$state" != COMPLETED ]; then
  show_file "$work/job.out"
  fail "job $job ended $state (exit code $(job_field "$job" ExitCode)), expected COMPLETED"
fi

metrics="$work/job/metrics.jsonl"
[ -s "$metrics" ] || { show_file "$work/job.out"; fail "no metrics file at $metrics"; }
n="$(grep -c '"event":"epoch"' "$metrics" || true)"
[ "$n" -eq "$epochs" ] || { show_file "$metrics"; fail "$n epoch lines in $metrics, expected $epochs"; }
for e in $(seq "$epochs"); do
  # Key order in the JSON lines is not part of the contract: match the two keys separately.
  grep '"event":"epoch"' "$metrics" | grep -Eq "\"epoch\":$e[,}]" || { show_file "$metrics"; fail "no line for epoch $e"; }
done
grep '"event":"final"' "$metrics" | grep -q '"world_size":2' ||
  { show_file "$metrics"; fail "no final line with world_size 2 in $metrics"; }
grep -q "2 ranks x 1 thread(s), launcher srun" "$work/job.out" ||
  { show_file "$work/job.out"; fail "the job log does not show 2 ranks x 1 thread launched with srun"; }
if [ -n "${DTRAIN_TEST_HOSTS:-}" ]; then
  nodes="$(job_field "$job" NumNodes)"
  [ "$nodes" = 2 ] || fail "job $job ran on '$nodes' nodes ($(job_field "$job" NodeList)), expected 2"
  sent=$(($(emulated_bytes_sent) - before))
  # Rank 0's mlp parameters alone (203,786 floats) are 0.8 MB; training moves far more.
  [ "$sent" -gt 1000000 ] || fail "the hosts' links carried only $sent bytes: the ranks did not talk across them"
  echo "job $job on nodes $(job_field "$job" NodeList): the links carried $sent bytes"
fi
echo "PASS: job $job, $(grep -c '"event":"epoch"' "$metrics") epochs, $(job_field "$job" RunTime) run time"
