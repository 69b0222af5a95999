#!/usr/bin/env bash
# Strong- and weak-scaling sweep of dtrain's training throughput over rank counts, with an
# optional PyTorch DDP column, written as CSV and JSON lines and plotted with gnuplot.
#
#   bench/scaling_sweep.sh [options] [-- extra dtrain options]
#     --ranks "1 2 4"        rank counts [1 2 4]
#     --modes strong,weak    strong: fixed global batch; weak: fixed per-rank batch [strong,weak]
#     --batch N              global batch of the strong sweep [128]
#     --per-rank-batch N     per-rank batch of the weak sweep [64]
#     --model NAME|FILE      [cnn]
#     --data DIR|synthetic   [dtrain's default, Debian's Fashion-MNIST]
#     --steps N              training steps per run (one epoch, cut short) [200]
#     --repeats N            runs per point; the median throughput is kept [1]
#     --torch auto|yes|no    PyTorch DDP (bench/torch_peer.py --world P) at the same points,
#                            interleaved with dtrain; auto = when python3-torch is installed and
#                            the data is Fashion-MNIST (torch_peer reads only that) [auto]
#                            (PyTorch runs with glibc's malloc thresholds raised: its best case)
#     --launcher auto|mpirun|srun   auto: srun --mpi=pmix inside a Slurm allocation, else mpirun [auto]
#     --out DIR              [bench/results/scaling-YYYYmmdd-HHMMSS]
#     --no-plot              skip the PNGs (no gnuplot needed)
#     --plot-only            redraw the PNGs from an existing --out DIR/scaling.csv
#   Environment: DTRAIN (the binary) [$BUILD_DIR/src/dtrain], BUILD_DIR [build].
#
# Writes DIR/scaling.csv and DIR/scaling.jsonl, one row per (framework, mode, ranks) with
#   framework,mode,ranks,global_batch,per_rank_batch,steps,samples_per_sec,speedup,efficiency,
#   comm_share,epoch_seconds,cores,oversubscribed
# where speedup = samples/s at P ranks / samples/s at the smallest rank count of the same
# framework and mode (normally 1), efficiency = speedup / (P / that count), comm_share =
# comm_seconds / epoch_seconds from dtrain's metrics (the gradient allreduce, waiting for the
# slowest rank included); and DIR/throughput.png, DIR/efficiency.png. Raw metrics of every run
# are kept in DIR/runs/. Every rank runs 1 BLAS thread; ranks beyond the cores are
# oversubscribed (MPI ranks then yield when idle) and marked so in the table.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

die() { echo "scaling_sweep: $*" >&2; exit 2; }
ranks="1 2 4" modes="strong,weak" batch=128 per_rank=64 model=cnn data="" steps=200 repeats=1
torch=auto launcher=auto out="" plot=1 plot_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) ranks="${2:?--ranks needs a list}"; shift 2 ;;
    --modes) modes="${2:?--modes needs strong, weak or both}"; shift 2 ;;
    --batch) batch="${2:?}"; shift 2 ;;
    --per-rank-batch) per_rank="${2:?}"; shift 2 ;;
    --model) model="${2:?}"; shift 2 ;;
    --data) data="${2:?}"; shift 2 ;;
    --steps) steps="${2:?}"; shift 2 ;;
    --repeats) repeats="${2:?}"; shift 2 ;;
    --torch) torch="${2:?}"; shift 2 ;;
    --launcher) launcher="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --no-plot) plot=0; shift ;;
    --plot-only) plot_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'  | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (dtrain options go after --; see --help)" ;;
  esac
done
extra=("$@")
ranks="$(echo "$ranks" | tr ',' ' ')"
for n in $ranks "$batch" "$per_rank" "$steps" "$repeats"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done
for m in ${modes//,/ }; do
  [[ "$m" =~ ^(strong|weak)$ ]] || die "--modes: '$m' is neither strong nor weak"
done

if [ "$plot" = 1 ]; then
  command -v gnuplot >/dev/null || die "gnuplot not found: apt-get install gnuplot-nox (or pass --no-plot)"
fi

run_sweep() {
DTRAIN="${DTRAIN:-${BUILD_DIR:-build}/src/dtrain}"
[ -x "$DTRAIN" ] || die "no dtrain binary at $DTRAIN: build it (bash scripts/build.sh) or set DTRAIN"
if [ "$launcher" = auto ]; then
  if [ -n "${SLURM_JOB_ID:-}" ]; then launcher=srun; else launcher=mpirun; fi
fi
case "$launcher" in
  srun)
    [ -n "${SLURM_JOB_ID:-}" ] || die "--launcher srun needs a Slurm allocation (sbatch slurm/scaling.sbatch)"
    for p in $ranks; do
      [ "$p" -le "${SLURM_NTASKS:-1}" ] || die "$p ranks but the allocation has ${SLURM_NTASKS:-1} tasks (sbatch --ntasks=$p)"
    done ;;
  mpirun) command -v mpirun >/dev/null || die "mpirun not found: apt-get install openmpi-bin" ;;
  *) die "--launcher: expected auto, mpirun or srun" ;;
esac

# PyTorch's peer reads only Fashion-MNIST, so it joins only when dtrain trains on that too.
have_torch() { /usr/bin/python3 -c 'import torch' 2>/dev/null; }
case "$torch" in
  auto) if [ "$data" != synthetic ] && [ -z "$data" ] && have_torch; then torch=yes; else torch=no; fi ;;
  yes) have_torch || die "--torch yes: /usr/bin/python3 cannot import torch (apt-get install python3-torch)"
       [ "$data" != synthetic ] || die "--torch yes needs Fashion-MNIST data, not --data synthetic" ;;
  no) ;;
  *) die "--torch: expected auto, yes or no" ;;
esac

mkdir -p "$out/runs"
cores="$(nproc)"
# One BLAS thread per rank: OpenBLAS's idle threads spin and would steal the other ranks' cores.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
if [ "$launcher" = mpirun ]; then source scripts/mpi-env.sh; fi

launch() {  # launch P COMMAND...: P ranks of COMMAND
  local p="$1"; shift
  # More ranks than cores: MPI ranks that busy-poll while waiting would take the cores from
  # the ranks that compute, so let them yield (mpirun --oversubscribe does this by itself,
  # srun-started ranks do not know they are oversubscribed).
  local envs=(env)
  if [ "$p" -gt "$cores" ]; then envs+=(OMPI_MCA_mpi_yield_when_idle="${OMPI_MCA_mpi_yield_when_idle:-1}"); fi
  if [ "$launcher" = srun ]; then
    "${envs[@]}" srun --mpi=pmix --ntasks="$p" --cpus-per-task=1 --kill-on-bad-exit=1 "$@"
  else
    "${envs[@]}" mpirun -np "$p" --oversubscribe --bind-to none "$@"
  fi
}

field() {  # field KEY FILE: the number after "KEY": on the last epoch line (dtrain or torch_peer)
  grep '"event": *"epoch"' "$2" | tail -n 1 | sed -n "s/.*\"$1\": *\([-0-9.eE+]*\).*/\1/p"
}

raw="$out/raw.csv"  # one line per run; reduced to medians below
echo "framework,mode,ranks,global_batch,per_rank_batch,samples_per_sec,comm_share,epoch_seconds" > "$raw"
echo "scaling_sweep: $launcher, ranks {$ranks}, modes $modes, model $model, data ${data:-Fashion-MNIST}, $steps steps, $cores cores, torch $torch -> $out" | tee "$out/sweep.txt"
run_point() {  # run_point MODE P GLOBAL_BATCH ROUND: dtrain, then PyTorch, at one point
  local mode="$1" p="$2" g="$3" r="$4" m t sps es cs share args
  m="$out/runs/dtrain-$mode-np$p-r$r.jsonl"
  rm -f "$m"
  args=(--model "$model" --epochs 1 --max-steps "$steps" --batch-size "$g" --threads 1
        --progress never --metrics "$m")
  [ -z "$data" ] || args+=(--data "$data")
  launch "$p" "$DTRAIN" "${args[@]}" "${extra[@]}" > "$out/runs/dtrain-$mode-np$p-r$r.log" 2>&1 ||
    { tail -n 20 "$out/runs/dtrain-$mode-np$p-r$r.log" >&2; die "dtrain at $p ranks ($mode) failed; log in $out/runs/"; }
  sps="$(field samples_per_sec "$m")"; es="$(field epoch_seconds "$m")"; cs="$(field comm_seconds "$m")"
  [ -n "$sps" ] || die "no epoch line in $m"
  share="$(awk -v c="$cs" -v e="$es" 'BEGIN { if (e > 0) printf "%.4f", c / e }')"
  echo "dtrain,$mode,$p,$g,$((g / p)),$sps,$share,$es" >> "$raw"
  printf '  dtrain  %-6s np=%d batch %4d: %8.0f samples/s, comm %s of the epoch\n' "$mode" "$p" "$g" "$sps" "$share"
  if [ "$torch" = yes ]; then
    if [ $((g % p)) -ne 0 ]; then
      echo "  pytorch $mode np=$p: skipped (batch $g is not a multiple of $p)"; return 0
    fi
    t="$out/runs/torch-$mode-np$p-r$r.jsonl"
    # glibc's default malloc returns PyTorch's activation buffers to the kernel and faults
    # them in again every step (1.4-4x slower on these VMs, ../shared/notes/baselines.md):
    # the thresholds keep them, which gives the peer its best case. dtrain allocates once.
    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296 \
      /usr/bin/python3 bench/torch_peer.py --world "$p" --batch-size "$g" --epochs 1 \
      --max-steps "$steps" --no-eval --threads 1 > "$t" 2> "$out/runs/torch-$mode-np$p-r$r.log" ||
      { tail -n 20 "$out/runs/torch-$mode-np$p-r$r.log" >&2; die "torch_peer.py at $p processes failed"; }
    sps="$(field samples_per_sec "$t")"; es="$(field epoch_seconds "$t")"
    echo "pytorch_ddp,$mode,$p,$g,$((g / p)),$sps,,$es" >> "$raw"
    printf '  pytorch %-6s np=%d batch %4d: %8.0f samples/s\n' "$mode" "$p" "$g" "$sps"
  fi
}

# Round robin: every round visits every point, so a machine that gets busier or quieter
# during the sweep shifts all points alike instead of one mode or rank count.
for r in $(seq "$repeats"); do
  for mode in ${modes//,/ }; do
    for p in $ranks; do
      if [ "$mode" = strong ]; then g="$batch"; else g=$((per_rank * p)); fi
      [ "$g" -ge "$p" ] || die "global batch $g is smaller than $p ranks"
      run_point "$mode" "$p" "$g" "$r"
    done
  done
done

# Medians over repeats, then speedup and efficiency against the smallest rank count.
awk -F, -v cores="$cores" '
  NR == 1 { next }
  { key = $1 "," $2 "," $3; if (!(key in n)) order[++keys] = key
    n[key]++; v[key, n[key]] = $6; share[key, n[key]] = $7; secs[key, n[key]] = $8
    gb[key] = $4; pb[key] = $5 }
  function median(k, arr,   i, j, t, a, c) {
    c = n[k]; for (i = 1; i <= c; i++) a[i] = arr[k, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  END {
    print "framework,mode,ranks,global_batch,per_rank_batch,steps,samples_per_sec,speedup,efficiency,comm_share,epoch_seconds,cores,oversubscribed"
    for (i = 1; i <= keys; i++) {
      k = order[i]; split(k, f, ","); s = median(k, v)
      base = f[1] "," f[2]
      if (!(base in base_sps) || f[3] + 0 < base_p[base]) { base_sps[base] = s; base_p[base] = f[3] }
      med[k] = s
    }
    for (i = 1; i <= keys; i++) {
      k = order[i]; split(k, f, ","); base = f[1] "," f[2]
      sp = med[k] / base_sps[base]; eff = sp / (f[3] / base_p[base])
      cs = (share[k, 1] == "") ? "" : sprintf("%.4f", median(k, share))
      printf "%s,%s,%d,%d,%d,%s,%.1f,%.3f,%.3f,%s,%.3f,%d,%s\n", f[1], f[2], f[3], gb[k], pb[k], steps_, med[k], sp, eff, cs, median(k, secs), cores, (f[3] > cores) ? "yes" : "no"
    }
  }' steps_="$steps" "$raw" > "$out/scaling.csv"

# The same rows as JSON lines.
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
  { line = "{"; for (i = 1; i <= NF; i++) {
      q = ($i ~ /^-?[0-9.]+$/) ? $i : (($i == "") ? "null" : "\"" $i "\"")
      line = line (i > 1 ? "," : "") "\"" h[i] "\":" q }
    print line "}" }' "$out/scaling.csv" > "$out/scaling.jsonl"

echo
column -s, -t < "$out/scaling.csv" 2>/dev/null || cat "$out/scaling.csv"
}  # run_sweep

make_plots() {  # from DIR/scaling.csv (and the model named in DIR/sweep.txt)
  local s sep max_p note gp cores ranks
  mkdir -p "$out/runs"
  model="$(sed -n 's/.*, model \([^,]*\),.*/\1/p' "$out/sweep.txt" 2>/dev/null | head -n 1)"
  model="${model:-$1}"
  ranks="$(awk -F, 'NR > 1 { print $3 }' "$out/scaling.csv" | sort -n | uniq | paste -sd' ' -)"
  cores="$(awk -F, 'NR == 2 { print $12 }' "$out/scaling.csv")"
  # One data file per series (framework-mode) keeps the gnuplot script plain.
  series=()
  while IFS= read -r s; do series+=("$s"); done < <(awk -F, 'NR > 1 { print $1 "-" $2 }' "$out/scaling.csv" | awk '!seen[$0]++')
  for s in "${series[@]}"; do
    awk -F, -v s="$s" 'NR > 1 && $1 "-" $2 == s { print $3, $7, $9 }' "$out/scaling.csv" > "$out/runs/plot-$s.dat"
  done
  max_p="$(echo "$ranks" | tr ' ' '\n' | sort -n | tail -n 1)"
  note="$(hostname -s), $cores cores; 1 BLAS thread per rank"
  [ "$max_p" -le "$cores" ] || note="$note; more ranks than cores = oversubscribed"
  style() {  # colour by framework, solid strong / dashed weak
    local c="'#1f5fbf'" d=1 pt=7
    case "$1" in pytorch*) c="'#e07000'" ;; esac
    case "$1" in *-weak) d=2 pt=5 ;; esac
    echo "lw 2 lc rgb $c dt $d pt $pt"
  }
  gp="$out/runs/plot.gp"
  {
    echo "set terminal pngcairo size 900,600 font 'sans,11'"
    echo "set datafile separator ' '"
    echo "set key top left noenhanced"
    echo "set grid"
    echo "set xlabel 'ranks'"
    echo "set xtics ($(echo "$ranks" | tr ' ' '\n' | sort -n | paste -sd, -))"
    echo "set xrange [0.8:$max_p*1.1]"
    echo "set logscale x 2"
    echo "set output '$out/throughput.png'"
    echo "set title \"$model training throughput ($note)\" noenhanced"
    echo "set ylabel 'samples/s (all ranks)'"
    echo "set yrange [0:*]"
    printf "plot "
    sep=""
    for s in "${series[@]}"; do
      printf "%s'%s' using 1:2 with linespoints %s title '%s'" "$sep" "$out/runs/plot-$s.dat" "$(style "$s")" "${s/-/ }"
      sep=", "
    done
    echo
    echo "set output '$out/efficiency.png'"
    echo "set title \"Scaling efficiency, $model ($note)\" noenhanced"
    echo "set ylabel 'efficiency = speedup / ranks'"
    echo "set yrange [0:1.3]"
    printf "plot 1 with lines dt 2 lc rgb 'gray' title 'ideal'"
    # With more ranks than cores, the best possible efficiency is cores / ranks.
    [ "$max_p" -le "$cores" ] || printf ", (x <= %d ? 1 : %d / x) with lines dt 3 lw 2 lc rgb '#999999' title 'ideal on %d cores'" "$cores" "$cores" "$cores"
    for s in "${series[@]}"; do
      printf ", '%s' using 1:3 with linespoints %s title '%s'" "$out/runs/plot-$s.dat" "$(style "$s")" "${s/-/ }"
    done
    echo
  } > "$gp"
  gnuplot "$gp" || die "gnuplot failed on $gp"
  echo "plots: $out/throughput.png $out/efficiency.png"
}

if [ "$plot_only" = 1 ]; then
  [ -s "${out:-}/scaling.csv" ] || die "--plot-only needs --out DIR holding a scaling.csv"
  [ "$plot" = 1 ] || die "--plot-only and --no-plot leave nothing to do"
  make_plots "$model"
  exit 0
fi
out="${out:-bench/results/scaling-$(date +%Y%m%d-%H%M%S)}"
run_sweep
[ "$plot" = 0 ] || make_plots "$model"
echo "results: $out/scaling.csv $out/scaling.jsonl"
