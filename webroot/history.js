// lsnitch web UI: the History page. Verdicts over time per policy or unit (chart.js), the top
// destinations, and a destination's flows (drill-down) with the rule's file:line. The data is
// the agent's "history" command (GET /api/history), never the database itself. A flow's
// allow/deny buttons add a rule to its policy, with undo, as on the Live page (live.js).
"use strict";

const hist = { dest: null, box: actionBox("h-") };

function histQuery(extra) {
	const q = new URLSearchParams();
	q.set("since", String(-Number(document.getElementById("h-window").value)));
	for (const [id, key] of [["h-policy", "policy"], ["h-verdict", "verdict"]]) {
		const v = document.getElementById(id).value;
		if (v)
			q.set(key, v);
	}
	for (const [k, v] of Object.entries(extra || {}))
		q.set(k, String(v));
	return "/api/history?" + q.toString();
}

function histCharts(series) {
	const box = document.getElementById("charts");
	ln.clear(box);
	box.appendChild(chart.legend());
	if (!series.groups.length)
		box.appendChild(ln.el("p", "No verdicts in this window.", "hint"));
	for (const g of series.groups) {
		const fig = document.createElement("figure");
		fig.appendChild(ln.el("figcaption", (series.by === "unit" ? "unit " : "policy ") +
				      g.name));
		fig.appendChild(chart.draw(g, series));
		box.appendChild(fig);
	}
}

// The flows summed per destination (its name, else its address) and port/protocol.
function histTopDests(flows, n) {
	const by = new Map();
	for (const f of flows) {
		const key = (f.name || f.addr) + " " + f.port + "/" + f.proto;
		const d = by.get(key) || { dest: f.name || f.addr, pp: f.port + "/" + f.proto,
					   total: 0, allow: 0, deny: 0, last: 0, policies: new Set() };
		d.total += f.count;
		if (f.verdict === "allow")
			d.allow += f.count;
		else if (f.verdict === "deny" || f.verdict === "would-deny")
			d.deny += f.count;
		d.last = Math.max(d.last, f.last);
		d.policies.add(f.policy);
		by.set(key, d);
	}
	return [...by.values()].sort((a, b) => b.total - a.total).slice(0, n);
}

function histTop(flows) {
	const tb = document.querySelector("#top tbody");
	ln.clear(tb);
	for (const d of histTopDests(flows, 20)) {
		const tr = document.createElement("tr");
		for (const c of [d.total, d.allow, d.deny, d.dest, d.pp, [...d.policies].join(", "),
				 new Date(d.last * 1000).toLocaleString()])
			tr.appendChild(ln.el("td", c));
		const td = document.createElement("td");
		const b = ln.el("button", "flows");
		b.type = "button";
		b.addEventListener("click", () => histDrill(d.dest));
		td.appendChild(b);
		tr.appendChild(td);
		if (d.deny)
			tr.className = "warn";
		tb.appendChild(tr);
	}
}

function histFlowRow(f) {
	const tr = document.createElement("tr");
	for (const c of [f.count, f.verdict, f.policy, f.unit, f.cgroup, f.addr, f.name || "-",
			 f.port + "/" + f.proto, f.reason, f.rule,
			 new Date(f.first * 1000).toLocaleString(),
			 new Date(f.last * 1000).toLocaleString(),
			 f.exe || "-", f.container ? f.container.slice(0, 12) : "-"])
		tr.appendChild(ln.el("td", c));
	tr.appendChild(ruleActions(hist.box, f));
	tr.className = "v-" + f.verdict;
	return tr;
}

// Every flow to @dest (an address or a name) in the window: who, how, by which rule.
async function histDrill(dest) {
	hist.dest = dest;
	const o = await ln.fetchOk(histQuery({ dest: dest, limit: 500 }));
	if (!o)
		return;
	document.getElementById("flows-title").textContent = "Flows to " + dest;
	const tb = document.querySelector("#flows tbody");
	ln.clear(tb);
	for (const f of o.flows)
		tb.appendChild(histFlowRow(f));
	document.getElementById("drill").hidden = false;
}

async function histRefresh() {
	const by = document.getElementById("h-by").value;
	const o = await ln.fetchOk(histQuery({ step: 60, by: by, limit: 1000 }));
	if (!o)
		return;
	histCharts(o.series);
	histTop(o.flows);
	document.getElementById("h-lost").textContent = o.lost ?
		o.lost + " verdicts were not counted (the kernel's flow table was full)." : "";
	if (hist.dest)
		histDrill(hist.dest);
}

// The policy filter offers the policies in force.
async function histPolicies(select) {
	const st = await ln.fetchOk("/api/status");
	for (const p of (st && st.policies) || []) {
		const o = ln.el("option", p.name);
		o.value = p.name;
		select.appendChild(o);
	}
}

ln.pages["/history"] = async function () {
	await histPolicies(document.getElementById("h-policy"));
	for (const id of ["h-window", "h-by", "h-policy", "h-verdict"])
		document.getElementById(id).addEventListener("change", histRefresh);
	document.getElementById("h-refresh").addEventListener("click", histRefresh);
	document.getElementById("h-undo").addEventListener("click",
		() => ruleUndo(hist.box).catch((e) => ln.showError(String(e))));
	await histRefresh();
};
