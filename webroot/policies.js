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
	const r = await ln.api("/api/status");
	if (!r.body.ok) {
		ln.showError("The agent does not answer: " + (r.body.error || r.status));
		return;
	}
	ln.showError("");
	const tb = document.querySelector("#policies tbody");
	ln.clear(tb);
	for (const p of r.body.policies || [])
		tb.appendChild(policyRow(p));
	const g = r.body.generation || {};
	ln.fillList(document.getElementById("generation"), [
		["Loaded", g.loaded_at ? new Date(g.loaded_at * 1000).toLocaleString() : "-"],
		["Load time", g.load_ms !== undefined ? g.load_ms.toFixed(1) + " ms" : "-"],
		["Guarded cgroup trees", (r.body.cgroups || []).join(", ")],
	]);
}

window.lnPage = function () {
	policiesRefresh();
	setInterval(policiesRefresh, 10000);
};
