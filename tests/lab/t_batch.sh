#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_batch.sh - the NAT-PMP/PCP datagrams of one receive batch go to the
# kernel in one netlink transaction (issue 21, batched changes).  The
# kernel refuses one element of such a transaction: a forward set made
# with room for 4 elements, three mappings in it, then (igdd stopped, so
# that they arrive as one batch) refreshes of two of them and two new
# ones, of which only one fits.  The transaction is taken back whole and
# the requests made again one by one: the refused one is answered with a
# failure, the three others with success, and the daemon, the lease file
# and the kernel agree on exactly those, also after a kill -9 and a
# restart; the mapping that fitted carries traffic.  (A stale DNAT target
# put in by another process no longer reaches a batch: the watchdog
# re-installs igdd's maps on the kernel's notification first.)
. "$(dirname "$0")/lib.sh"
SL=${SL:-$LAB_TOP/build/bench/scaleload}
[ -x "$SL" ] || { skip "needs $SL (make bench-tools)"; exit 0; }
lab_up

# The set as a firewall (or an operator's size limit) made it; igdd
# attaches to it as it finds it.
gw nft -f - <<EOF
table inet igdd {
	set fwd4 { type ipv4_addr . inet_proto . inet_service; size 4; counter; }
}
EOF
# c1's datagrams to igdd's port, counted as the gateway receives them (a
# table of the test's own): igdd is let go on only once a whole batch is
# queued, however slowly the client starts on a loaded machine.
gw nft -f - <<EOF
table ip labcount {
	chain in { type filter hook input priority -300; ip saddr $C1 udp dport 5351 counter; }
}
EOF
pmp_in() { gw nft list chain ip labcount in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
pmp_in_ge() { [ "$(pmp_in)" -ge "$1" ]; }
echo "secure_mode=no" | lab_conf "$LAB_DIR/igdd.conf"
check "igdd starts on a forward set with room for 4" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)

# pmp N PORT COUNT: NAT-PMP TCP mappings of c1's internal ports PORT..,
# suggested external port the same, N requests in flight.
pmp() { _n=$1; shift; c1 "$SL" -t 3000 -v -i "$_n" "$GW_LAN" map "$C1" 1 "$@"; }
pmp 1 5001 3 >"$LAB_DIR/a0"
check "three mappings, one at a time" grep -q "ok=3 " "$LAB_DIR/a0"

log_mark
_n0=$(pmp_in)
kill -STOP "$IGDD_PID"
pmp 5 5001 5 >"$LAB_DIR/a1" &
ap=$!
wait_for 20 pmp_in_ge $((_n0 + 5)) || fail "the five requests did not all reach the gateway in 20 s"
kill -CONT "$IGDD_PID"
wait $ap
res() { sed -n "s/^answer port=$1 result=//p" "$LAB_DIR/a1"; }
check "the five requests came as one batch, whose transaction the kernel refused" \
	test "$(count_log "firewall refused a transaction of 5 changes")" = 1
check "refreshes of 5001, 5002, 5003 answered with success" \
	test "$(res 5001)$(res 5002)$(res 5003)" = 000
check "new 5004 (the set's last room) answered with success" test "$(res 5004)" = 0
check "new 5005 (no room) answered with a failure (4, out of resources)" test "$(res 5005)" = 4
check "daemon, lease file and kernel agree on the four answered with success" lab_agree
check "they are 5001-5004" test "$(awk '{ print $2 }' "$LAB_DIR/view.store" | tr '\n' ' ')" = "5001 5002 5003 5004 "
lab_listen c1 tcp 5004 tok-5004
check "5004 carries traffic" reach tcp 5004 tok-5004

# Room again: a batch of two new mappings goes in as one transaction.
c1 "$SL" -t 3000 -i 1 "$GW_LAN" unmap "$C1" 1 5003 2 >/dev/null
log_mark
_n0=$(pmp_in)
kill -STOP "$IGDD_PID"
pmp 2 5005 2 >"$LAB_DIR/a2" &
ap=$!
wait_for 20 pmp_in_ge $((_n0 + 2)) || fail "the two requests did not all reach the gateway in 20 s"
kill -CONT "$IGDD_PID"
wait $ap
check "a batch that fits: both requests answered with success" grep -q "ok=2 " "$LAB_DIR/a2"
check "and nothing refused" test "$(count_log "refused")" = 0
check "daemon, lease file and kernel agree" lab_agree
lab_listen c1 tcp 5006 tok-5006
check "5006 carries traffic" reach tcp 5006 tok-5006

# Nothing acknowledged is lost, nothing refused comes back.
kill -9 "$IGDD_PID"; wait "$IGDD_PID" 2>/dev/null; IGDD_PID=
check "igdd starts again after kill -9" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "daemon, lease file and kernel agree after the restart" lab_agree
check "they are 5001, 5002, 5005, 5006" \
	test "$(awk '{ print $2 }' "$LAB_DIR/view.store" | tr '\n' ' ')" = "5001 5002 5005 5006 "
lab_finish
