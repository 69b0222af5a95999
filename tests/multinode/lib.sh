# Helpers sourced by the multinode tests: emulated hosts (cluster/emulated-hosts.sh) that the
# test removes when it exits, however it exits; mpirun across them; byte counters.
set -euo pipefail
: "${DTRAIN_ROOT:?DTRAIN_ROOT (the source tree) must be set}"
: "${DTRAIN:?DTRAIN (the dtrain binary) must be set}"
hosts_tool="$DTRAIN_ROOT/cluster/emulated-hosts.sh"
test_name="$(basename "$0" .sh)"
started_hosts=()

fail() { echo "FAIL ($test_name): $*" >&2; exit 1; }

stop_started_hosts() {
  local n
  for n in "${started_hosts[@]}"; do bash "$hosts_tool" stop --name "$n" > /dev/null 2>&1 || true; done
}
trap stop_started_hosts EXIT

hosts_start() {  # hosts_start NAME SUBNET N [--rate R]: N hosts, removed when the test exits
  local name="$1" subnet="$2" n="$3"; shift 3
  started_hosts+=("$name")
  bash "$hosts_tool" start "$n" --name "$name" --subnet "$subnet" "$@" || fail "emulated-hosts.sh start $n --name $name failed"
}

subnet_net() {  # subnet_net K: the first three octets of emulated-hosts.sh's --subnet K
  echo "198.$((18 + $1 / 256)).$(($1 % 256))"
}

hosts_env() {  # hosts_env NAME: exports what mpirun needs for these hosts
  eval "$(bash "$hosts_tool" env --name "$1")"
}

bytes_sent() {  # bytes_sent NAME: bytes all hosts of NAME have sent on their links so far
  bash "$hosts_tool" counters --name "$1" | awk 'NR > 1 {s += $2} END {printf "%d\n", s}'
}

json_field() {  # json_field KEY JSON: a number or string value of KEY (flat JSON)
  sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" <<< "$2" | head -n 1
}

params_sha() {  # params_sha CHECKPOINT_DIR: params_sha256 of its latest checkpoint
  local dir="$1" json
  [ -s "$dir/latest" ] || fail "no checkpoint in $dir"
  json="$("$DTRAIN" inspect "$dir/$(head -n 1 "$dir/latest")" --json)" || fail "dtrain inspect failed on $dir"
  json_field params_sha256 "$json"
}
