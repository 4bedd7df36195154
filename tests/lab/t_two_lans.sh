#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_two_lans.sh - two LANs (lan0 192.168.77.0/24: c1, c2; lan1: c3) are
# kept apart (issue 14, acceptance): with secure_mode=no and no rule that
# names the other LAN, no client of one LAN maps to, refreshes or deletes
# for a host of the other, by UPnP, NAT-PMP or PCP THIRD_PARTY; each maps
# for its own LAN; an explicit allow rule for the other LAN's hosts lets
# it.  The same for IPv6 pinholes (lan0 has IPv6): c3 opens none to c1's
# IPv6 address and deletes none of lan0's, c1 opens one to its own.
LAB_LAN2=${LAB_LAN2:-192.168.78}
. "$(dirname "$0")/lib.sh"
lab_up
check "IPv6 on lan0 and the WAN" lab_ipv6
HTTP_PORT=47130
BASE0=http://$GW_LAN:$HTTP_PORT
BASE2=http://$GW_LAN2:$HTTP_PORT

# add NS BASE EPORT IPORT CLIENT: UPnP AddPortMapping (TCP); prints soapc's output
add() {
	UPNP_BASE=$2 soap "$1" /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= \
		NewExternalPort="$3" NewProtocol=TCP NewInternalPort="$4" NewInternalClient="$5" \
		NewEnabled=1 NewPortMappingDescription=twolans NewLeaseDuration=3600
}
del() {
	UPNP_BASE=$2 soap "$1" /ctl/IPConn "$URN_IPC2" DeletePortMapping NewRemoteHost= \
		NewExternalPort="$3" NewProtocol=TCP
}
# pin NS BASE PORT CLIENT6: AddPinhole (TCP, any remote host), over IPv4;
# unpin NS BASE UID: DeletePinhole
URN_6FC=urn:schemas-upnp-org:service:WANIPv6FirewallControl:1
pin() {
	UPNP_BASE=$2 soap "$1" /ctl/IP6FCtl "$URN_6FC" AddPinhole RemoteHost= RemotePort=0 \
		InternalClient="$4" InternalPort="$3" Protocol=6 LeaseTime=3600
}
unpin() { UPNP_BASE=$2 soap "$1" /ctl/IP6FCtl "$URN_6FC" DeletePinhole UniqueID="$3"; }
uid_of() { printf '%s\n' "$1" | tr -d '\n' | sed -n 's,.*<UniqueID>\([0-9]*\)</UniqueID>.*,\1,p'; }
ok() { [ "$(printf '%s\n' "$1" | head -1)" = "HTTP 200" ]; }
err() { [ "$(upnp_error "$1")" = "$2" ]; }
pcp3() { _o=$1; shift; ip netns exec "$NS_C3" "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
is() { [ "$(pcp_field "$LAB_DIR/$1" "$2")" = "$3" ]; }

lab_listen c1 tcp 9000 tok-c1
lab_listen c2 tcp 9002 tok-c2
lab_listen c3 tcp 9003 tok-c3
lab_listen c1 tcp 9600 tok6-c1

lab_conf "$LAB_DIR/apart.conf" <<CONF
listening_ip=lan1
http_port=$HTTP_PORT
secure_mode=no
pcp_allow_thirdparty=yes
ipv6_block_inbound=yes
CONF
check "igdd starts on two LANs, secure_mode=no, no permission rules" \
	lab_start_igdd "$LAB_DIR/apart.conf" -v

r=$(pin c3 "$BASE2" 9600 "$C1_6")
check "IPv6: c3 (lan1) cannot open a pinhole to c1's IPv6 address: 606 ($(upnp_error "$r"))" \
	err "$r" 606
check_not "nothing reaches c1's IPv6 address from outside" reach6 tcp "$C1_6" 9600 tok6-c1
r=$(pin c1 "$BASE0" 9600 "$C1_6")
U1=$(uid_of "$r")
check "IPv6: c1 (lan0, asking over IPv4) opens one to its own IPv6 address (UniqueID $U1)" \
	test -n "$U1"
check "the pinhole lets traffic from outside reach c1" reach6 tcp "$C1_6" 9600 tok6-c1
r=$(unpin c3 "$BASE2" "$U1")
check "IPv6: c3 cannot delete lan0's pinhole: 606 ($(upnp_error "$r"))" err "$r" 606
check "it still lets traffic in" reach6 tcp "$C1_6" 9600 tok6-c1

r=$(add c3 "$BASE2" 8001 9000 "$C1")
check "UPnP: c3 (lan1) cannot map to c1 (lan0): 606 ($(upnp_error "$r"))" err "$r" 606
r=$(add c1 "$BASE0" 8003 9003 "$C3")
check "UPnP: c1 (lan0) cannot map to c3 (lan1): 606 ($(upnp_error "$r"))" err "$r" 606
pcp3 t1 -n 0102030405060708090a0b0c "$GW_LAN2" map tcp 9000 8004 3600 --third-party "$C1"
check "PCP THIRD_PARTY from c3 for c1: NOT_AUTHORIZED" is t1 result 2
check_not "nothing of these reaches c1 from outside" reach tcp 8001 tok-c1
check_not "nor c1 through 8004" reach tcp 8004 tok-c1

r=$(add c1 "$BASE0" 8002 9002 "$C2")
check "UPnP: c1 maps to c2 on its own LAN (secure_mode=no)" ok "$r"
check "that mapping carries traffic" reach tcp 8002 tok-c2
r=$(add c3 "$BASE2" 8003 9003 "$C3")
check "UPnP: c3 maps to itself on lan1" ok "$r"
check "c3's mapping carries traffic" reach tcp 8003 tok-c3
check "NAT-PMP: c3 maps for itself" sh -c \
	"ip netns exec $NS_C3 natpmpc -g $GW_LAN2 -a 8005 9003 tcp 3600 | grep -q 'Mapped public port 8005'"
check "PCP: c3 maps for itself" sh -c \
	"ip netns exec $NS_C3 $PCPC -n a1a2a3a4a5a6a7a8a9aaabac $GW_LAN2 map tcp 9003 8006 3600 | grep -qx 'result=0'"

r=$(del c3 "$BASE2" 8002)
check "UPnP: c3 cannot delete the mapping to c2 (606: $(upnp_error "$r"))" err "$r" 606
check "it still carries traffic" reach tcp 8002 tok-c2
r=$(add c3 "$BASE2" 8002 9002 "$C2")
check "nor refresh or take it over ($(upnp_error "$r"))" test -n "$(upnp_error "$r")"
r=$(del c1 "$BASE0" 8003)
check "UPnP: c1 cannot delete c3's mapping (606: $(upnp_error "$r"))" err "$r" 606
check "c3's mapping still carries traffic" reach tcp 8003 tok-c3
r=$(del c2 "$BASE0" 8002)
check "a host of the same LAN may (secure_mode=no)" ok "$r"
lab_stop_igdd

# An explicit allow rule for each LAN's hosts lets the LANs map for each other.
lab_conf "$LAB_DIR/allowed.conf" <<CONF
listening_ip=lan1
http_port=$HTTP_PORT
secure_mode=no
pcp_allow_thirdparty=yes
allow 1024-65535 $LAB_LAN.0/24 1024-65535
allow 1024-65535 $LAB_LAN2.0/24 1024-65535
allow 1024-65535 $LAB6_LAN::/64 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
ipv6_block_inbound=yes
CONF
check "igdd starts again with allow rules for both LANs" lab_start_igdd "$LAB_DIR/allowed.conf" -v
r=$(add c3 "$BASE2" 8011 9000 "$C1")
check "with a rule: c3 maps to c1" ok "$r"
check "and it carries traffic" reach tcp 8011 tok-c1
r=$(del c3 "$BASE2" 8011)
check "and c3 may delete it" ok "$r"
r=$(pin c3 "$BASE2" 9601 "$C1_6")
U2=$(uid_of "$r")
check "with a rule: c3 opens a pinhole to c1's IPv6 address (UniqueID $U2)" test -n "$U2"
r=$(unpin c3 "$BASE2" "$U2")
check "and c3 may delete it" ok "$r"
lab_finish
