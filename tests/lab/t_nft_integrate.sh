#!/bin/sh
# t_nft_integrate.sh - the nftables backend attached to a firewall's own
# table and chains: miniupnpd-nftables' layout (table inet filter, chains
# miniupnpd / prerouting_miniupnpd, drop-policy forward) and an OpenWrt
# fw4-like layout (table inet fw4, upnp_forward / upnp_prerouting).
# Mappings carry traffic through the drop policy; the firewall's own rules
# survive init, re-init and shutdown untouched; a missing chain is named.
. "$(dirname "$0")/lib.sh"
lab_up
[ -x "$FWCTL" ] || { fail "build/tools/fwctl missing (make tools)"; lab_finish; }

lab_listen c1 tcp 9000 tok-tcp
lab_listen c1 udp 9001 tok-udp

foreign() {	# foreign TABLE: the table without igdd's rules, sets and maps
	gw nft list table inet "$1" | awk '
		/^\t(set|map) igdd_/ { skip = 1 }
		skip { if ($0 ~ /^\t}$/) { skip = 0; getline } ; next }
		/comment "igdd"/ { next }
		{ print }'
}

# integration_case NAME TABLE FWD_CHAIN NAT_CHAIN POST_CHAIN
integration_case() {
	_n=$1 _t=$2 _fc=$3 _nc=$4 _pc=$5
	F="--ext-if wan0 --table $_t --nat-table $_t --forward-chain $_fc --nat-chain $_nc --postrouting-chain $_pc"
	foreign "$_t" >"$LAB_DIR/before.$_n"
	check_not "$_n: drop policy: tcp 8000 unreachable without mapping" reach tcp 8000 tok-tcp
	check "$_n: init attaches" fwctl $F init
	check "$_n: init again (idempotent)" fwctl $F init
	check "$_n: 3 igdd rules in $_nc" \
		test "$(gw nft list chain inet "$_t" "$_nc" | grep -c 'comment "igdd"')" = 3
	# the hairpin's LAN check and masquerade, tcp and udp SNAT (no
	# hairpin count: integrated, the DNAT element counts the flow)
	check "$_n: 4 igdd rules in $_pc" \
		test "$(gw nft list chain inet "$_t" "$_pc" | grep -c 'comment "igdd"')" = 4
	check "$_n: 2 igdd rules in $_fc" \
		test "$(gw nft list chain inet "$_t" "$_fc" | grep -c 'comment "igdd"')" = 2
	check "$_n: check reports 1" fwctl $F check
	check "$_n: add tcp 8000 -> c1:9000" fwctl $F add tcp 8000 "$C1" 9000
	check "$_n: add udp 8001 -> c1:9001" fwctl $F add udp 8001 "$C1" 9001
	check "$_n: tcp 8000 passes the drop-policy forward chain" reach tcp 8000 tok-tcp
	check "$_n: udp 8001 passes the drop-policy forward chain" reach udp 8001 tok-udp
	pk=$(fwctl $F counters tcp 8000 "$C1" 9000)
	check "$_n: counters sees the tcp mapping's packets ($pk)" test "${pk:-0}" -gt 0
	check "$_n: delete tcp 8000" fwctl $F del tcp 8000 "$C1" 9000
	check_not "$_n: tcp 8000 unreachable after delete" reach tcp 8000 tok-tcp
	check "$_n: restricted tcp 8002 for $LAB_WAN.3" fwctl $F add tcp 8002 "$C1" 9000 "$LAB_WAN.3"
	check "$_n: restricted mapping admits $LAB_WAN.3" reach_from "$LAB_WAN.3" tcp 8002 tok-tcp
	check_not "$_n: restricted mapping refuses $OUT" reach_from "$OUT" tcp 8002 tok-tcp
	foreign "$_t" >"$LAB_DIR/during.$_n"
	check "$_n: firewall rules untouched while attached" diff "$LAB_DIR/during.$_n" "$LAB_DIR/before.$_n"
	check "$_n: shutdown" fwctl $F shutdown
	check "$_n: no igdd rules left" sh -c "! ip netns exec $NS_GW nft list table inet $_t | grep -q igdd"
	check "$_n: firewall rules untouched after shutdown" sh -c \
		"ip netns exec $NS_GW nft list table inet $_t | diff -q - '$LAB_DIR/before.$_n'"
	check_not "$_n: udp 8001 unreachable after shutdown" reach udp 8001 tok-udp
	check "$_n: the firewall's chains still exist" gw nft list chain inet "$_t" "$_fc"
}

out ip addr add "$LAB_WAN.3/24" dev eth0

# miniupnpd-nftables' layout, with a drop-policy forward chain.
gw nft -f - <<NFT
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" accept
		jump miniupnpd
	}
	chain miniupnpd {
		tcp dport 1 drop comment "foreign rule"
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump prerouting_miniupnpd
	}
	chain prerouting_miniupnpd {
		tcp dport 2 counter comment "foreign nat rule"
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump postrouting_miniupnpd
	}
	chain postrouting_miniupnpd {
	}
}
NFT
integration_case miniupnpd filter miniupnpd prerouting_miniupnpd postrouting_miniupnpd

# A crashed igdd's leftover rules are replaced, not duplicated.
F="--ext-if wan0 --table filter --nat-table filter --forward-chain miniupnpd --nat-chain prerouting_miniupnpd"
fwctl $F init 2>/dev/null
gw nft add rule inet filter miniupnpd counter comment '"igdd"'	# a stale tagged rule
check "stale tagged rule removed by init" sh -c "ip netns exec $NS_GW '$FWCTL' $F init && \
	test \$(ip netns exec $NS_GW nft list chain inet filter miniupnpd | grep -c 'comment \"igdd\"') = 2"
fwctl $F shutdown 2>/dev/null
gw nft delete table inet filter

# OpenWrt fw4-like: upnp chains jumped from forward_wan and dstnat.
gw nft -f - <<NFT
table inet fw4 {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" jump forward_lan
		iifname "wan0" jump forward_wan
	}
	chain forward_lan {
		accept
	}
	chain forward_wan {
		jump upnp_forward
		drop comment "!fw4: reject wan forward"
	}
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		jump upnp_prerouting
	}
	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		jump upnp_postrouting
	}
	chain upnp_forward {
	}
	chain upnp_prerouting {
	}
	chain upnp_postrouting {
	}
}
NFT
integration_case fw4 fw4 upnp_forward upnp_prerouting upnp_postrouting

F="--ext-if wan0 --table fw4 --nat-table fw4 --forward-chain no_such_chain --nat-chain upnp_prerouting"
check_not "missing chain: init fails" fwctl $F init
fwctl $F init 2>"$LAB_DIR/err" >/dev/null
check "missing chain: the log names it" grep -q "chain inet fw4 no_such_chain not found" "$LAB_DIR/err"
F="--ext-if wan0 --table fw4 --nat-table fw4 --forward-chain upnp_forward --nat-chain upnp_prerouting --postrouting-chain no_post"
check "no postrouting chain: init still attaches" fwctl $F init
fwctl $F init 2>"$LAB_DIR/err" >/dev/null
check "no postrouting chain: hairpin and preservation are off, said" \
	grep -q "no_post not found.*hairpin and preserve_mapped_ports are off" "$LAB_DIR/err"
check "no postrouting chain: 2 igdd rules in upnp_prerouting (no hairpin)" \
	test "$(gw nft list chain inet fw4 upnp_prerouting | grep -c 'comment "igdd"')" = 2
check "no postrouting chain: check reports 1" fwctl $F check
fwctl $F shutdown
lab_finish
