#!/usr/bin/env bash
# A real Slurm cluster on this machine, one node or several, for dtrain's Slurm tests and for
# trying slurm/*.sbatch on a workstation or laptop. Everything it creates lives in one private state
# directory (its own munge key and socket, slurm.conf, spool, state, logs, pid files), so it
# touches nothing in /etc and never talks to a system-wide munged or slurmctld.
#
#   cluster/local-slurm.sh start      [--dir DIR] [--port N] [--cpus N] [--nodes N [--hosts P]]
#                                     start munged, slurmctld, and a slurmd per node
#   cluster/local-slurm.sh stop       [--dir DIR]    cancel jobs, stop the daemons (idempotent)
#   cluster/local-slurm.sh status     [--dir DIR]    daemons, sinfo, squeue; exit 1 when not running
#   cluster/local-slurm.sh wait-idle  [--dir DIR] [--timeout S]   until no job is queued or running
#   cluster/local-slurm.sh env        [--dir DIR]    prints `export SLURM_CONF=...` for eval
#
# Then: eval "$(cluster/local-slurm.sh env)"; sbatch slurm/train.sbatch --data synthetic ...
#
# --nodes N (N >= 2) makes a multi-node cluster: one slurmd on each emulated network host
# P1..PN of cluster/emulated-hosts.sh (--hosts P [dts]; started here when not running and then
# stopped with the cluster), each in its host's network namespace with its own address, core,
# hostname and PMIx directory (TmpFS), so the ranks of a multi-node job talk over TCP across
# the bridge, as on a real cluster; every node sees this machine's files, as on a shared file
# system. With one node (the default) everything runs in this namespace on 127.0.0.1.
#
# Defaults come from the environment: DTRAIN_SLURM_DIR [/tmp/dtrain-slurm],
# DTRAIN_SLURM_PORT [6817; slurmd listens on PORT+1], DTRAIN_SLURM_CPUS [at least 4],
# DTRAIN_SLURM_CRED_EXPIRE [10 s]. Needs root (Slurm runs jobs as their submitter, munged
# and slurmd need root for that) and Debian's slurmctld slurmd slurm-client munge packages.
# Facts behind the choices below: ../shared/notes/slurm-local.md (measured on Debian 12).
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "local-slurm: $*" >&2; exit 1; }

cmd="${1:-}"
[ -n "$cmd" ] || { usage >&2; exit 2; }
shift
dir="${DTRAIN_SLURM_DIR:-/tmp/dtrain-slurm}"
port="${DTRAIN_SLURM_PORT:-6817}"
cpus="${DTRAIN_SLURM_CPUS:-}"
cred_expire="${DTRAIN_SLURM_CRED_EXPIRE:-10}"
nodes="${DTRAIN_SLURM_NODES:-1}"
hosts_name="${DTRAIN_SLURM_HOSTS:-dts}"
timeout=300
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --cpus) cpus="${2:?--cpus needs a number}"; shift 2 ;;
    --nodes) nodes="${2:?--nodes needs a number}"; shift 2 ;;
    --hosts) hosts_name="${2:?--hosts needs an emulated-hosts name}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs seconds}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "local-slurm: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
[[ "$nodes" =~ ^[0-9]+$ ]] && [ "$nodes" -ge 1 ] && [ "$nodes" -le 16 ] || die "--nodes '$nodes': expected 1-16"
hosts_tool="$(dirname "$(readlink -f "$0")")/emulated-hosts.sh"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

# Debian puts the daemons in /usr/sbin, which a non-login root shell may not have on PATH.
export PATH="$PATH:/usr/sbin:/sbin"

pid_alive() {  # pid_alive FILE: the pid in FILE names a running process
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# The nodes of a running cluster are recorded at start, so stop/status need no --nodes.
[ -s "$dir/nodes" ] && [ "$cmd" != start ] && nodes="$(wc -l < "$dir/nodes")"
node_names() { if [ -s "$dir/nodes" ]; then awk '{print $1}' "$dir/nodes"; fi; }
slurmd_pidfiles() { local n; for n in $(node_names); do echo "$dir/run/slurmd-$n.pid"; done; }

running() {  # munged, slurmctld and every slurmd of this state directory are alive
  local f
  pid_alive "$dir/munge/munged.pid" && pid_alive "$dir/run/slurmctld.pid" || return 1
  for f in $(slurmd_pidfiles); do pid_alive "$f" || return 1; done
}

port_busy() {  # something already accepts TCP connections on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.2 s until COMMAND succeeds
  local limit="$1" what="$2"; shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || { echo "local-slurm: timed out after ${limit}s waiting for $what" >&2; return 1; }
    sleep 0.2
  done
}

show_log_tail() {
  local f
  for f in "$@"; do
    [ -s "$f" ] && { echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; }
  done
  return 0
}

ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_idle() {  # every node answers and is idle
  local states
  states="$(sinfo -h -N -o '%T' 2>/dev/null | sort -u)"
  [ "$states" = idle ] && [ "$(sinfo -h -N -o '%N' 2>/dev/null | wc -l)" -ge "$nodes" ]
}
queue_empty() { [ -z "$(squeue -h -o '%i' 2>/dev/null)" ] && squeue -h >/dev/null 2>&1; }

# $dir/nodes: one line per node, "NAME ADDRESS"; the nodes reach slurmctld at $ctld_addr
# (127.0.0.1, or the emulated hosts' bridge).
plan_nodes() {
  if [ "$nodes" -eq 1 ]; then
    echo "$(hostname -s) 127.0.0.1" > "$dir/nodes"
    ctld_addr=127.0.0.1
    return
  fi
  if ! bash "$hosts_tool" hosts --name "$hosts_name" &>/dev/null; then
    bash "$hosts_tool" start "$nodes" --name "$hosts_name" ${DTRAIN_SLURM_HOSTS_SUBNET:+--subnet "$DTRAIN_SLURM_HOSTS_SUBNET"} >&2 ||
      die "could not start $nodes emulated hosts for the nodes"
    echo "$hosts_name" > "$dir/hosts-owned"
  fi
  local have
  have="$(bash "$hosts_tool" hosts --name "$hosts_name" | wc -l)"
  [ "$have" -ge "$nodes" ] || die "--nodes $nodes but the emulated hosts '$hosts_name' are only $have (stop them or pick --hosts)"
  awk -v n="$nodes" 'NR <= n {print $1, $2}' "/tmp/dtrain-hosts-$hosts_name/hosts" > "$dir/nodes"
  ctld_addr="$(awk 'NR == 1 {print $2}' "$dir/nodes" | sed 's/\.[0-9]*$/.254/')"
}

write_conf() {
  local cpus_real mem
  # slurmd -C prints this machine's real CPU and memory line; only RealMemory is kept from it,
  # because the CPU count is overridden below.
  mem="$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)"
  [ -n "$mem" ] || die "could not read RealMemory from 'slurmd -C'"
  cpus_real="$(nproc)"
  # Advertise at least 4 CPUs so 4-rank jobs (oversubscribed on a 2-core machine) are accepted;
  # config_overrides makes slurmd trust this line instead of the hardware.
  # Several nodes: 2 CPUs each (every emulated host owns one core), so 2 ranks per node fit.
  if [ -z "$cpus" ]; then
    if [ "$nodes" -gt 1 ]; then cpus=2; else cpus=$((cpus_real > 4 ? cpus_real : 4)); fi
  fi
  cat > "$conf" <<EOF
# Generated by cluster/local-slurm.sh for a private test cluster of $nodes node(s).
ClusterName=dtrain-local
SlurmctldHost=$(hostname)($ctld_addr)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
# Everything runs as root: this is a throwaway cluster inside one machine.
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A short credential lifetime: a requeued job waits cred_expire + 1 s before it may start again.
AuthInfo=socket=$dir/munge/munge.socket.2,cred_expire=$cred_expire
StateSaveLocation=$dir/state
# %n: one spool, pid and log file per node, so several slurmd share this directory.
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
# No systemd and no delegated cgroups here: track processes by parent pid, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# Debian's Open MPI is built against the same external PMIx that Slurm's mpi/pmix uses.
MpiDefault=pmix
# Reject impossible requests at submit time instead of leaving them PENDING forever.
EnforcePartLimits=ALL
ReturnToService=2
# Short waits so cancelled and requeued jobs clear quickly; MinJobAge keeps finished jobs
# visible to 'scontrol show job' for a while (there is no accounting database).
KillWait=5
MinJobAge=300
InactiveLimit=0
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5,bf_interval=5
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MailProg=/bin/true
SlurmdParameters=config_overrides
EOF
  if [ "$nodes" -gt 1 ]; then
    # The PMIx plugin of each node's slurmstepd creates TmpFS/spmix_appdir_<uid>_<job>.<step>
    # for the ranks it starts (mpi.conf's PMIxCliTmpDirBase, taken verbatim, would override
    # TmpFS). With the default TmpFS=/tmp the nodes of one machine collide on it ("File
    # exists"); %n gives each node its own, created in start_slurmd.
    echo "TmpFS=$dir/tmpfs/%n" >> "$conf"
  fi
  local name addr list=""
  while read -r name addr; do
    echo "NodeName=$name NodeAddr=$addr CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN" >> "$conf"
    list="${list:+$list,}$name"
  done < "$dir/nodes"
  echo "PartitionName=local Nodes=$list Default=YES MaxTime=INFINITE State=UP" >> "$conf"
}

start_slurmd() {  # start_slurmd NAME: in this namespace, or inside the emulated host NAME
  local name="$1"
  mkdir -p "$dir/spool/$name"
  # The node's TmpFS (multi-node only), world-writable and sticky like /tmp: jobs run as their
  # submitter.
  [ "$nodes" -eq 1 ] || { mkdir -p "$dir/tmpfs/$name" && chmod 1777 "$dir/tmpfs/$name"; }
  if [ "$nodes" -eq 1 ]; then
    slurmd -f "$conf" -N "$name"
  else
    # The node's own network, hostname and core; the file system is this machine's, as a
    # shared file system would be, so a job's files may be anywhere (also under /tmp). What
    # the nodes must not share (PMIx's per-step directory) is kept apart by TmpFS (write_conf).
    bash "$hosts_tool" run --name "$hosts_name" "$name" slurmd -f "$conf" -N "$name"
  fi
}

start() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (sudo $0 start): slurmd and munged need root"
  local prog
  for prog in munged slurmctld slurmd sbatch srun squeue sinfo scontrol scancel; do
    command -v "$prog" >/dev/null ||
      die "'$prog' not found: apt-get install slurmctld slurmd slurm-client munge (or bash scripts/install-deps.sh)"
  done
  if running; then
    echo "local-slurm: already running in $dir (SLURM_CONF=$conf)"
    wait_for 30 "the nodes to become idle or busy" \
      bash -c '[[ "$(sinfo -h -N -o %T | sort -u | tr "\n" " ")" =~ ^((idle|mixed|allocated) )+$ ]]'
    return 0
  fi
  # A half-started cluster (one daemon died) is stopped first so we start from a known state.
  stop_daemons quiet
  local p
  for p in "$port" $((port + 1)); do
    port_busy "$p" && die "port $p on 127.0.0.1 is in use (another Slurm cluster?); pick others with --port N or DTRAIN_SLURM_PORT"
  done

  mkdir -p "$dir"
  chmod 0755 "$dir"
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run" "$dir/munge"
  # munged refuses a socket directory that others cannot traverse ("Socket is inaccessible").
  chmod 0755 "$dir/munge"
  # A fresh cluster each start: old job state would replay old jobs.
  rm -rf "${dir:?}/state/"* "${dir:?}/spool/"* "${dir:?}/tmpfs"
  if [ ! -s "$dir/munge/munge.key" ]; then
    # munged wants a private key file: 1 KiB of random bytes, mode 0600, owned by its user.
    (umask 077 && dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none)
  fi
  chmod 0600 "$dir/munge/munge.key"
  plan_nodes
  write_conf

  munged --socket="$dir/munge/munge.socket.2" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" ||
    { show_log_tail "$dir/log/munged.log"; die "munged did not start"; }
  wait_for 10 "munged's socket" test -S "$dir/munge/munge.socket.2" ||
    { show_log_tail "$dir/log/munged.log"; die "munged did not create its socket"; }

  slurmctld -f "$conf" ||
    { show_log_tail "$dir/log/slurmctld.log"; die "slurmctld did not start"; }
  wait_for 20 "slurmctld to answer" ctld_up ||
    { show_log_tail "$dir/log/slurmctld.log"; die "slurmctld does not answer"; }
  local name
  for name in $(node_names); do
    start_slurmd "$name" ||
      { show_log_tail "$dir/log/slurmd-$name.log"; die "slurmd of node $name did not start"; }
  done
  wait_for 30 "$nodes node(s) to become idle" node_idle ||
    { sinfo -N >&2 || true; show_log_tail "$dir"/log/slurmd-*.log "$dir/log/slurmctld.log"; die "the nodes did not become idle"; }
  echo "local-slurm: running in $dir: $(sinfo -h -N -o '%N %T, %c CPUs') (SLURM_CONF=$conf)"
}

stop_pids() {  # stop_pids PIDFILE...: SIGTERM to each (they take ~2 s), wait, SIGKILL stragglers
  local file pid pids=() i
  for file in "$@"; do
    if pid_alive "$file"; then
      pid="$(cat "$file")"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for i in $(seq 50); do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && break 1; pid=""; done
    [ -n "${pid:-}" ] || break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "local-slurm: pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) ignored SIGTERM for 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$@"
}

stop_daemons() {
  # Both Slurm daemons at once, munged after them (they may still authenticate while exiting).
  # shellcheck disable=SC2046  # one pid file per word
  stop_pids $(slurmd_pidfiles) "$dir/run/slurmctld.pid"
  stop_pids "$dir/munge/munged.pid"
  [ "${1:-}" = quiet ] || echo "local-slurm: stopped ($dir)"
}

stop() {
  if pid_alive "$dir/run/slurmctld.pid" && [ -f "$conf" ]; then
    # Cancel every job first and give the step daemons time to kill their processes: with
    # proctrack/linuxproc, anything still running when slurmd goes would outlive the cluster.
    local jobs
    jobs="$(squeue -h -o '%i' 2>/dev/null || true)"
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086  # one job id per word
      scancel $jobs 2>/dev/null || true
      wait_for 30 "cancelled jobs to end" queue_empty || true
    fi
  fi
  stop_daemons
  if [ -s "$dir/hosts-owned" ]; then
    # The emulated hosts this cluster started: removing them also ends anything a job left there.
    bash "$hosts_tool" stop --name "$(cat "$dir/hosts-owned")"
    rm -f "$dir/hosts-owned"
  fi
}

status() {
  local file rc=0
  for file in "$dir/munge/munged.pid" "$dir/run/slurmctld.pid" $(slurmd_pidfiles); do
    name="$(basename "$file" .pid)"
    if pid_alive "$file"; then echo "$name: running (pid $(cat "$file"))"; else echo "$name: not running"; rc=1; fi
  done
  [ -s "$dir/nodes" ] || { echo "slurmd: not running (no nodes recorded)"; rc=1; }
  if [ "$rc" -eq 0 ]; then
    echo "SLURM_CONF=$conf"
    sinfo -N -l || rc=1
    squeue || rc=1
  fi
  return "$rc"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  wait-idle)
    running || die "not running in $dir (start it with: $0 start --dir $dir)"
    wait_for "$timeout" "the queue to empty and the node to become idle" bash -c \
      '[ -z "$(squeue -h -o %i)" ] && [ "$(sinfo -h -N -o %T | head -n 1)" = idle ]'
    ;;
  env) echo "export SLURM_CONF='$conf'" ;;
  -h|--help|help) usage ;;
  *) echo "local-slurm: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
