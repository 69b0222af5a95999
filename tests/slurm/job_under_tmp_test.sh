#!/usr/bin/env bash
# train_sbatch_test.sh with every path the job touches under a fresh directory in /tmp: the
# dtrain binary (a copy), the job's working directory, its output file and its job directory,
# as for a user whose checkout or build tree is under /tmp (an ordinary place for one). On the
# multi-node local cluster this is what broke when each node had a private /tmp (issue 27):
# slurmstepd could not open the output file ("No such file or directory") and the job failed
# within seconds. Costs one more short job, no second build tree.
#   job_under_tmp_test.sh WORK_DIR   (env: as train_sbatch_test.sh)
# WORK_DIR (in the build tree) only gets a note of the /tmp directory used; that directory is
# removed when the test ends, however it ends.
set -euo pipefail
work="${1:?usage: $0 WORK_DIR}"
: "${DTRAIN:?DTRAIN (the dtrain binary) must be set}"
rm -rf "$work" && mkdir -p "$work"
tmp="$(mktemp -d /tmp/dtrain-job-under-tmp.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
echo "$tmp" > "$work/tmp-dir"
cp "$DTRAIN" "$tmp/dtrain"
echo "job under $tmp (binary, working directory, output, job directory)"
# A child shell, so that its own EXIT trap (cancelling its jobs) runs before the rm above.
DTRAIN="$tmp/dtrain" bash "$(dirname "$0")/train_sbatch_test.sh" "$tmp/work"
