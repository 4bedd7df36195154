. "$(dirname "$0")/lib_cgn.sh"
cgn_up
cgn_start_igdd </dev/null
cpe_conf "$LAB_DIR/igdd.conf" pcp </dev/null
lab_start_igdd "$LAB_DIR/igdd.conf" -v
sleep 1
c1 natpmpc -g "$GW_LAN" -a 8010 9000 tcp 3600 >/dev/null
cgn ip addr add 5.6.7.10/24 dev wan0
cgn ip addr del 5.6.7.1/24 dev wan0
sleep 3
echo CPE; grep -v "PCP: 0 unsol" $LAB_DIR/igdd.log | tail -12
echo CGN; tail -8 $LAB_DIR/cgn.log
