#!/usr/bin/env bash
# Training across emulated hosts is exact and goes over the links: for cnn and lstm at np=2
# and np=3, ranks on different hosts (Open MPI's TCP transport between namespaces) end with
# parameters bitwise equal (params_sha256) to the same run on one host (shared memory), both
# with --allreduce ring; and the bytes the hosts sent on their links are what the ring and the
# start-up broadcast must move, within 10%:
#   steps * 2(P-1) * N * 4 bytes (each allreduce: P-1 segments out per rank and phase, summed
#   over P ranks) + (P-1) * N * 4 (rank 0's parameters to every other rank), N = parameters.
# With shared memory between hosts the links would carry almost nothing.
#   train_exact_test.sh WORK_DIR   (env: DTRAIN_ROOT, DTRAIN)
# DTRAIN_TEST_HOSTS, DTRAIN_TEST_SUBNET [dtm, 201]: the hosts' --name and --subnet (CTest
# derives both from the build path, so that two build trees can run the tests at once).
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
rm -rf "$work" && mkdir -p "$work"
name="${DTRAIN_TEST_HOSTS:-dtm}"
subnet="${DTRAIN_TEST_SUBNET:-201}"
hosts_start "$name" "$subnet" 3

run() {  # run WHERE NP MODEL STEPS DIR: WHERE is hosts or local
  local where="$1" np="$2" model="$3" steps="$4" out="$5" launch
  if [ "$where" = hosts ]; then
    launch=(env $(bash "$hosts_tool" env --name "$name" | sed -n "s/^export \([A-Z_a-z]*\)='\(.*\)'$/\1=\2/p")
      mpirun -np "$np" --hostfile "/tmp/dtrain-hosts-$name/hostfile")
  else
    launch=(mpirun -np "$np" --bind-to none)
  fi
  timeout 240 "${launch[@]}" "$DTRAIN" --data synthetic --model "$model" --epochs 1 --max-steps "$steps" \
    --allreduce ring --seed 3 --progress never --checkpoint-dir "$out/ckpt" --metrics "$out/metrics.jsonl" \
    > "$out.log" 2>&1 || { cat "$out.log" >&2; fail "$where np=$np $model: dtrain failed"; }
}

for model in cnn lstm; do
  steps=12
  for np in 2 3; do
    run local "$np" "$model" "$steps" "$work/$model-np$np-local"
    before="$(bytes_sent "$name")"
    run hosts "$np" "$model" "$steps" "$work/$model-np$np-hosts"
    sent=$(($(bytes_sent "$name") - before))
    want_sha="$(params_sha "$work/$model-np$np-local/ckpt")"
    got_sha="$(params_sha "$work/$model-np$np-hosts/ckpt")"
    [ -n "$want_sha" ] && [ "$want_sha" = "$got_sha" ] ||
      fail "$model np=$np: params_sha256 across hosts $got_sha, on one host $want_sha"
    json="$("$DTRAIN" inspect "$work/$model-np$np-hosts/ckpt/$(cat "$work/$model-np$np-hosts/ckpt/latest")" --json)"
    n="$(json_field num_params "$json")"
    ran="$(grep '"event":"final"' "$work/$model-np$np-hosts/metrics.jsonl" | sed -n 's/.*"steps":\([0-9]*\).*/\1/p')"
    [ "$ran" = "$steps" ] || fail "$model np=$np ran '$ran' steps, expected $steps"
    expected=$((steps * 2 * (np - 1) * n * 4 + (np - 1) * n * 4))
    ratio="$(awk -v a="$sent" -v b="$expected" 'BEGIN {printf "%.4f", a / b}')"
    echo "$model np=$np: params_sha256 $got_sha on both; links carried $sent bytes, the ring predicts $expected (ratio $ratio)"
    awk -v r="$ratio" 'BEGIN {exit !(r >= 0.9 && r <= 1.1)}' ||
      fail "$model np=$np: the links carried $sent bytes, not within 10% of the $expected the allreduce must move"
  done
done
echo "PASS: cnn and lstm at np=2,3 bitwise equal across hosts and on one host; link bytes as predicted"
