#!/bin/sh
# t_startup.sh - a background start (no -d) as a boot script sees it: the
# command returns only once the daemon is ready (sockets bound, nftables
# state installed, leases restored: 2000 of them, so a parent that returns
# early is caught), with status 0 and the pid file written; a start that
# fails returns non-zero with the reason on stderr, leaves no pid file and
# no nftables state behind.
. "$(dirname "$0")/lib.sh"
lab_up

PIDF=$LAB_DIR/run/igdd.pid
mkdir -p "$LAB_DIR/run"
lab_conf "$LAB_DIR/igdd.conf" <<CONF
max_mappings_per_client=5000
CONF
# bg_start CONF: igdd in the background in the gateway, its stderr kept.
bg_start() {
	gw "$IGDD" -f "$1" -P "$PIDF" 2>"$LAB_DIR/bg.err"
}
# bg_stop: SIGTERM to the pid in the pid file, wait until it is gone.
bg_stop() {
	_p=$(cat "$PIDF" 2>/dev/null) || return 1
	kill -TERM "$_p" || return 1
	for i in $(seq 1 300); do
		kill -0 "$_p" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
no_table() { ! gw nft list table inet igdd >/dev/null 2>&1; }

# --- failures: status, message on stderr, nothing left ---
sed 's/^listening_ip=.*/listening_ip=nosuch0/' "$LAB_DIR/igdd.conf" >"$LAB_DIR/noif.conf"
check_not "a start with a missing LAN interface returns non-zero" bg_start "$LAB_DIR/noif.conf"
check "... with the reason on stderr" grep -q "listening_ip nosuch0: no such interface" "$LAB_DIR/bg.err"
check "... and that it did not start" grep -q "start-up failed" "$LAB_DIR/bg.err"
check "... no pid file" test ! -e "$PIDF"

# NAT-PMP's port taken on the LAN address: fails after the nftables state
# was made, which must go again.
lab_listen gw udp 5351 X
check_not "a start with UDP 5351 taken returns non-zero" bg_start "$LAB_DIR/igdd.conf"
check "... with the reason on stderr" grep -q "NAT-PMP/PCP: cannot listen on $GW_LAN:5351" "$LAB_DIR/bg.err"
check "... no pid file" test ! -e "$PIDF"
check "... no nftables table left behind" no_table
kill $LAB_PIDS 2>/dev/null
wait 2>/dev/null
LAB_PIDS=

# The HTTP port taken.
lab_listen gw tcp 5555 X
printf 'port=5555\n' >>"$LAB_DIR/igdd.conf"
check_not "a start with the HTTP port taken returns non-zero" bg_start "$LAB_DIR/igdd.conf"
check "... with the reason on stderr" grep -q "http: cannot listen on lan0 port 5555" "$LAB_DIR/bg.err"
check "... no pid file, no table" sh -c "test ! -e '$PIDF' && ! ip netns exec $NS_GW nft list table inet igdd"
kill $LAB_PIDS 2>/dev/null
wait 2>/dev/null
LAB_PIDS=

# --- a good start: ready when the command returns ---
now=$(date +%s)
awk -v c="$C1" -v now="$now" 'BEGIN { for (i = 0; i < 2000; i++)
	printf "+ TCP %d :: %s %d %d %d UPNP %s 000000000000000000000000 1 lab TCP %d\n",
		20000 + i, c, 20000 + i, now + 3600, now, c, 20000 + i }' >"$LAB_DIR/igdd.leases"
check "a good start returns 0" bg_start "$LAB_DIR/igdd.conf"
IGDD_PID=$(cat "$PIDF" 2>/dev/null)
# No sleep: everything below must hold the moment the command returned.
check "... the 2000 leases are in the kernel already" test "$(nmapelems dnat4)" = 2000
check "... NAT-PMP answers at once (its socket is there: 2 s for the answer)" c1 "$PMPQ" send "$GW_LAN" 0000 2000
check "... the pid file holds the daemon's pid" sh -c "kill -0 \$(cat '$PIDF')"
check "... stderr stayed quiet" test ! -s "$LAB_DIR/bg.err"
lab_listen c1 tcp 20007 TOK7
check "... a restored mapping carries traffic" reach tcp 20007 TOK7
check "SIGTERM stops it" bg_stop
check "... and removes the pid file" test ! -e "$PIDF"
check "... and the table" no_table

# As an unprivileged user, the daemon creates the pid file's directory for
# itself while still root, so that it can remove the file at the end.
PIDF=$LAB_DIR/new/igdd.pid
chmod 755 "$LAB_DIR"
{ cat "$LAB_DIR/igdd.conf"; echo "user=nobody"; echo "lease_file=$LAB_DIR/nobody/igdd.leases"; } \
	>"$LAB_DIR/user.conf"
mkdir -p "$LAB_DIR/nobody" && chown nobody "$LAB_DIR/nobody"
check "a start as user nobody returns 0" bg_start "$LAB_DIR/user.conf"
IGDD_PID=$(cat "$PIDF" 2>/dev/null)
check "... the pid file's directory was made, owned by nobody" \
	test "$(stat -c %U "$LAB_DIR/new" 2>/dev/null)" = nobody
check "SIGTERM stops it" bg_stop
check "... and the pid file is removed" test ! -e "$PIDF"
IGDD_PID=
lab_finish
