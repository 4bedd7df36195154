# scale_median.awk - several runs of bench/scale.sh as one: each key's
# median over the runs that have it (nearest rank, lower middle); a key
# whose values are not numbers keeps the last run's value, and
# meta_runs says how many runs went in.
#   awk -f bench/scale_median.awk run1.kv run2.kv run3.kv >median.kv
{
	i = index($0, "=")
	if (i == 0)
		next
	k = substr($0, 1, i - 1); v = substr($0, i + 1)
	if (FILENAME != last) { runs++; last = FILENAME }
	if (!(k in n)) order[++nk] = k
	val[k, ++n[k]] = v
	if (v !~ /^-?[0-9]+(\.[0-9]+)?$/) text[k] = v
}

END {
	for (j = 1; j <= nk; j++) {
		k = order[j]
		if (k in text || k ~ /^meta_/) {
			print k "=" (k in text ? text[k] : val[k, n[k]])
			continue
		}
		m = n[k]
		for (a = 1; a <= m; a++) s[a] = val[k, a] + 0
		for (a = 2; a <= m; a++)	# insertion sort: a few runs
			for (b = a; b > 1 && s[b - 1] > s[b]; b--) { t = s[b]; s[b] = s[b - 1]; s[b - 1] = t }
		print k "=" s[int((m + 1) / 2)]
	}
	print "meta_runs=" runs
}
