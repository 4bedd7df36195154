#!/bin/sh
# t_cgn_auto.sh - upstream_protocol=auto finds what the CGN speaks (UPnP
# alone, then PCP first when it has PCP, NAT-PMP and UPnP), and a new
# external address at the CGN reaches the LAN: the CPE learns it from the
# upstream and announces it (NAT-PMP announcement, PCP ANNOUNCE), reports it
# (NAT-PMP, UPnP), and the relayed mapping works at the new address; when
# the CGN stops speaking PCP, auto looks again and moves to its UPnP IGD.
. "$(dirname "$0")/lib_cgn.sh"
cgn_up || { fail "the four-namespace lab comes up"; lab_finish; }

check "the CGN runs igdd with UPnP only" cgn_start_igdd <<EOF
enable_natpmp=no
EOF
cpe_conf "$LAB_DIR/igdd.conf" auto </dev/null
: >>"$LAB_DIR/igdd.log"
log_mark
check "the CPE starts with upstream_protocol=auto" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "auto: no PCP, no NAT-PMP, then the UPnP IGD is found and used" \
	cpe_log_wait 15 "UPnP IGD answers at"
check "... its external address is learnt" cpe_log_wait 15 "external address $CGN_OUT"
lab_listen c1 tcp 9000 TOKTCP
c1 natpmpc -g "$GW_LAN" -a 8010 9000 tcp 3600 >"$LAB_DIR/n1.out" 2>&1
check "a NAT-PMP mapping relayed to the UPnP IGD carries traffic" reach_cgn tcp 8010 TOKTCP
lab_stop_igdd
cgn_stop

check "the CGN runs igdd with PCP, NAT-PMP and UPnP" cgn_start_igdd </dev/null
log_mark
check "the CPE starts again with upstream_protocol=auto" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "auto: PCP is tried first and used" cpe_log_wait 10 "PCP answers at"
check "the mapping from before, asked for again, carries traffic" \
	wait_for 10 reach_cgn tcp 8010 TOKTCP

# The CGN's outside address moves.
UPNP_BASE=$(lab_upnp_base)
c1 "$PMPQ" listen "$C1" 10 >"$LAB_DIR/announce.out" 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
wait_listening "$LAB_DIR/announce.out" $!
NEW=5.6.7.10
cgn sysctl -qw net.ipv4.conf.wan0.promote_secondaries=1	# the new one stays
cgn ip addr add "$NEW/24" dev wan0
cgn ip addr del "$CGN_OUT/24" dev wan0
CGN_OUT=$NEW
check "the CPE learns the CGN's new external address" cpe_log_wait 10 "external address $NEW"
# 5.6.7.10 = 0506070a: NAT-PMP announcement, version 0, op 128, result 0
check "... and announces it on the LAN (NAT-PMP announcement)" \
	wait_for 15 grep -Eq "^$GW_LAN 00800000[0-9a-f]{8}0506070a$" "$LAB_DIR/announce.out"
check "... with a PCP ANNOUNCE (a new epoch)" grep -Eq "^$GW_LAN 0280" "$LAB_DIR/announce.out"
c1 natpmpc -g "$GW_LAN" >"$LAB_DIR/n2.out" 2>&1
check "NAT-PMP reports the new address" grep -q "Public IP address : $NEW" "$LAB_DIR/n2.out"
check "UPnP GetExternalIPAddress reports it" \
	sh -c "ip netns exec $NS_C1 $SOAPC $UPNP_BASE/ctl/IPConn $URN_IPC2 GetExternalIPAddress | grep -q '<NewExternalIPAddress>$NEW<'"
check "the relayed mapping carries traffic at the new address" \
	wait_for 10 reach_cgn tcp 8010 TOKTCP

# The upstream fails: the CGN's igdd is replaced, empty, by one that speaks
# UPnP only.  A request that goes unanswered makes auto look again at once
# (PCP, NAT-PMP, UPnP); the UPnP IGD it finds gets every mapping.
cgn_stop KILL
rm -f "$LAB_DIR/cgn.leases"
echo "enable_natpmp=no" >>"$LAB_DIR/cgn.conf"
log_mark
check "the CGN's igdd is replaced by one with UPnP only" cgn_igdd_run
_t0=$(ms_now)
c1 natpmpc -g "$GW_LAN" -a 8012 9002 tcp 3600 >"$LAB_DIR/n3.out" 2>&1
check "a new mapping while nothing answers PCP fails (no mapping)" \
	sh -c "! grep -q 'Mapped public port' '$LAB_DIR/n3.out'"
check "auto looks again at once and finds the UPnP IGD" cpe_log_wait 12 "UPnP IGD answers at"
echo "TIMING lab/$LAB_TEST: UPnP IGD found $(( $(ms_now) - _t0 )) ms after PCP went away (the 4 s request timeout included)"
# world_port: the external port of the CPE's first mapping as the world
# sees it (UPnP's listing names the upstream's port).
world_port() {
	soap c1 /ctl/IPConn "$URN_IPC2" GetGenericPortMappingEntry NewPortMappingIndex=0 |
		sed -n 's,.*<NewExternalPort>\([0-9]*\)<.*,\1,p'
}
check "the mapping from before is requested there, with no client action, and carries traffic" \
	wait_for 10 eval 'reach_cgn tcp "$(world_port)" TOKTCP'
lab_listen c1 tcp 9002 TOKNEW
c1 natpmpc -g "$GW_LAN" -a 8012 9002 tcp 3600 >"$LAB_DIR/n4.out" 2>&1
P=$(natpmpc_port "$LAB_DIR/n4.out" TCP)
check "a new mapping through the UPnP IGD carries traffic ($CGN_OUT:${P:-none})" \
	reach_cgn tcp "${P:-0}" TOKNEW
check "the CPE's igdd stops with status 0" lab_stop_igdd
lab_finish
