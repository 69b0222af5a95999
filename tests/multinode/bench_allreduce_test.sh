#!/usr/bin/env bash
# `dtrain bench allreduce` across 2 and 3 emulated hosts: every algorithm's result is exact
# (wrong = 0) at every size, over TCP between the hosts.
#   bench_allreduce_test.sh WORK_DIR   (env: DTRAIN_ROOT, DTRAIN)
# DTRAIN_TEST_HOSTS, DTRAIN_TEST_SUBNET [dtb, 202]: the hosts' --name and --subnet (CTest
# derives both from the build path, so that two build trees can run the tests at once).
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
rm -rf "$work" && mkdir -p "$work"
name="${DTRAIN_TEST_HOSTS:-dtb}"
subnet="${DTRAIN_TEST_SUBNET:-202}"
hosts_start "$name" "$subnet" 3
hosts_env "$name"
for np in 2 3; do
  out="$work/np$np.jsonl"
  timeout 240 mpirun -np "$np" --hostfile "$DTRAIN_HOSTFILE" "$DTRAIN" bench allreduce --json \
    --min-bytes 4 --max-bytes 4194304 --iters 5 > "$out" 2> "$work/np$np.err" ||
    { cat "$work/np$np.err" >&2; fail "bench allreduce at np=$np across hosts failed"; }
  rows="$(grep -c '"bytes"' "$out" || true)"
  [ "$rows" -ge 20 ] || { cat "$out" >&2; fail "np=$np: only $rows result lines"; }
  grep '"bytes"' "$out" | grep -v '"ranks":'"$np"'[,}]' && fail "np=$np: a line with another rank count"
  bad="$(grep '"bytes"' "$out" | grep -v '"wrong":0[,}]' || true)"
  [ -z "$bad" ] || fail "np=$np: wrong elements across hosts: $bad"
  echo "np=$np across hosts: $rows (algorithm, size) results, all exact; algorithms: $(sed -n 's/.*"algo":"\([^"]*\)".*/\1/p' "$out" | sort -u | tr '\n' ' ')"
done
echo "PASS: bench allreduce exact across 2 and 3 hosts"
