#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_ctl_ipv6.sh - IPv6 pinholes through the control socket (issues 16 and
# 17 together): a UPnP pinhole (upnpc -6) and a PCP one appear in
# "igddctl list --json" as pinholes with their source, protocol, internal
# address and port, remote side, lease and kernel counters that grow with
# real traffic from the outside host; the plain table names them
# "pinhole:ID"; stats, metrics and status count them apart from the port
# mappings; "igddctl del pinhole ID" closes one (traffic refused again);
# a reload with a mac= deny rule removes the pinholes of that device (and
# its IPv4 mapping), not another's; flush removes the rest.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; exit 0; }
PY=${PY:-/usr/bin/python3}
check "IPv6 on every link" lab_ipv6

HP=5000
conf() {
	lab_conf "$LAB_DIR/igdd.conf" <<CONF
ipv6_block_inbound=yes
ext_ip=1.2.3.4
http_port=$HP
secure_mode=no
$1
CONF
}
conf ""
check "igdd starts with a control socket" lab_start_igdd "$LAB_DIR/igdd.conf" -v
# hosts talk to their router: the gateway's neighbour table knows them
touch6() { ip netns exec "$1" "$PROBE" connect -s "$2" udp "$GW6_LAN" 9 300 >/dev/null 2>&1; }
touch6 "$NS_C1" "$C1_6"
touch6 "$NS_C2" "$C2_6"
up() { _o=$1; _ns=$2; shift 2; $_ns timeout 20 upnpc -6 "$@" >"$LAB_DIR/$_o" 2>&1; }

# pfield KEY FIELD: a field of the pinhole whose unique_id (or, for
# "pcp:PORT", whose PCP internal port) is KEY, in "igddctl list --json".
pfield() {
	ctl list --json | "$PY" -c 'import json, sys
k, f = sys.argv[1], sys.argv[2]
for m in json.load(sys.stdin):
    if not m["pinhole"]:
        continue
    if (k.startswith("pcp:") and m["source"] == "pcp" and m["internal_port"] == int(k[4:])) or \
       (not k.startswith("pcp:") and m["unique_id"] == int(k)):
        v = m[f]
        print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}
npin() { ctl list --json | "$PY" -c 'import json, sys; print(sum(1 for m in json.load(sys.stdin) if m["pinhole"]))'; }

lab_listen c1 tcp 9200 TOK6T
lab_listen c1 udp 9201 TOK6U
lab_listen c2 tcp 9300 TOK6C2
up a1 c1 -A "" 0 "$C1_6" 9200 TCP 600
UT=$(sed -n 's/.*Pinhole ID = \([0-9]*\).*/\1/p' "$LAB_DIR/a1")
check "upnpc -6 opens a TCP pinhole to c1 (UniqueID $UT)" test -n "$UT"
ip netns exec "$NS_C1" "$PCPC" -n 0102030405060708090a0b0c "$GW6_LAN" map udp 9201 0 600 \
	>"$LAB_DIR/p1" 2>&1
check "PCP MAP over IPv6 opens a UDP pinhole to c1" grep -q '^result=0' "$LAB_DIR/p1"
check "natpmpc maps UDP 8001 to c1:9001 (an IPv4 mapping beside them)" sh -c \
	"ip netns exec $NS_C1 natpmpc -g $GW_LAN -a 8001 9001 udp 3600 | grep -q 'Mapped public port 8001'"

check "list --json: the UPnP one is a pinhole, source upnp, tcp" test \
	"$(pfield "$UT" pinhole) $(pfield "$UT" source) $(pfield "$UT" protocol)" = "true upnp tcp"
check "... internal $C1_6 port 9200, any remote host and port" test \
	"$(pfield "$UT" internal_client) $(pfield "$UT" internal_port) [$(pfield "$UT" remote_host)] $(pfield "$UT" remote_port)" \
	= "$C1_6 9200 [] 0"
l=$(pfield "$UT" lease_remaining)
check "... a lease counted down from 600 s ($l)" test "${l:-0}" -le 600 -a "${l:-0}" -gt 590
check "the PCP one: source pcp, udp, internal port 9201" test \
	"$(pfield pcp:9201 source) $(pfield pcp:9201 protocol) $(pfield pcp:9201 internal_client)" = "pcp udp $C1_6"
check "two pinholes in the list" test "$(npin)" = 2
p0=$(pfield "$UT" packets); b0=$(pfield "$UT" bytes); u0=$(pfield pcp:9201 packets)
check "TCP from outside reaches c1 through the UPnP pinhole" reach6 tcp "$C1_6" 9200 TOK6T
check "... again" reach6 tcp "$C1_6" 9200 TOK6T
check "UDP reaches c1 through the PCP pinhole" reach6 udp "$C1_6" 9201 TOK6U
p1=$(pfield "$UT" packets); b1=$(pfield "$UT" bytes); u1=$(pfield pcp:9201 packets)
check "the TCP pinhole's packet counter grew with the traffic ($p0 -> $p1)" test "${p1:-0}" -gt "${p0:-0}"
check "... and its byte counter ($b0 -> $b1)" test "${b1:-0}" -gt "${b0:-0}"
check "the UDP pinhole's packet counter grew ($u0 -> $u1)" test "${u1:-0}" -gt "${u0:-0}"
ctl list >"$LAB_DIR/table"
check "the plain table names the pinhole pinhole:$UT, to [$C1_6]:9200, from *:*" \
	grep -Eq "^upnp +tcp +pinhole:$UT +\[$C1_6\]:9200 +\*:\* " "$LAB_DIR/table"

# counted apart from the port mappings
ctl stats --json >"$LAB_DIR/stats"
check "stats: 2 pinholes (upnp tcp 1, pcp udp 1), 1 mapping" "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))
p, m = s["pinholes"], s["mappings"]
sys.exit(not (p["total"] == 2 and p["upnp"]["tcp"] == 1 and p["pcp"]["udp"] == 1 and m["total"] == 1))' \
	"$LAB_DIR/stats"
ctl metrics >"$LAB_DIR/metrics"
check "metrics: igdd_pinholes adds up to 2" test "$("$PY" "$LAB_TOP/tests/lab/promcheck.py" igdd_pinholes <"$LAB_DIR/metrics")" = 2
check "metrics: igdd_mappings adds up to 1" test "$("$PY" "$LAB_TOP/tests/lab/promcheck.py" igdd_mappings <"$LAB_DIR/metrics")" = 1
check "status: 2 pinholes, lan0 with its IPv6 address" sh -c \
	"ctl() { '$IGDDCTL' -s '$LAB_DIR/igdd.sock' \"\$@\"; }; ctl status | grep -qx 'pinholes: 2' && \
	 ctl status | grep -q 'addresses6\[0\]: $GW6_LAN/64'"

# igddctl del pinhole
check "igddctl del pinhole $UT" ctl del pinhole "$UT"
check_not "after it TCP no longer reaches c1" reach6 tcp "$C1_6" 9200 TOK6T
check "one pinhole left in the list" test "$(npin)" = 1
ctl del pinhole 60000 2>"$LAB_DIR/nodel"; rc=$?
check "del of an unknown pinhole fails (status $rc), saying so" sh -c \
	"test $rc = 1 && grep -q 'no pinhole 60000' '$LAB_DIR/nodel'"
check "UDP still reaches c1 through the PCP pinhole" reach6 udp "$C1_6" 9201 TOK6U

# A reload whose rules deny c1's device (by MAC) removes its pinhole and
# its IPv4 mapping; c2's pinhole stays.
up a2 c2 -A "" 0 "$C2_6" 9300 TCP 600
U2=$(sed -n 's/.*Pinhole ID = \([0-9]*\).*/\1/p' "$LAB_DIR/a2")
check "c2 opens a pinhole (UniqueID $U2)" reach6 tcp "$C2_6" 9300 TOK6C2
MAC1=$(c1 cat /sys/class/net/eth0/address)
conf "deny 0-65535 mac=$MAC1 0-65535
allow 0-65535 ::/0 0-65535
allow 0-65535 0.0.0.0/0 0-65535"
ctl reload >"$LAB_DIR/r1.out" 2>&1
check "reload with a mac= deny rule for c1 ($MAC1)" grep -q "^2 mapping(s) and pinhole(s) the new rules do not allow removed" "$LAB_DIR/r1.out"
check_not "c1's PCP pinhole is gone: UDP refused" reach6 udp "$C1_6" 9201 TOK6U
check "c2's pinhole stays" reach6 tcp "$C2_6" 9300 TOK6C2
check "the list holds c2's pinhole only" test "$(npin) $(pfield "$U2" internal_client)" = "1 $C2_6"
check "the mapping log says which and why" grep -q \
	"pinhole removed (reload): PCP UDP pinhole [0-9]* -> \[$C1_6\]:9201, .*: denied by permission rules" \
	"$LAB_DIR/igdd.log"

# flush covers pinholes
ctl flush >"$LAB_DIR/flush"
check "flush removes the pinhole (removed: 1, pinholes_removed: 1)" sh -c \
	"grep -qx 'removed: 1' '$LAB_DIR/flush' && grep -qx 'pinholes_removed: 1' '$LAB_DIR/flush'"
check_not "c2's pinhole no longer lets traffic in" reach6 tcp "$C2_6" 9300 TOK6C2
check "the list is empty" test "$(ctl list --json)" = "[]"
check "igdd stops cleanly" lab_stop_igdd
lab_finish
