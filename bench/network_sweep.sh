#!/usr/bin/env bash
# Training throughput and allreduce bandwidth across emulated network hosts, over link rates
# and rank counts: one rank per host (cluster/emulated-hosts.sh, each host its own core), so
# every byte between ranks crosses a (shaped) virtual Ethernet link over TCP.
#
#   sudo bench/network_sweep.sh [options] [-- extra dtrain options]
#     --rates "unshaped 10gbit 1gbit"   link rates (tc notation; unshaped = no qdisc) [that]
#     --ranks "1 2 3 4"      rank counts = hosts; beyond the cores the hosts share cores
#                            (oversubscribed, marked in the table) [1 2 3 4]
#     --steps N              training steps per run (one epoch cut short) [100]
#     --model NAME|FILE      [cnn]      --data DIR|synthetic  [dtrain's default, Fashion-MNIST]
#     --bytes "A B ..."      allreduce sizes [262144 1048576 4194304 16777216]
#     --iters N              allreduce iterations per size [20]
#     --algos LIST           allreduce algorithms, as `dtrain bench allreduce --algo` [ring,mpi]
#     --repeats N            rounds; each round visits every (rate, ranks) point once, so
#                            slow phases of a shared machine spread over all points; the
#                            median of the rounds is reported [1]
#     --out DIR              [bench/results/network-YYYYmmdd-HHMMSS]
#     --plot-only            redraw DIR/network.png from DIR's CSV files
#   Environment: DTRAIN [build/src/dtrain]. Needs root (namespaces), Open MPI, gnuplot-nox.
#
# Writes DIR/train.csv (rate,ranks,round,samples_per_sec,comm_share,oversubscribed),
# DIR/allreduce.csv (rate,ranks,round,algo,bytes,time_us_p50,busbw_gbs,wrong), DIR/summary.csv
# (rate,ranks,samples_per_sec,speedup_vs_1,comm_share, medians over rounds), all rows also as
# DIR/results.jsonl, and DIR/network.png (throughput vs ranks per rate; busbw vs size at np=2).
# speedup_vs_1 = samples/s at P ranks / samples/s of one rank at the same rate.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
die() { echo "network_sweep: $*" >&2; exit 2; }

rates="unshaped 10gbit 1gbit" ranks="1 2 3 4" steps=100 model=cnn data="" bytes="262144 1048576 4194304 16777216"
iters=20 algos="ring,mpi" repeats=1 out="" plot_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) rates="${2:?}"; shift 2 ;;
    --ranks) ranks="${2:?}"; shift 2 ;;
    --steps) steps="${2:?}"; shift 2 ;;
    --model) model="${2:?}"; shift 2 ;;
    --data) data="${2:?}"; shift 2 ;;
    --bytes) bytes="${2:?}"; shift 2 ;;
    --iters) iters="${2:?}"; shift 2 ;;
    --algos) algos="${2:?}"; shift 2 ;;
    --repeats) repeats="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --plot-only) plot_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (dtrain options go after --; see --help)" ;;
  esac
done
extra=("$@")
for n in $ranks $steps $iters $repeats $bytes; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done
out="${out:-bench/results/network-$(date +%Y%m%d-%H%M%S)}"
command -v gnuplot > /dev/null || die "gnuplot not found: apt-get install gnuplot-nox"

hosts_tool="$root/cluster/emulated-hosts.sh"
name=dtw subnet=205
cleanup() { bash "$hosts_tool" stop --name "$name" > /dev/null 2>&1 || true; }

plot() {
  local d="$1"
  # One block per rate for gnuplot's `index`: throughput by ranks, busbw by size at np=2.
  local r
  : > "$d/plot-train.dat"; : > "$d/plot-busbw.dat"
  for r in $(awk -F, 'NR > 1 {print $1}' "$d/summary.csv" | awk '!seen[$0]++'); do
    echo "# $r" >> "$d/plot-train.dat"
    awk -F, -v r="$r" 'NR > 1 && $1 == r {print $2, $3}' "$d/summary.csv" >> "$d/plot-train.dat"
    printf '\n\n' >> "$d/plot-train.dat"
    for a in $(awk -F, 'NR > 1 {print $4}' "$d/allreduce.csv" | awk '!seen[$0]++'); do
      echo "# $r $a" >> "$d/plot-busbw.dat"
      # median busbw over rounds per size, np=2
      awk -F, -v r="$r" -v a="$a" 'NR > 1 && $1 == r && $2 == 2 && $4 == a {print $5, $7}' "$d/allreduce.csv" |
        sort -k1,1n -k2,2g | awk 'function out() {if (n) print k, v[int((n + 1) / 2)]}
          $1 != k {out(); k = $1; n = 0} {v[++n] = $2} END {out()}' >> "$d/plot-busbw.dat"
      printf '\n\n' >> "$d/plot-busbw.dat"
    done
  done
  local titles_train titles_bw xtics
  xtics="$(awk -F, 'NR > 1 {print $5}' "$d/allreduce.csv" | sort -un | awk '{
    l = ($1 >= 1048576) ? sprintf("%g MiB", $1 / 1048576) : sprintf("%g KiB", $1 / 1024)
    printf "%s\"%s\" %s", (NR > 1 ? ", " : ""), l, $1}')"
  titles_train="$(grep '^# ' "$d/plot-train.dat" | sed 's/^# //' | awk '{printf "%s%s", (NR > 1 ? " " : ""), $0}')"
  titles_bw="$(grep '^# ' "$d/plot-busbw.dat" | sed 's/^# //; s/ /:/' | awk '{printf "%s%s", (NR > 1 ? " " : ""), $0}')"
  gnuplot <<EOF
set terminal pngcairo size 1200,500 font "sans,10"
set output "$d/network.png"
set multiplot layout 1,2 title "dtrain across emulated hosts (one rank per host, TCP over veth + bridge; $(nproc) cores)"
set title "training throughput ($model, global batch 128)"
set xlabel "ranks (= hosts)"; set ylabel "samples/s"; set key top left; set grid
set xtics 1
titles = "$titles_train"
plot for [i=1:words(titles)] "$d/plot-train.dat" index (i-1) using 1:2 with linespoints lw 2 title word(titles, i)
set title "allreduce busbw at np=2 (median of rounds)"
set xlabel "bytes"; set ylabel "busbw (GB/s)"; set logscale x 2
set xtics ($xtics)
titles = "$titles_bw"
plot for [i=1:words(titles)] "$d/plot-busbw.dat" index (i-1) using 1:2 with linespoints lw 2 title word(titles, i)
unset multiplot
EOF
  echo "network_sweep: wrote $d/network.png"
}

if [ "$plot_only" = 1 ]; then plot "$out"; exit 0; fi

[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces)"
DTRAIN="${DTRAIN:-$root/build/src/dtrain}"
[ -x "$DTRAIN" ] || die "no dtrain binary at $DTRAIN: build it (bash scripts/build.sh) or set DTRAIN"
source "$root/scripts/mpi-env.sh"
trap cleanup EXIT
mkdir -p "$out/runs"
max_ranks=0
for p in $ranks; do [ "$p" -gt "$max_ranks" ] && max_ranks=$p; done
cores="$(nproc)"
data_opt=(); [ -z "$data" ] || data_opt=(--data "$data")

echo "rate,ranks,round,samples_per_sec,comm_share,oversubscribed" > "$out/train.csv"
echo "rate,ranks,round,algo,bytes,time_us_p50,busbw_gbs,wrong" > "$out/allreduce.csv"
: > "$out/results.jsonl"
min_bytes="$(echo $bytes | tr ' ' '\n' | sort -n | head -n 1)"
max_bytes="$(echo $bytes | tr ' ' '\n' | sort -n | tail -n 1)"

for round in $(seq "$repeats"); do
  for rate in $rates; do
    rate_opt=(); [ "$rate" = unshaped ] || rate_opt=(--rate "$rate")
    bash "$hosts_tool" start "$max_ranks" --name "$name" --subnet "$subnet" "${rate_opt[@]}" > /dev/null
    # A subshell per rate: the hosts' mpirun settings must not leak into the next start.
    (
      eval "$(bash "$hosts_tool" env --name "$name")"
      for p in $ranks; do
        over=0; [ "$p" -le "$cores" ] || over=1
        tag="$rate-np$p-r$round"
        echo "network_sweep: round $round, link $rate, $p rank(s): training" >&2
        timeout 900 mpirun -np "$p" --hostfile "$DTRAIN_HOSTFILE" "$DTRAIN" --model "$model" "${data_opt[@]}" \
          --epochs 1 --max-steps "$steps" --progress never --metrics "$out/runs/$tag.jsonl" "${extra[@]}" \
          > "$out/runs/$tag.log" 2>&1 || { cat "$out/runs/$tag.log" >&2; die "training at $rate, np=$p failed"; }
        line="$(grep '"event":"epoch"' "$out/runs/$tag.jsonl" | tail -n 1)"
        sps="$(sed -n 's/.*"samples_per_sec":\([0-9.e+-]*\).*/\1/p' <<< "$line")"
        share="$(awk -v c="$(sed -n 's/.*"comm_seconds":\([0-9.e+-]*\).*/\1/p' <<< "$line")" \
          -v e="$(sed -n 's/.*"epoch_seconds":\([0-9.e+-]*\).*/\1/p' <<< "$line")" 'BEGIN {printf "%.3f", c / e}')"
        echo "$rate,$p,$round,$sps,$share,$over" >> "$out/train.csv"
        echo "{\"kind\":\"train\",\"rate\":\"$rate\",\"ranks\":$p,\"round\":$round,\"samples_per_sec\":$sps,\"comm_share\":$share,\"oversubscribed\":$over}" >> "$out/results.jsonl"
        [ "$p" -ge 2 ] || continue
        echo "network_sweep: round $round, link $rate, $p ranks: allreduce" >&2
        timeout 900 mpirun -np "$p" --hostfile "$DTRAIN_HOSTFILE" "$DTRAIN" bench allreduce --json --algo "$algos" \
          --min-bytes "$min_bytes" --max-bytes "$max_bytes" --iters "$iters" > "$out/runs/$tag-allreduce.jsonl" \
          2> "$out/runs/$tag-allreduce.err" || { cat "$out/runs/$tag-allreduce.err" >&2; die "allreduce at $rate, np=$p failed"; }
        for b in $bytes; do
          grep "\"bytes\":$b[,}]" "$out/runs/$tag-allreduce.jsonl" | while read -r j; do
            algo="$(sed -n 's/.*"algo":"\([^"]*\)".*/\1/p' <<< "$j")"
            t="$(sed -n 's/.*"time_us_p50":\([0-9.e+-]*\).*/\1/p' <<< "$j")"
            bw="$(sed -n 's/.*"busbw_gbs":\([0-9.e+-]*\).*/\1/p' <<< "$j")"
            wrong="$(sed -n 's/.*"wrong":\([0-9]*\).*/\1/p' <<< "$j")"
            echo "$rate,$p,$round,$algo,$b,$t,$bw,$wrong" >> "$out/allreduce.csv"
            echo "{\"kind\":\"allreduce\",\"rate\":\"$rate\",\"ranks\":$p,\"round\":$round,\"algo\":\"$algo\",\"bytes\":$b,\"time_us_p50\":$t,\"busbw_gbs\":$bw,\"wrong\":$wrong}" >> "$out/results.jsonl"
          done
        done
      done
    )
    bash "$hosts_tool" stop --name "$name" > /dev/null
  done
done

# Medians over rounds; speedup against one rank at the same link rate.
echo "rate,ranks,samples_per_sec,speedup_vs_1,comm_share" > "$out/summary.csv"
for rate in $rates; do
  base=""
  for p in $ranks; do
    med() { awk -F, -v r="$rate" -v p="$p" -v c="$1" 'NR > 1 && $1 == r && $2 == p {print $c}' "$out/train.csv" |
      sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
    sps="$(med 4)"; share="$(med 5)"
    [ "$p" != 1 ] || base="$sps"
    speedup="$(awk -v a="$sps" -v b="${base:-0}" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print ""}')"
    echo "$rate,$p,$sps,$speedup,$share" >> "$out/summary.csv"
  done
done
column -s, -t < "$out/summary.csv"
plot "$out"
