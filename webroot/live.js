// lsnitch web UI: the Live page, the agent's events as server-sent events; filter, pause;
// allow/deny a destination for its policy (the agent's managed rules file), with undo -- the
// buttons the History page's flows carry too (ruleActions()).
"use strict";

// A page's "Added ... [Undo]" line: the ids of its paragraph, text and button; the last rule.
function actionBox(prefix) {
	return { p: prefix + "action", text: prefix + "action-text", undo: prefix + "undo",
		 added: null };
}

const live = { paused: false, max: 500, source: null, box: actionBox("") };

function liveMatches(tr) {
	const f = document.getElementById("filter").value.toLowerCase();
	const v = document.getElementById("verdict").value;
	if (v && tr.dataset.verdict !== v)
		return false;
	return !f || tr.textContent.toLowerCase().includes(f);
}

function liveRow(ev) {
	const tr = document.createElement("tr");
	const dest = ev.addr !== undefined ? ev.addr + (ev.port ? " port " + ev.port : "") :
		(ev.dest || "");
	const cells = [
		new Date().toLocaleTimeString(), ev.verdict,
		(ev.unit && ev.unit !== "-" ? ev.unit + " " : "") + (ev.cgroup || ""),
		(ev.comm || "") + (ev.pid ? " [" + ev.pid + "]" : ""),
		(ev.proto ? ev.proto + " " : "") + dest, ev.name || "", ev.policy || "",
		ev.rule || "", ev.reason || "",
	];
	for (const c of cells)
		tr.appendChild(ln.el("td", c));
	tr.appendChild(ruleActions(live.box, ev));
	tr.dataset.verdict = ev.verdict || "";
	tr.className = "v-" + (ev.verdict || "none");
	return tr;
}

// Adds "VERDICT = DEST[:PORT][/PROTO]" to policy @ev.policy; @dest: its address or its name.
// @ev: an event or a history flow (policy, addr, name, port, proto); @box: actionBox().
async function ruleAdd(box, ev, verdict, dest) {
	const req = { policy: ev.policy, verdict: verdict, dest: dest };
	if (ev.port)
		req.port = Number(ev.port);
	if (ev.proto === "tcp" || ev.proto === "udp")
		req.proto = ev.proto;
	const r = await ln.api("/api/rule", {
		method: "POST", headers: { "Content-Type": "application/json" },
		body: JSON.stringify(req),
	});
	if (!r.body.ok) {
		ln.showError("Not added: " + (r.body.error || r.status));
		return;
	}
	ln.showError("");
	box.added = { line: r.body.line, text: r.body.text };
	document.getElementById(box.text).textContent =
		"Added to policy " + ev.policy + " at " + r.body.at + ": " + r.body.text;
	document.getElementById(box.p).hidden = false;
}

async function ruleUndo(box) {
	if (!box.added)
		return;
	const r = await ln.api("/api/rule/undo", {
		method: "POST", headers: { "Content-Type": "application/json" },
		body: JSON.stringify(box.added),
	});
	if (!r.body.ok) {
		ln.showError("Not undone: " + (r.body.error || r.status));
		return;
	}
	ln.showError("");
	box.added = null;
	document.getElementById(box.text).textContent = "Undone.";
	document.getElementById(box.undo).hidden = true;
}

function ruleButton(box, label, fn) {
	const b = ln.el("button", label);
	b.type = "button";
	b.addEventListener("click", () => {
		document.getElementById(box.undo).hidden = false;
		fn().catch((e) => ln.showError(String(e)));
	});
	return b;
}

// The row's buttons: allow/deny its address, and its DNS name when it has one; a policy only.
function ruleActions(box, ev) {
	const td = document.createElement("td");
	if (!ev.policy || ev.policy === "-" || ev.addr === undefined)
		return td;
	for (const v of ["allow", "deny"]) {
		td.appendChild(ruleButton(box, v, () => ruleAdd(box, ev, v, ev.addr)));
		if (ev.name)
			td.appendChild(ruleButton(box, v + " name", () => ruleAdd(box, ev, v, ev.name)));
	}
	return td;
}

function liveEvent(msg) {
	let ev;
	try {
		ev = JSON.parse(msg.data);
	} catch (e) {
		return;
	}
	if (live.paused)
		return;
	if (ev.type === "dropped") {
		document.getElementById("state").textContent = ev.count + " events dropped";
		return;
	}
	const tb = document.querySelector("#events tbody");
	const tr = liveRow(ev);
	tr.hidden = !liveMatches(tr);
	tb.insertBefore(tr, tb.firstChild);
	while (tb.rows.length > live.max)
		tb.deleteRow(-1);
}

function liveFilter() {
	for (const tr of document.querySelectorAll("#events tbody tr"))
		tr.hidden = !liveMatches(tr);
}

ln.pages["/live"] = function () {
	const state = document.getElementById("state");
	live.source = new EventSource("/api/events");
	live.source.onmessage = liveEvent;
	live.source.onopen = () => { state.textContent = "connected"; };
	live.source.onerror = () => { state.textContent = "reconnecting…"; };
	document.getElementById("filter").addEventListener("input", liveFilter);
	document.getElementById("verdict").addEventListener("change", liveFilter);
	document.getElementById("undo").addEventListener("click",
		() => ruleUndo(live.box).catch((e) => ln.showError(String(e))));
	document.getElementById("pause").addEventListener("click", (e) => {
		live.paused = !live.paused;
		e.target.textContent = live.paused ? "Resume" : "Pause";
	});
};
