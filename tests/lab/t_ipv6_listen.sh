#!/bin/sh
# t_ipv6_listen.sh - ipv6_listening_ip: HTTP and PCP over IPv6 only on that
# address (not on the interface's link-local one), SSDP over IPv6 names it
# in LOCATION, and IPv4 (HTTP, SSDP, NAT-PMP, PCP) is untouched, unlike
# miniupnpd.
. "$(dirname "$0")/lib.sh"
lab_up
check "IPv6 on every link" lab_ipv6
HP=5000
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
http_port=$HP
ipv6_listening_ip=$GW6_LAN
CONF
check "igdd starts with ipv6_listening_ip" lab_start_igdd "$LAB_DIR/igdd.conf" -v
LL=$(gw ip -6 addr show dev lan0 scope link | sed -n 's,.*inet6 \(fe80::[0-9a-f:]*\)/64.*,\1,p' | head -1)
check "HTTP over IPv6 on the listening address" \
	c1 timeout 5 socat -T 3 - "TCP6:[$GW6_LAN]:$HP" </dev/null
check_not "no HTTP on the interface's link-local address ($LL)" \
	c1 timeout 5 socat -T 3 - "TCP6:[$LL%eth0]:$HP" </dev/null
check "HTTP over IPv4 still served" c1 timeout 5 socat -T 3 - "TCP4:$GW_LAN:$HP" </dev/null
ip netns exec "$NS_C1" "$PCPC" "$GW6_LAN" announce >"$LAB_DIR/p6" 2>&1
check "PCP over IPv6 on the listening address" grep -q '^result=0' "$LAB_DIR/p6"
ip netns exec "$NS_C1" "$PCPC" "$GW_LAN" announce >"$LAB_DIR/p4" 2>&1
check "PCP over IPv4 still served" grep -q '^result=0' "$LAB_DIR/p4"
printf 'M-SEARCH * HTTP/1.1\r\nHOST: [FF02::C]:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: upnp:rootdevice\r\n\r\n' >"$LAB_DIR/ms"
c1 timeout 3 socat -t 2 - "UDP6-DATAGRAM:[ff02::c]:1900,so-bindtodevice=eth0" <"$LAB_DIR/ms" >"$LAB_DIR/s6" 2>/dev/null
check "SSDP over IPv6 (ff02::c) names the listening address" grep -q "LOCATION: http://\[$GW6_LAN\]:$HP/" "$LAB_DIR/s6"
c1 timeout 10 upnpc -s >"$LAB_DIR/u4" 2>&1
check "UPnP over IPv4 (multicast SSDP, HTTP) still works" grep -q "Found valid IGD : http://$GW_LAN:$HP/" "$LAB_DIR/u4"
check "igdd stops cleanly" lab_stop_igdd
lab_finish
