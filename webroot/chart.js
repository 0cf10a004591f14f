// lsnitch web UI: a stacked bar chart of verdicts over time, drawn as SVG by hand (no library:
// nothing to download, nothing inline for the CSP). Names go in through textContent only.
"use strict";

const chart = {
	ns: "http://www.w3.org/2000/svg",
	// the verdicts stacked from the bottom, and their colours (a legend says which is which)
	verdicts: [["allow", "#43a047"], ["would-deny", "#fb8c00"], ["deny", "#e53935"],
		   ["redirect", "#90a4ae"]],
	width: 900, height: 150, left: 56, bottom: 22, top: 8,

	svg(tag, attrs, text) {
		const e = document.createElementNS(chart.ns, tag);
		for (const [k, v] of Object.entries(attrs || {}))
			e.setAttribute(k, String(v));
		if (text !== undefined)
			e.textContent = String(text);
		return e;
	},

	// The largest stack of @group (at least 1, so that an empty chart still has an axis).
	peak(group, slots) {
		let max = 1;
		for (let i = 0; i < slots; i++) {
			let sum = 0;
			for (const [v] of chart.verdicts)
				sum += (group[v] || [])[i] || 0;
			max = Math.max(max, sum);
		}
		return max;
	},

	axes(s, series, max) {
		const h = chart.height - chart.bottom, w = chart.width;
		const fmt = (t) => new Date(t * 1000).toLocaleString([], {
			month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
		const end = series.start + series.step * series.slots;
		s.appendChild(chart.svg("line", { x1: chart.left, y1: h, x2: w, y2: h,
						  stroke: "#90a4ae" }));
		s.appendChild(chart.svg("line", { x1: chart.left, y1: chart.top, x2: chart.left,
						  y2: h, stroke: "#90a4ae" }));
		s.appendChild(chart.svg("text", { x: chart.left - 4, y: chart.top + 10,
						  "text-anchor": "end", class: "tick" }, max));
		s.appendChild(chart.svg("text", { x: chart.left - 4, y: h, "text-anchor": "end",
						  class: "tick" }, 0));
		s.appendChild(chart.svg("text", { x: chart.left, y: chart.height - 4,
						  class: "tick" }, fmt(series.start)));
		s.appendChild(chart.svg("text", { x: w, y: chart.height - 4, "text-anchor": "end",
						  class: "tick" }, fmt(end)));
	},

	// One bar per slot, its verdicts stacked; each piece says what it is on hover.
	bars(s, group, series, max) {
		const h = chart.height - chart.bottom - chart.top;
		const bw = (chart.width - chart.left) / series.slots;
		for (let i = 0; i < series.slots; i++) {
			let y = chart.height - chart.bottom;
			for (const [v, colour] of chart.verdicts) {
				const n = (group[v] || [])[i] || 0;
				if (!n)
					continue;
				const bh = Math.max(1, n / max * h);
				y -= bh;
				const r = chart.svg("rect", { x: chart.left + i * bw + 0.5, y: y,
							      width: Math.max(1, bw - 1), height: bh,
							      fill: colour, class: "bar-" + v });
				const t = new Date((series.start + i * series.step) * 1000);
				r.appendChild(chart.svg("title", {}, n + " " + v + " at " +
							t.toLocaleString()));
				s.appendChild(r);
			}
		}
	},

	// An <svg> for @group (its name, its verdict arrays) over @series' slots.
	draw(group, series) {
		const s = chart.svg("svg", { viewBox: "0 0 " + chart.width + " " + chart.height,
					     class: "chart", role: "img" });
		const max = chart.peak(group, series.slots);
		s.appendChild(chart.svg("title", {}, "Verdicts of " + group.name + " over time"));
		chart.axes(s, series, max);
		chart.bars(s, group, series, max);
		return s;
	},

	legend() {
		const p = ln.el("p", undefined, "legend");
		for (const [v, colour] of chart.verdicts) {
			const s = chart.svg("svg", { width: 12, height: 12, class: "swatch" });
			s.appendChild(chart.svg("rect", { width: 12, height: 12, fill: colour }));
			p.appendChild(s);
			p.appendChild(ln.el("span", v));
		}
		return p;
	},
};
