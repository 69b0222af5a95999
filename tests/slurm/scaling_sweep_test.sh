#!/usr/bin/env bash
# The scaling sweep at 1 and 2 ranks produces its CSV, JSON lines and PNG plots:
#  - through slurm/scaling.sbatch on the local cluster (runs launched with srun --mpi=pmix),
#  - and on the workstation path, bench/scaling_sweep.sh under mpirun.
#   scaling_sweep_test.sh WORK_DIR   (env: DTRAIN, DTRAIN_ROOT, SLURM_CONF)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
: "${DTRAIN:?DTRAIN (the dtrain binary) must be set}"
need_cluster
rm -rf "$work" && mkdir -p "$work"
sweep_opts=(--ranks "1 2" --data synthetic --model mlp --steps 20)

check_results() {  # check_results DIR MODES PLOTS(1/0)
  local dir="$1" csv="$1/scaling.csv" mode p n
  [ -s "$csv" ] || fail "no $csv"
  head -n 1 "$csv" | grep -q '^framework,mode,ranks,global_batch,per_rank_batch,steps,samples_per_sec,speedup,efficiency,comm_share,' ||
    { show_file "$csv"; fail "unexpected header in $csv"; }
  for mode in $2; do
    for p in 1 2; do
      n="$(grep -c "^dtrain,$mode,$p," "$csv" || true)"
      [ "$n" = 1 ] || { show_file "$csv"; fail "$n rows for dtrain $mode at $p ranks in $csv, expected 1"; }
    done
    # At the base rank count speedup and efficiency are 1 by definition; throughput is positive.
    grep -q "^dtrain,$mode,1,.*,1\.000,1\.000," "$csv" || { show_file "$csv"; fail "speedup/efficiency at 1 rank is not 1"; }
  done
  awk -F, 'NR > 1 && !($7 > 0) { bad = 1 } END { exit bad }' "$csv" || { show_file "$csv"; fail "a throughput is not positive"; }
  [ "$(wc -l < "$dir/scaling.jsonl")" = "$(($(wc -l < "$csv") - 1))" ] || fail "scaling.jsonl and scaling.csv disagree"
  grep -q '"samples_per_sec":[0-9]' "$dir/scaling.jsonl" || { show_file "$dir/scaling.jsonl"; fail "bad JSON lines"; }
  if [ "$3" = 1 ]; then
    for png in throughput efficiency; do
      [ -s "$dir/$png.png" ] || fail "no $dir/$png.png"
      [ "$(head -c 4 "$dir/$png.png" | od -An -tx1 | tr -d ' ')" = 89504e47 ] || fail "$dir/$png.png is not a PNG file"
    done
  fi
}

# 1. Inside Slurm: sbatch slurm/scaling.sbatch, 2 tasks.
start=$SECONDS
job="$(submit --ntasks=2 --time=10 --chdir="$work" --output="$work/sbatch.out" \
  "$DTRAIN_ROOT/slurm/scaling.sbatch" "${sweep_opts[@]}" --out "$work/slurm")"
state="$(wait_job "$job" 240)"
echo "scaling job $job: $state after $((SECONDS - start)) s"
[ "$state" = COMPLETED ] || { show_file "$work/sbatch.out"; fail "scaling job $job ended $state"; }
grep -q "scaling_sweep: srun" "$work/sbatch.out" || { show_file "$work/sbatch.out"; fail "the sweep did not launch with srun"; }
check_results "$work/slurm" "strong weak" 1
cat "$work/slurm/scaling.csv"

# 2. Workstation path: mpirun, one mode, no plots (the plots were checked above).
start=$SECONDS
bash "$DTRAIN_ROOT/bench/scaling_sweep.sh" "${sweep_opts[@]}" --modes weak --launcher mpirun --no-plot \
  --out "$work/mpirun" > "$work/mpirun.out" 2>&1 || { show_file "$work/mpirun.out"; fail "bench/scaling_sweep.sh under mpirun failed"; }
check_results "$work/mpirun" weak 0
echo "PASS: sweep under sbatch/srun and under mpirun ($((SECONDS - start)) s for the mpirun one)"
