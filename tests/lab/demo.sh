#!/bin/sh
# demo.sh - "make lab": igdd on a simulated gateway, shown step by step.
# A LAN client maps a port with the real upnpc and natpmpc clients, the
# outside host connects through the mapping to a listener on the client,
# then the mapping is removed.  Everything is torn down at the end.
LAB_TEST=demo
. "$(dirname "$0")/lib.sh"

if [ -t 1 ]; then
	say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	say() { printf '\n==> %s\n' "$*"; }
fi
show() { echo "\$ $*"; "$@" 2>&1 | sed 's/^/  /'; }

lab_up
say "Lab: LAN client $C1 (and $C2) -- [lan0 $GW_LAN | gateway | wan0 $GW_WAN] -- outside host $OUT"
# The lab's WAN uses a documentation range; UPnP clients such as upnpc
# refuse an IGD reporting a reserved address, so igdd reports 1.2.3.4
# (ext_ip, as on a carrier-grade NAT test host) and traffic uses the
# real WAN address.
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
friendly_name=igdd lab gateway
notify_interval=30
CONF
say "Configuration"
sed 's/^/  /' "$LAB_DIR/igdd.conf"
say "Starting igdd on the gateway"
if ! lab_start_igdd "$LAB_DIR/igdd.conf"; then
	echo "igdd did not start:"; cat "$LAB_DIR/igdd.log"; exit 1
fi
sed 's/^/  /' "$LAB_DIR/igdd.log"

lab_listen c1 tcp 9000 "hello-from-the-LAN-client"
lab_listen c1 udp 9001 "udp-hello-from-the-LAN-client"

say "SSDP: the LAN client searches for an Internet gateway (M-SEARCH)"
c1 "$SSDPQ" search urn:schemas-upnp-org:device:InternetGatewayDevice:1 1 239.255.255.250 1500 |
	tr -d '\r' | grep -E '^(---|ST|LOCATION|SERVER|USN)' | sed 's/^/  /'
say "UPnP: upnpc finds the gateway and reads its status"
show c1 upnpc -s
say "UPnP: it maps external TCP port 8000 to $C1:9000"
show c1 upnpc -e "igdd demo" -a "$C1" 9000 8000 TCP
show c1 upnpc -l
say "The outside host ($OUT) connects to the gateway's WAN address $GW_WAN:8000"
if reach tcp 8000 "hello-from-the-LAN-client"; then
	echo "  got 'hello-from-the-LAN-client': the connection crossed the gateway"
else
	echo "  no answer: the mapping did not carry traffic"; LAB_FAILED=1
fi
say "The kernel state igdd made (nftables), and its lease file"
show gw nft list table inet igdd
show cat "$LAB_DIR/igdd.leases"
say "UPnP: the client removes the mapping"
show c1 upnpc -d 8000 TCP
if reach tcp 8000 "hello-from-the-LAN-client"; then
	echo "  still reachable: wrong"; LAB_FAILED=1
else
	echo "  the outside host can no longer connect: mapping gone"
fi

say "NAT-PMP: natpmpc asks for the external address"
show c1 natpmpc -g "$GW_LAN"
say "NAT-PMP: it maps external UDP port 8001 to its port 9001 for 60 s"
show c1 natpmpc -g "$GW_LAN" -a 8001 9001 udp 60
if reach udp 8001 "udp-hello-from-the-LAN-client"; then
	echo "  a UDP datagram from the outside host reached the client and came back"
else
	echo "  no answer over UDP"; LAB_FAILED=1
fi
say "NAT-PMP: lifetime 0 removes it"
show c1 natpmpc -g "$GW_LAN" -a 8001 9001 udp 0

say "Stopping igdd (SIGTERM): its kernel state goes, the lease file stays"
lab_stop_igdd TERM
show gw nft list tables
[ "$LAB_FAILED" = 0 ] && say "Demo complete" || say "Demo finished with problems (see above)"
exit $LAB_FAILED
