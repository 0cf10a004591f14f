// lsnitch web UI: the Learn page. The policy `lsnitch learn` would print for a policy, cgroup
// or unit (the agent's "learn" command), shown as text and offered as an INI file to save.
"use strict";

// The query for what the form names: one of policy, cgroup, unit, the window, and whether
// per executable (by_exe=1: `lsnitch learn --by-exe`).
function learnQuery() {
	const q = new URLSearchParams();
	const kind = document.getElementById("l-kind").value;
	const what = kind === "policy" ? document.getElementById("l-policy").value :
		document.getElementById("l-name").value.trim();
	if (!what)
		return null;
	q.set(kind, what);
	q.set("since", String(-Number(document.getElementById("l-window").value)));
	if (document.getElementById("l-by-exe").checked)
		q.set("by_exe", "1");
	return q.toString();
}

async function learnShow() {
	const q = learnQuery();
	const out = document.getElementById("l-ini");
	const dl = document.getElementById("l-download");
	if (!q) {
		ln.showError("Name a policy, cgroup or unit first.");
		return;
	}
	const r = await ln.api("/api/learn?" + q);
	if (!r.body.ok) {
		// an earlier answer stays no longer: it is not what this form asks
		document.getElementById("l-result").hidden = true;
		ln.showError("No policy learned: " + (r.body.error || r.status));
		return;
	}
	ln.showError("");
	out.textContent = r.body.lines.join("\n") + "\n";
	const exes = r.body.exe_policies || 0;
	document.getElementById("l-summary").textContent = "Policy " + r.body.policy +
		(exes ? " and " + exes + " exe polic" + (exes === 1 ? "y" : "ies") : "") + ": " +
		r.body.rules + " rule" + (r.body.rules === 1 ? "" : "s") +
		". Review it, then put it in rules.d/ and reload.";
	dl.href = "/api/learn.ini?" + q;
	dl.hidden = false;
	document.getElementById("l-result").hidden = false;
}

function learnKind() {
	const policy = document.getElementById("l-kind").value === "policy";
	document.getElementById("l-policy").hidden = !policy;
	document.getElementById("l-name").hidden = policy;
}

ln.pages["/learn"] = async function () {
	const sel = document.getElementById("l-policy");
	const st = await ln.fetchOk("/api/status");
	for (const p of (st && st.policies) || []) {
		const o = ln.el("option", p.name);
		o.value = p.name;
		sel.appendChild(o);
	}
	document.getElementById("l-kind").addEventListener("change", learnKind);
	document.getElementById("l-go").addEventListener("click", learnShow);
	learnKind();
};
