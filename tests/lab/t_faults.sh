#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_faults.sh - the gateway under faults that are not igdd's own:
#  1. the lease file's disk is full: mappings are still served, the error
#     is logged once, the file stays whole, and it catches up (rewritten
#     by the retry timer) once space returns;
#  2. the lease file's disk turns read-only (ext4 errors=remount-ro, via
#     its trigger_fs_error knob): same, and a writable file system mounted
#     there again makes the file whole and current;
#  3. the external interface changes address, loses it, goes down and up:
#     GetStatusInfo, GetExternalIPAddress, GENA events, NAT-PMP
#     announcements and PCP unsolicited MAP responses follow; a new address
#     starts a new NAT-PMP/PCP epoch (RFC 6887 §8.5), which the
#     announcements, the PCP ANNOUNCE, the MAP updates and natpmpc see; a
#     link flap keeps it; with no usable address NAT-PMP says 3 and PCP
#     NETWORK_FAILURE; mappings survive and carry traffic again.
# The file systems are mounted under $LAB_DIR before igdd starts (igdd
# runs in the mount namespace `ip netns exec` makes, a copy of ours), and
# unmounted on exit, whatever happened.
. "$(dirname "$0")/lib.sh"
lab_up

FULL_DIR=$LAB_DIR/full
RO_DIR=$LAB_DIR/ro
RO_IMG=$LAB_DIR/ro.img
faults_down() {
	lab_stop_igdd KILL 2>/dev/null
	for d in "$FULL_DIR" "$RO_DIR"; do
		mountpoint -q "$d" 2>/dev/null && umount -l "$d"
	done
	lab_down
}
trap 'faults_down' EXIT
HTTP_PORT=47124
UPNP_BASE=http://$GW_LAN:$HTTP_PORT

# pmp_map PROTO(1 udp, 2 tcp) PORT LIFETIME: NAT-PMP from c1; prints the
# answer as hex.
pmp_map() {
	c1 "$PMPQ" send "$GW_LAN" "$(printf '00%02x0000%04x%04x%08x' "$1" "$2" "$2" "$3")" 1000 2>/dev/null
}
# pmp_ok ...: the mapping answer says success
pmp_ok() { case $(pmp_map "$@") in 008[12]0000*) return 0 ;; esac; return 1; }
PARTS=${FAULTS_PARTS:-full ro iface}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
# lease_whole FILE: every line a whole record (or a comment), newline-ended
lease_whole() {
	[ -s "$1" ] || return 1
	[ "$(tail -c1 "$1" | od -An -tx1 | tr -d ' ')" = 0a ] || return 1
	awk '/^#/ { next } /^\+ / && NF >= 13 { next } /^- / && NF == 4 { next }
		{ print "bad line " NR ": " $0; bad = 1 } END { exit bad }' "$1"
}

lab_listen c1 udp 9101 tok-full
lab_listen c1 udp 9111 tok-ro

# --- 1. full disk -------------------------------------------------------
if part full; then
mkdir -p "$FULL_DIR"
mount -t tmpfs -o size=16k,mode=0700 igdd-lab-full "$FULL_DIR" || { fail "cannot mount a tmpfs"; lab_finish; }
ln -s "$FULL_DIR/igdd.leases" "$LAB_DIR/igdd.leases"	# for lab_agree's lease view
lab_conf "$LAB_DIR/full.conf" <<CONF
lease_file=$FULL_DIR/igdd.leases
http_port=$HTTP_PORT
CONF
check "igdd starts with its lease file on a 16 KiB tmpfs" lab_start_igdd "$LAB_DIR/full.conf"
for p in 9101 9102 9103; do pmp_ok 1 $p 3600 || fail "NAT-PMP map $p before the disk is full"; done
dd if=/dev/zero of="$FULL_DIR/fill" bs=1k count=64 2>/dev/null
check "the disk is full" sh -c "! dd if=/dev/zero of='$FULL_DIR/more' bs=1k count=1 2>/dev/null && rm -f '$FULL_DIR/more' && df '$FULL_DIR' | awk 'NR == 2 { exit \$4 != 0 }'"
log_mark
ok=0
for p in 9104 9105 9106 9107 9108; do pmp_ok 1 $p 3600 && ok=$((ok + 1)); done
pmp_ok 1 9102 0 && ok=$((ok + 1))
# (tmpfs grows a file a page at a time: refreshes fill the lease file's
# last page, so that the disk being full really matters)
for k in $(seq 1 40); do pmp_ok 1 9101 3600 && ok=$((ok + 1)); done
check "with the disk full, 5 adds, 1 delete and 40 refreshes still succeed ($ok/46)" test $ok = 46
lab_listen c1 udp 9105 tok-full5
check "a mapping made while the disk is full carries traffic" reach udp 9105 tok-full5
check "the write error is logged once, not per change ($(count_log 'lease file.*cannot') times)" \
	test "$(count_log 'lease file.*cannot')" = 1
check "the lease file is still whole (no partial record)" lease_whole "$FULL_DIR/igdd.leases"
rm -f "$FULL_DIR/fill"
check "space back: the retry rewrites the file within 12 s, no change needed" \
	wait_for 12 grep -q "lease file .*persistence resumed" "$LAB_DIR/igdd.log"
check "store, lease file and kernel agree after the recovery" lab_agree
check "the lease file is whole" lease_whole "$FULL_DIR/igdd.leases"
pmp_ok 1 9109 3600
check "appends resume: a new mapping is in the file at once" grep -q "^+ UDP 9109 " "$FULL_DIR/igdd.leases"
check "igdd stops" lab_stop_igdd TERM
lab_start_igdd "$LAB_DIR/full.conf"
lab_store_view >"$LAB_DIR/view.restart"
check "after a restart the mappings made while the disk was full are back" \
	grep -q '^UDP 9107 ' "$LAB_DIR/view.restart"
check_not "... and the one deleted then is not" grep -q '^UDP 9102 ' "$LAB_DIR/view.restart"
check "... and store, lease file and kernel agree" lab_agree
lab_stop_igdd TERM
rm -f "$LAB_DIR/igdd.leases"
fi

# --- 2. read-only disk --------------------------------------------------
ro_ok=0
if ! part ro; then
	ro_ok=2
elif command -v mkfs.ext4 >/dev/null 2>&1 && dd if=/dev/zero of="$RO_IMG" bs=1k count=2048 2>/dev/null &&
   mkfs.ext4 -q -F "$RO_IMG" 2>/dev/null && mkdir -p "$RO_DIR" &&
   mount -o loop,errors=remount-ro "$RO_IMG" "$RO_DIR" 2>/dev/null; then
	dev=$(basename "$(findmnt -n -o SOURCE "$RO_DIR")")
	[ -w "/sys/fs/ext4/$dev/trigger_fs_error" ] && ro_ok=1
fi
if [ $ro_ok = 2 ]; then
	:
elif [ $ro_ok = 0 ]; then
	skip "read-only disk: needs mkfs.ext4, a loop device and ext4's trigger_fs_error"
else
	ln -s "$RO_DIR/igdd.leases" "$LAB_DIR/igdd.leases"
	lab_conf "$LAB_DIR/ro.conf" <<CONF
lease_file=$RO_DIR/igdd.leases
http_port=$HTTP_PORT
CONF
	check "igdd starts with its lease file on ext4" lab_start_igdd "$LAB_DIR/ro.conf"
	for p in 9111 9112; do pmp_ok 1 $p 3600 || fail "NAT-PMP map $p before read-only"; done
	log_mark
	echo "igdd lab: read-only test" >"/sys/fs/ext4/$dev/trigger_fs_error"
	check "the file system turned read-only" sh -c "! touch '$RO_DIR/x' 2>/dev/null"
	ok=0
	for p in 9113 9114 9115; do pmp_ok 1 $p 3600 && ok=$((ok + 1)); done
	pmp_ok 1 9112 0 && ok=$((ok + 1))
	check "read-only: 3 adds and 1 delete still succeed ($ok/4)" test $ok = 4
	lab_listen c1 udp 9114 tok-ro4
	check "a mapping made while read-only carries traffic" reach udp 9114 tok-ro4
	check "the mapping of before still carries traffic" reach udp 9111 tok-ro
	for k in $(seq 1 10); do pmp_ok 1 9111 3600; done
	check "the read-only error is logged once ($(count_log 'lease file.*cannot') times)" \
		test "$(count_log 'lease file.*cannot')" = 1
	check "the lease file is whole" lease_whole "$RO_DIR/igdd.leases"
	# A writable file system there again (in igdd's mount namespace),
	# one igdd may trust (not world-writable, as a tmpfs is by default).
	nsenter -m -t "$IGDD_PID" mount -t tmpfs -o size=64k,mode=0700 igdd-lab-rw "$RO_DIR"
	pmp_ok 1 9116 3600
	check "writable again: the next change rewrites the file" \
		wait_for 10 grep -q '^+ UDP 9116 ' "$(printf '/proc/%s/root%s/igdd.leases' "$IGDD_PID" "$RO_DIR")"
	nsenter -m -t "$IGDD_PID" cat "$RO_DIR/igdd.leases" >"$LAB_DIR/ro.now" 2>/dev/null
	check "... with every live mapping, whole" sh -c "grep -q '^+ UDP 9113 ' '$LAB_DIR/ro.now' &&
		grep -q '^+ UDP 9111 ' '$LAB_DIR/ro.now' && ! grep -q '^+ UDP 9112 ' '$LAB_DIR/ro.now'"
	check "igdd stops" lab_stop_igdd TERM
	rm -f "$LAB_DIR/igdd.leases"
fi

# --- 3. the external interface -----------------------------------------
part iface || lab_finish
lab_conf "$LAB_DIR/if.conf" <<CONF
http_port=$HTTP_PORT
CONF
check "igdd starts (external address from wan0)" lab_start_igdd "$LAB_DIR/if.conf" -v
# soapv ACTION: one value of a WANIPConnection action
soapv() { soap c1 /ctl/IPConn "$URN_IPC2" "$1" | tr -d '\n' | sed -n "s,.*<$2>\([^<]*\)</$2>.*,\1,p"; }
ext_is() { [ "$(soapv GetExternalIPAddress NewExternalIPAddress)" = "$1" ]; }
status_is() { [ "$(soapv GetStatusInfo NewConnectionStatus)" = "$1" ]; }
check "GetExternalIPAddress: $GW_WAN" ext_is "$GW_WAN"
check "GetStatusInfo: Connected" status_is Connected

lab_listen c1 udp 9201 tok-if-u
lab_listen c1 tcp 9202 tok-if-t
check "NAT-PMP map UDP 9201" pmp_ok 1 9201 3600
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=9202 NewProtocol=TCP \
	NewInternalPort=9202 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=if NewLeaseDuration=3600)
check "UPnP AddPortMapping TCP 9202" sh -c "printf '%s' '$out' | grep -qx 'HTTP 200'"
# epoch_now: the NAT-PMP epoch (seconds) in an external-address answer
epoch_now() { _h=$(c1 "$PMPQ" send "$GW_LAN" 0000 1000 | cut -c9-16); echo $((0x${_h:-0})); }
# hex_epochs FILE COLUMN PATTERN: the epochs (decimal) of the lines of
# FILE matching PATTERN: the 8 hex digits at COLUMN of the datagram
hex_epochs() { grep -E "$3" "$1" | sed 's/^[^ ]* //' | cut -c"$2-$(($2 + 7))" | while read -r h; do echo $((0x$h)); done; }
# The epoch at the address change (3a) must be old enough for its reset
# to show (RFC 6886 §3.6: a client allows 2 s): wait until it is 8 s.
_e=$(epoch_now)
[ "$_e" -ge 8 ] || sleep $((8 - _e))
# A PCP client on a fixed port that keeps listening (socat): MAP UDP 9203.
# header (version 2, MAP, lifetime 3600, client ::ffff:C1), nonce, UDP,
# internal and suggested external port 9203 (23f3), no external address
c1hex=$(printf '%02x%02x%02x%02x' $(echo "$C1" | tr . ' '))
PCPREQ=0201000000000e1000000000000000000000ffff${c1hex}0102030405060708090a0b0c1100000023f323f300000000000000000000000000000000
if command -v socat >/dev/null 2>&1; then
	(printf '%s' "$PCPREQ" | xxd -r -p; sleep 6) |
		c1 socat -t 1 - "UDP4-DATAGRAM:$GW_LAN:5351,bind=$C1:40999" >"$LAB_DIR/pcp.bin" 2>/dev/null &
	PCPCL=$!
	LAB_PIDS="$LAB_PIDS $PCPCL"
fi
sleep 0.5
check "traffic: UDP 9201 reaches c1" reach udp 9201 tok-if-u

# GENA: subscribe c1 to WANIPConnection events, take the initial event.
c1 "$SOAPC" catch 5556 5 >"$LAB_DIR/ev0" 2>&1 &
wait_listening "$LAB_DIR/ev0" $!
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s:%s\r\nCALLBACK: <http://%s:5556/e>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n' \
	"$GW_LAN" "$HTTP_PORT" "$C1" | c1 "$SOAPC" raw "$GW_LAN" "$HTTP_PORT" >/dev/null 2>&1
wait $!
check "GENA: subscribed, initial event has ExternalIPAddress $GW_WAN" grep -q "<ExternalIPAddress>$GW_WAN<" "$LAB_DIR/ev0"

# 3a. the address changes
NEW=$LAB_WAN.7
newhex=$(printf '%02x%02x%02x%02x' $(echo "$NEW" | tr . ' '))
oldhex=$(printf '%02x%02x%02x%02x' $(echo "$GW_WAN" | tr . ' '))
e0=$(epoch_now)
check "the epoch before the change is $e0 s (>= 8)" test "$e0" -ge 8
c1 "$SOAPC" catch 5556 5 >"$LAB_DIR/ev1" 2>&1 &
EV=$!
c1 "$PMPQ" listen "$C1" 3 >"$LAB_DIR/ann1" 2>&1 &
ANN=$!
wait_listening "$LAB_DIR/ev1" $EV
wait_listening "$LAB_DIR/ann1" $ANN
gw sh -c "ip addr del $GW_WAN/24 dev wan0 && ip addr add $NEW/24 dev wan0"
check "address changed: GetExternalIPAddress follows ($NEW)" wait_for 10 ext_is "$NEW"
c1 natpmpc -g "$GW_LAN" >"$LAB_DIR/natpmpc-new" 2>&1
check "... natpmpc -g sees the new address $NEW" grep -q "Public IP address : $NEW\$" "$LAB_DIR/natpmpc-new"
e1=$(sed -n 's/^epoch = //p' "$LAB_DIR/natpmpc-new")
check "... natpmpc sees a new epoch (${e1:-none} s, was $e0 s: below it by more than 2 s)" \
	test -n "$e1" -a "${e1:-99}" -le 4 -a "$((${e1:-99} + 2))" -lt "$e0"
check "... GetStatusInfo Connected" status_is Connected
wait $EV
check "... GENA NOTIFY with ExternalIPAddress $NEW" grep -q "<ExternalIPAddress>$NEW<" "$LAB_DIR/ev1"
wait $ANN
check "... NAT-PMP announcement of $NEW on 224.0.0.1:5350 (listener in the LAN namespace)" \
	grep -Eq "^$GW_LAN 00800000[0-9a-f]{8}$newhex$" "$LAB_DIR/ann1"
# (the restart's schedule may have announced the old address just before)
sed -n "/^$GW_LAN 00800000.\{8\}$newhex\$/,\$p" "$LAB_DIR/ann1" >"$LAB_DIR/ann1.after"
hex_epochs "$LAB_DIR/ann1.after" 9 "^$GW_LAN 00800000[0-9a-f]{8}$newhex$" >"$LAB_DIR/ann1.ep"
check "... its epoch restarted: $(tr '\n' ' ' <"$LAB_DIR/ann1.ep")s (each <= 3, was $e0)" \
	awk 'NR > 0 && $1 > 3 { bad = 1 } END { exit bad || NR == 0 }' "$LAB_DIR/ann1.ep"
check "... repeated, 250 ms then doubling: at least 4 within 3 s ($(wc -l <"$LAB_DIR/ann1.ep"))" \
	test "$(wc -l <"$LAB_DIR/ann1.ep")" -ge 4
check_not "... no announcement of the old address after the change" \
	grep -Eq "^$GW_LAN 00800000[0-9a-f]{8}$oldhex$" "$LAB_DIR/ann1.after"
hex_epochs "$LAB_DIR/ann1.after" 17 "^$GW_LAN 0280000000000000[0-9a-f]{8}0{24}$" >"$LAB_DIR/ann1.pcp"
check "... PCP ANNOUNCE (version 2, R + opcode 0, SUCCESS, lifetime 0) with the new epoch: $(tr '\n' ' ' <"$LAB_DIR/ann1.pcp")s" \
	awk '$1 > 3 { bad = 1 } END { exit bad || NR == 0 }' "$LAB_DIR/ann1.pcp"
if [ -n "${PCPCL:-}" ]; then
	sleep 1
	od -An -tx1 -v "$LAB_DIR/pcp.bin" | tr -d ' \n' | fold -w 120 >"$LAB_DIR/pcp.hex"
	check "PCP: the MAP was answered (to port 40999)" grep -q "^0281000000000e10.*0102030405060708090a0b0c1100000023f3" "$LAB_DIR/pcp.hex"
	check "PCP: unsolicited MAP responses to the client's address and port carry $NEW (RFC 6887 14.2)" \
		grep -q "^028100.\{42\}0102030405060708090a0b0c1100000023f323f3.\{20\}ffff$newhex\$" "$LAB_DIR/pcp.hex"
	check "... repeated (at least 2 within 1.5 s)" test "$(grep -c "ffff$newhex\$" "$LAB_DIR/pcp.hex")" -ge 2
	grep "ffff$newhex\$" "$LAB_DIR/pcp.hex" | cut -c17-24 | while read -r h; do echo $((0x$h)); done >"$LAB_DIR/pcp.ep"
	check "... with the new epoch (RFC 6887 8.5): $(tr '\n' ' ' <"$LAB_DIR/pcp.ep")s, was $e0" \
		awk '$1 > 3 { bad = 1 } END { exit bad || NR == 0 }' "$LAB_DIR/pcp.ep"
else
	skip "PCP unsolicited MAP: needs socat"
fi
check "traffic to the new address reaches c1 (UDP 9201)" sh -c \
	"[ \"\$(ip netns exec $NS_OUT '$PROBE' connect udp $NEW 9201 1500 2>/dev/null)\" = tok-if-u ]"

# 3b. no address at all
c1 "$SOAPC" catch 5556 5 >"$LAB_DIR/ev2" 2>&1 &
EV=$!
wait_listening "$LAB_DIR/ev2" $EV
gw ip addr flush dev wan0
check "no address: GetStatusInfo Disconnected" wait_for 10 status_is Disconnected
check "... GetExternalIPAddress is empty" ext_is ""
wait $EV
check "... GENA NOTIFY: ConnectionStatus Disconnected, ExternalIPAddress empty" sh -c \
	"grep -q '<ConnectionStatus>Disconnected<' '$LAB_DIR/ev2' && grep -q '<ExternalIPAddress></ExternalIPAddress>' '$LAB_DIR/ev2'"
check "... NAT-PMP external address: result 3 (network failure)" sh -c \
	"ip netns exec $NS_C1 '$PMPQ' send $GW_LAN 0000 1000 | grep -q '^00800003'"
check "... NAT-PMP map: result 3" sh -c "[ \"\$(ip netns exec $NS_C1 '$PMPQ' send $GW_LAN 000100002330233000000e10 1000 | cut -c1-8)\" = 00810003 ]"
c1 "$PCPC" "$GW_LAN" map UDP 9204 9204 600 >"$LAB_DIR/pcp-nf" 2>&1
check "... PCP MAP: NETWORK_FAILURE (7)" test "$(pcp_field "$LAB_DIR/pcp-nf" result)" = 7
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -s >"$LAB_DIR/upnpc-s" 2>&1
check "... upnpc -s copes (says Disconnected or no address)" sh -c \
	"grep -Eqi 'Disconnected|ExternalIPAddress = *\$|0.0.0.0|failed' '$LAB_DIR/upnpc-s'"
check "... the mappings are still in the kernel" test "$(nmapelems dnat4)" -ge 3
check "... store, lease file and kernel agree" lab_agree
c1 "$SOAPC" catch 5556 5 >"$LAB_DIR/ev2b" 2>&1 &
EV=$!
wait_listening "$LAB_DIR/ev2b" $EV
gw ip addr add "$GW_WAN/24" dev wan0
check "address back: Connected" wait_for 10 status_is Connected
wait $EV
check "... GENA NOTIFY: Connected, ExternalIPAddress $GW_WAN" sh -c \
	"grep -q '<ConnectionStatus>Connected<' '$LAB_DIR/ev2b' && grep -q '<ExternalIPAddress>$GW_WAN<' '$LAB_DIR/ev2b'"
check "... GetExternalIPAddress $GW_WAN" ext_is "$GW_WAN"
check "... traffic: UDP 9201 reaches c1 again" reach udp 9201 tok-if-u
check "... traffic: TCP 9202 reaches c1 again" reach tcp 9202 tok-if-t

# 3c. link down and up
e2=$(epoch_now)
c1 "$SOAPC" catch 5556 5 >"$LAB_DIR/ev3" 2>&1 &
EV=$!
wait_listening "$LAB_DIR/ev3" $EV
gw ip link set wan0 down
check "link down: Disconnected" wait_for 10 status_is Disconnected
wait $EV
check "... GENA NOTIFY: ConnectionStatus Disconnected" grep -q '<ConnectionStatus>Disconnected<' "$LAB_DIR/ev3" || cat "$LAB_DIR/ev3"
check "... NAT-PMP map: result 3" sh -c "[ \"\$(ip netns exec $NS_C1 '$PMPQ' send $GW_LAN 000100002330233000000e10 1000 | cut -c1-8)\" = 00810003 ]"
c1 "$SOAPC" catch 5556 5 >"$LAB_DIR/ev4" 2>&1 &
EV=$!
wait_listening "$LAB_DIR/ev4" $EV
gw ip link set wan0 up
check "link up: Connected" wait_for 10 status_is Connected
wait $EV
check "... GENA NOTIFY: ConnectionStatus Connected, ExternalIPAddress $GW_WAN" sh -c \
	"grep -q '<ConnectionStatus>Connected<' '$LAB_DIR/ev4' && grep -q '<ExternalIPAddress>$GW_WAN<' '$LAB_DIR/ev4'"
e3=$(epoch_now)
check "... the same address back: the epoch goes on ($e2 s, then $e3 s)" test "$e3" -ge "$e2"
check "... the mappings survived: UDP 9201 reaches c1" wait_for 10 reach udp 9201 tok-if-u
check "... TCP 9202 reaches c1" reach tcp 9202 tok-if-t
check "... PCP's UDP 9203 is still mapped" sh -c "ip netns exec $NS_GW nft list map inet igdd dnat4 | grep -q 9203"
check "store, lease file and kernel agree" lab_agree
check "igdd still runs" kill -0 "$IGDD_PID"
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
