#!/usr/bin/env bash
# Emulated network hosts on one machine: N network namespaces, each with its own hostname,
# address and core, joined by a bridge, so that MPI ranks on different "hosts" can only talk
# over TCP through a real (virtual) Ethernet link that can be shaped, counted and cut.
#
#   cluster/emulated-hosts.sh start N [--rate RATE] [--name P] [--subnet K] [--tcp-retries R]
#   cluster/emulated-hosts.sh stop    [--name P]         remove everything P* (idempotent)
#   cluster/emulated-hosts.sh env     [--name P]         `export ...` lines for mpirun (eval it)
#   cluster/emulated-hosts.sh status  [--name P]         hosts, links, qdiscs, processes
#   cluster/emulated-hosts.sh hosts   [--name P]         the host names, one a line
#   cluster/emulated-hosts.sh counters [--name P]        bytes each host sent and received
#   cluster/emulated-hosts.sh cut HOST | heal HOST       take a host's link down / up
#   cluster/emulated-hosts.sh run HOST COMMAND...        run a command on a host
#   cluster/emulated-hosts.sh agent HOST COMMAND-STRING  Open MPI's rsh agent (used via env)
#
# RATE is tc's notation (1gbit, 10gbit, 100mbit; default: unshaped). Each host's link is shaped
# in both directions with a token bucket (tbf): tc here has tbf and htb but no netem, so
# bandwidth can be shaped, latency and loss cannot.
# --name P [dth]: hosts are P1..PN (namespace = hostname = Slurm node name), the bridge is Pbr,
# the state directory /tmp/dtrain-hosts-P. --subnet K [0]: addresses 198.18.K.i/24 (K 0-255)
# or 198.19.(K-256).i/24 (K 256-511), host i = .i, the bridge (where mpirun and slurmctld are
# reached) .254; K+ takes K or, if another interface has it, the next free /24 of the same
# 198.18 or 198.19 (wrapping around; the tests use it, so two build trees never share one).
# Only 198.18.0.0/15, the RFC 2544 benchmarking range, is ever used: it is routed nowhere, so
# no traffic leaves this machine.
# Host i runs on core (i-1) mod nproc (taskset in the agent), so with N <= cores ranks on
# different hosts never share a core; more hosts than cores share them round robin.
# --tcp-retries R sets net.ipv4.tcp_retries2 inside each host (the kernel's default, 15, lets
# an unacknowledged TCP send retry for ~15 minutes): how fast mpirun and its daemons give up on
# a host whose link was cut. R = 3 gives up after ~3 s. Run mpirun on a host (`run`), as a
# batch script does on the first node, for it to apply to mpirun too.
# Needs root, iproute2 (ip, tc), util-linux (unshare, taskset).
set -euo pipefail

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "emulated-hosts: $*" >&2; exit 1; }

script="$(readlink -f "$0")"
cmd="${1:-}"
[ -n "$cmd" ] || { usage >&2; exit 2; }
shift
name="${DTRAIN_HOSTS_NAME:-dth}"
subnet="${DTRAIN_HOSTS_SUBNET:-0}"
rate=""
tcp_retries=""
count=""
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="${2:?--name needs a prefix}"; shift 2 ;;
    --subnet) subnet="${2:?--subnet needs a number 0-511}"; shift 2 ;;
    --rate) rate="${2:?--rate needs a rate such as 1gbit}"; shift 2 ;;
    --tcp-retries) tcp_retries="${2:?--tcp-retries needs a number}"; shift 2
      [[ "$tcp_retries" =~ ^[0-9]+$ ]] && [ "$tcp_retries" -ge 1 ] && [ "$tcp_retries" -le 15 ] ||
        die "--tcp-retries '$tcp_retries': expected 1-15 (net.ipv4.tcp_retries2)" ;;
    -h|--help) usage; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    *) positional+=("$1"); shift
       # run and agent take everything after the host as the command
       if [ "$cmd" = run ] || [ "$cmd" = agent ]; then positional+=("$@"); break; fi ;;
  esac
done
# Interface names have at most 15 characters: P, a host number up to 32 and "v" must fit.
[[ "$name" =~ ^[a-z][a-z0-9]{0,9}$ ]] ||
  die "--name '$name': expected 1-10 lowercase letters/digits starting with a letter (interface names are short)"
search_subnet=0
if [ "$cmd" = start ] && [[ "$subnet" == *+ ]]; then search_subnet=1; subnet="${subnet%+}"; fi
[[ "$subnet" =~ ^[0-9]+$ ]] && [ "$subnet" -le 511 ] ||
  die "--subnet '$subnet': expected 0-511 (198.18.K.0/24, or 198.19.(K-256).0/24 from 256), or K+"
dir="/tmp/dtrain-hosts-$name"
# Every command after start works on the subnet that start chose.
if [ "$cmd" != start ] && [ -s "$dir/subnet" ]; then subnet="$(cat "$dir/subnet")"; fi
bridge="${name}br"
subnet_net() { echo "198.$((18 + $1 / 256)).$(($1 % 256))"; }  # K -> its first three octets
net="$(subnet_net "$subnet")"
bridge_ip="$net.254"

host_ns() { echo "$name$1"; }            # host number -> namespace (and hostname)
host_link() { echo "${name}$1v"; }       # host number -> its veth end on the bridge
host_number() {                          # HOST name -> number, or die
  local h="$1"
  [[ "$h" =~ ^$name([0-9]+)$ ]] || die "unknown host '$h' (hosts are ${name}1..${name}N; see '$0 hosts --name $name')"
  [ -e "/run/netns/$h" ] || die "host '$h' does not exist (not started, or stopped)"
  echo "${BASH_REMATCH[1]}"
}
existing_hosts() {  # namespaces of this prefix, in host order
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$name[0-9]+$" | sort -V || true
}
need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root: namespaces, links and qdiscs need it"; }

# tbf needs a bucket of at least one GSO segment (veth passes up to 64 KiB at once) and enough
# for the rate at the timer's granularity. Measured at 1gbit between two hosts (1-4 MiB
# allreduce): a 256 KiB bucket with a 50 ms queue dropped enough to make TCP stall (0.04-0.06
# GB/s); 2 ms of the rate, at least 512 KiB, with a 200 ms queue reached 0.08-0.11 GB/s.
burst_for() {
  local r="$1" n unit bits
  [[ "$r" =~ ^([0-9]+)(kbit|mbit|gbit|bit)$ ]] || die "--rate '$r': expected a number with kbit, mbit or gbit (e.g. 1gbit)"
  n="${BASH_REMATCH[1]}"; unit="${BASH_REMATCH[2]}"
  case "$unit" in bit) bits=$n ;; kbit) bits=$((n * 1000)) ;; mbit) bits=$((n * 1000000)) ;; gbit) bits=$((n * 1000000000)) ;; esac
  local b=$((bits / 8 / 500))
  [ "$b" -ge 524288 ] || b=524288
  echo "$b"
}

shape() {  # shape NUMBER RATE: both directions of host NUMBER's link
  local i="$1" r="$2" burst
  burst="$(burst_for "$r")"
  tc qdisc replace dev "$(host_link "$i")" root tbf rate "$r" burst "$burst" latency 200ms
  ip netns exec "$(host_ns "$i")" tc qdisc replace dev eth0 root tbf rate "$r" burst "$burst" latency 200ms
}

start() {
  need_root
  local n="${positional[0]:-}"
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 32 ] || die "start needs a host count 1-32, got '${n}'"
  [ -z "$rate" ] || burst_for "$rate" > /dev/null
  if [ -n "$(existing_hosts)" ] || ip link show "$bridge" &>/dev/null; then
    echo "emulated-hosts: removing the previous '$name' hosts first" >&2
    stop quiet
  fi
  # Another bridge that already owns this /24 would make the routes ambiguous. The lock makes
  # choosing a subnet and taking it (the bridge's address, below) one step for concurrent
  # starts; it is released when this script exits.
  exec 9> /tmp/dtrain-hosts.lock
  flock 9
  local tries=0
  while ip -o addr show | grep -q " $net\.[0-9]*/"; do
    [ "$search_subnet" = 1 ] && [ "$tries" -lt 255 ] ||
      die "$net.0/24 is already in use by another interface; pick another --subnet (or K+)"
    subnet=$(((subnet / 256) * 256 + (subnet + 1) % 256))
    net="$(subnet_net "$subnet")"
    bridge_ip="$net.254"
    tries=$((tries + 1))
  done
  mkdir -p "$dir"
  local cores i ns link
  cores="$(nproc)"
  : > "$dir/hosts"
  # A start that fails half way removes what it made.
  started_ok=0
  trap '[ "$started_ok" = 1 ] || { echo "emulated-hosts: start failed; removing the partial hosts" >&2; stop quiet; }' EXIT
  # forward_delay 0: the ports forward at once instead of listening/learning for 15 s.
  ip link add "$bridge" type bridge forward_delay 0
  ip addr add "$bridge_ip/24" dev "$bridge"
  ip link set "$bridge" up
  for i in $(seq 1 "$n"); do
    ns="$(host_ns "$i")"; link="$(host_link "$i")"
    ip netns add "$ns"
    ip link add "$link" type veth peer name eth0 netns "$ns"
    ip link set "$link" master "$bridge" up
    ip netns exec "$ns" ip addr add "$net.$i/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    [ -z "$tcp_retries" ] || ip netns exec "$ns" sysctl -qw "net.ipv4.tcp_retries2=$tcp_retries"
    [ -z "$rate" ] || shape "$i" "$rate"
    echo "$ns $net.$i $(((i - 1) % cores))" >> "$dir/hosts"
  done
  # A hostfile for mpirun: one slot per host (each has one core of its own).
  awk '{print $1 " slots=1"}' "$dir/hosts" > "$dir/hostfile"
  echo "${rate:-unshaped}" > "$dir/rate"
  echo "$subnet" > "$dir/subnet"
  # The bridge must forward between its ports even where br_netfilter or a firewall is loaded.
  echo 0 > "/sys/class/net/$bridge/bridge/nf_call_iptables" 2>/dev/null || true
  wait_reachable "$n"
  started_ok=1
  echo "emulated-hosts: $n hosts ${name}1..${name}$n on $net.0/24 (bridge $bridge $bridge_ip), link ${rate:-unshaped}; state in $dir"
}

wait_reachable() {  # every host's eth0 answers from the root namespace (bridge learning, DAD)
  local n="$1" i end=$((SECONDS + 10))
  for i in $(seq 1 "$n"); do
    # Port 1 is closed: "refused" proves the round trip through the bridge works.
  until [[ "$(ip netns exec "$(host_ns "$i")" bash -c "exec 3<>/dev/tcp/$bridge_ip/1" 2>&1)" == *refused* ]]; do
      [ "$SECONDS" -lt "$end" ] || die "host $(host_ns "$i") cannot reach the bridge $bridge_ip"
      sleep 0.1
    done
  done
}

kill_host_processes() {  # every process left in a host's namespace: SIGTERM, then SIGKILL
  local ns="$1" pids i
  pids="$(ip netns pids "$ns" 2>/dev/null || true)"
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for i in $(seq 30); do
    [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2046
  kill -KILL $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null || true
  sleep 0.2
}

stop() {
  need_root
  local ns i link
  # Found by name, not from the state file, so a crashed start or a lost /tmp is cleaned too.
  for ns in $(existing_hosts); do
    kill_host_processes "$ns"
    ip netns delete "$ns" 2>/dev/null || true
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^$name[0-9]+v$" || true); do
    ip link delete "$link" 2>/dev/null || true
  done
  ip link delete "$bridge" 2>/dev/null || true
  rm -rf "$dir"
  [ "${1:-}" = quiet ] || echo "emulated-hosts: stopped '$name' (no namespace, link or bridge left)"
}

need_started() { [ -s "$dir/hosts" ] || die "no '$name' hosts are running (start them: $0 start N --name $name)"; }

print_env() {
  need_started
  local agent
  agent="$(dirname "$script")/emulated-hosts-agent"
  # Open MPI reads every MCA parameter from OMPI_MCA_<name>.
  cat <<EOF
export DTRAIN_HOSTS_NAME='$name'
export DTRAIN_HOSTFILE='$dir/hostfile'
# mpirun starts its daemons through our agent, which enters the host's namespace.
export OMPI_MCA_plm_rsh_agent='$agent'
# All daemons straight from mpirun (a tree spawn would run the agent inside a host).
export OMPI_MCA_plm_rsh_no_tree_spawn=1
# TCP between hosts, never shared memory; only the emulated links, never lo or another NIC.
export OMPI_MCA_btl='tcp,self'
export OMPI_MCA_btl_tcp_if_include='$net.0/24'
export OMPI_MCA_oob_tcp_if_include='$net.0/24'
# Each host already has its own core (the agent's taskset): binding inside it adds nothing,
# and with more hosts than cores it would pin every host's rank 0 to the same core.
export OMPI_MCA_hwloc_base_binding_policy=none
EOF
}

status() {
  local ns rc=0 i
  if [ ! -s "$dir/hosts" ] && [ -z "$(existing_hosts)" ]; then echo "no '$name' hosts"; return 1; fi
  echo "bridge $bridge: $(ip -o -4 addr show dev "$bridge" 2>/dev/null | awk '{print $4}') link $(cat "$dir/rate" 2>/dev/null || echo '?')"
  while read -r ns addr core; do
    i="${ns#"$name"}"
    echo "$ns $addr core $core link $(cat "/sys/class/net/$(host_link "$i")/operstate" 2>/dev/null || echo missing)" \
      "qdisc $(tc qdisc show dev "$(host_link "$i")" 2>/dev/null | awk 'NR==1{print $2}')" \
      "processes $(ip netns pids "$ns" 2>/dev/null | wc -l)"
  done < "$dir/hosts" || rc=1
  return "$rc"
}

counters() {  # from the host's side: what it sent (the bridge end received) and received
  need_started
  local ns addr core i stats
  echo "host sent_bytes received_bytes"
  while read -r ns addr core; do
    i="${ns#"$name"}"
    stats="/sys/class/net/$(host_link "$i")/statistics"
    echo "$ns $(cat "$stats/rx_bytes") $(cat "$stats/tx_bytes")"
  done < "$dir/hosts"
}

set_link() {  # set_link HOST up|down: both ends, like a pulled cable (no RST, no FIN)
  need_root
  local h="${positional[0]:?$cmd needs a HOST}" i
  i="$(host_number "$h")"
  ip link set "$(host_link "$i")" "$1"
  ip netns exec "$h" ip link set eth0 "$1"
  echo "emulated-hosts: $h link $1"
}

# The agent: `agent HOST COMMAND-STRING...`, as Open MPI's rsh launcher calls ssh. It enters
# the host's network namespace and a UTS namespace with the host's name, pins to the host's
# core, and runs the command string with sh (the launcher quotes it for a remote shell).
# nsenter rather than `ip netns exec`: the latter mounts a fresh /sys, which hides
# /sys/fs/cgroup (slurmd refuses to start without it); programs see their interfaces through
# netlink either way.
host_core() {  # host_core COMMAND-NAME: the core of the host positional[0]; checks a command follows
  local h="${positional[0]:-}" core
  [ -n "$h" ] && [ "${#positional[@]}" -ge 2 ] || die "$1 needs HOST COMMAND"
  core="$(awk -v h="$h" '$1 == h {print $3}' "$dir/hosts" 2>/dev/null)"
  [ -n "$core" ] || die "$1: unknown host '$h' (not among the '$name' hosts in $dir/hosts)"
  echo "$core"
}

agent() {
  local core
  core="$(host_core agent)"
  exec nsenter --net="/run/netns/${positional[0]}" unshare --uts -- \
    sh -c 'hostname "$0" && exec taskset -c "$1" sh -c "$2"' "${positional[0]}" "$core" "${positional[*]:1}"
}

run_on() {  # run HOST COMMAND...: the same environment as the agent's, without the quoting
  local core
  core="$(host_core run)"
  exec nsenter --net="/run/netns/${positional[0]}" unshare --uts -- \
    sh -c 'hostname "$1" && c="$2" && shift 2 && exec taskset -c "$c" "$@"' sh "${positional[0]}" "$core" "${positional[@]:1}"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) status ;;
  hosts) need_started; awk '{print $1}' "$dir/hosts" ;;
  counters) counters ;;
  cut) set_link down ;;
  heal) set_link up ;;
  agent) agent ;;
  run) run_on ;;
  -h|--help|help) usage ;;
  *) echo "emulated-hosts: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
