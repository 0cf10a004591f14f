// lsnitch web UI: the Status page (agent health, guarded cgroups, counters, DNS, reload).
"use strict";

function statusShow(st) {
	const g = st.generation || {};
	const r = st.last_reload;
	ln.fillList(document.getElementById("agent"), [
		["Version", st.version], ["PID", st.pid], ["Up for", st.uptime_sec + " s"],
		["Loaded", g.loaded_at ? new Date(g.loaded_at * 1000).toLocaleString() : "-"],
		["Load time", g.load_ms !== undefined ? g.load_ms.toFixed(1) + " ms" : "-"],
		["Bound cgroups", g.bound],
		["Last reload", r ? (r.ok ? "ok" : "failed: " + r.error) : "none since start"],
		["Control clients", st.clients],
	]);
	const ul = document.getElementById("cgroups");
	ln.clear(ul);
	for (const c of st.cgroups || [])
		ul.appendChild(ln.el("li", c));
	ln.fillList(document.getElementById("counters"), Object.entries(st.counters || {}));
	ln.fillList(document.getElementById("dns"),
		    st.dns ? Object.entries(st.dns) : [["DNS proxy", "off"]]);
}

async function statusRefresh() {
	const st = await ln.fetchOk("/api/status");
	if (st)
		statusShow(st);
}

ln.pages["/"] = function () {
	document.getElementById("reload").addEventListener("click", async () => {
		const out = document.getElementById("reload-result");
		const r = await ln.api("/api/reload", { method: "POST" });
		// a refused configuration comes back as the agent's file:line: reason
		out.textContent = r.body.ok ? "Reloaded." : "Not reloaded: " + r.body.error;
		out.className = r.body.ok ? "ok" : "error";
		statusRefresh();
	});
	statusRefresh();
	setInterval(statusRefresh, 5000);
};
