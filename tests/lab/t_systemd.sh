#!/bin/sh
# t_systemd.sh - conf/igdd.service as systemd would run it, without
# systemd: the unit's settings (Type=notify, no pid file, ExecReload sends SIGHUP,
# no CAP_NET_RAW, the address families and system calls allowed) and its
# exposure score; READY=1 / STATUS= / STOPPING=1 on a stand-in
# $NOTIFY_SOCKET (socat), as a path and as an abstract name, READY only
# once igdd answers; igdd starting as the unit's user with its ambient
# capabilities and bounding set; and every system call it makes, from
# start to stop through requests and signals, inside the unit's filter.
. "$(dirname "$0")/lib.sh"
lab_up
UNIT=${UNIT:-$LAB_TOP/conf/igdd.service}

# --- the unit file ---
key() { sed -n "s/^$1=//p" "$UNIT"; }
check "Type=notify" test "$(key Type)" = notify
check "no pid file (no PIDFile=, no -P)" sh -c "! grep -Eq '^PIDFile=|^ExecStart=.* -P' '$UNIT'"
check "ExecReload= sends SIGHUP (reload)" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$UNIT"
check "no CAP_NET_RAW" sh -c "! grep -q 'CAP_NET_RAW' '$UNIT'"
check "RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX" \
	test "$(key RestrictAddressFamilies)" = "AF_INET AF_INET6 AF_NETLINK AF_UNIX"
check "SystemCallFilter=@system-service" sh -c "grep -qx 'SystemCallFilter=@system-service' '$UNIT'"
check "StateDirectory=igdd, RuntimeDirectory=igdd" \
	test "$(key StateDirectory) $(key RuntimeDirectory)" = "igdd igdd"
check "ExecStart runs igdd in the foreground (-d)" sh -c "key() { sed -n \"s/^\$1=//p\" '$UNIT'; }; key ExecStart | grep -q ' -d '"
if systemd-analyze security --offline=true "$UNIT" >"$LAB_DIR/sec" 2>&1; then
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$LAB_DIR/sec")
	check "systemd-analyze security: exposure ${score:-?} <= 2.5" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.5) }'
else
	skip "systemd-analyze security --offline=true unsupported here"
fi

lab_conf "$LAB_DIR/igdd.conf" </dev/null

# --- sd_notify on a stand-in NOTIFY_SOCKET ---
# notify_case NAME SOCAT_ADDR NOTIFY_SOCKET
notify_case() {
	: >"$LAB_DIR/notify"
	ip netns exec "$NS_GW" timeout 30 socat -u "$2" "OPEN:$LAB_DIR/notify,append" &
	_sp=$!
	LAB_PIDS="$LAB_PIDS $_sp"
	# socat bound its socket before igdd may send to it
	wait_for 10 sh -c "ip netns exec $NS_GW ss -Hxa | grep -qF -- '$3'"
	NOTIFY_SOCKET=$3 ip netns exec "$NS_GW" "$IGDD" -d -f "$LAB_DIR/igdd.conf" \
		>>"$LAB_DIR/igdd.log" 2>&1 &
	IGDD_PID=$!
	check "$1: READY=1 arrives" wait_for 20 grep -q "READY=1" "$LAB_DIR/notify"
	check "$1: ... and igdd answers NAT-PMP by then" c1 "$PMPQ" send "$GW_LAN" 0000 2000
	check "$1: ... with a STATUS= line" grep -q "STATUS=serving 1 LAN interface" "$LAB_DIR/notify"
	check_not "$1: no STOPPING=1 yet" grep -q "STOPPING=1" "$LAB_DIR/notify"
	check "$1: SIGTERM: a clean stop" lab_stop_igdd TERM
	check "$1: ... after STOPPING=1" grep -q "STOPPING=1" "$LAB_DIR/notify"
	kill "$_sp" 2>/dev/null
}
notify_case "path socket" "UNIX-RECV:$LAB_DIR/notify.sock" "$LAB_DIR/notify.sock"
notify_case "abstract socket" "ABSTRACT-RECV:igdd-test-$LAB_ID" "@igdd-test-$LAB_ID"

# --- as the unit runs it: User=, AmbientCapabilities=, CapabilityBoundingSet= ---
# (setpriv in systemd's place: nobody for igdd, the unit's capabilities)
caps=$(key CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
amb=$(key AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
chmod 755 "$LAB_DIR"
# the state directory as StateDirectory= makes it: the user's own
mkdir -p "$LAB_DIR/state" && chown nobody "$LAB_DIR/state" && chmod 700 "$LAB_DIR/state"
# and the runtime directory (RuntimeDirectory=), where the control socket is
mkdir -p "$LAB_DIR/rundir" && chown nobody "$LAB_DIR/rundir" && chmod 755 "$LAB_DIR/rundir"
# (lab_conf's user=root out: the unit leaves user= empty)
sed "s|^lease_file=.*|lease_file=$LAB_DIR/state/igdd.leases|; /^user=/d
     s|^control_socket=.*|control_socket=$LAB_DIR/rundir/igdd.sock|" "$LAB_DIR/igdd.conf" \
	>"$LAB_DIR/user.conf"
check "User=, no user= in igdd.conf: --check passes as that user" \
	setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups "$IGDD" --check -f "$LAB_DIR/user.conf"
log_mark
ip netns exec "$NS_GW" setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups \
	--inh-caps="$amb" --ambient-caps="$amb" --bounding-set="-all,$caps" --no-new-privs \
	"$IGDD" -d -f "$LAB_DIR/user.conf" >>"$LAB_DIR/igdd.log" 2>&1 &
IGDD_PID=$!
check "igdd starts as the unit's user with its capabilities (ambient $amb, bounding set $caps)" \
	wait_for 20 sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q ' started: uuid '"
check "... as that user, with CAP_NET_ADMIN alone" sh -c \
	"grep -q '^Uid:.65534' /proc/$IGDD_PID/status && grep -q '^CapEff:.0000000000001000' /proc/$IGDD_PID/status"
lab_listen c1 tcp 9000 TOK
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 60 >/dev/null 2>&1
check "... and maps a port that carries traffic" reach tcp 8000 TOK
check "... its lease file in the state directory" grep -q '^+ TCP 8000 ' "$LAB_DIR/state/igdd.leases"
check "... and stops cleanly" lab_stop_igdd TERM

# --- every system call inside SystemCallFilter ---
# expand GROUP: a systemd system-call group's calls, nested groups expanded
expand() {
	systemd-analyze syscall-filter "$1" 2>/dev/null | awk 'NR > 1 && !/^ *#/ && NF { print $1 }' |
	while read -r s; do
		case $s in @*) expand "$s" ;; *) echo "$s" ;; esac
	done
}
if command -v strace >/dev/null 2>&1 && [ "$(expand @system-service | wc -l)" -gt 100 ]; then
	allowed=$LAB_DIR/allowed
	{ for f in $(key SystemCallFilter | grep -v '^~'); do expand "$f"; done; } | sort -u >"$allowed.in"
	{ for f in $(key SystemCallFilter | sed -n 's/^~//p'); do expand "$f"; done; } | sort -u >"$allowed.out"
	comm -23 "$allowed.in" "$allowed.out" >"$allowed"
	log_mark
	ip netns exec "$NS_GW" strace -f -qq -o "$LAB_DIR/strace" \
		"$IGDD" -d -f "$LAB_DIR/igdd.conf" -P "$LAB_DIR/strace.pid" >>"$LAB_DIR/igdd.log" 2>&1 &
	STRACE_PID=$!
	LAB_PIDS="$LAB_PIDS $STRACE_PID"
	wait_for 10 test -s "$LAB_DIR/strace.pid"
	IGDD_PID=$(cat "$LAB_DIR/strace.pid")	# igdd itself, traced
	UPNP_BASE=$(lab_upnp_base)
	c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e test -a "$C1" 9000 8100 TCP >/dev/null 2>&1
	c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 60 >/dev/null 2>&1
	kill -USR1 "$IGDD_PID"; sleep 0.3
	kill -USR2 "$IGDD_PID"; sleep 0.3
	kill -HUP "$IGDD_PID"; sleep 0.3
	kill -TERM "$IGDD_PID"
	wait "$STRACE_PID"
	IGDD_PID=
	check "under strace: SIGUSR1, SIGUSR2, SIGHUP handled, SIGTERM stopped it" sh -c \
		"tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -c 'SIGUSR1: re-reading\|SIGUSR2: lease file\|SIGHUP: reload\|^igdd: info: stopped' | grep -qx 4"
	# the strace wrapper's own exec of igdd is not igdd's
	awk '{ sub(/^[0-9]+ +/, ""); if (match($0, /^[a-z_0-9]+\(/)) print substr($0, 1, RLENGTH - 1) }' \
		"$LAB_DIR/strace" | grep -vx execve | sort -u >"$LAB_DIR/used"
	comm -23 "$LAB_DIR/used" "$allowed" >"$LAB_DIR/outside"
	check "every system call igdd made ($(wc -l <"$LAB_DIR/used")) is allowed by the unit's SystemCallFilter (outside: $(tr '\n' ' ' <"$LAB_DIR/outside"))" \
		test ! -s "$LAB_DIR/outside"
else
	skip "strace or systemd-analyze syscall-filter missing: system calls not checked"
fi
lab_finish
