#!/bin/sh
# t_fw_deaf.sh - a change of another process's while igdd's own change
# notifications are off: igdd turns its listener off for a bulk change of
# its own (a re-install, the restore's install beside the replay; the
# kernel would build a notification per element), and reads the ruleset
# generation before and after.  A transaction of anyone else's in that
# window counts as lost notifications: igdd checks its maps (element
# counts) and writes no lease-file mark until they agree.  Held by strace
# at the re-install's sendmsg(), the window is made long enough for `nft`
# to commit in it; so is a client's change (a NAT-PMP request's small
# transaction, also sent with the listener off: there the generations
# since igdd's last are its own and those it heard).  igdd's own
# transactions alone never count.
. "$(dirname "$0")/lib.sh"
lab_up
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; exit 0; }
lab_can_hold || { skip "strace cannot hold igdd in sendmsg() here (ptrace, cpp)"; exit 0; }
NR=$(lab_sendmsg_nr)
UNSEEN="came during igdd's bulk change"

lab_listen c1 tcp 9000 tok-c1
pmp() { c1 natpmpc -g "$GW_LAN" -a "$2" "$3" "$1" "$4" >/dev/null 2>&1; }
# no SSDP NOTIFY (a sendmsg()) while the test waits for the re-install's
lab_conf "$LAB_DIR/igdd.conf" <<CONF
secure_mode=yes
notify_interval=86400
CONF
check "igdd starts (own table)" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "natpmpc maps TCP 8000 -> c1:9000" pmp tcp 8000 9000 3600
check "natpmpc maps UDP 8001 -> c1:9001" pmp udp 8001 9001 3600
check "TCP 8000 reaches c1" reach tcp 8000 tok-c1

# 1. A re-install alone: igdd's own transaction is not taken for another's.
log_mark
gw nft delete element inet igdd dnat4 '{ tcp . 8000 }'
check "an element deleted behind igdd's back is put back (re-install)" wait_for 5 reach tcp 8000 tok-c1
check "the re-install's own transaction alone counts as no unseen change" \
	test "$(count_log "$UNSEEN")" = 0
last_is_mark() { tail -n 1 "$LAB_DIR/igdd.leases" | grep -q '^# gen '; }
check "the re-install marked the lease file" wait_for 5 last_is_mark

# 2. The same re-install held in its sendmsg() (its listener off), and
# another process's transaction meanwhile.
# held: igdd stopped in sendmsg(), and still after 0.1 s without a context
# switch (not strace's short stop at a call's entry or exit)
in_sendmsg() { [ "$(cut -d' ' -f1 "/proc/$IGDD_PID/syscall" 2>/dev/null)" = "$NR" ]; }
ctxsw() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$IGDD_PID/status"; }
held() { in_sendmsg && _c=$(ctxsw) && sleep 0.1 && in_sendmsg && [ "$(ctxsw)" = "$_c" ]; }
traced() { [ "$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$IGDD_PID/status")" = "$ST" ]; }
new_mark() { last_is_mark && [ "$(tail -n 1 "$LAB_DIR/igdd.leases")" != "$MARK1" ]; }
# hold_next: the lease file's last line and the log's end noted, igdd's
# next sendmsg() held 3 s (strace, pid ST)
hold_next() {
	MARK1=$(tail -n 1 "$LAB_DIR/igdd.leases")
	log_mark
	strace -qq -o /dev/null -p "$IGDD_PID" -e trace=sendmsg \
		-e inject=sendmsg:delay_enter=3000000:when=1 &
	ST=$!
	LAB_PIDS="$LAB_PIDS $ST"
}
hold_next
check "strace is attached" wait_for 10 traced
gw nft delete element inet igdd dnat4 '{ tcp . 8000 }'
check "the re-install is held in its sendmsg()" wait_for 5 held
gw nft add table ip deaf_probe
gw nft delete table ip deaf_probe
check "(still held after the foreign transactions)" held
check "the element is back after the hold" wait_for 10 reach tcp 8000 tok-c1
kill "$ST" 2>/dev/null; wait "$ST" 2>/dev/null
check "igdd logs the unseen change (2 foreign transactions, 1 of its own)" \
	wait_for 5 count_log_is 1 "$UNSEEN"
check "and checks its maps: the counts agree, the doubt goes, the lease file gets a new mark" \
	wait_for 10 new_mark
UPNP_BASE=$(lab_upnp_base)
check "the daemon, the lease file and the kernel agree" lab_agree

# 3. A client's change (a deferral's small transaction, sent with the
# listener off too) held in its sendmsg(), and another process's
# transaction meanwhile: the generations since igdd's last are its own
# and the ones it heard, or one came unheard.
hold_next
check "strace is attached again" wait_for 10 traced
# one NAT-PMP request, TCP 9002 -> 8002 (no retransmission: a renewal
# during the contents check would leave it without a verdict)
c1 "$PMPQ" send "$GW_LAN" 00020000232a1f4200000e10 8000 >"$LAB_DIR/p3.out" 2>&1 &
PMP=$!
LAB_PIDS="$LAB_PIDS $PMP"
check "the NAT-PMP request's transaction is held in its sendmsg()" wait_for 5 held
gw nft add table ip deaf_probe
check "(still held after the foreign transaction)" held
wait "$PMP"
check "the request maps TCP 8002 -> c1:9002 after the hold" \
	sh -c "grep -q '^00820000' '$LAB_DIR/p3.out'"
check "... and igdd lists it" ctl_has tcp 8002
kill "$ST" 2>/dev/null; wait "$ST" 2>/dev/null
OWN="came during igdd's own change"
check "igdd logs the unseen change (1 foreign transaction, 1 of its own)" \
	wait_for 5 count_log_is 1 "$OWN"
check "no lease-file mark meanwhile" sh -c "sleep 1; ! tail -n 1 '$LAB_DIR/igdd.leases' | grep -q '^# gen '"
check "the regular check of its maps (every 30 s) agrees: the lease file gets a new mark" \
	wait_for 35 new_mark
gw nft delete table ip deaf_probe
log_mark
check "natpmpc maps UDP 8003 (a transaction heard around it, none unheard)" pmp udp 8003 9003 3600
check "... nothing reported" sh -c "sleep 0.5; ! tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q \"$OWN\""
# (a wrong report would also withhold the mark after 8003's record)
mark_after() { last_is_mark && tail -n 2 "$LAB_DIR/igdd.leases" | head -n 1 | grep -q '^+ UDP 8003 '; }
check "... and the lease file marks the kernel after 8003's record" wait_for 5 mark_after
check "no client's change before the hold was reported" \
	test "$(grep -c "$OWN" "$LAB_DIR/igdd.log")" = 1
check "igdd still runs" kill -0 "$IGDD_PID"
check "SIGTERM stops igdd" lab_stop_igdd TERM
lab_finish
