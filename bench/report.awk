# report.awk - the benchmark's result writer: key=value files in, a
# markdown table (mode=md) or JSON (mode=json) out.
#   awk -v mode=md -f bench/report.awk meta.kv igdd.kv miniupnpd.kv
# Keys of meta.kv start with "meta."; the daemon's name is the file's name.
# Ratios are "how many times better igdd is" (miniupnpd/igdd for costs,
# igdd/miniupnpd for rates); "≥" marks a bound, where miniupnpd was
# stopped by a time budget or crashed before the work was done (its true
# cost is then higher than what was measured).

function base(f) { sub(/.*\//, "", f); sub(/\.kv$/, "", f); return f }

{
	i = index($0, "=")
	if (i == 0)
		next
	k = substr($0, 1, i - 1); v = substr($0, i + 1)
	d = base(FILENAME)
	if (d == "meta") { sub(/^meta\./, "", k); M[k] = v; if (!(k in mseen)) { mseen[k] = 1; mk[++nm] = k } }
	else { V[d, k] = v; if (!((d, k) in seen)) { seen[d, k] = 1; keys[d, ++nk[d]] = k } }
}

function has(d, k) { return ((d, k) in V) && V[d, k] != "" }
function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?$/ }

function fmt_us(v) {
	if (v < 1000) return sprintf("%d µs", v)
	if (v < 1000000) return sprintf("%.1f ms", v / 1000)
	return sprintf("%.2f s", v / 1000000)
}
function fmt(v, kind) {
	if (kind == "us") return fmt_us(v)
	if (kind == "s") return v < 1 ? sprintf("%.1f ms", v * 1000) : sprintf("%.2f s", v)
	if (kind == "ms") return sprintf("%.1f ms", v)
	if (kind == "kb") return sprintf("%.2f MiB", v / 1024)
	if (kind == "bytes") return sprintf("%d KiB", v / 1024)
	if (kind == "rate") return sprintf("%d/s", v)
	return v
}

# Why a daemon has no value for a row of group g at size n.
function why(d, g, n) {
	if (V[d, "status"] != "ok") return "n/a (" (has(d, "status") ? V[d, "status"] : "not run") ")"
	if ((g == "upnp" || g == "fill") && has(d, "upnp_na")) return "n/a (" V[d, "upnp_na"] ")"
	if (g == "pmp" && has(d, "pmp_na")) return "n/a (" V[d, "pmp_na"] ")"
	if (n > 0 && has(d, "fill_reached") && V[d, "fill_reached"] + 0 < n)
		return "— (" (has(d, "crashed") ? "crashed" : "stopped") " at " V[d, "fill_reached"] ")"
	if (has(d, "crashed")) return "n/a (crashed)"
	return "—"
}

# cell(d, k, kind, g, n): value text, and sets VAL[d] (number or "") and
# LOWER[d] (1 when the value is a lower bound of the real cost).
function cell(d, k, kind, g, n,   t) {
	VAL[d] = ""; LOWER[d] = 0
	if (!has(d, k) || (g != "any" && why(d, g, 0) ~ /^n\/a \((not|no |did)/))
		return why(d, g, n)
	if (!num(V[d, k])) return V[d, k]
	VAL[d] = V[d, k] + 0
	t = fmt(VAL[d], kind)
	if (n > 0 && has(d, "add_partial_" n)) { t = t " (at " V[d, "add_partial_" n] ")"; LOWER[d] = 1 }
	return t
}

function ratio(better,   a, b, r) {
	a = VAL["igdd"]; b = VAL["miniupnpd"]
	if (a == "" || b == "" || a == 0 || b == 0) return ""
	r = better == "higher" ? a / b : b / a
	return (LOWER["miniupnpd"] && better != "higher" ? "≥ " : "") sprintf(r >= 10 ? "%.0f×" : "%.2f×", r)
}

function row(label, k, kind, better, g, n,   a, b) {
	a = cell("igdd", k, kind, g, n); b = cell("miniupnpd", k, kind, g, n)
	R++; RL[R] = label; RA[R] = a; RB[R] = b; RR[R] = better == "" ? "" : ratio(better)
}
# abrow: a row of the alternating rounds (igdd only unless both have them).
function abrow(label, k, kind,   j, d, t) {
	R++; RL[R] = label; RR[R] = ""
	for (j = 1; j <= 2; j++) {
		d = j == 1 ? "igdd" : "miniupnpd"
		t = has(d, k) ? (kind != "" ? fmt(V[d, k], kind) : V[d, k]) : \
			V[d, "status"] == "ok" ? ABNA : why(d, "fill", 0)
		if (j == 1) RA[R] = t; else RB[R] = t
	}
}
function section(t) { R++; RL[R] = "**" t "**"; RA[R] = RB[R] = RR[R] = ""; }

# goal(text, met, measured): met is 1, 0 or -1 (cannot tell).
function goal(text, met, measured) {
	G++; GT[G] = text; GM[G] = measured
	GS[G] = met == 1 ? "met" : met == 0 ? "MISSED" : "n/a"
}

# abr(d, n[, pfx]): the per-round medians of the alternating rounds at n
# mappings (new connections; with pfx "add_ab_med_us_", AddPortMapping's
# window) into AB[1..], their count returned, and ABT the list as text
# ("95 / 98").
function abr(d, n, pfx,   r, c, k) {
	c = 0; ABT = ""
	for (r = 1; r <= 50; r++) {
		k = (pfx == "" ? "conn_ab_med_us_" : pfx) n "_r" r
		if (has(d, k) && num(V[d, k]) && V[d, k] > 0) {
			AB[++c] = V[d, k] + 0
			ABT = ABT (c > 1 ? " / " : "") V[d, k]
		}
	}
	return c
}
# How many items a comma-separated list has.
function nlist(s,   x) { return s == "" ? 0 : split(s, x, ",") }
# median of X[1..n] (sorts X).
function median(X, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && X[j - 1] > X[j]; j--) { t = X[j]; X[j] = X[j - 1]; X[j - 1] = t }
	return n % 2 ? X[(n + 1) / 2] : (X[n / 2] + X[n / 2 + 1]) / 2
}

function ticks(d, k) { return has(d, k) ? V[d, k] / (has(d, "clk_tck") ? V[d, "clk_tck"] : 100) : "" }

function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function jval(s) { return num(s) ? s + 0 : jstr(s) }

END {
	nS = split(M["sizes"], S, " ")
	mid = M["mid"] + 0; max = M["max"] + 0
	section("SOAP, one request per HTTP connection (window: the " M["window"] " requests before the size)")
	for (i = 1; i <= nS; i++) row("AddPortMapping median at " S[i], "add_med_us_" S[i], "us", "lower", "upnp", S[i])
	for (i = 1; i <= nS; i++) row("AddPortMapping p99 at " S[i], "add_p99_us_" S[i], "us", "lower", "upnp", S[i])
	row("Fill: mappings reached", "fill_reached", "", "", "upnp", 0)
	row("Fill: AddPortMapping time in total", "fill_secs", "s", "", "upnp", 0)
	for (i = 1; i <= nS; i++) row("DeletePortMapping median at " S[i], "del_med_us_" S[i], "us", "lower", "upnp", S[i])
	for (i = 1; i <= nS; i++) row("DeletePortMapping p99 at " S[i], "del_p99_us_" S[i], "us", "lower", "upnp", S[i])
	for (i = 1; i <= nS; i++) row("GetSpecificPortMappingEntry median at " S[i], "getspec_med_us_" S[i], "us", "lower", "upnp", S[i])
	for (i = 1; i <= nS; i++) row("GetGenericPortMappingEntry (last index) median at " S[i], "getgen_med_us_" S[i], "us", "lower", "upnp", S[i])
	row("GetListOfPortMappings, all 100", "list_secs_100", "s", "lower", "upnp", 100)
	row("GetGenericPortMappingEntry walk, all 100", "walk_secs_100", "s", "lower", "upnp", 100)
	row("Listing size (mappings)", "mid_count", "", "", "upnp", 0)
	row("GetListOfPortMappings, all of them", "list_secs_mid", "s", "lower", "upnp", 0)
	row("GetListOfPortMappings, entries seen", "list_entries_mid", "", "", "upnp", 0)
	row("GetGenericPortMappingEntry walk, all of them", "walk_secs_mid", "s", "lower", "upnp", 0)
	row("GetGenericPortMappingEntry walk, entries seen", "walk_entries_mid", "", "", "upnp", 0)
	row("Delete all: mappings deleted", "delall_n", "", "", "upnp", 0)
	row("Delete all: time", "delall_secs", "s", "", "upnp", 0)

	for (d in nk) if (has(d, "nft_rules_mid")) V[d, "x_nft_mid"] = V[d, "nft_rules_mid"] " / " V[d, "nft_elements_mid"]
	section("SOAP under load (" M["load_rps"] " requests/s, open loop, " M["load_secs"] " s; latency from the scheduled start)")
	row("Throughput (requests / time until the last answer)", "load_rate", "rate", "higher", "upnp", 0)
	row("Requests sent", "load_n", "", "", "upnp", 0)
	row("Answered with 200", "load_ok", "", "higher", "upnp", 0)
	row("Latency median", "load_med_us", "us", "lower", "upnp", 0)
	row("Latency p99", "load_p99_us", "us", "lower", "upnp", 0)
	row("Latency max", "load_max_us", "us", "lower", "upnp", 0)
	row("VmRSS before", "rss_kb_load0", "kb", "lower", "upnp", 0)
	row("VmRSS after", "rss_kb_load1", "kb", "lower", "upnp", 0)

	section("HTTP keep-alive (GetExternalIPAddress, " M["ka_pairs"] " pairs: a fresh connection, then a 2nd request on a kept-alive one)")
	row("Fresh connection (connect to answer), median", "ka_fresh_med_us", "us", "lower", "upnp", 0)
	row("2nd request on a kept-alive connection, median", "ka_kept_med_us", "us", "lower", "upnp", 0)
	row("Kept / fresh (median over bursts of 20 pairs)", "ka_ratio", "", "", "upnp", 0)
	row("Client on another CPU (bursts in between): fresh, median", "ka_cross_fresh_med_us", "us", "lower", "upnp", 0)
	row("Client on another CPU: 2nd request on a kept-alive connection, median", "ka_cross_kept_med_us", "us", "lower", "upnp", 0)
	row("Client on another CPU: kept / fresh (median over bursts)", "ka_cross_ratio", "", "", "upnp", 0)
	row("2nd requests that went on the same connection", "ka_kept", "", "", "upnp", 0)

	section("NAT-PMP / PCP (UDP 5351)")
	row("Mappings during the tests \"at " mid "\"", "mid_count", "", "", "pmp", 0)
	if (has("igdd", "mid_fill_via") || has("miniupnpd", "mid_fill_via")) {
		row("(filled through)", "mid_fill_via", "", "", "pmp", 0)
		row("VmRSS there (NAT-PMP fill)", "rss_kb_mid", "kb", "lower", "pmp", 0)
		row("nftables rules / elements there (NAT-PMP fill)", "x_nft_mid", "", "", "pmp", 0)
	}
	row("NAT-PMP external address, 1 in flight, 0 mappings", "pmp_ext_rps_1_0", "rate", "higher", "pmp", 0)
	row("NAT-PMP external address, 16 in flight, 0 mappings", "pmp_ext_rps_16_0", "rate", "higher", "pmp", 0)
	# both daemons running at once, bursts in turn (bench/lib.sh pmp_pair)
	for (d in nk)
		if (has(d, "pmp_pair_ext1_rps"))
			V[d, "x_pp_setup"] = nlist(V[d, "pmp_pair_ext1_bursts"]) " bursts of " V[d, "pmp_pair_burst_ms"] \
				" ms (" nlist(V[d, "pmp_pair_ext16_bursts"]) " with 16 in flight), " \
				V[d, "pmp_pair_gap_ms"] " ms apart, in turn with the other daemon" \
				(V[d, "pmp_pair_stopped"] != "done" ? " (stopped: " V[d, "pmp_pair_stopped"] ")" : "")
		else if (has(d, "pmp_pair_stopped"))
			V[d, "x_pp_setup"] = V[d, "pmp_pair_stopped"]
	if (has("igdd", "x_pp_setup") || has("miniupnpd", "x_pp_setup")) {
		ABNA = "—"
		abrow("NAT-PMP external address, igdd and miniupnpd running at once at 0 mappings", "x_pp_setup", "")
	}
	if (has("igdd", "pmp_pair_ext1_rps") || has("miniupnpd", "pmp_pair_ext1_rps")) {
		row("NAT-PMP external address, 1 in flight, at once (median of the bursts)", "pmp_pair_ext1_rps", "rate", "higher", "pmp", 0)
		row("NAT-PMP external address, 16 in flight, at once (median of the bursts)", "pmp_pair_ext16_rps", "rate", "higher", "pmp", 0)
	}
	row("NAT-PMP external address, 1 in flight, at " mid, "pmp_ext_rps_1_mid", "rate", "higher", "pmp", mid)
	row("NAT-PMP external address, 16 in flight, at " mid, "pmp_ext_rps_16_mid", "rate", "higher", "pmp", mid)
	for (p = 1; p <= 2; p++) {
		pr = p == 1 ? "pmp" : "pcp"; pn = p == 1 ? "NAT-PMP new mapping" : "PCP MAP new mapping"
		row(pn " median, 1 in flight, 0 mappings", pr "_map_med_us_1_0", "us", "lower", "pmp", 0)
		row(pn " median, 16 in flight, 0 mappings", pr "_map_med_us_16_0", "us", "lower", "pmp", 0)
		row(pn " median, 1 in flight, at " mid, pr "_map_med_us_1_mid", "us", "lower", "pmp", mid)
		row(pn " median, 16 in flight, at " mid, pr "_map_med_us_16_mid", "us", "lower", "pmp", mid)
		row(pn " rate, 16 in flight, at " mid, pr "_map_rps_16_mid", "rate", "higher", "pmp", mid)
	}

	section("SSDP (M-SEARCH from a LAN client)")
	row("First answer, median (MX 1)", "ssdp_first_med_ms", "ms", "lower", "upnp", 0)
	row("First answer, slowest (MX 1)", "ssdp_first_max_ms", "ms", "lower", "upnp", 0)
	row("Searches answered", "ssdp_answered", "", "", "upnp", 0)
	row("Answers per ssdp:all search", "ssdp_all_answers_med", "", "", "upnp", 0)

	section("Resources")
	row("Stripped binary", "binary_bytes", "bytes", "lower", "any", 0)
	row("VmRSS idle", "rss_kb_idle", "kb", "lower", "any", 0)
	for (i = 1; i <= nS; i++) row("VmRSS at " S[i], "rss_kb_" S[i], "kb", "lower", "fill", S[i])
	row("RssAnon idle (VmRSS without shared library pages)", "anon_kb_idle", "kb", "lower", "any", 0)
	for (i = 1; i <= nS; i++) row("RssAnon at " S[i], "anon_kb_" S[i], "kb", "lower", "fill", S[i])
	row("VmHWM (peak) at the end", "hwm_kb_end", "kb", "lower", "any", 0)
	for (d in nk) {
		CPUF[d] = ticks(d, "fill_cpu_ticks"); CPUM[d] = ""
		if (has(d, "fill_cpu_ticks_mid"))
			CPUM[d] = ticks(d, "fill_cpu_ticks_mid") + ticks(d, "list_cpu_ticks_mid") + \
				ticks(d, "walk_cpu_ticks_mid") + ticks(d, "delall_cpu_ticks_mid")
		V[d, "x_cpu_fill"] = CPUF[d]; V[d, "x_cpu_mid"] = CPUM[d]
	}
	row("Daemon CPU, whole fill", "x_cpu_fill", "s", "lower", "upnp", 0)
	row("Daemon CPU, fill + list + walk + delete of " mid, "x_cpu_mid", "s", "lower", "upnp", 0)
	for (i = 1; i <= nS; i++) row("nftables rules at " S[i], "nft_rules_" S[i], "", "", "fill", S[i])
	for (i = 1; i <= nS; i++) row("nftables set/map elements at " S[i], "nft_elements_" S[i], "", "", "fill", S[i])

	section("Data plane (new TCP connection from the outside host through a mapped port)")
	row("Connect time median, 10 mappings", "conn_med_us_10", "us", "lower", "fill", 10)
	for (i = 1; i <= nS; i++) row("Connect time median at " S[i], "conn_med_us_" S[i], "us", "lower", "fill", S[i])
	if (has("igdd", "final_count") || has("miniupnpd", "final_count")) {
		row("Fill stopped early at (mappings)", "final_count", "", "", "fill", 0)
		row("AddPortMapping median there", "add_med_us_final", "us", "lower", "fill", 0)
		row("DeletePortMapping median there", "del_med_us_final", "us", "lower", "fill", 0)
		row("Connect time median there", "conn_med_us_final", "us", "lower", "fill", 0)
		row("VmRSS there", "rss_kb_final", "kb", "lower", "fill", 0)
	}

	# igdd: alternating rounds of 10 and the largest size (bench/lib.sh ab_rounds)
	abmax = has("igdd", "conn_ab_max") ? V["igdd", "conn_ab_max"] : max
	for (d in nk) {
		if (abr(d, 10) > 0) { V[d, "x_ab_10"] = ABT " µs"; V[d, "x_ab_med_10"] = median(AB, abr(d, 10)) }
		if (abr(d, abmax) > 0) { V[d, "x_ab_max"] = ABT " µs"; V[d, "x_ab_med_max"] = median(AB, abr(d, abmax)) }
		if (abr(d, 100, "add_ab_med_us_") > 0) V[d, "x_abadd_100"] = ABT " µs"
		if (abr(d, abmax, "add_ab_med_us_") > 0) V[d, "x_abadd_max"] = ABT " µs"
		if (has(d, "conn_ab_rounds")) {
			V[d, "x_ab_rounds"] = V[d, "conn_ab_rounds"] " each" (V[d, "conn_ab_stopped"] != "done" ? \
				" (stopped: " V[d, "conn_ab_stopped"] ")" : "") "; " V[d, "conn_ab_conns"] \
				" connections a round in " V[d, "conn_ab_bursts"] " bursts 150 ms apart, after " \
				V[d, "conn_ab_warmup"] " not counted"
			nr = nf = 0
			for (k2 in V) if (index(k2, d SUBSEP "reach_ab_") == 1) { nr++; if (V[k2] != "ok") nf++ }
			V[d, "x_ab_reach"] = nf ? "FAIL in " nf " of " nr : nr ? "ok (" nr " of " nr ")" : ""
		} else if (has(d, "conn_ab_stopped"))
			V[d, "x_ab_rounds"] = V[d, "conn_ab_stopped"]
	}
	if (has("igdd", "conn_ab_stopped") || has("miniupnpd", "conn_ab_stopped")) {
		ABNA = "— (one measurement per size)"
		abrow("Alternating rounds 10 / " abmax " mappings (table changed through SOAP between rounds)", "x_ab_rounds", "")
		abrow("Connect time median at 10, per round", "x_ab_10", "")
		abrow("Connect time median at " abmax ", per round", "x_ab_max", "")
		abrow("Connect time at 10, median of the round medians", "x_ab_med_10", "us")
		abrow("Connect time at " abmax ", median of the round medians", "x_ab_med_max", "us")
		abrow("AddPortMapping median at 100, per round (the adds from 10 to 100)", "x_abadd_100", "")
		abrow("AddPortMapping median at " abmax ", per round (its last " \
		      (has("igdd", "add_ab_window") ? V["igdd", "add_ab_window"] " " : "") "adds)", "x_abadd_max", "")
	}

	section("Correctness spot checks (traffic through the newest mapping)")
	row("Traffic at 10", "reach_10", "", "", "fill", 10)
	for (i = 1; i <= nS; i++) row("Traffic at " S[i], "reach_" S[i], "", "", "fill", S[i])
	if (has("igdd", "conn_ab_rounds") || has("miniupnpd", "conn_ab_rounds"))
		abrow("Traffic in each alternating round (at 10 and at " abmax ")", "x_ab_reach", "")
	row("Daemon alive at the end", "alive_at_end", "", "", "any", 0)
	row("Crash", "crashed", "", "", "any", 0)

	# --- goals ---
	ig = "igdd"; mu = "miniupnpd"
	for (w = 1; w <= 2; w++) {
		op = w == 1 ? "add" : "del"; on = w == 1 ? "Add" : "Delete"
		cell(ig, op "_med_us_" mid, "us", "upnp", mid); a = VAL[ig]
		cell(mu, op "_med_us_" mid, "us", "upnp", mid); b = VAL[mu]; lb = LOWER[mu]
		# stopped before the size: its cost at the size it reached is a lower bound
		if (b == "" && has(mu, op "_med_us_final") && V[mu, "fill_reached"] + 0 < mid) {
			b = V[mu, op "_med_us_final"] + 0; lb = 1
		}
		if (a != "" && b != "" && a > 0)
			goal(on " at " mid ": igdd ≥ 50× faster", (b / a >= 50) ? 1 : lb ? -1 : 0, \
			     sprintf("%s%.0f×", lb ? "≥ " : "", b / a))
		else
			goal(on " at " mid ": igdd ≥ 50× faster", -1, "not measured")
		cell(ig, op "_med_us_100", "us", "upnp", 100); a = VAL[ig]
		cell(ig, op "_med_us_" max, "us", "upnp", max); b = VAL[ig]
		# Add: decided by the alternating rounds when there are any (one
		# window of 100 adds per size, seconds apart, swings 0.9-1.9x
		# between runs), else by the fill's windows
		add_n1 = w == 1 && !has(ig, "upnp_na") ? abr(ig, 100, "add_ab_med_us_") : 0
		add_t1 = ABT; for (i = 1; i <= add_n1; i++) A10[i] = AB[i]
		add_nm = w == 1 && abmax == max ? abr(ig, max, "add_ab_med_us_") : 0
		if (add_n1 > 0 && add_nm > 0) {
			add_a = median(A10, add_n1); add_b = median(AB, add_nm)
			goal("igdd Add at " max " within 1.5× of at 100 (median of the per-round medians, alternating rounds)", \
			     add_b <= 1.5 * add_a, sprintf("%.2f× (%.0f µs vs %.0f µs; %d + %d rounds: at 100 %s, at %s %s µs; the fill's windows: %s)", \
			     add_b / add_a, add_b, add_a, add_n1, add_nm, add_t1, max, ABT, \
			     a != "" && b != "" && a > 0 ? sprintf("%.2f×", b / a) : "—"))
		} else if (a != "" && b != "" && a > 0)
			goal("igdd " on " at " max " within 1.5× of at 100", b / a <= 1.5, sprintf("%.2f×", b / a))
		else
			goal("igdd " on " at " max " within 1.5× of at 100", -1, "not measured")
	}
	cell(ig, "pmp_map_med_us_1_mid", "us", "pmp", mid); a = VAL[ig]
	cell(mu, "pmp_map_med_us_1_mid", "us", "pmp", mid); b = VAL[mu]
	lb = has(mu, "mid_count") && V[mu, "mid_count"] + 0 < mid
	if (a != "" && b != "" && a > 0)
		goal("NAT-PMP new mapping at " mid ": igdd ≥ 50× faster", (b / a >= 50) ? 1 : lb ? -1 : 0, \
		     sprintf("%s%.0f× (miniupnpd at %s)", lb ? "≥ " : "", b / a, V[mu, "mid_count"]))
	else
		goal("NAT-PMP new mapping at " mid ": igdd ≥ 50× faster", -1, "not measured")
	# Decided with both daemons running at once when that ran (one
	# measurement per daemon, minutes apart, swings 0.5x-1.1x), else by those.
	for (i = 1; i <= 16; i += 15) {
		gt = "NAT-PMP external address req/s (" i " in flight) not below miniupnpd's"
		k = "pmp_pair_ext" i "_rps"
		a = V[ig, k] + 0; b = V[mu, k] + 0
		if (a > 0 && b > 0) {
			goal(gt " (both running at once, median of " nlist(V[ig, "pmp_pair_ext" i "_bursts"]) \
			     " bursts each)", a >= b, \
			     sprintf("%.2f× (%d vs %d; neighbouring bursts' ratio, median: %s)", a / b, a, b, \
				     V[ig, "pmp_pair_ext" i "_ratio"]))
			continue
		}
		cell(ig, "pmp_ext_rps_" i "_0", "rate", "pmp", 0); a = VAL[ig]
		cell(mu, "pmp_ext_rps_" i "_0", "rate", "pmp", 0); b = VAL[mu]
		if (a != "" && b != "" && b > 0)
			goal(gt " (one measurement each)", a >= b, sprintf("%.2f× (%d vs %d)", a / b, a, b))
		else
			goal(gt, -1, "not measured")
	}
	a = CPUM[ig]; b = CPUM[mu]
	lb = !has(mu, "mid_count") || V[mu, "mid_count"] + 0 < mid || has(mu, "crashed") || \
		V[mu, "delall_n_mid"] + 0 < mid
	ok_a = has(ig, "mid_count") && V[ig, "mid_count"] + 0 >= mid && V[ig, "delall_n_mid"] + 0 >= mid
	tick = 1 / (has(ig, "clk_tck") ? V[ig, "clk_tck"] : 100)
	if (ok_a && a != "" && b != "" && !has(ig, "upnp_na")) {
		aa = a > 0 ? a : tick
		goal("Daemon CPU for fill + list + delete of " mid ": igdd ≥ 50× less", \
		     (b / aa >= 50) ? 1 : lb ? -1 : 0, \
		     sprintf("%s%.0f× (%.2f s vs %.2f s%s)", (lb || a == 0) ? "≥ " : "", b / aa, a, b, \
			     lb ? ", miniupnpd's work incomplete" : ""))
	} else
		goal("Daemon CPU for fill + list + delete of " mid ": igdd ≥ 50× less", -1, "not measured")
	if (has(ig, "rss_kb_" max) && !has(ig, "upnp_na"))
		goal("igdd VmRSS at " max " ≤ 4 MiB", V[ig, "rss_kb_" max] + 0 <= 4096, fmt(V[ig, "rss_kb_" max], "kb") \
		     (has(ig, "anon_kb_" max) ? " (RssAnon " fmt(V[ig, "anon_kb_" max], "kb") ")" : ""))
	else
		goal("igdd VmRSS at " max " ≤ 4 MiB", -1, "not measured")
	if (has(ig, "binary_bytes") && has(mu, "binary_bytes"))
		goal("Stripped binary ≤ miniupnpd's", V[ig, "binary_bytes"] + 0 <= V[mu, "binary_bytes"] + 0, \
		     sprintf("%d vs %d bytes", V[ig, "binary_bytes"], V[mu, "binary_bytes"]))
	else
		goal("Stripped binary ≤ miniupnpd's", -1, "not measured")
	# Decided by the alternating rounds when there are any (the single
	# medians per size differ by ±30% between runs), else by those.
	n10 = abr(ig, 10); t10 = ABT; for (i = 1; i <= n10; i++) A10[i] = AB[i]
	nmx = abr(ig, abmax); tmx = ABT
	gt = "igdd new connection at " max " within 1.2× of at 10 (median of the per-round medians, alternating rounds)"
	if (n10 > 0 && nmx > 0 && !has(ig, "upnp_na")) {
		a = median(A10, n10); b = median(AB, nmx)
		goal(gt, abmax != max ? -1 : b <= 1.2 * a, \
		     sprintf((sprintf("%.2f", b / a) == "1.20" ? "%.3f" : "%.2f") "× (%.0f µs vs %.0f µs; %d + %d rounds: at 10 %s, at %s %s µs%s)", b / a, b, a, n10, nmx, \
			     t10, abmax, tmx, abmax != max ? "; fill stopped at " abmax : ""))
	} else if (has(ig, "conn_med_us_10") && has(ig, "conn_med_us_" max) && !has(ig, "upnp_na"))
		goal("igdd new connection at " max " within 1.2× of at 10 (one measurement each)", \
		     V[ig, "conn_med_us_" max] + 0 <= 1.2 * V[ig, "conn_med_us_10"], \
		     sprintf("%.2f× (%d µs vs %d µs)", V[ig, "conn_med_us_" max] / V[ig, "conn_med_us_10"], \
			     V[ig, "conn_med_us_" max], V[ig, "conn_med_us_10"]))
	else
		goal(gt, -1, "not measured")

	gt = "igdd: a 2nd request on a kept-alive connection costs ≤ 50% of a fresh connection's"
	if (has(ig, "ka_ratio") && num(V[ig, "ka_ratio"]) && !has(ig, "upnp_na"))
		goal(gt, V[ig, "ka_ratio"] <= 0.5, sprintf("%.0f%% (%d µs vs %d µs, client and daemon on one CPU; bursts %s%s)", \
		     V[ig, "ka_ratio"] * 100, V[ig, "ka_kept_med_us"], V[ig, "ka_fresh_med_us"], V[ig, "ka_ratio_bursts"], \
		     num(V[ig, "ka_cross_ratio"]) ? sprintf("; on two CPUs %.0f%%, %d µs vs %d µs", V[ig, "ka_cross_ratio"] * 100, \
		     V[ig, "ka_cross_kept_med_us"], V[ig, "ka_cross_fresh_med_us"]) : ""))
	else
		goal(gt, -1, "not measured")

	if (mode == "json") {
		printf "{\n  \"meta\": {"
		for (i = 1; i <= nm; i++) printf "%s\n    %s: %s", (i > 1 ? "," : ""), jstr(mk[i]), jval(M[mk[i]])
		printf "\n  }"
		split("igdd miniupnpd", DS, " ")
		for (j = 1; j <= 2; j++) {
			d = DS[j]
			printf ",\n  %s: {", jstr(d)
			for (i = 1; i <= nk[d]; i++)
				printf "%s\n    %s: %s", (i > 1 ? "," : ""), jstr(keys[d, i]), jval(V[d, keys[d, i]])
			printf "\n  }"
		}
		printf ",\n  \"table\": ["
		for (i = 1; i <= R; i++)
			printf "%s\n    [%s, %s, %s, %s]", (i > 1 ? "," : ""), jstr(RL[i]), jstr(RA[i]), jstr(RB[i]), jstr(RR[i])
		printf "\n  ],\n  \"goals\": ["
		for (i = 1; i <= G; i++)
			printf "%s\n    {\"goal\": %s, \"measured\": %s, \"status\": %s}", (i > 1 ? "," : ""), \
				jstr(GT[i]), jstr(GM[i]), jstr(GS[i])
		printf "\n  ]\n}\n"
		exit
	}
	printf "## igdd vs miniupnpd — %s\n\n", M["date"]
	printf "%s; igdd %s; %s; sizes %s (goal size %s); miniupnpd fill budget %s s%s; run took %s s.\n\n", \
		M["host"], M["igdd_commit"], M["miniupnpd_version"], M["sizes"], M["mid"], \
		M["fill_budget_s"], M["quick"] == 1 ? " (BENCH_QUICK)" : "", M["total_s"]
	printf "### Goals\n\n| Goal | Measured | Status |\n|---|---|---|\n"
	for (i = 1; i <= G; i++) printf "| %s | %s | %s |\n", GT[i], GM[i], GS[i]
	printf "\n### Measurements\n\n| | igdd | miniupnpd | igdd better by |\n|---|---|---|---|\n"
	for (i = 1; i <= R; i++) printf "| %s | %s | %s | %s |\n", RL[i], RA[i], RB[i], RR[i]
}
