#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for tests/test_slurm.py (and by hand), from Debian's
# `slurm-wlm` and `munge` packages: no systemd, no accounting database.  Needs root.
#
#   tests/local_slurm.sh start   write /etc/slurm/slurm.conf for this node (its real CPUs and memory, from
#                                `slurmd -C`), start munged, slurmctld and slurmd, wait until the node is idle
#   tests/local_slurm.sh stop    stop the daemons that `start` started (by their process ids)
#   tests/local_slurm.sh status  the node as `sinfo` sees it
#
# Idempotent: `start` leaves running daemons alone and writes slurm.conf only when it is absent or was
# written by this script (a slurm.conf of a real installation is never overwritten).  Without accounting,
# finished jobs stay visible to `squeue` for MinJobAge (1 hour), which is how Snakemake's SLURM executor
# learns their state (`slurm-status-command: squeue`, see profiles/slurm/profile.yaml).
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by editcheck tests/local_slurm.sh"
STATE=/run/editcheck-slurm          # pid files, and the names of the daemons this script started
SPOOL=/var/lib/editcheck-slurm      # slurmctld state and slurmd spool
LOGS=/var/log/editcheck-slurm
NODE="$(hostname -s)"

die() { echo "local_slurm.sh: $*" >&2; exit 1; }

need_root() {
    [[ "$(id -u)" == 0 ]] || die "must run as root (it starts munged, slurmctld and slurmd)"
    for tool in munged slurmctld slurmd sinfo scontrol; do
        command -v "$tool" >/dev/null || [[ -x "/usr/sbin/$tool" ]] \
            || die "$tool not found: apt-get install -y slurm-wlm munge"
    done
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
    if [[ -f "$CONF" ]] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script: not overwriting it"
    fi
    # `slurmd -C` prints this node's line: NodeName=... CPUs=... RealMemory=... (then UpTime=...).
    local node_line
    node_line="$(/usr/sbin/slurmd -C | grep '^NodeName=')" || die "slurmd -C gave no NodeName line"
    mkdir -p /etc/slurm "$STATE" "$SPOOL/ctld" "$SPOOL/d" "$LOGS"
    local new="$CONF.new.$$"
    cat >"$new" <<EOF
$MARK
ClusterName=editcheck
SlurmctldHost=$NODE
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
# No accounting database: finished jobs stay in slurmctld's memory (and squeue) for an hour.
MinJobAge=3600
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
$node_line State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    if [[ -f "$CONF" ]] && cmp -s "$new" "$CONF"; then rm -f "$new"; else mv "$new" "$CONF"; fi
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
    mkdir -p /etc/munge /var/log/munge /run/munge /var/lib/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown -R munge:munge /etc/munge /var/log/munge /run/munge /var/lib/munge
    chmod 400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged
    echo munged >>"$STATE/started"
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return
        sleep 0.2
    done
    die "munged started but munge -n | unmunge fails"
}

start() {
    need_root
    write_conf
    start_munge
    if ! alive "$STATE/slurmctld.pid"; then
        /usr/sbin/slurmctld -c   # -c: a fresh controller state (no jobs of an earlier run)
        echo slurmctld >>"$STATE/started"
    fi
    if ! alive "$STATE/slurmd.pid"; then
        /usr/sbin/slurmd
        echo slurmd >>"$STATE/started"
    fi
    local state=""
    for _ in $(seq 120); do
        state="$(sinfo -h -n "$NODE" -o '%t' 2>/dev/null || true)"
        [[ "$state" == idle* || "$state" == mix* || "$state" == alloc* ]] && { status; return; }
        sleep 0.5
    done
    die "node $NODE not idle after 60 s (sinfo state: '${state:-none}'); see $LOGS"
}

stop_pid() {  # name, pid file
    local pid
    alive "$2" || return 0
    pid="$(cat "$2")"
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    die "$1 (pid $pid) did not stop"
}

stop() {
    [[ -f "$STATE/started" ]] || return 0
    # slurmd first, so no job step is left without its daemon, then the controller, then munge.
    grep -qx slurmd "$STATE/started" && stop_pid slurmd "$STATE/slurmd.pid"
    grep -qx slurmctld "$STATE/started" && stop_pid slurmctld "$STATE/slurmctld.pid"
    grep -qx munged "$STATE/started" && stop_pid munged /run/munge/munged.pid
    rm -f "$STATE/started"
    # Our slurm.conf goes too: with it and no controller, every `scontrol` (the Slurm executor plugin runs one
    # each time Snakemake starts, also for local runs) waits ~9 s for the controller before giving up.
    if [[ -f "$CONF" ]] && grep -qF "$MARK" "$CONF"; then rm -f "$CONF"; fi
}

status() {
    sinfo -N -h -o '%N %t CPUs=%c RealMemory=%m' -n "$NODE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 start|stop|status" ;;
esac
