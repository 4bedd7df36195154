#!/bin/sh
# t_signals.sh - every signal as igdd(8) SIGNALS documents it: SIGUSR1
# re-reads the external address and announces it again at once; SIGUSR2
# rewrites the lease file with exactly the live mappings and logs the
# counters; SIGHUP reloads; the ignored ones are logged and change
# nothing; the stopping ones (SIGTERM, SIGINT, SIGXCPU and the fault
# signals sent by kill) stop cleanly: status 0, no nftables state left;
# SIGQUIT stops for a restart, the nftables state kept (t_restart).  A
# mapping carries traffic throughout.
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" </dev/null
lab_listen c1 tcp 9000 TOK
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf"
T0=$(date +%s%N)
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >/dev/null 2>&1
check "a mapping carries traffic" reach tcp 8000 TOK
alive() { kill -0 "$IGDD_PID" 2>/dev/null; }

# SIGUSR1.  The start's announcements come at 0, 0.25, 0.75, 1.75, 3.75
# and 7.75 s: listen from 4.3 s on for 2 s, when none is due.
ms_since_start() { echo $((($(date +%s%N) - T0) / 1000000)); }
w=$((4300 - $(ms_since_start)))
[ "$w" -gt 0 ] && sleep "$(printf '%d.%03d' $((w / 1000)) $((w % 1000)))"
c1 "$PMPQ" listen "$C1" 2 >"$LAB_DIR/ann" 2>&1 &
ANN=$!
wait_listening "$LAB_DIR/ann" $ANN
log_mark
kill -USR1 "$IGDD_PID"
wait $ANN
check "SIGUSR1: igdd lives on" alive
check "... and logs it" wait_for 10 sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'SIGUSR1: re-reading the external address'"
check "... the external address $GW_WAN is announced again at once (NAT-PMP, 224.0.0.1:5350)" \
	grep -Eq "^$GW_LAN 00800000[0-9a-f]{8}c6336401$" "$LAB_DIR/ann"
check "... the mapping still carries traffic" reach tcp 8000 TOK

# SIGUSR2: the journal holds superseded records; afterwards only the live
# mapping, and the counters are in the log.
for i in 1 2 3; do c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >/dev/null 2>&1; done
c1 natpmpc -g "$GW_LAN" -a 8001 9001 udp 3600 >/dev/null 2>&1
c1 natpmpc -g "$GW_LAN" -a 8001 9001 udp 0 >/dev/null 2>&1
records() { grep -c '^[-+] ' "$LAB_DIR/igdd.leases"; }
n0=$(records)
log_mark
kill -USR2 "$IGDD_PID"
check "SIGUSR2: the lease file is rewritten with the one live mapping (was $n0 records)" \
	wait_for 10 sh -c "test \$(grep -c '^[-+] ' '$LAB_DIR/igdd.leases') = 1"
check "... that mapping's record" grep -q '^+ TCP 8000 ' "$LAB_DIR/igdd.leases"
check "... the counters are logged" wait_for 10 sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'counters: NAT-PMP: [0-9]* request'"
check "... igdd lives on" alive

log_mark
kill -HUP "$IGDD_PID"
check "SIGHUP: the configuration is reloaded (logged), igdd lives on" wait_for 10 sh -c "kill -0 $IGDD_PID && tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -qi reload"

# 34, 39, 64: SIGRTMIN, SIGRTMIN+5, SIGRTMAX (glibc keeps 32 and 33)
for s in ALRM VTALRM PROF XFSZ IO PWR TTIN TTOU STKFLT 34 39 64; do
	log_mark
	/bin/kill -s "$s" "$IGDD_PID"
	check "signal $s: logged as ignored, igdd lives on" \
		wait_for 10 sh -c "kill -0 $IGDD_PID && tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q ': ignored'"
done
for s in WINCH URG CHLD CONT PIPE; do
	/bin/kill -s "$s" "$IGDD_PID"
done
sleep 0.2
check "SIGWINCH, SIGURG, SIGCHLD, SIGCONT, SIGPIPE: igdd lives on" alive
check "the mapping still carries traffic" reach tcp 8000 TOK
check "the lease file still holds it" grep -q '^+ TCP 8000 ' "$LAB_DIR/igdd.leases"

# The stopping signals, each on a fresh start.
for s in TERM INT XCPU SEGV BUS ILL FPE ABRT TRAP SYS; do
	if [ -z "$IGDD_PID" ]; then
		lab_start_igdd "$LAB_DIR/igdd.conf" || { fail "igdd restarts before SIG$s"; continue; }
	fi
	log_mark
	lab_stop_igdd "$s"
	rc=$?
	check "SIG$s: a clean stop (status $rc, logged, no nftables table left)" sh -c "test $rc = 0 &&
		tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'SIG$s (from pid [0-9]*): stopping' &&
		! ip netns exec $NS_GW nft list table inet igdd >/dev/null 2>&1"
done
# SIGQUIT: a stop for a restart (t_restart): the table stays.
[ -n "$IGDD_PID" ] || lab_start_igdd "$LAB_DIR/igdd.conf" || fail "igdd restarts before SIGQUIT"
log_mark
lab_stop_igdd QUIT
rc=$?
check "SIGQUIT: a stop for a restart (status $rc, logged, the nftables table kept)" sh -c "test $rc = 0 &&
	tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'SIGQUIT (from pid [0-9]*): stopping for a restart' &&
	ip netns exec $NS_GW nft list table inet igdd >/dev/null 2>&1"
lab_finish
