#!/usr/bin/env bash
# Fuzzes every parser of a user's file (issue 12): builds the libFuzzer targets of fuzz/ with
# clang-14, ASan and UBSan into build-fuzz/, replays the committed corpus, then runs each
# target for SECONDS [60] and prints executions and crashes per target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (targets: idx_reader model_spec checkpoint config_file npy npz csv)
# New interesting inputs go to build-fuzz/corpus/<target>/ (the committed fuzz/corpus/ stays
# as it is); a crash's input is saved as build-fuzz/crashes/<target>/crash-*: make it a
# bad-input unit test, fix the bug, then add the input to fuzz/corpus/<target>/.
# FUZZ_JOBS=N runs N targets at once (default 1: CI has 2 cores and the build uses them).
# Exit status: 0 when no target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx_reader model_spec checkpoint config_file npy npz csv)
jobs="${FUZZ_JOBS:-1}"

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDTRAIN_FUZZ=ON -DDTRAIN_SANITIZE=ON -DDTRAIN_BUILD_TESTS=OFF -DDTRAIN_NATIVE=OFF > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# Leaks are bugs too (libFuzzer checks each input); a UBSan finding stops the run.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

fuzz_one() {
  local t=$1 dir=build-fuzz
  mkdir -p "$dir/corpus/$t" "$dir/crashes/$t" "$dir/logs"
  rm -f "$dir/crashes/$t"/*
  local dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")  # the format's keywords
  # -timeout: one input taking over 10 s is a hang; -malloc_limit_mb: a parser asking for
  # more than 2 GiB at once on a small input is a bug (its own limits must refuse it first);
  # -rss_limit_mb 4096: a GAN spec builds two networks of up to 2^27 parameters (params and
  # grads: 1 GiB each network), the model builder's own limit.
  "$dir/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/$t/" "${dict[@]}" \
    "$dir/corpus/$t" "fuzz/corpus/$t" > "$dir/logs/$t.log" 2>&1 || true
}

pids=()
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

status=0
printf '%-12s %8s %12s %8s %8s\n' target seconds executions corpus crashes
for t in "${targets[@]}"; do
  log=build-fuzz/logs/$t.log
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  crashes=$(find "build-fuzz/crashes/$t" -type f | wc -l)
  corpus=$(find "build-fuzz/corpus/$t" "fuzz/corpus/$t" -type f | wc -l)
  printf '%-12s %8s %12s %8s %8s\n' "$t" "$seconds" "${execs:-?}" "$corpus" "$crashes"
  if [ "$crashes" -ne 0 ] || [ -z "$execs" ]; then
    status=1
    echo "--- $t: see $log" >&2
    grep -m 5 -E 'ERROR|SUMMARY|terminate|Test unit written' "$log" >&2 || tail -20 "$log" >&2
  fi
done
exit $status
