#!/bin/sh
# demo_upnp.sh - UPnP IGD in the lab, step by step: upnpc in a LAN client
# discovers the gateway, maps a port, traffic from the outside host comes
# in through it, the mapping is shown in igdd's store and the kernel, then
# removed, and the traffic stops.  Run alone (sh tests/lab/demo_upnp.sh)
# or from demo.sh.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { echo "upnpc (miniupnpc) is not installed"; exit 1; }

step() { printf '\n== %s\n' "$*"; }
show() { sed 's/^/   | /'; }

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
friendly_name=igdd lab gateway
CONF
step "igdd starts on the gateway (LAN $GW_LAN on lan0, WAN $GW_WAN on wan0)"
lab_start_igdd "$LAB_DIR/igdd.conf" || { echo "igdd did not start"; tail "$LAB_DIR/igdd.log"; exit 1; }
tail -3 "$LAB_DIR/igdd.log" | show

step "c1 ($C1) searches for an Internet gateway (SSDP M-SEARCH)"
c1 "$SSDPQ" search urn:schemas-upnp-org:device:InternetGatewayDevice:1 1 239.255.255.250 1500 |
	tr -d '\r' | grep -E '^(---|ST|LOCATION|SERVER|USN)' | show

step "upnpc -s: status of the gateway as a UPnP client sees it"
c1 upnpc -s 2>&1 | grep -E 'desc:|Found|ExternalIPAddress|Connection|Status|Bytes' | show

lab_listen c1 tcp 9000 hello-from-c1
step "c1 runs a TCP service on port 9000; from outside ($OUT), WAN port 8000 is closed"
if reach tcp 8000 hello-from-c1; then echo "   | unexpectedly reachable"; else echo "   | outside -> $GW_WAN:8000: no answer"; fi

step "upnpc -a $C1 9000 8000 TCP: c1 asks for WAN port 8000 -> c1:9000"
c1 upnpc -a "$C1" 9000 8000 TCP 2>&1 | grep -E 'external|InternalIP|is redirected|failed' | show

step "from outside: $GW_WAN:8000"
got=$(out "$PROBE" connect tcp "$GW_WAN" 8000 1500 2>/dev/null)
echo "   | outside -> $GW_WAN:8000 answered: ${got:-(nothing)}"

step "upnpc -l: the mapping, as listed by the gateway"
c1 upnpc -l 2>&1 | grep -E '^ *[0-9]+ (TCP|UDP)' | show

step "the kernel: igdd's nftables elements"
gw nft list ruleset 2>/dev/null | grep -E '8000|igdd' | head -8 | show

step "upnpc -d 8000 TCP: c1 removes it"
c1 upnpc -d 8000 TCP 2>&1 | grep -iE 'deleted|UPNP_DeletePortMapping|failed' | show
if reach tcp 8000 hello-from-c1; then echo "   | still reachable (unexpected)"; else echo "   | outside -> $GW_WAN:8000: no answer any more"; fi

step "igdd stops: ssdp:byebye, the kernel forgets the mappings"
lab_stop_igdd TERM && echo "   | stopped cleanly"
