#!/usr/bin/env bash
# cluster/emulated-hosts.sh start/cut/heal/stop: each host has its own namespace, hostname,
# address and core; a shaped link has a tbf qdisc; hosts reach each other over the bridge and
# stop reaching a host whose link is cut; stop leaves no namespace, link, bridge, qdisc or
# process behind, also when the state directory was lost (as after a crash), and is idempotent.
#   hosts_lifecycle_test.sh   (env: DTRAIN_ROOT, DTRAIN)
# DTRAIN_TEST_HOSTS, DTRAIN_TEST_SUBNET [dtl, 203]: the hosts' --name and --subnet (CTest
# derives both from the build path, so that two build trees can run the tests at once).
source "$(dirname "$0")/lib.sh"
name="${DTRAIN_TEST_HOSTS:-dtl}"
subnet="${DTRAIN_TEST_SUBNET:-203}"
hosts_start "$name" "$subnet" 3 --rate 1gbit
# The subnet start took (K+ may have moved to the next free one).
net="$(subnet_net "$(cat "/tmp/dtrain-hosts-$name/subnet")")"

mapfile -t hosts < <(bash "$hosts_tool" hosts --name "$name")
[ "${#hosts[@]}" -eq 3 ] || fail "expected 3 hosts, got: ${hosts[*]}"
[ "$(ip netns list | grep -cE "^${name}[0-9]+( |$)")" -eq 3 ] || fail "expected 3 namespaces: $(ip netns list | tr '\n' ' ')"
ip link show "${name}br" > /dev/null || fail "no bridge ${name}br"
cores="$(nproc)"
for i in 1 2 3; do
  h="${name}$i"
  got="$(bash "$hosts_tool" run --name "$name" "$h" hostname)"
  [ "$got" = "$h" ] || fail "host $h has hostname '$got'"
  addr="$(bash "$hosts_tool" run --name "$name" "$h" ip -4 -o addr show dev eth0 | awk '{print $4}')"
  [ "$addr" = "$net.$i/24" ] || fail "host $h has address '$addr', expected $net.$i/24"
  cpus="$(bash "$hosts_tool" run --name "$name" "$h" sh -c 'grep Cpus_allowed_list /proc/self/status' | awk '{print $2}')"
  [ "$cpus" = "$(((i - 1) % cores))" ] || fail "host $h runs on cores '$cpus', expected $(((i - 1) % cores))"
  tc qdisc show dev "${name}${i}v" | grep -q "tbf .*rate 1Gbit" || fail "no 1gbit tbf on ${name}${i}v: $(tc qdisc show dev "${name}${i}v")"
  bash "$hosts_tool" run --name "$name" "$h" tc qdisc show dev eth0 | grep -q "tbf .*rate 1Gbit" || fail "no 1gbit tbf inside $h"
done

# Port 9 is closed everywhere: "refused" is an answer from the other host, a timeout is silence.
probe() {  # probe FROM TO_ADDR: prints refused or silent
  local out
  out="$(bash "$hosts_tool" run --name "$name" "$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1 || true)"
  if [[ "$out" == *refused* ]]; then echo refused; else echo silent; fi
}
[ "$(probe "${name}1" "$net.2")" = refused ] || fail "${name}1 cannot reach ${name}2"
bash "$hosts_tool" cut "${name}2" --name "$name" > /dev/null
[ "$(probe "${name}1" "$net.2")" = silent ] || fail "${name}1 still reaches ${name}2 after cut"
bash "$hosts_tool" heal "${name}2" --name "$name" > /dev/null
ok=0
for _ in $(seq 50); do [ "$(probe "${name}1" "$net.2")" = refused ] && { ok=1; break; }; sleep 0.1; done
[ "$ok" = 1 ] || fail "${name}1 does not reach ${name}2 after heal"

# A process left on a host (as a crashed rank would leave one) must not survive stop.
bash "$hosts_tool" run --name "$name" "${name}3" sleep 300 &
left=$!
for _ in $(seq 50); do [ -n "$(ip netns pids "${name}3")" ] && break; sleep 0.1; done
[ -n "$(ip netns pids "${name}3")" ] || fail "the test process did not start on ${name}3"

check_gone() {
  [ -z "$(ip netns list | grep -E "^${name}[0-9]+( |$)")" ] || fail "namespaces left: $(ip netns list | tr '\n' ' ')"
  [ -z "$(ip -o link show | awk -F': ' '{print $2}' | grep -E "^${name}(br|[0-9]+v)")" ] || fail "links left: $(ip -o link show | awk -F': ' '{print $2}' | grep "^${name}")"
  [ -z "$(tc qdisc show | grep -E "dev ${name}")" ] || fail "qdiscs left: $(tc qdisc show | grep "dev ${name}")"
  [ ! -d "/tmp/dtrain-hosts-$name" ] || fail "state directory /tmp/dtrain-hosts-$name left"
}
bash "$hosts_tool" stop --name "$name"
check_gone
if kill -0 "$left" 2>/dev/null; then fail "the process on ${name}3 survived stop"; fi
wait "$left" 2>/dev/null || true
bash "$hosts_tool" stop --name "$name" > /dev/null || fail "a second stop failed (stop must be idempotent)"

# Lost state (a crash, a cleaned /tmp): stop still finds everything by name.
hosts_start "$name" "$subnet" 2
rm -rf "/tmp/dtrain-hosts-$name"
bash "$hosts_tool" stop --name "$name" > /dev/null
check_gone
echo "PASS: 3 hosts with own hostname, address, core and 1gbit links; cut/heal; nothing left after stop"
