// lsnitch web UI: the Policies page (every policy, where it is defined, what it is bound to).
"use strict";

function policyRow(p) {
	const tr = document.createElement("tr");
	const cells = [
		p.name, p.audit ? "audit" : "enforce", p.default, p.file,
		(p.unit ? "unit " + p.unit + " " : "") + (p.cgroups || []).join(", "),
		(p.bound || []).join(", ") || "-", p.rules, p.domain_rules, p.guarded ? "yes" : "NO",
	];
	for (const c of cells)
		tr.appendChild(ln.el("td", c));
	if (!p.guarded)
		tr.className = "warn";
	return tr;
}

async function policiesRefresh() {
	const st = await ln.fetchOk("/api/status");
	if (!st)
		return;
	const tb = document.querySelector("#policies tbody");
	ln.clear(tb);
	for (const p of st.policies || [])
		tb.appendChild(policyRow(p));
	const g = st.generation || {};
	ln.fillList(document.getElementById("generation"), [
		["Loaded", g.loaded_at ? new Date(g.loaded_at * 1000).toLocaleString() : "-"],
		["Load time", g.load_ms !== undefined ? g.load_ms.toFixed(1) + " ms" : "-"],
		["Guarded cgroup trees", (st.cgroups || []).join(", ")],
	]);
}

// One table per policy: its rules in order, each with the file:line it came from.
function rulesTable(p) {
	const t = document.createElement("table");
	const head = t.createTHead().insertRow();
	for (const h of ["Defined at", "As written"])
		head.appendChild(ln.el("th", h));
	const tb = t.createTBody();
	const rows = [p].concat(p.rules || [], p.domain_rules || [], p.default ? [p.default] : []);
	for (const r of rows) {
		const tr = tb.insertRow();
		tr.appendChild(ln.el("td", r.at));
		tr.appendChild(ln.el("td", r.text || ""));
	}
	return t;
}

async function rulesRefresh() {
	const rules = await ln.fetchOk("/api/rules");
	if (!rules)
		return;
	const div = document.getElementById("rules");
	ln.clear(div);
	for (const p of rules.policies || []) {
		div.appendChild(ln.el("h3", p.name + " (lists: " + p.blocked_hosts + " hosts, " +
				       p.blocked_domains + " domains)"));
		div.appendChild(rulesTable(p));
	}
	const g = rules.global || {};
	div.appendChild(ln.el("p", "Global lists: " + g.blocked_hosts + " hosts, " +
			      g.blocked_domains + " domains"));
}

ln.pages["/policies"] = function () {
	rulesRefresh();
	policiesRefresh();
	setInterval(policiesRefresh, 10000);
};
