#!/bin/sh
# Starts or stops Corosync and Pacemaker inside a lab controller: what systemd does on a real one.
# Run inside the controller (its network, mounts, /run): by the Triad agent there
# (TRIAD_CLUSTER_STACK_START/STOP, see labAgentEnv) and by `tools/lab/lab start` (boot). The daemons
# run in their own session, so they outlive the agent; they are in the controller's network
# namespace, so `lab stop`/`down` kill them with everything else there. docs/lab.md.
set -eu
PIDS=/run/triad
COROSYNC_PID=$PIDS/corosync.pid
PACEMAKERD_PID=$PIDS/pacemakerd.pid
# Like `systemctl enable`: once started here, `lab start` (boot) starts the stack again.
ENABLED=/var/lib/corosync/lab-stack-enabled
mkdir -p "$PIDS" /var/log/corosync /var/log/pacemaker

corosync_up() { /usr/sbin/corosync-cfgtool -s >/dev/null 2>&1; }
pacemaker_up() { /usr/sbin/cibadmin --query --scope nodes >/dev/null 2>&1; }
# alive PIDFILE COMM: the recorded process still runs as that program (a recycled pid is not it,
# a zombie is dead: PID 1 here reaps orphans lazily).
alive() {
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# wait_for SECONDS WHAT CHECK…
wait_for() {
  n=$(( $1 * 5 )); what=$2; shift 2
  while ! "$@"; do
    n=$((n - 1))
    if [ "$n" -le 0 ]; then echo "cluster-stack: $what" >&2; exit 1; fi
    sleep 0.2
  done
}
corosync_gone() { ! alive "$COROSYNC_PID" corosync && ! corosync_up; }
pacemaker_gone() { ! alive "$PACEMAKERD_PID" pacemakerd; }

case "${1:-}" in
start)
  [ -f /etc/corosync/corosync.conf ] || { echo "cluster-stack: no /etc/corosync/corosync.conf" >&2; exit 1; }
  touch "$ENABLED"
  if ! corosync_up; then
    # setsid -f: own session, detached from the caller (whose pipes it must not hold open).
    /usr/bin/setsid -f /bin/sh -c "echo \$\$ > $COROSYNC_PID; exec /usr/sbin/corosync -f -c /etc/corosync/corosync.conf" \
      </dev/null >>/var/log/corosync/corosync.out 2>&1
    wait_for 30 "corosync did not answer within 30 s (/var/log/corosync/)" corosync_up
  fi
  if ! alive "$PACEMAKERD_PID" pacemakerd && ! pacemaker_up; then
    PCMK_logfile=/var/log/pacemaker/pacemaker.log /usr/bin/setsid -f /bin/sh -c "echo \$\$ > $PACEMAKERD_PID; exec /usr/sbin/pacemakerd" \
      </dev/null >>/var/log/pacemaker/pacemakerd.out 2>&1
  fi
  ;;
stop)
  # Pacemaker first (it stops its resources), then corosync.
  if alive "$PACEMAKERD_PID" pacemakerd; then
    kill -TERM "$(cat "$PACEMAKERD_PID")"
    wait_for 300 "pacemakerd still running 300 s after TERM" pacemaker_gone
  fi
  if alive "$COROSYNC_PID" corosync; then
    kill -TERM "$(cat "$COROSYNC_PID")"
    wait_for 30 "corosync still running 30 s after TERM" corosync_gone
  fi
  rm -f "$PACEMAKERD_PID" "$COROSYNC_PID"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
