// lsnitch web UI: what every page shares. Text from the agent only ever goes in through
// textContent, never parsed as markup, so a process or DNS name such as "<script>" stays text.
"use strict";

const ln = {
	csrf: "",
	pages: {}, // path -> the function that starts that page (set by each page's script)

	// An element with @text as its text (not markup) and @cls as its class.
	el(tag, text, cls) {
		const e = document.createElement(tag);
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		if (cls)
			e.className = cls;
		return e;
	},

	clear(e) {
		while (e.firstChild)
			e.removeChild(e.firstChild);
	},

	// Rows of a <dl>: [[term, value], ...].
	fillList(dl, pairs) {
		ln.clear(dl);
		for (const [k, v] of pairs) {
			dl.appendChild(ln.el("dt", k));
			dl.appendChild(ln.el("dd", v));
		}
	},

	showError(msg) {
		const p = document.getElementById("error");
		p.textContent = msg || "";
		p.hidden = !msg;
	},

	async api(path, opts) {
		opts = opts || {};
		opts.credentials = "same-origin";
		opts.headers = Object.assign({}, opts.headers || {});
		if (opts.method === "POST")
			opts.headers["X-CSRF-Token"] = ln.csrf;
		const r = await fetch(path, opts);
		if (r.status === 401) {
			window.location.href = "/login";
			throw new Error("not logged in");
		}
		const body = r.status === 204 ? {} : await r.json();
		return { status: r.status, body: body };
	},

	// The agent's JSON answer at @path, or null (the error shown) if it did not answer.
	async fetchOk(path) {
		const r = await ln.api(path);
		if (!r.body.ok) {
			ln.showError("The agent does not answer: " + (r.body.error || r.status));
			return null;
		}
		ln.showError("");
		return r.body;
	},

	async init() {
		const s = await ln.api("/api/session");
		ln.csrf = s.body.csrf;
		document.getElementById("logout").addEventListener("click", async () => {
			await ln.api("/logout", { method: "POST" });
			window.location.href = "/login";
		});
	},
};

// One document holds every page: the one for this path is shown and started.
document.addEventListener("DOMContentLoaded", () => {
	const path = window.location.pathname;
	for (const d of document.querySelectorAll(".page")) {
		d.hidden = d.dataset.page !== path;
		if (!d.hidden)
			document.title = "lsnitch — " + d.dataset.title;
	}
	ln.init().then(() => {
		if (Object.prototype.hasOwnProperty.call(ln.pages, path))
			ln.pages[path]();
	}).catch((e) => ln.showError(String(e)));
});
