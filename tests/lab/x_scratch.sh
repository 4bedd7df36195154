. "$(dirname "$0")/lib_cgn.sh"
cgn_up
cgn_start_miniupnpd <<EOF2
deny 7000-7099 0.0.0.0/0 0-65535
EOF2
cpe_conf "$LAB_DIR/igdd.conf" upnp </dev/null
lab_start_igdd "$LAB_DIR/igdd.conf" -v
sleep 4
UPNP_BASE=$(lab_upnp_base)
soap c1 /ctl/IPConn "$URN_IPC2" AddAnyPortMapping NewRemoteHost= NewExternalPort=7050 \
		NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
		NewPortMappingDescription=any NewLeaseDuration=600
grep -i "upstream\|7050" $LAB_DIR/igdd.log | grep -v "PCP: 0"
