// lsnitch web UI: the Live page, the agent's events as server-sent events; filter, pause.
"use strict";

const live = { paused: false, max: 500, source: null };

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
	tr.dataset.verdict = ev.verdict || "";
	tr.className = "v-" + (ev.verdict || "none");
	return tr;
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
	document.getElementById("pause").addEventListener("click", (e) => {
		live.paused = !live.paused;
		e.target.textContent = live.paused ? "Resume" : "Pause";
	});
};
