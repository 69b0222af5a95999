#!/usr/bin/env bash
# A rank that stops answering (SIGSTOP: a stuck NFS read, a swapped-out node) ends the job by
# itself: at np=2 and np=3, each rank stopped in turn (FAULT_REPS [1] rounds), the job exits 4
# within --comm-timeout (5 s) + 10 s of the SIGSTOP, a message names the stopped rank as silent,
# and no process of the job is left. bench/fault_acceptance.sh runs the 10/10 version.
#   sigstop_test.sh WORK_DIR   (env: DTRAIN, DTRAIN_ROOT)
set -euo pipefail
work="${1:?usage: $0 WORK_DIR}"
source "$(dirname "$0")/fault_lib.sh"
rm -rf "$work" && mkdir -p "$work"
failed="$(fault_sweep sigstop 0 "${FAULT_REPS:-1}" "$work")"
[ "$failed" = 0 ] || { echo "FAIL: $failed SIGSTOP run(s) did not end as they should" >&2; exit 1; }
echo "PASS: every SIGSTOP'd rank was named and the job ended by itself with exit code 4"
