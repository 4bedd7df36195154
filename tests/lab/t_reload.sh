#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_reload.sh - reload (issue 16): "igddctl reload" and SIGHUP re-read the
# file.  A reload that adds a deny rule removes exactly the mappings it
# denies (from the kernel, the store and the lease file: their traffic
# stops, the others' goes on), logs each and tells UPnP subscribers (GENA:
# PortMappingNumberOfEntries); a broken line is refused with file:line
# (to igddctl and the log) and the daemon keeps serving the old rules;
# names change at once with a new CONFIGID.UPNP.ORG; a key that needs a
# restart is reported and keeps its value; listening_ip follows live (a
# LAN interface set up and torn down); mappings survive every reload.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }
PY=${PY:-/usr/bin/python3}
HTTP_PORT=47231

conf() {	# conf [extra lines on stdin]: the configuration, rewritten
	lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
http_port=$HTTP_PORT
secure_mode=no
friendly_name=${NAME:-Gateway One}
$(cat)
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
}
conf </dev/null
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=http://$GW_LAN:$HTTP_PORT
upnp_add() {	# upnp_add NS EPORT IPORT CLIENT DESC
	soap "$1" /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort="$2" \
		NewProtocol=TCP NewInternalPort="$3" NewInternalClient="$4" NewEnabled=1 \
		NewPortMappingDescription="$5" NewLeaseDuration=3600 | grep -qx 'HTTP 200'
}

lab_listen c1 tcp 9100 tok-c1
lab_listen c2 tcp 9200 tok-c2
lab_listen c2 udp 9201 tok-c2u
check "c1 maps TCP 8100 (UPnP, 'keep me')" upnp_add c1 8100 9100 "$C1" "keep me"
check "c2 maps TCP 8200 (UPnP, 'game')" upnp_add c2 8200 9200 "$C2" game
c2 natpmpc -g "$GW_LAN" -a 8201 9201 udp 3600 >"$LAB_DIR/n1" 2>&1
check "c2 maps UDP 8201 (NAT-PMP)" grep -q "Mapped public port 8201 protocol UDP" "$LAB_DIR/n1"
check "c1 maps TCP 8300 for c2 (UPnP, 'game too')" upnp_add c1 8300 9200 "$C2" "game too"
# A PCP client on c2 that keeps listening on its port (socat): MAP UDP
# 9202 -> 8202 (header: version 2, MAP, lifetime 3600, client ::ffff:C2;
# nonce, UDP, internal 9202 = 23f2, suggested external 8202 = 200a).
NONCE=0a0b0c0d0e0f101112131415
pcp_listener c2 "$C2" "$NONCE" 23f2 200a "$LAB_DIR/pcp2.bin"
# pcp_count R: MAP responses with result R for UDP 9202 -> 8202
pcp_count() { pcp_hex "$LAB_DIR/pcp2.bin" | grep -c "^0281000$1.\{40\}${NONCE}1100000023f2200a"; }
pcp_ge() { [ "$(pcp_count "$1")" -ge "$2" ]; }
if [ -n "$PCPCL" ]; then
	check "c2 maps UDP 8202 (PCP, from port 41000)" wait_for 5 pcp_ge 0 1
	N_MAPS=7
else
	N_MAPS=6
fi
check "igddctl add tcp 8400 $C2 9200 (manual)" ctl add tcp 8400 "$C2" 9200 manual
for p in 8100 8200 8300 8400; do
	check "before: TCP $p carries traffic" reach tcp $p "$([ $p = 8100 ] && echo tok-c1 || echo tok-c2)"
done
check "before: UDP 8201 carries traffic" reach udp 8201 tok-c2u

# --- a reload with a broken line: refused, nothing changes ---
conf <<CONF
deny 1024-65535 $C2/32 1024-65535
this line is broken
notify_interval=abc
CONF
ctl reload >"$LAB_DIR/r1.out" 2>"$LAB_DIR/r1.err"; rc=$?
check "igddctl reload of a broken file fails (status $rc)" test $rc = 1
L1=$(grep -n 'this line is broken' "$LAB_DIR/igdd.conf" | cut -d: -f1)
L2=$(grep -n 'notify_interval=abc' "$LAB_DIR/igdd.conf" | cut -d: -f1)
check "... with file:line for the broken line ($L1)" grep -q "^igddctl: $LAB_DIR/igdd.conf:$L1: expected 'key=value'" "$LAB_DIR/r1.err"
check "... and for the bad number ($L2)" grep -q "^igddctl: $LAB_DIR/igdd.conf:$L2: notify_interval: 'abc'" "$LAB_DIR/r1.err"
check "... the refusal is logged with them" sh -c \
	"grep -q 'reload refused: $LAB_DIR/igdd.conf:$L1: ' '$LAB_DIR/igdd.log' && grep -q 'reload refused: $LAB_DIR/igdd.conf:$L2: ' '$LAB_DIR/igdd.log'"
check "... the old rules still hold: c2's TCP 8200 carries traffic" reach tcp 8200 tok-c2
check "... and UPnP is served (a new mapping)" upnp_add c1 8101 9100 "$C1" "after refusal"
c1 natpmpc -g "$GW_LAN" >"$LAB_DIR/n2" 2>&1
check "... and NAT-PMP" grep -q "Public IP address : 1.2.3.4" "$LAB_DIR/n2"
log_mark
kill -HUP "$IGDD_PID"
check "SIGHUP with the broken file: refused, logged" wait_for 10 sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'reload refused'"
check "... igdd still runs" kill -0 "$IGDD_PID"

# --- a reload that denies c2: exactly c2's mappings go ---
c1 "$SOAPC" catch 5556 8 >"$LAB_DIR/ev0" 2>&1 &
EV0=$!
wait_listening "$LAB_DIR/ev0" $EV0
# 8101 was added just before: its event (200 ms of moderation) must not
# reach a subscriber that came after it (its initial event has the values).
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s:%s\r\nCALLBACK: <http://%s:5556/e>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n' \
	"$GW_LAN" "$HTTP_PORT" "$C1" | c1 "$SOAPC" raw "$GW_LAN" "$HTTP_PORT" >/dev/null 2>&1
wait $EV0
check "GENA: c1 subscribed, initial event counts $N_MAPS mappings" grep -q "<PortMappingNumberOfEntries>$N_MAPS<" "$LAB_DIR/ev0"
c1 "$SOAPC" catch 5556 8 >"$LAB_DIR/ev1" 2>&1 &
EV1=$!
wait_listening "$LAB_DIR/ev1" $EV1
conf <<CONF
deny 1024-65535 $C2/32 1024-65535
CONF
log_mark
ctl reload >"$LAB_DIR/r2.out" 2>&1; rc=$?
check "igddctl reload with a deny rule for c2 succeeds (status $rc)" test $rc = 0
check "... reporting the rules applied" grep -q "^allow/deny: applied" "$LAB_DIR/r2.out"
check "... and $((N_MAPS - 3)) mappings removed" grep -q "^$((N_MAPS - 3)) mapping(s) and pinhole(s) the new rules do not allow removed" "$LAB_DIR/r2.out"
for p in 8200 8300; do
	check_not "TCP $p (to c2) is gone from the list" ctl_has tcp $p
	check_not "... and carries no traffic" reach tcp $p tok-c2
done
check_not "UDP 8201 (c2's NAT-PMP) is gone" ctl_has udp 8201
check_not "... and carries no traffic" reach udp 8201 tok-c2u
check "each removal is logged with its reason" test "$(count_log 'mapping removed (reload): .*: denied by permission rules')" = $((N_MAPS - 3))
if [ -n "$PCPCL" ]; then
	check "PCP: c2's client hears NOT_AUTHORIZED for UDP 8202 at its port, 3 times (RFC 6887 8.3, 14.2)" \
		wait_for 5 pcp_ge 2 3
	check_not "UDP 8202 (c2's PCP) is gone" ctl_has udp 8202
	sleep 1
	check "... and no more than 3" test "$(pcp_count 2)" = 3
	kill "$PCPCL" 2>/dev/null
else
	skip "PCP removal notices: needs socat and xxd"
fi
check "c1's TCP 8100 stays in the list" ctl_has tcp 8100
check "... with traffic" reach tcp 8100 tok-c1
check "the manual forward to c2 stays (rules are for LAN clients): TCP 8400" ctl_has tcp 8400
check "... with traffic" reach tcp 8400 tok-c2
wait $EV1
check "GENA: subscribers hear of it (PortMappingNumberOfEntries 3)" grep -q "<PortMappingNumberOfEntries>3<" "$LAB_DIR/ev1"
check "the lease file no longer holds c2's UPnP/NAT-PMP mappings" sh -c \
	"test \"\$(awk '\$1 == \"+\" { m[\$2\" \"\$3] = 1 } \$1 == \"-\" { delete m[\$2\" \"\$3] } END { for (k in m) print k }' '$LAB_DIR/igdd.leases' | sort | tr '\n' ' ')\" = 'TCP 8100 TCP 8101 TCP 8400 '"
out=$(soap c2 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8210 NewProtocol=TCP \
	NewInternalPort=9200 NewInternalClient="$C2" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "the new rule holds for new requests: UPnP AddPortMapping for c2: 606" test "$(upnp_error "$out")" = 606

# --- names live, restart keys kept, listening_ip live, SIGHUP ---
gw ip link add lan9 type veth peer name lan9p
gw ip link set lan9p up
gw ip addr add 10.99.0.1/24 dev lan9
gw ip link set lan9 up
NAME="Gateway Two" conf <<CONF
deny 1024-65535 $C2/32 1024-65535
http_port=47232
listening_ip=lan9
CONF
configid() { c1 "$SOAPC" get "$UPNP_BASE/rootDesc.xml" 2>/dev/null | sed -n 's/.*configId="\([0-9]*\)".*/\1/p'; }
cfg0=$(configid)
log_mark
kill -HUP "$IGDD_PID"
check "SIGHUP: the reload is applied" wait_for 10 sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'reload: friendly_name: applied'"
check "... and its last line says it is done" wait_for 10 sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'reload: done'"
check "... http_port is reported as needing a restart, kept" wait_for 5 grep -q "reload: http_port: changed, needs a restart: the running value is kept" "$LAB_DIR/igdd.log"
c1 "$SOAPC" get "$UPNP_BASE/rootDesc.xml" >"$LAB_DIR/desc1" 2>&1
check "... the description has the new name at once" grep -q "<friendlyName>Gateway Two</friendlyName>" "$LAB_DIR/desc1"
cfg1=$(configid)
check "... and a new CONFIGID ($cfg0 -> $cfg1)" sh -c '[ -n "$1" ] && [ "$1" != "$2" ]' - "$cfg1" "$cfg0"
check "... HTTP still on port $HTTP_PORT" upnp_add c1 8102 9100 "$C1" "still here"
check "... listening_ip: lan9 set up" wait_for 5 grep -q "reload: listening_ip: now serving lan9 (10.99.0.1)" "$LAB_DIR/igdd.log"
check "... NAT-PMP listens on lan9's address" sh -c "ip netns exec $NS_GW ss -lnu | grep -q '10.99.0.1:5351'"
check "... lan0 stays served (NAT-PMP from c1)" sh -c \
	"ip netns exec $NS_C1 natpmpc -g $GW_LAN | grep -q 'Public IP address : 1.2.3.4'"
NAME="Gateway Two" conf <<CONF
deny 1024-65535 $C2/32 1024-65535
CONF
ctl reload >"$LAB_DIR/r3.out" 2>&1
check "igddctl reload without lan9: it is torn down" grep -q "listening_ip: lan9 (10.99.0.1) is no longer served" "$LAB_DIR/r3.out"
check_not "... NAT-PMP no longer listens there" sh -c "ip netns exec $NS_GW ss -lnu | grep -q '10.99.0.1:5351'"
check "mappings kept through the reloads: c1's 8100 still carries traffic" reach tcp 8100 tok-c1
check "a reload without change says so" sh -c "'$IGDDCTL' -s '$LAB_DIR/igdd.sock' reload | grep -q 'no change'"
# http_max_connections follows a reload, and with it one client's share of
# the connections (a quarter, at least 4): a client past it loses its
# oldest idle one (counted as an overload drop).
http_overload() { ctl stats --json | "$PY" -c 'import json, sys
print(json.load(sys.stdin)["dropped"]["http"]["overload"])'; }
idle6() {	# six idle connections from c1 for a second
	c1 "$PY" -c 'import socket, sys, time
s = [socket.create_connection((sys.argv[1], int(sys.argv[2]))) for i in range(6)]
time.sleep(1)' "$GW_LAN" "$HTTP_PORT"
}
NAME="Gateway Two" conf <<CONF
deny 1024-65535 $C2/32 1024-65535
http_max_connections=16
CONF
check "igddctl reload: http_max_connections=16" ctl reload
o0=$(http_overload)
check "c1 opens 6 idle connections" idle6
o1=$(http_overload)
check "http_max_connections=16 by reload: 2 of c1's 6 idle connections evicted, its share is 4 ($o0 -> $o1)" \
	test $((o1 - o0)) -ge 2
NAME="Gateway Two" conf <<CONF
deny 1024-65535 $C2/32 1024-65535
CONF
check "igddctl reload: http_max_connections back to the default" ctl reload
o0=$(http_overload)
check "c1 opens 6 idle connections" idle6
o1=$(http_overload)
check "back to the default (128) by reload: none evicted, its share is 32 ($o0 -> $o1)" \
	sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' - "$o0" "$o1"
check "igdd still runs" kill -0 "$IGDD_PID"
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
