# scale_report.awk - bench/scale.sh's kv file(s) as a markdown table.
#   awk -v max=100000 -f bench/scale_report.awk [BEFORE.kv] NOW.kv
# With two files the first is an earlier run ("before") shown beside the
# latest; the goals are judged on the latest.

{
	i = index($0, "=")
	if (i == 0)
		next
	k = substr($0, 1, i - 1); v = substr($0, i + 1)
	if (FILENAME != last) { nf++; last = FILENAME }
	V[nf, k] = v
}

function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?$/ }
function get(f, k) { return ((f, k) in V) ? V[f, k] : "" }
# numeric value (awk compares strings as strings: "2946" <= 500)
function nv(s) { return s + 0 }
function fmtv(v, kind) {
	if (v == "") return "—"
	if (!num(v)) return v
	if (kind == "us") return v < 1000 ? sprintf("%d µs", v) : sprintf("%.2f ms", v / 1000)
	if (kind == "ms") return sprintf("%.0f ms", v)
	if (kind == "kb") return sprintf("%.2f MiB", v / 1024)
	if (kind == "rate") return sprintf("%d/s", v)
	return v
}
function row(label, k, kind) {
	if (nf == 2)
		printf "| %s | %s | %s |\n", label, fmtv(get(1, k), kind), fmtv(get(2, k), kind)
	else
		printf "| %s | %s |\n", label, fmtv(get(1, k), kind)
}
function head(t) {
	if (nf == 2) printf "| **%s** | | |\n", t
	else printf "| **%s** | |\n", t
}
# per mapping: bytes of VmRSS (or RssAnon) above idle at size n
function per_map(f, what, n,   a, b) {
	a = get(f, what "_kb_" n); b = get(f, what "_kb_idle")
	if (!num(a) || !num(b) || n == 0) return ""
	return sprintf("%.0f", (a - b) * 1024 / n)
}
function goal(text, measured, ok) {
	printf "| %s | %s | %s |\n", text, measured, ok == "" ? "n/a" : (ok ? "met" : "MISSED")
}
function min3(a, b, c,   m) {
	m = ""
	if (num(a)) m = nv(a)
	if (num(b) && (m == "" || nv(b) < m)) m = nv(b)
	if (num(c) && (m == "" || nv(c) < m)) m = nv(c)
	return m
}

END {
	L = nf			# the latest run
	n = split(get(L, "meta_sizes"), S, " ")
	mid = 10000
	printf "### igdd at CGN scale — %s\n\n", get(L, "meta_date")
	printf "%s; igdd %s; %s LAN sources; sizes %s; rate windows: median of %s run(s); run took %s s.\n\n",
		get(L, "meta_host"), get(L, "meta_commit"), get(L, "meta_nsrc"), get(L, "meta_sizes"),
		get(L, "meta_repeat"), get(L, "meta_secs")
	if (get(L, "meta_runs") != "")
		printf "Each value is the median of %s whole runs (bench/scale_median.awk).\n\n", get(L, "meta_runs")
	if (nf == 2)
		printf "Before: igdd %s, %s%s.\n\n", get(1, "meta_commit"), get(1, "meta_date"),
		       get(1, "meta_runs") != "" ? ", median of " get(1, "meta_runs") " runs" : ""

	print "#### Goals\n"
	print "| Goal | Measured | Status |"
	print "|---|---|---|"
	v = get(L, "rss_kb_" max)
	goal("VmRSS at " max " ≤ 16 MiB", fmtv(v, "kb") " (RssAnon " fmtv(get(L, "anon_kb_" max), "kb") ")",
	     num(v) ? nv(v) <= 16384 : "")
	for (s = 0; s <= 2; s++) {
		sz = s == 0 ? 0 : s == 1 ? mid : max
		a = get(L, "win_map_rps_16_" sz); b = get(L, "win_pcpmap_rps_16_" sz)
		m = min3(a, b, "")
		goal("≥ 40,000 new mappings/s at " sz " (16 in flight; NAT-PMP, PCP)",
		     fmtv(a, "rate") ", " fmtv(b, "rate"), num(m) ? nv(m) >= 40000 : "")
	}
	a = get(L, "delall_map_rps"); b = get(L, "delall_pcp_rps")
	m = min3(a, b, "")
	goal("≥ 60,000 deletes/s (delete all, 16 in flight; NAT-PMP, PCP)", fmtv(a, "rate") ", " fmtv(b, "rate"),
	     num(m) ? nv(m) >= 60000 : "")
	nr = split(get(L, "meta_restarts"), RSG, " ")
	for (r = 1; r <= nr; r++) {
		sg = RSG[r]; k = sg; gsub(/[^A-Za-z0-9]/, "_", k)
		a = get(L, "restart_" k "_pmp_up_ms"); b = get(L, "restart_" k "_http_up_ms")
		c = get(L, "restart_" k "_kernel_ms")
		m = num(a) && num(b) ? (nv(a) > nv(b) ? nv(a) : nv(b)) : ""
		goal("SIG" sg ", restart with " max " leases: exec to answering ≤ 250 ms, to every element ≤ 500 ms" \
		     (sg == "TERM" ? " (the plain stop removes everything: a full install)" : "") \
		     (sg == "KILL+change" ? " (the ruleset changed meanwhile: elements read and reconciled)" : ""),
		     "NAT-PMP " fmtv(a, "ms") ", HTTP " fmtv(b, "ms") ", kernel " fmtv(c, "ms"),
		     num(m) && num(c) ? (nv(m) <= 250 && nv(c) <= 500) : (m == "" ? "" : 0))
	}
	a = get(L, "restart_QUIT_outage_ms")
	goal("Restart without an outage (SIGQUIT: longest gap of new connections through a mapping)",
	     fmtv(a, "ms"), num(a) ? nv(a) < 100 : "")
	# at 100: the mean of the daemon's first window and of the one after
	# "delete all" (the same daemon, late): a shared VM drifts meanwhile
	a = get(L, "soap_add_med_us_0"); b = get(L, "soap_add_med_us_" max); c = get(L, "soap_add_med_us_end")
	if (num(a) && num(c)) a = (nv(a) + nv(c)) / 2
	goal("SOAP AddPortMapping median at " max " within 1.3× of at 100 (mean of the first and the last window at ~100)",
	     (num(a) && num(b) && nv(a) > 0 ? sprintf("%.2f× (%s vs %s)", b / a, fmtv(b, "us"), fmtv(a, "us")) : "—"),
	     num(a) && num(b) && nv(a) > 0 ? b / a <= 1.3 : "")
	a = get(L, "soap_list1000_med_us_" max)
	goal("GetListOfPortMappings, 1000 entries at " max " ≤ 3 ms", fmtv(a, "us") " (" get(L, "soap_list1000_entries_" max) " entries)",
	     num(a) ? nv(a) <= 3000 : "")
	a = get(L, "ssdp_igd1_first_med_ms"); b = get(L, "mini_ssdp_igd1_first_med_ms")
	goal("SSDP first answer median ≤ 60 ms at MX 1 for InternetGatewayDevice:1 (miniupnpd beside)",
	     fmtv(a, "ms") " (miniupnpd " fmtv(b, "ms") ")", num(a) ? nv(a) <= 60 : "")

	print "\n#### Measurements\n"
	if (nf == 2) { print "| | before | now |"; print "|---|---|---|" }
	else { print "| | igdd |"; print "|---|---|" }
	head("Sender ceiling: no-op echo server in the gateway (requests/s)")
	for (i = 1; i <= 64; i *= 4) {
		if (i == 4) continue
		row("NAT-PMP map, " i " in flight", "echo_map_rps_" i, "rate")
		row("PCP MAP, " i " in flight", "echo_pcpmap_rps_" i, "rate")
	}
	for (s = 0; s <= 2; s++) {
		sz = s == 0 ? 0 : s == 1 ? mid : max
		head("New mappings at " sz " existing (window of new ones, deleted after)")
		for (i = 1; i <= 64; i *= 4) {
			if (i == 4) continue
			row("NAT-PMP, " i " in flight", "win_map_rps_" i "_" sz, "rate")
			row("PCP, " i " in flight", "win_pcpmap_rps_" i "_" sz, "rate")
		}
		row("NAT-PMP deletes, 16 in flight", "win_map_del_rps_" sz, "rate")
		row("PCP deletes, 16 in flight", "win_pcpmap_del_rps_" sz, "rate")
	}
	head("Fill (NAT-PMP TCP + PCP UDP, half each, 16 in flight)")
	for (j = 1; j <= n; j++) {
		row("NAT-PMP fill rate to " S[j], "fill_map_rps_" S[j], "rate")
		row("PCP fill rate to " S[j], "fill_pcpmap_rps_" S[j], "rate")
	}
	row("Delete all " max ": NAT-PMP", "delall_map_rps", "rate")
	row("Delete all " max ": PCP", "delall_pcp_rps", "rate")
	head("The daemon's CPU per 1,000 (utime + stime, ms)")
	for (j = 1; j <= n; j++)
		row("Fill to " S[j] " (both protocols)", "fill_cpu_ms_k_" S[j], "")
	row("Delete all " max ": NAT-PMP", "delall_map_cpu_ms_k", "")
	row("Delete all " max ": PCP", "delall_pcp_cpu_ms_k", "")
	head("Memory")
	row("VmRSS idle", "rss_kb_idle", "kb")
	row("RssAnon idle", "anon_kb_idle", "kb")
	for (j = 1; j <= n; j++) {
		row("VmRSS at " S[j], "rss_kb_" S[j], "kb")
		row("RssAnon at " S[j], "anon_kb_" S[j], "kb")
	}
	for (f = 1; f <= nf; f++) { V[f, "pm_rss"] = per_map(f, "rss", max); V[f, "pm_anon"] = per_map(f, "anon", max) }
	row("VmRSS per mapping at " max " (above idle, bytes)", "pm_rss", "")
	row("RssAnon per mapping at " max " (bytes)", "pm_anon", "")
	row("VmHWM (peak) at the end", "hwm_kb_end", "kb")
	head("Kernel elements against the store (2 per mapping)")
	for (j = 1; j <= n; j++)
		row("At " S[j] ": mappings / elements / agree", "cnt_" S[j], "")
	head("UPnP at scale")
	row("AddPortMapping median at 100", "soap_add_med_us_0", "us")
	for (j = 1; j <= n; j++)
		row("AddPortMapping median at " S[j], "soap_add_med_us_" S[j], "us")
	row("AddPortMapping median at 100 again, after delete all", "soap_add_med_us_end", "us")
	row("GetListOfPortMappings, 1000 entries at " max " (median)", "soap_list1000_med_us_" max, "us")
	row("GetGenericPortMappingEntry, last index at " max, "soap_getgen_last_med_us_" max, "us")
	row("GetGenericPortMappingEntry, middle index at " max, "soap_getgen_mid_med_us_" max, "us")
	row("Traffic through a mapping at " max, "reach_max", "")
	for (r = 1; r <= nr; r++) {
		sg = RSG[r]; k = sg; gsub(/[^A-Za-z0-9]/, "_", k)
		head("Restart after SIG" sg " with " max " leases (from exec)")
		row("Elements in the kernel before the start", "restart_" k "_kernel_before", "")
		row("NAT-PMP answering", "restart_" k "_pmp_up_ms", "ms")
		row("HTTP answering", "restart_" k "_http_up_ms", "ms")
		row("Every element in the kernel (last ruleset change)", "restart_" k "_kernel_ms", "ms")
		row("Longest gap of new connections through a mapping", "restart_" k "_outage_ms", "ms")
		row("VmRSS after", "rss_kb_restart_" k, "kb")
		row("VmHWM after (peak of the restore)", "hwm_kb_restart_" k, "kb")
		row("Mappings / elements / agree", "cnt_restart_" k, "")
	}
	head("The lease file on the lab's disk instead of tmpfs (each batch waits for fdatasync)")
	row("NAT-PMP new mappings at 0, 16 in flight", "disk_win_map_rps_16", "rate")
	row("PCP new mappings at 0, 16 in flight", "disk_win_pcpmap_rps_16", "rate")
	head("SSDP, M-SEARCH at MX 1 (first answer)")
	row("igdd, InternetGatewayDevice:1, median", "ssdp_igd1_first_med_ms", "ms")
	row("igdd, InternetGatewayDevice:1, slowest", "ssdp_igd1_first_max_ms", "ms")
	row("miniupnpd, InternetGatewayDevice:1, median", "mini_ssdp_igd1_first_med_ms", "ms")
	row("miniupnpd, InternetGatewayDevice:1, slowest", "mini_ssdp_igd1_first_max_ms", "ms")
	row("igdd, ssdp:all, median (spread kept)", "ssdp_all_first_med_ms", "ms")
	row("igdd, upnp:rootdevice, median (spread kept)", "ssdp_root_first_med_ms", "ms")
	row("igdd, answers per ssdp:all", "ssdp_all_answers_med", "")
	row("miniupnpd, answers per ssdp:all", "mini_ssdp_all_answers_med", "")
}
