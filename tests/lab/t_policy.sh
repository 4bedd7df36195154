#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_policy.sh - the store's policy as a hostile LAN host or a local process
# on the gateway meets it (issue 14): secure mode keeps an external port to
# one client whatever the remote host (finding 1); mappings go only to LAN
# hosts, never to the gateway, loopback, network/broadcast, multicast or a
# WAN host, for UPnP, NAT-PMP, PCP THIRD_PARTY and lease replay (2); PCP
# THIRD_PARTY takes over no other owner's mapping and may not name the
# sender (3); permission regexes ignore case (7); NAT-PMP and PCP find the
# client's own mapping, not the first of the internal port (9).
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" <<CONF
secure_mode=yes
pcp_allow_thirdparty=yes
min_lifetime=120
max_lifetime=86400
allow 7700-7799 $LAB_LAN.0/24 1024-65535 "^game"
deny 7700-7799 0.0.0.0/0 0-65535
allow 1024-65535 0.0.0.0/0 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts (secure mode, THIRD_PARTY allowed, rules)" lab_start_igdd "$LAB_DIR/igdd.conf" -v
UPNP_BASE=$(lab_upnp_base)
check "the gateway is discovered ($UPNP_BASE)" test -n "$UPNP_BASE"
HTTP_PORT=${UPNP_BASE##*:}

N1=0102030405060708090a0b0c
N2=ffeeddccbbaa998877665544
N3=a1a2a3a4a5a6a7a8a9aaabac
# add NS EPORT IPORT CLIENT [RHOST [DESC]]: UPnP AddPortMapping (TCP) from NS.
add() {
	soap "$1" /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost="${5:-}" NewExternalPort="$2" \
		NewProtocol=TCP NewInternalPort="$3" NewInternalClient="$4" NewEnabled=1 \
		NewPortMappingDescription="${6:-policy}" NewLeaseDuration=3600
}
# add_any NS EPORT IPORT CLIENT [RHOST]: AddAnyPortMapping; prints the port given.
add_any() {
	soap "$1" /ctl/IPConn "$URN_IPC2" AddAnyPortMapping NewRemoteHost="${5:-}" NewExternalPort="$2" \
		NewProtocol=TCP NewInternalPort="$3" NewInternalClient="$4" NewEnabled=1 \
		NewPortMappingDescription=any NewLeaseDuration=3600 |
		sed -n 's/.*<NewReservedPort>\([0-9]*\)<.*/\1/p'
}
# entry EPORT [RHOST]: GetSpecificPortMappingEntry (TCP) as c1 sees it.
entry() {
	soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost="${2:-}" \
		NewExternalPort="$1" NewProtocol=TCP
}
exists() { entry "$@" | grep -qx 'HTTP 200'; }
desc_is() { entry "$1" | grep -q "<NewPortMappingDescription>$2</NewPortMappingDescription>"; }
ok() { printf '%s\n' "$1" | grep -qx 'HTTP 200'; }
err_is() { [ "$(upnp_error "$1")" = "$2" ]; }
pcp() { _o=$1; shift; c1 "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
pcp2() { _o=$1; shift; c2 "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
field() { pcp_field "$LAB_DIR/$1" "$2"; }
is() { [ "$(field "$1" "$2")" = "$3" ]; }
isnt() { _v=$(field "$1" "$2"); [ -n "$_v" ] && [ "$_v" != "$3" ]; }
pmp() { _o=$1; shift; c1 natpmpc -g "$GW_LAN" -a "$@" >"$LAB_DIR/$_o" 2>&1; }
pmp2() { _o=$1; shift; c2 natpmpc -g "$GW_LAN" -a "$@" >"$LAB_DIR/$_o" 2>&1; }
mapped() { grep -q "Mapped public port $2 protocol TCP" "$LAB_DIR/$1"; }
mapped_other() {
	grep -q "Mapped public port" "$LAB_DIR/$1" && ! grep -q "Mapped public port $2 " "$LAB_DIR/$1"
}

# ---------------------------------------------------------------- finding 1
# An external port belongs to one internal client, whatever the remote host.
lab_listen c1 tcp 9100 tok-c1
lab_listen c2 tcp 9100 tok-c2
check "1: c1 maps 8100 for any remote host" ok "$(add c1 8100 9100 "$C1")"
out=$(add c2 8100 9100 "$C2" "$OUT")
check "1: c2 cannot take 8100 for one remote host ($OUT): 718" err_is "$out" 718
check "1: $OUT's traffic to 8100 still reaches c1" reach tcp 8100 tok-c1
pcp2 f1 -n $N3 "$GW_LAN" map tcp 9100 8100 3600 --filter "$OUT" --prefer-failure
check "1: nor through PCP FILTER with PREFER_FAILURE: CANNOT_PROVIDE_EXTERNAL" is f1 result 11
pcp2 f2 -n $N3 "$GW_LAN" map tcp 9100 8100 3600 --filter "$OUT"
check "1: PCP FILTER without PREFER_FAILURE gets another port" isnt f2 external_port 8100
check "1: ... and $OUT's traffic to 8100 still reaches c1" reach tcp 8100 tok-c1
# The reverse: a restricted mapping first, then another client's wildcard one.
check "1: c2 maps 8110 for $OUT only" ok "$(add c2 8110 9110 "$C2" "$OUT")"
out=$(add c1 8110 9110 "$C1")
check "1: c1 cannot map 8110 for every other host: 718" err_is "$out" 718
rp=$(add_any c1 8110 9110 "$C1")
check "1: AddAnyPortMapping of 8110 gives c1 another port ($rp)" test -n "$rp" -a "$rp" != 8110
check "1: c2 maps 8130 for $OUT only" ok "$(add c2 8130 9131 "$C2" "$OUT")"
pcp p1 -n $N1 "$GW_LAN" map tcp 9120 8130 3600 --prefer-failure
check "1: PCP for 8130 with PREFER_FAILURE: CANNOT_PROVIDE_EXTERNAL" is p1 result 11
pcp p2 -n $N1 "$GW_LAN" map tcp 9120 8130 3600
check "1: PCP for 8130 without PREFER_FAILURE: another port" isnt p2 external_port 8130
check "1: c2 maps 8150 for $OUT only" ok "$(add c2 8150 9151 "$C2" "$OUT")"
pmp n1 8150 9130 tcp 3600
check "1: NAT-PMP suggesting 8150 gets another port" mapped_other n1 8150
lab_kernel_view >"$LAB_DIR/kv1"
check "1: the kernel holds each of 8100, 8110, 8130, 8150 for one client only" awk '
	{ k = $1 " " $2; if (k in c && c[k] != $4) bad = 1; c[k] = $4 }
	END { exit bad }' "$LAB_DIR/kv1"

# ---------------------------------------------------------------- finding 2
# A local process on the gateway asks for a mapping to the gateway.
out=$(gw "$SOAPC" "http://$GW_LAN:$HTTP_PORT/ctl/IPConn" "$URN_IPC2" AddPortMapping NewRemoteHost= \
	NewExternalPort=8200 NewProtocol=TCP NewInternalPort=22000 NewInternalClient="$GW_LAN" \
	NewEnabled=1 NewPortMappingDescription=local NewLeaseDuration=3600 2>&1)
check "2: a gateway process mapping to the gateway's LAN address: 606" err_is "$out" 606
check_not "2: ... and nothing of it in the kernel" sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8200"
for a in "$GW_LAN" "$LAB_LAN.0" "$LAB_LAN.255"; do
	pcp t$a -n $N1 "$GW_LAN" map tcp 9210 8210 3600 --third-party "$a"
	check "2: PCP THIRD_PARTY $a: NOT_AUTHORIZED" is "t$a" result 2
done
# NAT-PMP from the LAN's network address (c1 given it as a source).
if c1 ip addr add "$LAB_LAN.0/32" dev eth0 2>/dev/null &&
   c1 ip route replace "$GW_LAN/32" dev eth0 src "$LAB_LAN.0" 2>/dev/null; then
	# map TCP: version 0, op 2, internal 9220, external 8220, 3600 s
	resp=$(c1 "$PMPQ" send "$GW_LAN" 000200002404201c00000e10 2>/dev/null)
	check "2: NAT-PMP from the network address $LAB_LAN.0: result 2 ($resp)" \
		sh -c "printf '%s' '$resp' | grep -q '^00820002'"
	c1 ip route del "$GW_LAN/32" dev eth0 src "$LAB_LAN.0" 2>/dev/null
	c1 ip addr del "$LAB_LAN.0/32" dev eth0 2>/dev/null
else
	skip "2: cannot give c1 the source $LAB_LAN.0"
fi
# lab_kernel_view: "PROTO EPORT RHOST IADDR IPORT" per element of igdd's maps
lab_kernel_view >"$LAB_DIR/kv2"
check "2: the kernel's maps hold some of c1's mappings (the view works)" grep -q " $C1 " "$LAB_DIR/kv2"
check_not "2: no kernel element to the gateway, network or broadcast address" \
	awk -v a="$GW_LAN" -v b="$LAB_LAN.0" -v c="$LAB_LAN.255" \
	'$4 == a || $4 == b || $4 == c { found = 1 } END { exit !found }' "$LAB_DIR/kv2"

# ---------------------------------------------------------------- finding 3
# c1 with THIRD_PARTY cannot take over c2's UPnP or NAT-PMP mapping.
check "3: c2 maps 8400 through UPnP" ok "$(add c2 8400 9400 "$C2" "" c2-upnp)"
pcp h1 -n $N1 "$GW_LAN" map tcp 9400 8400 3600 --third-party "$C2"
check "3: PCP THIRD_PARTY for c2's 8400 does not get 8400" isnt h1 external_port 8400
check "3: c2's UPnP mapping keeps its description" desc_is 8400 c2-upnp
pcp h2 -n $N1 "$GW_LAN" map tcp 9400 8400 0 --third-party "$C2"
check "3: a PCP delete by the third party: SUCCESS" is h2 result 0
check "3: ... deleted only its own: c2's UPnP 8400 stays" desc_is 8400 c2-upnp
pmp2 h3 8410 9410 tcp 3600
check "3: c2 maps 8410 through NAT-PMP" mapped h3 8410
pcp h4 -n $N1 "$GW_LAN" map tcp 9410 8410 3600 --third-party "$C2"
check "3: PCP THIRD_PARTY for c2's NAT-PMP 8410 does not get 8410" isnt h4 external_port 8410
pcp h5 -n $N1 "$GW_LAN" map tcp 9410 8410 0 --third-party "$C2"
check "3: ... its delete leaves c2's NAT-PMP 8410" desc_is 8410 "NAT-PMP 9410 tcp"
pcp h6 -n $N1 "$GW_LAN" map tcp 9420 8420 3600 --third-party "$C2"
check "3: c1 (nonce 1) maps 8420 for c2" is h6 external_port 8420
pcp h7 -n $N2 "$GW_LAN" map tcp 9420 8420 3600 --third-party "$C2"
check "3: another nonce: NOT_AUTHORIZED" is h7 result 2
pcp h8 -n $N2 "$GW_LAN" map tcp 9420 8420 0 --third-party "$C2"
check "3: another nonce cannot delete it: NOT_AUTHORIZED" is h8 result 2
pcp2 h9 -n $N2 "$GW_LAN" map tcp 9420 8420 0
check "3: nor can c2 itself through PCP with its own nonce" is h9 result 2
check "3: 8420 is still there" exists 8420
pcp h10 -n $N1 "$GW_LAN" map tcp 9430 8430 3600 --third-party "$C1"
check "3: THIRD_PARTY naming the sender itself: MALFORMED_REQUEST (RFC 6887 13.1)" is h10 result 3

# ---------------------------------------------------------------- finding 7
out=$(add c1 7700 9770 "$C1" "" "GAME server")
check "7: a rule's regex \"^game\" matches \"GAME server\" (REG_ICASE)" ok "$out"
check "7: ... and \"game\"" ok "$(add c1 7701 9771 "$C1" "" game)"
check "7: ... not \"chat\" (606)" err_is "$(add c1 7702 9772 "$C1" "" chat)" 606
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e "Game Lobby" -a "$C1" 9773 7703 TCP >"$LAB_DIR/u7" 2>&1
check "7: upnpc -e \"Game Lobby\" maps 7703" grep -q "7703 TCP is redirected to internal $C1:9773" "$LAB_DIR/u7"

# ---------------------------------------------------------------- finding 9
# The host holds a UPnP mapping of the same internal port, first in key order.
pmp g1 8601 9600 tcp 3600
check "9: c1 maps 8601 -> 9600 through NAT-PMP" mapped g1 8601
check "9: c1 maps 8600 -> 9600 through UPnP" ok "$(add c1 8600 9600 "$C1" "" u9600)"
pmp g2 8601 9600 tcp 3600
check "9: the NAT-PMP refresh answers its own 8601" mapped g2 8601
check "9: ... and leaves the UPnP 8600 UPnP's" desc_is 8600 u9600
pmp g3 8701 9700 tcp 3600
check "9: c1 maps 8701 -> 9700 through NAT-PMP" mapped g3 8701
check "9: c1 maps 8700 -> 9700 through UPnP" ok "$(add c1 8700 9700 "$C1" "" u9700)"
pmp g4 8701 9700 tcp 0
check_not "9: the NAT-PMP delete removes its own 8701" exists 8701
check "9: ... and not the UPnP 8700" desc_is 8700 u9700
pcp g5 -n $N1 "$GW_LAN" map tcp 9800 8801 3600
check "9: c1 maps 8801 -> 9800 through PCP" is g5 external_port 8801
check "9: c1 maps 8800 -> 9800 through UPnP" ok "$(add c1 8800 9800 "$C1" "" u9800)"
pcp g6 -n $N1 "$GW_LAN" map tcp 9800 0 3600
check "9: a PCP refresh without a suggestion finds its own 8801" is g6 external_port 8801
pcp g7 -n $N1 "$GW_LAN" map tcp 9800 8801 0
check "9: the PCP delete: SUCCESS" is g7 result 0
check_not "9: ... 8801 is gone" exists 8801
check "9: ... the UPnP 8800 stays" desc_is 8800 u9800

check "igdd still runs" kill -0 "$IGDD_PID"
check "igdd stops with status 0" lab_stop_igdd TERM

# ---------------------------------------------------------------- finding 2, secure_mode=no
# Without secure mode any LAN client may name the internal client, but only
# a LAN host: a WAN host would make the gateway an open proxy (UPnProxy).
# The lease file brings records for such clients too: they are dropped.
now=$(date +%s)
{
	lease_line TCP 7001 "$C1" 9001 3600
	lease_line TCP 7002 "$OUT" 80 3600
	lease_line TCP 7003 "$GW_LAN" 22 3600
	lease_line TCP 7004 127.0.0.1 22 3600
	lease_line TCP 7005 "$LAB_LAN.255" 9005 3600
} >"$LAB_DIR/igdd.leases"
lab_conf "$LAB_DIR/igdd2.conf" <<CONF
secure_mode=no
CONF
check "igdd restarts with secure_mode=no and a lease file" lab_start_igdd "$LAB_DIR/igdd2.conf" -v
UPNP_BASE=$(lab_upnp_base)
check "2: lease replay restores the LAN host's 7001" exists 7001
for p in 7002 7003 7004 7005; do
	check_not "2: lease replay drops the record of $p (not a LAN host)" exists $p
done
check_not "2: ... and the kernel holds none of them" sh -c \
	"ip netns exec $NS_GW nft list ruleset | grep -Eqw '7002|7003|7004|7005'"
for a in "$OUT" "$GW_WAN" "$GW_LAN" 127.0.0.1 224.0.0.1 "$LAB_LAN.0" "$LAB_LAN.255" 255.255.255.255; do
	check "2: secure_mode=no, c1 maps 8900 to $a: 606" err_is "$(add c1 8900 9000 "$a")" 606
done
# Another address of the gateway inside the LAN prefix (the daemon reads
# its addresses at most once a second).
gw ip addr add "$LAB_LAN.50/32" dev lan0
sleep 1.2
check "2: secure_mode=no, c1 maps 8900 to the gateway's second address $LAB_LAN.50: 606" \
	err_is "$(add c1 8900 9000 "$LAB_LAN.50")" 606
check_not "2: nothing of 8900 in the kernel" sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8900"
lab_listen c2 tcp 9000 tok-c2b
check "2: secure_mode=no, c1 maps 8901 for c2 (a LAN host)" ok "$(add c1 8901 9000 "$C2")"
check "2: ... and the traffic reaches c2" reach tcp 8901 tok-c2b

check "igdd stops with status 0 (second run)" lab_stop_igdd TERM
lab_finish
