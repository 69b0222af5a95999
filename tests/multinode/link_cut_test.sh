#!/usr/bin/env bash
# A host whose link goes down mid-run (a pulled cable: no RST, no FIN) ends the job by itself:
# ranks on 3 emulated hosts (one each, mpirun on the first host as a batch script runs it on
# the first node), at np=2 and np=3 the host of each non-zero rank is cut in turn (FAULT_REPS
# [1] rounds): the job exits 4 within --comm-timeout (5 s) + 10 s, a message names the rank
# on the cut host as silent, and no process is left in any host (counted with ip netns pids).
# The hosts use --tcp-retries 3, so mpirun and its daemons give up on the cut host within
# seconds instead of TCP's default ~15 minutes (cluster/README.md says why a site wants that).
#   link_cut_test.sh WORK_DIR   (env: DTRAIN_ROOT, DTRAIN)
# DTRAIN_TEST_HOSTS, DTRAIN_TEST_SUBNET [dtf, 205]: the hosts' --name and --subnet (CTest
# derives both from the build path, so that two build trees can run the tests at once).
source "$(dirname "$0")/lib.sh"
work="${1:?usage: $0 WORK_DIR}"
rm -rf "$work" && mkdir -p "$work"
name="${DTRAIN_TEST_HOSTS:-dtf}"
subnet="${DTRAIN_TEST_SUBNET:-205}"
hosts_start "$name" "$subnet" 3 --tcp-retries 3
export FAULT_HOSTS_NAME="$name"
source "$DTRAIN_ROOT/tests/faults/fault_lib.sh"
failed="$(fault_sweep linkcut 1 "${FAULT_REPS:-1}" "$work")"
[ "$failed" = 0 ] || fail "$failed link cut run(s) did not end as they should"
echo "PASS: every cut host's rank was named and the job ended by itself with exit code 4, nothing left"
