#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_perm_default.sh - permission rules as miniupnpd applies them: the first
# matching rule decides and a request that no rule matches is allowed
# (check_upnp_rule_against_permissions() accepts by default); igdd warns
# at start when no rule is a final catch-all, names a rule set that denies
# every mapping, and a final catch-all deny refuses the rest.
. "$(dirname "$0")/lib.sh"
lab_up

# Only an allow rule for the high ports: port 80 matches no rule.  (ext_ip
# is only reported: upnpc refuses a reserved external address.)
lab_conf "$LAB_DIR/open.conf" <<CONF
ext_ip=1.2.3.4
allow 1024-65535 $LAB_LAN.0/24 1024-65535
CONF
"$IGDD" --check -f "$LAB_DIR/open.conf" >"$LAB_DIR/check.open" 2>&1
check "--check accepts rules without a catch-all" grep -q "configuration OK" "$LAB_DIR/check.open"
check "--check warns that no rule is a final catch-all" \
	grep -q "no permission rule is a final catch-all" "$LAB_DIR/check.open"
check "igdd starts" lab_start_igdd "$LAB_DIR/open.conf"
check "the start log warns about the missing catch-all, once" \
	test "$(grep -c 'no permission rule is a final catch-all' "$LAB_DIR/igdd.log")" = 1
lab_listen c1 tcp 80 tok-80
c1 natpmpc -g "$GW_LAN" -a 80 80 tcp 3600 >"$LAB_DIR/n1.out" 2>&1
check "NAT-PMP: port 80, matched by no rule, is mapped" \
	grep -q "Mapped public port 80 protocol TCP to local port 80" "$LAB_DIR/n1.out"
check "traffic from outside reaches c1 through port 80" reach tcp 80 tok-80
lab_listen c1 tcp 9000 tok-9000
check "upnpc: port 8000 (the allow rule) is mapped" c1 upnpc -a "$C1" 9000 8000 TCP 600
check "traffic reaches c1 through port 8000" reach tcp 8000 tok-9000
check "igdd stops" lab_stop_igdd TERM

# The same rules closed by a catch-all deny: port 80 is refused.
lab_conf "$LAB_DIR/closed.conf" <<CONF
ext_ip=1.2.3.4
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
rm -f "$LAB_DIR/igdd.leases"
log_mark
check "igdd starts with a final catch-all deny" lab_start_igdd "$LAB_DIR/closed.conf"
check "no catch-all warning then" test "$(count_log 'final catch-all')" = 0
c1 natpmpc -g "$GW_LAN" -a 80 80 tcp 3600 >"$LAB_DIR/n2.out" 2>&1
check "NAT-PMP: port 80 is refused (result 2)" grep -qi "not authorized\|refused\|result code 2\|resultcode = 2" "$LAB_DIR/n2.out"
check_not "port 80 does not reach c1" reach tcp 80 tok-80
check "igdd stops" lab_stop_igdd TERM

# A rule set that denies everything is said so at start, as is a rule
# after a catch-all that can never match.
lab_conf "$LAB_DIR/denyall.conf" <<CONF
deny 22 0.0.0.0/0 0-65535
deny 0-65535 0.0.0.0/0 0-65535
allow 1024-65535 $LAB_LAN.0/24 1024-65535
CONF
"$IGDD" --check -f "$LAB_DIR/denyall.conf" >"$LAB_DIR/check.denyall" 2>&1
check "--check says the rules deny every mapping" \
	grep -q "the permission rules deny every mapping: rule 2 of 3" "$LAB_DIR/check.denyall"
lab_conf "$LAB_DIR/dead.conf" <<CONF
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
allow 80 $LAB_LAN.0/24 80
CONF
"$IGDD" --check -f "$LAB_DIR/dead.conf" >"$LAB_DIR/check.dead" 2>&1
check "--check names a rule after the catch-all as never reached" \
	grep -q "rule 2 of 3 is a catch-all: the 1 rule(s) after it are never reached" "$LAB_DIR/check.dead"
lab_finish
