// SPDX-License-Identifier: GPL-2.0
/*
 * The control commands over the flow history: "history" (the aggregated flows, and a series of
 * verdicts per policy or unit for charts) and "learn" (a policy from them, as INI). They read the
 * database on a read-only connection of their own (WAL: the drain is never blocked), with a time
 * budget: the loop they run on also serves the DNS proxy and the events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "agent.h"
#include "control_cmds.h"
#include "history.h"
#include "../cli/histdb.h"
#include "../cli/learn_run.h"

#define HIST_BUDGET_MS 500  /* a query that takes longer is stopped */
#define HIST_LIMIT_MAX 5000 /* flows in one answer */
#define HIST_SLOTS_MAX 240  /* points of a series */
#define HIST_GROUPS_MAX 32  /* series; the rest is summed as "(other)" */

static const char *const verdicts[] = {"allow", "deny", "would-deny", "redirect"};
#define N_VERDICTS (sizeof(verdicts) / sizeof(verdicts[0]))

/* A request's filter and its own copies of the strings (req's json lives as long). */
struct hist_req {
	struct hq q;
	int64_t step;	/* series: seconds per slot; 0: no series */
	const char *by; /* "policy" or "unit" */
};

static const char *opt_str(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string) ||
	    !*json_object_get_string(v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t opt_int(json_object *req, const char *key, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

/* "since"/"until": Unix seconds, or seconds before now when 0 or less ("since": -3600). */
static int64_t opt_time(json_object *req, const char *key, int64_t now, int64_t def)
{
	int64_t t = opt_int(req, key, def);

	return t <= 0 ? now + t : t;
}

static int hist_parse(json_object *req, struct hist_req *h, struct ln_error *err)
{
	int64_t now = time(NULL), span, limit = opt_int(req, "limit", 100);
	const char *cg = opt_str(req, "cgroup");

	h->q.until = opt_time(req, "until", now, 0);
	h->q.since = opt_time(req, "since", now, h->q.until - 86400);
	if (h->q.since > h->q.until)
		return ln_err(err, -EINVAL, "since is after until");
	h->q.policy = opt_str(req, "policy");
	h->q.unit = opt_str(req, "unit");
	h->q.verdict = opt_str(req, "verdict");
	h->q.dest = opt_str(req, "dest");
	h->q.exe = opt_str(req, "exe");
	h->q.container = opt_str(req, "container");
	h->q.sort = opt_str(req, "sort");
	if (cg) {
		hq_cgroup_norm(cg, h->q.cgroup_buf, sizeof(h->q.cgroup_buf));
		h->q.cgroup = h->q.cgroup_buf;
	}
	h->q.limit = limit < 1 ? 1 : limit > HIST_LIMIT_MAX ? HIST_LIMIT_MAX : limit;
	h->by = opt_str(req, "by") ?: "policy";
	if (strcmp(h->by, "policy") && strcmp(h->by, "unit"))
		return ln_err(err, -EINVAL, "by must be policy or unit");
	h->step = opt_int(req, "step", 0);
	span = h->q.until - h->q.since + 60;
	/* whole minutes (the buckets'), no more than HIST_SLOTS_MAX of them */
	if (h->step > 0 && h->step < (span + HIST_SLOTS_MAX - 1) / HIST_SLOTS_MAX)
		h->step = (span + HIST_SLOTS_MAX - 1) / HIST_SLOTS_MAX;
	if (h->step > 0)
		h->step = (h->step + 59) / 60 * 60;
	return hq_check(&h->q, err);
}

/* Stops a statement past its deadline (SQLite asks every few thousand steps). */
static int hist_over_budget(void *ud)
{
	const struct timespec *end = ud;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end->tv_sec ||
	       (now.tv_sec == end->tv_sec && now.tv_nsec > end->tv_nsec);
}

static const char *hist_path(const struct ln_manager *m)
{
	return m->opts.history ? m->opts.history : LN_HISTORY_PATH;
}

/* The database, read-only, with the budget set from now: 0 or -errno (@err). */
static int hist_open(const struct ln_manager *m, sqlite3 **db, struct timespec *end,
		     struct ln_error *err)
{
	const char *path = hist_path(m);

	if (!strcmp(path, "none"))
		return ln_err(err, -ENOENT, "the agent keeps no history (--history none)");
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_exec(*db, "SELECT 1 FROM buckets LIMIT 1", NULL, NULL, NULL) != SQLITE_OK) {
		ln_err(err, -EIO, "history %s: %s", path, *db ? sqlite3_errmsg(*db) : "no memory");
		sqlite3_close(*db);
		*db = NULL;
		return -EIO;
	}
	clock_gettime(CLOCK_MONOTONIC, end);
	end->tv_nsec += HIST_BUDGET_MS * 1000000L;
	end->tv_sec += end->tv_nsec / 1000000000L;
	end->tv_nsec %= 1000000000L;
	sqlite3_progress_handler(*db, 1000, hist_over_budget, end);
	return 0;
}

/* A query that failed: said plainly when it was the budget that stopped it. */
static int hist_failed(sqlite3 *db, int r, struct ln_error *err)
{
	if (sqlite3_errcode(db) == SQLITE_INTERRUPT)
		return ln_err(err, -ETIME,
			      "history: the query took over %d ms: ask for a shorter "
			      "window or fewer flows",
			      HIST_BUDGET_MS);
	return r;
}

/* ---- the flows ---- */

static void add_flow(const struct hq_flow *f, void *ud)
{
	json_object_array_add(ud, hq_flow_json(f));
}

/* ---- the series: one group per policy (or unit), a dense array per verdict ---- */

struct series {
	json_object *groups; /* array of {"name", "allow": [...], ...} */
	const char *by;
	size_t slots;
};

static json_object *group_new(const char *name, size_t slots)
{
	json_object *g = json_object_new_object();

	json_object_object_add(g, "name", json_object_new_string(name));
	for (size_t v = 0; v < N_VERDICTS; v++) {
		json_object *a = json_object_new_array_ext(slots);

		for (size_t i = 0; i < slots; i++)
			json_object_array_add(a, json_object_new_int64(0));
		json_object_object_add(g, verdicts[v], a);
	}
	return g;
}

/* The group called @name, made if new; past HIST_GROUPS_MAX, the "(other)" one. */
static json_object *group_of(struct series *s, const char *name)
{
	size_t n = json_object_array_length(s->groups);
	json_object *g, *v;

	for (size_t i = 0; i < n; i++) {
		g = json_object_array_get_idx(s->groups, i);
		if (json_object_object_get_ex(g, "name", &v) &&
		    !strcmp(json_object_get_string(v), name))
			return g;
	}
	if (n >= HIST_GROUPS_MAX && strcmp(name, "(other)"))
		return group_of(s, "(other)"); /* found, or made as the one past the cap */
	g = group_new(name, s->slots);
	json_object_array_add(s->groups, g);
	return g;
}

static void add_point(const struct hq_point *p, void *ud)
{
	struct series *s = ud;
	char unit[256];
	const char *name = !strcmp(s->by, "unit") ?
				   hq_unit_of(p->cgroup ?: "", unit, sizeof(unit)) :
				   p->policy ?: "-";
	json_object *a, *cell;

	if (p->slot < 0 || (size_t)p->slot >= s->slots || !p->verdict ||
	    !json_object_object_get_ex(group_of(s, name), p->verdict, &a))
		return;
	cell = json_object_array_get_idx(a, p->slot);
	json_object_set_int64(cell, json_object_get_int64(cell) + p->count);
}

static int hist_series(sqlite3 *db, const struct hist_req *h, json_object *o, struct ln_error *err)
{
	int64_t start = h->q.since - h->q.since % 60;
	struct series s = {
	    .groups = json_object_new_array(),
	    .by = h->by,
	    .slots = (size_t)((h->q.until - start) / h->step + 1),
	};
	json_object *so = json_object_new_object();
	int r;

	json_object_object_add(so, "start", json_object_new_int64(start));
	json_object_object_add(so, "step", json_object_new_int64(h->step));
	json_object_object_add(so, "slots", json_object_new_int64((int64_t)s.slots));
	json_object_object_add(so, "by", json_object_new_string(h->by));
	json_object_object_add(so, "groups", s.groups);
	json_object_object_add(o, "series", so);
	r = hq_series(db, &h->q, h->step, add_point, &s, err);
	return r < 0 ? hist_failed(db, r, err) : 0;
}

/*
 * {"cmd": "history", "since", "until" (Unix seconds, or 0 and less: before now), "policy" |
 * "cgroup" | "unit", "exe", "container", "verdict", "dest", "sort", "limit", "step" (seconds
 * per point: a series), "by" (the series per "policy" or "unit")}: {"flows": [...], "lost",
 * "series"}.
 */
int ln_ctl_history(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		   struct ln_error *err)
{
	struct hist_req h = {};
	json_object *o, *flows;
	struct timespec end;
	int64_t lost = 0;
	sqlite3 *db = NULL;
	int r;

	r = hist_parse(req, &h, err);
	r = r ?: hist_open(ctx->m, &db, &end, err);
	if (r < 0)
		return r;
	o = json_object_new_object();
	flows = json_object_new_array();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "since", json_object_new_int64(h.q.since));
	json_object_object_add(o, "until", json_object_new_int64(h.q.until));
	json_object_object_add(o, "flows", flows);
	r = hq_run(db, &h.q, add_flow, flows, &lost, err);
	if (r < 0)
		r = hist_failed(db, r, err);
	json_object_object_add(o, "lost", json_object_new_int64(lost));
	if (r >= 0 && h.step > 0)
		r = hist_series(db, &h, o, err);
	sqlite3_close(db);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*reply = o;
	return 0;
}

/* @text's lines, without their newlines. */
static json_object *text_lines(const char *text)
{
	json_object *a = json_object_new_array();

	for (const char *p = text, *nl; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		json_object_array_add(a, json_object_new_string_len(p, (int)(nl - p)));
		if (!*nl)
			break;
	}
	return a;
}

/*
 * {"cmd": "learn", "policy" | "cgroup" | "unit", "since", "until", "by_exe"}: {"policy",
 * "rules", "exe_policies", "lines"}, the lines `lsnitch learn [--by-exe]` prints.
 */
int ln_ctl_learn(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		 struct ln_error *err)
{
	struct hist_req h = {};
	struct learn_text t;
	struct timespec end;
	sqlite3 *db = NULL;
	json_object *v;
	int r;

	r = hist_parse(req, &h, err);
	if (!r && !h.q.policy && !h.q.cgroup && !h.q.unit)
		r = ln_err(err, -EINVAL, "learn: a policy, cgroup or unit, please");
	if (!r && json_object_object_get_ex(req, "by_exe", &v) &&
	    !json_object_is_type(v, json_type_boolean))
		r = ln_err(err, -EINVAL, "learn: by_exe must be true or false");
	r = r ?: hist_open(ctx->m, &db, &end, err);
	if (r < 0)
		return r;
	h.q.limit = 0; /* every flow of the window */
	h.q.by_exe = json_object_object_get_ex(req, "by_exe", &v) && json_object_get_boolean(v);
	r = learn_text_run(db, &h.q, hist_path(ctx->m), &t, err);
	if (r < 0)
		r = hist_failed(db, r, err);
	sqlite3_close(db);
	if (r < 0)
		return r;
	*reply = json_object_new_object();
	json_object_object_add(*reply, "ok", json_object_new_boolean(1));
	json_object_object_add(*reply, "policy", json_object_new_string(t.name));
	json_object_object_add(*reply, "rules", json_object_new_int64((int64_t)t.rules));
	json_object_object_add(*reply, "exe_policies", json_object_new_int64((int64_t)t.exes));
	/* lines: a client makes a string's control characters visible (\x0a) */
	json_object_object_add(*reply, "lines", text_lines(t.text));
	learn_text_free(&t);
	return 0;
}
