/* admin.js - the admin page: every mapping, live (GET /api/state, held by
 * the gateway until something changes or a few seconds pass), the form
 * that adds a forward, a Delete button per row, log out.  Text from the
 * gateway only ever goes into textContent: markup in a description is
 * shown, never parsed. */
'use strict';
(function () {
	var csrf = '', gen = null, rows = new Map(), fetchedAt = 0, failures = 0;
	var tbody = document.querySelector('#maps tbody');
	var FIELDS = ['protocol', 'external_port', 'internal_client', 'internal_port',
		'description', 'lease'];
	var COLS = ['Source', 'Protocol', 'External port', 'Internal host', 'Internal port',
		'Remote host', 'Description', 'Lease', 'Packets', 'Bytes', ''];
	var SOURCES = { manual: 'Manual', upnp: 'UPnP', natpmp: 'NAT-PMP', pcp: 'PCP' };

	function $(id) { return document.getElementById(id); }
	function toLogin() { location.href = '/login'; }

	function dur(s) {
		var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
			m = Math.floor(s % 3600 / 60), r = s % 60;
		return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m ? m + 'm ' + r + 's' : r + 's';
	}
	function bytes(n) {
		var u = ['B', 'kB', 'MB', 'GB', 'TB'], i = 0;
		while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
		return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
	}

	/* A change: a form POST with the session's CSRF token (field and header). */
	function post(path, data) {
		var body = new URLSearchParams(data);
		body.set('csrf', csrf);
		return fetch(path, { method: 'POST', body: body, credentials: 'same-origin',
			headers: { 'X-CSRF-Token': csrf } }).then(function (r) {
			if (r.status === 401) { toLogin(); throw new Error('login'); }
			if (r.status === 413)
				return { ok: false, error: 'The form is too large for the gateway.' };
			return r.json().catch(function () {
				return { ok: false, error: 'The gateway answered ' + r.status + '.' };
			});
		});
	}

	/* A row's key, and what Delete sends: a port mapping by its external
	 * port and remote host, an IPv6 pinhole ("pinhole": true; its
	 * external_port is the port open from outside) by its UniqueID. */
	function isPin(m) { return m.pinhole === true; }
	function keyOf(m) {
		return isPin(m) ? 'pin/' + m.unique_id
			: m.protocol + '/' + m.external_port + '/' + m.remote_host;
	}
	function delFields(m) {
		return isPin(m) ? { unique_id: m.unique_id } : { protocol: m.protocol,
			external_port: m.external_port, remote_host: m.remote_host };
	}

	function leaseText(m) {
		if (!m.lease_remaining) return 'permanent';
		var left = m.lease_remaining - Math.floor((Date.now() - fetchedAt) / 1000);
		return dur(left > 0 ? left : 0);
	}

	function cellTexts(m, hosts) {
		var host = hosts[m.internal_client];
		return [(SOURCES[m.source] || m.source) + (isPin(m) ? ' (IPv6)' : ''),
			m.protocol.toUpperCase(), String(m.external_port),
			host ? host + ' (' + m.internal_client + ')' : m.internal_client,
			String(m.internal_port), m.remote_host || 'any', m.description,
			leaseText(m), String(m.packets), bytes(m.bytes)];
	}

	function del(m) {
		var what = (isPin(m) ? 'pinhole ' : '') + m.protocol.toUpperCase() + ' ' +
			m.external_port + ' \u2192 ' + m.internal_client + ':' + m.internal_port;
		if (!window.confirm('Delete the mapping ' + what + '?')) return;
		post('/api/delete', delFields(m)).then(function (res) {
			if (!res.ok) window.alert('Not deleted: ' + (res.error || 'refused'));
		}).catch(function () {});
	}

	function newRow(m) {
		var tr = document.createElement('tr'), i, td, b;
		for (i = 0; i < COLS.length; i++) {
			td = document.createElement('td');
			td.setAttribute('data-label', COLS[i]);
			if (i === 2 || i === 4 || i >= 8 && i <= 9) td.className = 'num';
			tr.appendChild(td);
		}
		b = document.createElement('button');
		b.type = 'button';
		b.className = 'del';
		b.textContent = 'Delete';
		td.appendChild(b);
		tr.className = 'new';
		setTimeout(function () { tr.className = ''; }, 3000);
		return { tr: tr, button: b };
	}

	function renderTable(st) {
		var seen = new Set(), hosts = st.hosts || {}, list = st.mappings || [];
		list.forEach(function (m) {
			var k = keyOf(m), r = rows.get(k), t, i;
			if (!r) {
				r = newRow(m);
				rows.set(k, r);
			}
			r.m = m;
			r.button.onclick = function () { del(r.m); };
			t = cellTexts(m, hosts);
			for (i = 0; i < t.length; i++)
				if (r.tr.cells[i].textContent !== t[i]) r.tr.cells[i].textContent = t[i];
			tbody.appendChild(r.tr);	/* in the gateway's order */
			seen.add(k);
		});
		rows.forEach(function (r, k) {
			if (!seen.has(k)) { r.tr.remove(); rows.delete(k); }
		});
		$('count').textContent = '(' + list.length + ')';
		$('empty').hidden = list.length !== 0;
	}

	function renderStatus(st) {
		var s = st.status || {}, x = s.external || {}, c = st.stats || {}, req = c.requests || {};
		var items = [
			['External address', (x.address || 'unknown') + (x.source === 'ext_ip'
				? ' (ext_ip in the configuration)' : ' (from ' + x.interface + ')')],
			['Link', x.link === 'up' ? 'up' : 'down'],
			['Uptime', dur(s.uptime || 0)],
			['Mappings', String((c.mappings || {}).total || 0)],
			['Requests', 'UPnP ' + (req.upnp || 0) + ', NAT-PMP ' + (req.natpmp || 0) +
				', PCP ' + (req.pcp || 0) + ', HTTP ' + (req.http || 0)],
			['Version', 'igdd ' + (s.version || '')],
		];
		if (st.counters_error) items.push(['Counters', st.counters_error]);
		var dl = $('status-list');
		while (dl.firstChild) dl.removeChild(dl.firstChild);
		items.forEach(function (it) {
			var dt = document.createElement('dt'), dd = document.createElement('dd');
			dt.textContent = it[0];
			dd.textContent = it[1];
			dl.appendChild(dt);
			dl.appendChild(dd);
		});
	}

	function apply(st) {
		csrf = st.csrf || csrf;
		gen = st.generation;
		fetchedAt = Date.now();
		renderTable(st);
		renderStatus(st);
		$('live').textContent = 'Live; updated ' + new Date().toLocaleTimeString();
	}

	function poll() {
		var url = '/api/state' + (gen === null ? '' : '?since=' + gen);
		fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
			if (r.status === 401) { toLogin(); return null; }
			if (!r.ok) throw new Error('HTTP ' + r.status);
			return r.json();
		}).then(function (st) {
			if (!st) return;
			failures = 0;
			apply(st);
			setTimeout(poll, 100);
		}).catch(function () {
			failures++;
			$('live').textContent = 'The gateway does not answer; trying again.';
			setTimeout(poll, failures > 3 ? 5000 : 1000);
		});
	}

	function showErrors(res) {
		var errs = res.errors || {}, first = null;
		FIELDS.forEach(function (f) {
			var msg = errs[f] || '';
			$('err-' + f).textContent = msg;
			$(f).setAttribute('aria-invalid', msg ? 'true' : 'false');
			if (msg && !first) first = $(f);
		});
		$('err-form').textContent = res.ok ? '' : res.error || '';
		if (first) first.focus();
	}

	$('add').addEventListener('submit', function (ev) {
		var data = {}, btn = $('add-button');
		ev.preventDefault();
		FIELDS.forEach(function (f) { data[f] = $(f).value; });
		btn.disabled = true;
		$('add-done').textContent = '';
		post('/api/forward', data).then(function (res) {
			showErrors(res);
			if (res.ok) {
				$('add-done').textContent = 'Added ' + data.protocol.toUpperCase() + ' ' +
					data.external_port + ' \u2192 ' + data.internal_client + ':' +
					data.internal_port + '.';
				['external_port', 'internal_port', 'description', 'lease'].forEach(
					function (f) { $(f).value = ''; });
			}
		}).catch(function () {}).then(function () { btn.disabled = false; });
	});

	$('logout').addEventListener('click', function () {
		post('/logout', {}).catch(function () {}).then(toLogin);
	});

	/* Leases count down between two answers. */
	setInterval(function () {
		rows.forEach(function (r) {
			var t = leaseText(r.m);
			if (r.tr.cells[7].textContent !== t) r.tr.cells[7].textContent = t;
		});
	}, 1000);

	poll();
})();
