#!/bin/sh
# t_ipv6_upnp.sh - UPnP over IPv6 with miniupnpc's upnpc -6 on a lab with
# IPv6 on every link: discovery over IPv6 (SSDP ff02::c/ff05::c, HTTP on
# the LAN's IPv6 addresses), WANIPv6FirewallControl:1 pinholes through
# which TCP and UDP from the outside host reach c1's IPv6 address (refused
# before and after): -A, -K (packets), -C (working), -U (extends), -D;
# another LAN host cannot update or delete it (606); overlapping pinholes
# of one internal side, each with its own traffic, over a restart and
# their deletes; a MAC rule allows one
# host's temporary address and denies another host; nothing is answered
# on the WAN side over IPv6 (SSDP, HTTP).
# also-san: run again against igdd-san (policy over IPv6)
. "$(dirname "$0")/lib.sh"
lab_up
check "IPv6 on every link" lab_ipv6

HP=5000
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ipv6_block_inbound=yes
ext_ip=1.2.3.4
http_port=$HP
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "HTTP listens on IPv6 on lan0" grep -q "http: listening on IPv6 port $HP (lan0)" "$LAB_DIR/igdd.log"
# hosts talk to their router: the gateway's neighbour table knows them
# (a datagram to a closed port: the gateway's answer resolves the sender)
touch6() { ip netns exec "$1" "$PROBE" connect -s "$2" udp "$GW6_LAN" 9 300 >/dev/null 2>&1; }
touch6 "$NS_C1" "$C1_6"
touch6 "$NS_C2" "$C2_6"

up() { _o=$1; _ns=$2; shift 2; $_ns timeout 20 upnpc -6 "$@" >"$LAB_DIR/$_o" 2>&1; }
has() { grep -q -- "$2" "$LAB_DIR/$1"; }
up s1 c1 -s
check "upnpc -6 discovers igdd over IPv6" has s1 "Found valid IGD : http://\["
check "... and talks to it (GetStatusInfo over IPv6)" has s1 "Status : Connected"
up f1 c1 -S
check "GetFirewallStatus: the firewall is enabled, pinholes allowed" \
	sh -c "grep -q 'Firewall Enabled: Yes' '$LAB_DIR/f1' && grep -q 'Inbound Pinhole Allowed: Yes' '$LAB_DIR/f1'"
up g1 c1 -G "" 0 "$C1_6" 9200 TCP
check "GetOutboundPinholeTimeout: the kernel's TCP timeout" \
	has g1 "Timeout = $(gw cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)"

lab_listen c1 tcp 9200 TOK6TCP
lab_listen c1 udp 9201 TOK6UDP
check_not "before: TCP from outside does not reach c1's IPv6 address" reach6 tcp "$C1_6" 9200 TOK6TCP
check_not "before: UDP does not either" reach6 udp "$C1_6" 9201 TOK6UDP

up a1 c1 -A "" 0 "$C1_6" 9200 TCP 600
UID_T=$(sed -n 's/.*Pinhole ID = \([0-9]*\).*/\1/p' "$LAB_DIR/a1")
check "AddPinhole TCP: a UniqueID ($UID_T)" test -n "$UID_T"
up a2 c1 -A "" 0 "$C1_6" 9201 UDP 600
UID_U=$(sed -n 's/.*Pinhole ID = \([0-9]*\).*/\1/p' "$LAB_DIR/a2")
check "AddPinhole UDP: a UniqueID ($UID_U)" test -n "$UID_U"
up c0 c1 -C "$UID_T"
check "CheckPinholeWorking before any traffic: 709 NoTrafficReceived" has c0 "failed with code 709"
check "after: TCP from outside reaches c1 through the pinhole" reach6 tcp "$C1_6" 9200 TOK6TCP
check "after: UDP reaches c1 too" reach6 udp "$C1_6" 9201 TOK6UDP
check_not "a port without a pinhole stays closed" reach6 tcp "$C1_6" 9202 TOK6TCP
up k1 c1 -K "$UID_T"
PK=$(sed -n 's/.*PinholePackets = \([0-9]*\).*/\1/p' "$LAB_DIR/k1")
check "GetPinholePackets reports the packets that passed ($PK)" test "${PK:-0}" -gt 0
up k2 c1 -K "$UID_U"
check "... and the UDP pinhole's own count" test "$(sed -n 's/.*PinholePackets = \([0-9]*\).*/\1/p' "$LAB_DIR/k2")" -ge 1
up c1 c1 -C "$UID_T"
check "CheckPinholeWorking: it works" has c1 "IsWorking = Yes"

# Another LAN host may not touch it.
up x1 c2 -U "$UID_T" 3000
check "another LAN host cannot update it (606)" has x1 "failed with code 606"
up x2 c2 -D "$UID_T"
check "another LAN host cannot delete it (606)" has x2 "returned : 606"
check "the pinhole survived" reach6 tcp "$C1_6" 9200 TOK6TCP

# -U extends the lease, in the kernel too.
up u1 c1 -U "$UID_T" 3000
check "UpdatePinhole succeeds" sh -c "grep -q 'UpdatePinhole: Pinhole ID = $UID_T with Lease Time: 3000' '$LAB_DIR/u1' && ! grep -q 'UpdatePinhole: ID .* failed' '$LAB_DIR/u1'"
if lab_timeouts; then
	check "the kernel element's timeout follows (more than 40 min)" sh -c \
		"ip netns exec $NS_GW nft list set inet igdd pin6 | grep '$C1_6 . tcp . 9200' | grep -Eq 'timeout (5[0-9]|4[1-9])m'"
else
	check "before 6.12 the kernel element has no timeout to follow" sh -c \
		"ip netns exec $NS_GW nft list set inet igdd pin6 | grep '$C1_6 . tcp . 9200' | grep -vq timeout"
fi

# -D closes it.
up d1 c1 -D "$UID_T"
check "DeletePinhole succeeds" has d1 "returned : 0"
check_not "after delete TCP no longer reaches c1" reach6 tcp "$C1_6" 9200 TOK6TCP
check "the UDP pinhole still works" reach6 udp "$C1_6" 9201 TOK6UDP

# Overlapping pinholes of one internal side, each taken and each letting
# in what it names: (any host, port 5000), (OUT6, any port), then (OUT6,
# port 5000) inside both; and (any host, port 65535) then (OUT6B, any
# port), whose corner (OUT6B, 65535) is inside the first.  An interval
# set refused an element inside another one (501).  Kept over a restart;
# each delete takes only its own pinhole's traffic.
OUT6B=$LAB6_WAN::3
out ip -6 addr add "$OUT6B/64" dev eth0 nodad
from6() { [ "$(ip netns exec "$NS_OUT" "$PROBE" connect -s "[$1]:$2" tcp "$C1_6" "$3" 1500 2>/dev/null)" = "$4" ]; }
lab_listen c1 tcp 9300 TOKOV
lab_listen c1 tcp 9301 TOKOW
pin_id() { sed -n 's/.*Pinhole ID = \([0-9]*\).*/\1/p' "$LAB_DIR/$1"; }
up o1 c1 -A "" 5000 "$C1_6" 9300 TCP 600
up o2 c1 -A "$OUT6" 0 "$C1_6" 9300 TCP 600
up o3 c1 -A "$OUT6" 5000 "$C1_6" 9300 TCP 600
up o4 c1 -A "" 65535 "$C1_6" 9301 TCP 600
up o5 c1 -A "$OUT6B" 0 "$C1_6" 9301 TCP 600
ID1=$(pin_id o1) ID2=$(pin_id o2) ID3=$(pin_id o3) ID4=$(pin_id o4) ID5=$(pin_id o5)
check "(any host, port 5000) and (OUT6, any port) are taken ($ID1, $ID2)" test -n "$ID1" -a -n "$ID2"
check "(OUT6, port 5000), inside both, is taken too ($ID3)" test -n "$ID3"
check "(any host, port 65535) and (OUT6B, any port) are taken ($ID4, $ID5)" test -n "$ID4" -a -n "$ID5"
check "no refusal in the log" sh -c "! grep -q 'nftables: add [A-Z]* [0-9]*: ' '$LAB_DIR/igdd.log'"
overlap_traffic() {
	check "$1: OUT6B from port 5000 reaches 9300 (any host, port 5000)" from6 "$OUT6B" 5000 9300 TOKOV
	check "$1: OUT6 from port 5001 reaches 9300 (OUT6, any port)" from6 "$OUT6" 5001 9300 TOKOV
	check "$1: OUT6 from port 5000 reaches 9300" from6 "$OUT6" 5000 9300 TOKOV
	check_not "$1: OUT6B from port 5001 does not reach 9300" from6 "$OUT6B" 5001 9300 TOKOV
	check "$1: OUT6 from port 65535 reaches 9301 (any host, port 65535)" from6 "$OUT6" 65535 9301 TOKOW
	check "$1: OUT6B from port 5002 reaches 9301 (OUT6B, any port)" from6 "$OUT6B" 5002 9301 TOKOW
	check_not "$1: OUT6 from port 5002 does not reach 9301" from6 "$OUT6" 5002 9301 TOKOW
}
overlap_traffic "overlapping pinholes"
up ok1 c1 -K "$ID1"
check "GetPinholePackets (any host, port 5000): OUT6B's packets, which only it let in" \
	test "$(sed -n 's/.*PinholePackets = \([0-9]*\).*/\1/p' "$LAB_DIR/ok1")" -gt 0
up ok5 c1 -K "$ID5"
check "GetPinholePackets (OUT6B, any port) counts too" \
	test "$(sed -n 's/.*PinholePackets = \([0-9]*\).*/\1/p' "$LAB_DIR/ok5")" -gt 0
gw nft list ruleset >"$LAB_DIR/saved6.nft"
check "the four pinhole sets hold them: a saved ruleset loads again (nft -c -f)" sh -c \
	"grep -q 'pin6_rhost' '$LAB_DIR/saved6.nft' && ip netns exec $NS_GW nft -c -f '$LAB_DIR/saved6.nft'"
check "igdd stops (SIGTERM: its table goes)" lab_stop_igdd
check "igdd starts again" lab_start_igdd "$LAB_DIR/igdd.conf" -v
overlap_traffic "after a restart"
up od1 c1 -D "$ID1"
check "DeletePinhole (any host, port 5000)" has od1 "returned : 0"
check_not "... OUT6B from port 5000 no longer reaches 9300" from6 "$OUT6B" 5000 9300 TOKOV
check "... OUT6 from port 5000 still does" from6 "$OUT6" 5000 9300 TOKOV
up od2 c1 -D "$ID2"
check "DeletePinhole (OUT6, any port)" has od2 "returned : 0"
check_not "... OUT6 from port 5001 no longer reaches 9300" from6 "$OUT6" 5001 9300 TOKOV
check "... OUT6 from port 5000 still does (its own pinhole)" from6 "$OUT6" 5000 9300 TOKOV
up od3 c1 -D "$ID3"
check "DeletePinhole (OUT6, port 5000)" has od3 "returned : 0"
check_not "... and then OUT6 from port 5000 does not" from6 "$OUT6" 5000 9300 TOKOV
up od4 c1 -D "$ID4"
check_not "DeletePinhole (any host, port 65535): OUT6 from 65535 no longer reaches 9301" \
	from6 "$OUT6" 65535 9301 TOKOW
check "... OUT6B still does, from any port" from6 "$OUT6B" 5003 9301 TOKOW

# GENA over IPv6: a subscription to the firewall service with a callback
# at c1's own IPv6 address gets the initial event there.
c1 sh -c "timeout 10 socat -u TCP6-LISTEN:9900,reuseaddr OPEN:$LAB_DIR/ev6,creat" >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
wait_bound c1 tcp 9900
printf 'SUBSCRIBE /evt/IP6FCtl HTTP/1.1\r\nHOST: [%s]:%s\r\nCALLBACK: <http://[%s]:9900/ev>\r\nNT: upnp:event\r\nTIMEOUT: Second-300\r\n\r\n' \
	"$GW6_LAN" "$HP" "$C1_6" >"$LAB_DIR/sub"
c1 timeout 3 socat -t 2 - "TCP6:[$GW6_LAN]:$HP" <"$LAB_DIR/sub" >"$LAB_DIR/sub.out" 2>/dev/null
check "SUBSCRIBE over IPv6: 200 with a SID" sh -c "grep -q '^HTTP/1.1 200' '$LAB_DIR/sub.out' && grep -qi '^SID: uuid:' '$LAB_DIR/sub.out'"
check "the initial event reaches c1's IPv6 callback (FirewallEnabled)" \
	wait_for 10 grep -q "<FirewallEnabled>1</FirewallEnabled>" "$LAB_DIR/ev6"
sed 's/9900\/ev/9900\/x/; s,CALLBACK: <http://\[[^]]*\],CALLBACK: <http://['"$C2_6"'],' "$LAB_DIR/sub" >"$LAB_DIR/sub2"
c1 timeout 3 socat -t 2 - "TCP6:[$GW6_LAN]:$HP" <"$LAB_DIR/sub2" >"$LAB_DIR/sub2.out" 2>/dev/null
check "a callback at another host's address: 412 (CallStranger)" grep -q '^HTTP/1.1 412' "$LAB_DIR/sub2.out"

# Nothing answered on the WAN side over IPv6.
printf 'M-SEARCH * HTTP/1.1\r\nHOST: [FF02::C]:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n' >"$LAB_DIR/ms"
out timeout 3 socat -t 2 - "UDP6-DATAGRAM:[ff02::c]:1900,so-bindtodevice=eth0" <"$LAB_DIR/ms" >"$LAB_DIR/w1" 2>/dev/null
out timeout 3 socat -t 2 - "UDP6-DATAGRAM:[$GW6_WAN]:1900" <"$LAB_DIR/ms" >"$LAB_DIR/w2" 2>/dev/null
out timeout 3 socat -t 2 - "UDP6-DATAGRAM:[$GW6_LAN]:1900" <"$LAB_DIR/ms" >"$LAB_DIR/w3" 2>/dev/null
check "no SSDP answer to the WAN over IPv6 (group, WAN and LAN addresses)" \
	test ! -s "$LAB_DIR/w1" -a ! -s "$LAB_DIR/w2" -a ! -s "$LAB_DIR/w3"
check_not "no HTTP from the WAN to the gateway's WAN IPv6 address" \
	out timeout 3 socat -T 2 - "TCP6:[$GW6_WAN]:$HP" </dev/null
check_not "no HTTP from the WAN to the gateway's LAN IPv6 address" \
	out timeout 3 socat -T 2 - "TCP6:[$GW6_LAN]:$HP" </dev/null
check "igdd stops cleanly" lab_stop_igdd

# A MAC rule: c1's device (any of its addresses, its temporary one
# included) is allowed, another host is not.
C1MAC=$(c1 cat /sys/class/net/eth0/address)
c1 sysctl -qw net.ipv6.conf.eth0.use_tempaddr=2 net.ipv6.conf.eth0.accept_dad=0
c1 ip -6 addr add "$LAB6_LAN::12/64" dev eth0 mngtmpaddr nodad valid_lft 3600 preferred_lft 3600
wait_for 10 sh -c "ip netns exec $NS_C1 ip -6 addr show dev eth0 temporary | grep -q 'inet6 $LAB6_LAN:'"
TMP6=$(c1 ip -6 addr show dev eth0 temporary | sed -n "s,.*inet6 \($LAB6_LAN:[0-9a-f:]*\)/64.*,\1,p" | head -1)
check "c1 has a temporary address ($TMP6)" test -n "$TMP6"
touch6 "$NS_C1" "$TMP6"
lab_conf "$LAB_DIR/igdd2.conf" <<CONF
ipv6_block_inbound=yes
ext_ip=1.2.3.4
http_port=$HP
allow 1024-65535 mac=$C1MAC 1024-65535
deny 0-65535 ::/0 0-65535
CONF
check "igdd starts with a MAC rule" lab_start_igdd "$LAB_DIR/igdd2.conf" -v
lab_listen c1 tcp 9210 TOKTMP
up m1 c1 -A "" 0 "$TMP6" 9210 TCP 600
check "the MAC rule allows c1's temporary address" has m1 "Pinhole ID = "
check "traffic reaches c1's temporary address" reach6 tcp "$TMP6" 9210 TOKTMP
up m2 c2 -A "" 0 "$C2_6" 9211 TCP 600
check "the MAC rule denies another host (606)" has m2 "failed with code 606"
check "igdd stops cleanly (MAC rule run)" lab_stop_igdd
lab_finish
