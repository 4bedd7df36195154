#!/bin/sh
# t_instance.sh - one igdd per nftables table (per network namespace) and
# per lease file: a second one refuses to start, naming the first, and
# leaves its mappings alone (kernel, lease file, traffic); two started at
# the same moment end with exactly one running (a lock, not a race); a
# daemon in another namespace with its own lease file is no conflict; the
# lock goes with the process (a kill -9 leaves none behind).
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" </dev/null
check "the first igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf"
FIRST=$IGDD_PID
lab_listen c1 tcp 9000 TOK
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >"$LAB_DIR/n.out" 2>&1
check "a mapping of the first carries traffic" reach tcp 8000 TOK
# igdd's table without what changes by itself (counters, time left)
table_state() { gw nft -s list table inet igdd | sed 's/ expires [0-9a-z]*//g'; }
table_state >"$LAB_DIR/nft.before"
cp "$LAB_DIR/igdd.leases" "$LAB_DIR/leases.before"

# second CONF [NS]: a second daemon in the foreground; its status, its
# messages in second.err.
second() {
	timeout 10 ip netns exec "${2:-$NS_GW}" "$IGDD" -d -f "$1" >"$LAB_DIR/second.err" 2>&1
}
check_not "a second igdd on the same table and lease file refuses to start" second "$LAB_DIR/igdd.conf"
check "... naming the first one's pid and the table" \
	grep -q "another igdd (pid $FIRST) runs on nftables table inet igdd in this network namespace" \
	"$LAB_DIR/second.err"
sed "s|^lease_file=.*|lease_file=$LAB_DIR/other.leases|" "$LAB_DIR/igdd.conf" >"$LAB_DIR/table.conf"
check_not "a second igdd on the same table (another lease file) refuses to start" \
	second "$LAB_DIR/table.conf"
check "... no lease file of its own made" test ! -e "$LAB_DIR/other.leases"

# The same lease file from another network namespace: no table clash
# there, the lease file's lock refuses it.
cat >"$LAB_DIR/out.conf" <<CONF
ext_ifname=eth0
listening_ip=lo
enable_natpmp=yes
enable_upnp=no
ext_allow_private_ipv4=yes
lease_file=$LAB_DIR/igdd.leases
CONF
check_not "a second igdd on the same lease file (another namespace) refuses to start" \
	second "$LAB_DIR/out.conf" "$NS_OUT"
check "... naming the first one's pid and the lease file" \
	grep -q "another igdd (pid $FIRST) uses the lease file $LAB_DIR/igdd.leases" "$LAB_DIR/second.err"

check "the first one still runs" kill -0 "$FIRST"
table_state >"$LAB_DIR/nft.after"
check "... its nftables table is as it was" cmp -s "$LAB_DIR/nft.before" "$LAB_DIR/nft.after"
check "... its lease file is as it was" cmp -s "$LAB_DIR/igdd.leases" "$LAB_DIR/leases.before"
check "... its mapping still carries traffic" reach tcp 8000 TOK

# Another namespace, another lease file: runs beside the first.
sed "s|^lease_file=.*|lease_file=$LAB_DIR/out.leases|" "$LAB_DIR/out.conf" >"$LAB_DIR/out2.conf"
ip netns exec "$NS_OUT" "$IGDD" -d -f "$LAB_DIR/out2.conf" >"$LAB_DIR/out.log" 2>&1 &
OUTPID=$!
LAB_PIDS="$LAB_PIDS $OUTPID"
check "an igdd in another namespace with its own lease file runs beside it" \
	wait_for 5 grep -q " started: uuid " "$LAB_DIR/out.log"
kill "$OUTPID"; wait "$OUTPID" 2>/dev/null

# kill -9: the kernel drops the locks with the process.
kill -9 "$FIRST"; wait "$FIRST" 2>/dev/null
IGDD_PID=
check "after a kill -9 of the first, a new igdd starts (no stale lock)" \
	lab_start_igdd "$LAB_DIR/igdd.conf"
check "... and restores the mapping, which carries traffic" wait_for 3 reach tcp 8000 TOK
lab_stop_igdd

# Two at once: exactly one runs.
for k in 1 2; do
	ip netns exec "$NS_GW" "$IGDD" -d -f "$LAB_DIR/igdd.conf" >"$LAB_DIR/race$k.log" 2>&1 &
	eval "RACE$k=\$!"
done
LAB_PIDS="$LAB_PIDS $RACE1 $RACE2"
# settled: one said it started, and one of the two has exited
n_alive() { _a=0; for p in $RACE1 $RACE2; do kill -0 "$p" 2>/dev/null && _a=$((_a + 1)); done; echo $_a; }
settled() { cat "$LAB_DIR"/race*.log | grep -q " started: uuid " && [ "$(n_alive)" -lt 2 ]; }
wait_for 30 settled
alive=$(n_alive)
check "two started at once: exactly one runs ($alive)" test "$alive" = 1
check "... the other said why" sh -c "cat '$LAB_DIR'/race*.log | grep -q 'another igdd (pid [0-9]*) runs on nftables table inet igdd'"
check "... and the mapping carries traffic" wait_for 3 reach tcp 8000 TOK
kill $RACE1 $RACE2 2>/dev/null
lab_finish
