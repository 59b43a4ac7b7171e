#!/usr/bin/env bash
# A single-node Slurm on this machine, from Debian's packages, for tests and
# trying `girfec slurm` without a cluster.
#
#   bash scripts/slurm-local.sh start   # install if missing, configure, start, wait until the node is idle
#   bash scripts/slurm-local.sh stop    # stop the daemons
#
# No systemd: munged, slurmctld and slurmd run as background daemons.
# Configuration: proctrack/linuxproc, task/none, no accounting; this host's
# name, CPU count and memory read from the machine. State under
# ${SLURM_LOCAL_DIR:-/tmp/girfec-slurm}. Needs root (or sudo).
set -euo pipefail
dir="${SLURM_LOCAL_DIR:-/tmp/girfec-slurm}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
say() { echo "slurm-local: $*"; }

stop() {
  for d in slurmd slurmctld munged; do
    if pgrep -x "$d" >/dev/null 2>&1; then $sudo pkill -x "$d" || true; fi
  done
  for _ in $(seq 1 50); do
    pgrep -x slurmd >/dev/null 2>&1 || pgrep -x slurmctld >/dev/null 2>&1 || pgrep -x munged >/dev/null 2>&1 || { say "stopped"; return 0; }
    sleep 0.2
  done
  say "daemons still running after 10 s"
  return 1
}

start() {
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    say "installing slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null
  fi
  stop >/dev/null 2>&1 || true
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem_mb="$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)"
  $sudo mkdir -p "$dir/state" "$dir/spool" "$dir/log" /run/munge /etc/munge /var/log/munge /var/lib/munge
  # munge: a key, and its run directory.
  if [ ! -s /etc/munge/munge.key ]; then
    $sudo dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  $sudo chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  $sudo chmod 0700 /etc/munge /var/lib/munge /var/log/munge
  $sudo chmod 0755 /run/munge
  $sudo chmod 0400 /etc/munge/munge.key
  if id munge >/dev/null 2>&1; then
    $sudo -u munge /usr/sbin/munged 2>/dev/null || $sudo /usr/sbin/munged --force
  else
    $sudo /usr/sbin/munged --force
  fi
  conf=/etc/slurm/slurm.conf
  $sudo mkdir -p /etc/slurm
  $sudo tee "$conf" >/dev/null <<CONF
# Written by girfec scripts/slurm-local.sh: a single-node cluster on $host.
ClusterName=girfec-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  $sudo /usr/sbin/slurmctld -c -i
  $sudo /usr/sbin/slurmd -c
  say "waiting for node $host to be idle"
  for _ in $(seq 1 60); do
    state="$(sinfo -h -n "$host" -o '%t' 2>/dev/null | head -1 || true)"
    case "$state" in
      idle*|mix*) say "node $host is $state ($cpus CPUs, ${mem_mb} MB)"; return 0 ;;
    esac
    sleep 1
  done
  say "the node did not become idle within 60 s; slurmctld and slurmd said:"
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" 2>/dev/null || true
  sinfo 2>&1 || true
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: bash scripts/slurm-local.sh start|stop" >&2; exit 2 ;;
esac
