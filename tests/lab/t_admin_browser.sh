#!/bin/sh
# t_admin_browser.sh - the admin page in a real browser (issue 19):
# headless Chromium driven by Selenium (admin_browser.py) runs on the LAN
# client c1: log in, a mapping upnpc makes appears in the table within 2 s,
# a manual forward added through the form carries traffic from the outside
# host, Delete removes it and the traffic stops, a bad form value shows its
# error, logout ends the session; an IPv6 pinhole upnpc -6 opens is a row
# too, and its Delete closes it.  Screenshots of the main states are kept
# in a directory this test prints (/tmp/igdd-lab-screens.*; not the lab's
# own directory, which goes at the end).
. "$(dirname "$0")/lib.sh"
PY=${PY:-/usr/bin/python3}
for t in chromium chromedriver upnpc; do
	command -v $t >/dev/null 2>&1 || { skip "$t not installed (make deps)"; exit 0; }
done
"$PY" -c 'import selenium' 2>/dev/null || { skip "python3-selenium not installed (make deps)"; exit 0; }
lab_up
check "IPv6 on every link" lab_ipv6
SHOTS=${LAB_SHOTS:-$(mktemp -d /tmp/igdd-lab-screens.XXXXXX)}
PW="browser test password"
printf '%s\n' "$PW" | "$IGDDCTL" passwd "$LAB_DIR/admin.pw" 2>/dev/null
echo "1900000000 02:00:00:00:00:01 $C1 client-one *" >"$LAB_DIR/dhcp.leases"
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
ipv6_block_inbound=yes
secure_mode=no
admin_listen=$GW_LAN:8080
admin_password_file=$LAB_DIR/admin.pw
admin_dhcp_leases=$LAB_DIR/dhcp.leases
CONF
check "igdd starts with the admin page" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "the gateway is discovered ($UPNP_BASE)" test -n "$UPNP_BASE"
lab_listen c2 tcp 9500 tok-browser
lab_listen c1 tcp 9200 tok-pin
# c1 talks to its router: the gateway's neighbour table knows it
ip netns exec "$NS_C1" "$PROBE" connect -s "$C1_6" udp "$GW6_LAN" 9 300 >/dev/null 2>&1
ADMIN_HOST=$GW_LAN ADMIN_PORT=8080 ADMIN_PASSWORD=$PW CTL_SOCK=$LAB_DIR/igdd.sock
export ADMIN_HOST ADMIN_PORT ADMIN_PASSWORD CTL_SOCK UPNP_BASE SHOTS
export LAB_TEST IGDDCTL PROBE NS_OUT GW_WAN C1 C2 C1_6
# the browser's files in the lab's directory, not root's home
HOME=$LAB_DIR c1 "$PY" "$(dirname "$0")/admin_browser.py" || LAB_FAILED=1
n=$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)
check "screenshots of the main states: $n in $SHOTS" test "$n" -ge 10
echo "    screenshots: $SHOTS"
lab_finish
