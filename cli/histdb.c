// SPDX-License-Identifier: GPL-2.0
/* The flow history, read-only: the filter's checks, the aggregated queries (CLI and agent). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "history_plan.h"
#include "lsnitch.h"
#include "rules.h"
#include "histdb.h"

/* --cgroup as the agent stores it: "/a/b", whatever slashes it was given with. */
void hq_cgroup_norm(const char *in, char *buf, size_t len)
{
	size_t n;

	while (*in == '/')
		in++;
	snprintf(buf, len, "/%s", in);
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
}

int hq_check(const struct hq *q, struct ln_error *err)
{
	static const char *const verdicts[] = { "allow", "deny", "would-deny", "redirect" };
	bool known = !q->verdict;

	for (size_t i = 0; !known && i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		known = !strcmp(q->verdict, verdicts[i]);
	if (!known)
		return ln_err(err, -EINVAL, "--verdict must be allow, deny, would-deny or redirect");
	if (!!q->policy + !!q->cgroup + !!q->unit > 1)
		return ln_err(err, -EINVAL, "one of --policy, --cgroup, --unit");
	if ((q->exe && !*q->exe) || (q->container && !*q->container))
		return ln_err(err, -EINVAL, "--exe and --container need a value");
	if (q->sort && strcmp(q->sort, "count") && strcmp(q->sort, "last") &&
	    strcmp(q->sort, "dest"))
		return ln_err(err, -EINVAL, "--sort must be count, last or dest");
	return 0;
}


/*
 * The WHERE clause of @q over the flow keys (the time is in the buckets'
 * query); the values are bound by hq_bind() in the same order (?8, ?9 are
 * hq_series()'s). A container id matches by its prefix, as runtimes shorten it.
 */
static void hq_where(const struct hq *q, char *buf, size_t len)
{
	snprintf(buf, len, "1%s%s%s%s%s%s%s",
		 q->policy ? " AND k.policy = ?3" : "",
		 q->cgroup ? " AND (k.cgroup = ?4 OR substr(k.cgroup, 1, length(?4) + 1) = ?4 || '/')"
			   : "",
		 q->unit ? " AND ('/' || k.cgroup || '/') LIKE '%/' || ?5 || '/%'" : "",
		 q->verdict ? " AND k.verdict = ?6" : "",
		 q->dest ? " AND (k.addr = ?7 OR k.name = ?7)" : "",
		 q->exe ? " AND k.exe = ?10" : "",
		 q->container ? " AND k.container <> '' AND substr(k.container, 1, length(?11)) = ?11"
			      : "");
}

static void hq_bind(sqlite3_stmt *st, const struct hq *q)
{
	const char *texts[] = { q->policy, q->cgroup, q->unit, q->verdict, q->dest };

	sqlite3_bind_int64(st, 1, q->since);
	sqlite3_bind_int64(st, 2, q->until);
	for (int i = 0; i < 5; i++)
		if (texts[i])
			sqlite3_bind_text(st, i + 3, texts[i], -1, SQLITE_STATIC);
	if (q->exe)
		sqlite3_bind_text(st, 10, q->exe, -1, SQLITE_STATIC);
	if (q->container)
		sqlite3_bind_text(st, 11, q->container, -1, SQLITE_STATIC);
}

static const char *hq_order(const struct hq *q)
{
	if (q->sort && !strcmp(q->sort, "last"))
		return "max(b.last) DESC, sum(b.count) DESC";
	if (q->sort && !strcmp(q->sort, "dest"))
		return "k.name, k.addr, k.port, sum(b.count) DESC";
	return "sum(b.count) DESC, max(b.last) DESC";
}

static void hq_row(sqlite3_stmt *st, struct hq_flow *f)
{
	const char **texts[] = { &f->cgroup, &f->policy, &f->addr, &f->name, &f->proto,
				 &f->verdict, &f->reason, &f->rule, &f->exe, &f->container };

	for (int i = 0; i < 10; i++) {
		const char *t = (const char *)sqlite3_column_text(st, i);

		*texts[i] = t ? t : "";
	}
	f->port = sqlite3_column_int(st, 10);
	f->count = sqlite3_column_int64(st, 11);
	f->first = sqlite3_column_int64(st, 12);
	f->last = sqlite3_column_int64(st, 13);
}

static int64_t hq_lost(sqlite3 *db, const struct hq *q)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT total(count) FROM lost WHERE minute >= ?1 - 59"
				   " AND minute <= ?2", -1, &st, NULL) != SQLITE_OK)
		return 0;
	hq_bind(st, q);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * The buckets of [since, until]: whole days and hours from the roll-ups, the
 * edges from minutes (agent/history_plan.c).
 */
static int hq_buckets(sqlite3 *db, const struct hq *q, char *buf, size_t len)
{
	struct ln_history_seg segs[LN_HISTORY_MAX_SEGS];
	struct ln_history_span sp[LN_HL_N];

	if (ln_history_spans_read(db, sp) < 0)
		return -EIO;
	return ln_history_plan_sql(segs, ln_history_plan(sp, q->since, q->until, segs), buf, len);
}

/*
 * The flow keys as schema 3 has them: a database of schema 1 or 2 (its agent
 * not restarted yet) is read with no executable and no container.
 */
static const char *hq_keys(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT exe, container FROM flow_keys", -1, &st, NULL);

	sqlite3_finalize(st);
	return rc == SQLITE_OK ? "flow_keys"
			       : "(SELECT *, '' AS exe, '' AS container FROM flow_keys)";
}

/* "SELECT @cols" over the buckets and keys @q matches, then @tail; prepared, @q bound. */
static int hq_prepare(sqlite3 *db, const struct hq *q, const char *cols, const char *tail,
		      sqlite3_stmt **st, struct ln_error *err)
{
	char where[512], from[3072], sql[4096];

	hq_where(q, where, sizeof(where));
	if (hq_buckets(db, q, from, sizeof(from)) < 0)
		return ln_err(err, -EIO, "history: %s", sqlite3_errmsg(db));
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM (%s) b JOIN %s k ON k.id = b.key WHERE %s %s", cols, from,
		 hq_keys(db), where, tail);
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return ln_err(err, -EIO, "history: %s", sqlite3_errmsg(db));
	hq_bind(*st, q);
	return 0;
}

/* One snapshot: the levels read and the tables they point to agree (WAL). */
static int hq_begin(sqlite3 *db, struct ln_error *err)
{
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return ln_err(err, -EIO, "history: %s", sqlite3_errmsg(db));
}

/* @st done with @rc (its last step), the snapshot ended: 0, or -EIO (@err). */
static int hq_finish(sqlite3 *db, sqlite3_stmt *st, int rc, struct ln_error *err)
{
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		ln_err(err, -EIO, "history: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int hq_run(sqlite3 *db, const struct hq *q, hq_flow_fn fn, void *ud, int64_t *lost,
	   struct ln_error *err)
{
	struct hq_flow f;
	sqlite3_stmt *st;
	char tail[160];
	int rc;

	snprintf(tail, sizeof(tail), "GROUP BY k.id ORDER BY %s LIMIT %ld", hq_order(q),
		 q->limit ? q->limit : -1);
	if (hq_begin(db, err) < 0)
		return -EIO;
	if (hq_prepare(db, q,
		       "k.cgroup, k.policy, k.addr, k.name, k.proto, k.verdict, k.reason, k.rule,"
		       " k.exe, k.container, k.port, sum(b.count), min(b.first), max(b.last)", tail,
		       &st, err) < 0) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hq_row(st, &f);
		fn(&f, ud);
	}
	if (rc == SQLITE_DONE && lost)
		*lost = hq_lost(db, q);
	return hq_finish(db, st, rc, err);
}

int hq_series(sqlite3 *db, const struct hq *q, int64_t step, hq_point_fn fn, void *ud,
	      struct ln_error *err)
{
	struct hq_point pt;
	sqlite3_stmt *st;
	int rc;

	/*
	 * ?8: the window's first minute. A bucket is placed by its first use,
	 * never before the window: a rolled-up hour lands where it began.
	 */
	if (hq_begin(db, err) < 0)
		return -EIO;
	if (hq_prepare(db, q,
		       "k.cgroup, k.policy, k.verdict, (max(b.first, ?8) - ?8) / ?9, sum(b.count)",
		       "GROUP BY k.cgroup, k.policy, k.verdict, 4", &st, err) < 0) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return -EIO;
	}
	sqlite3_bind_int64(st, 8, q->since - q->since % 60);
	sqlite3_bind_int64(st, 9, step);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		pt = (struct hq_point){
			.cgroup = (const char *)sqlite3_column_text(st, 0),
			.policy = (const char *)sqlite3_column_text(st, 1),
			.verdict = (const char *)sqlite3_column_text(st, 2),
			.slot = sqlite3_column_int64(st, 3), .count = sqlite3_column_int64(st, 4),
		};
		fn(&pt, ud);
	}
	return hq_finish(db, st, rc, err);
}

/* A flow as the JSON object `history --json` and the agent's "history" give. */
json_object *hq_flow_json(const struct hq_flow *f)
{
	json_object *o = json_object_new_object();
	char unit[256];

	json_object_object_add(o, "cgroup", json_object_new_string(f->cgroup));
	json_object_object_add(o, "unit",
			       json_object_new_string(hq_unit_of(f->cgroup, unit, sizeof(unit))));
	json_object_object_add(o, "policy", json_object_new_string(f->policy));
	json_object_object_add(o, "addr", json_object_new_string(f->addr));
	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "port", json_object_new_int(f->port));
	json_object_object_add(o, "proto", json_object_new_string(f->proto));
	json_object_object_add(o, "verdict", json_object_new_string(f->verdict));
	json_object_object_add(o, "reason", json_object_new_string(f->reason));
	json_object_object_add(o, "rule", json_object_new_string(f->rule));
	json_object_object_add(o, "exe", json_object_new_string(f->exe));
	json_object_object_add(o, "container", json_object_new_string(f->container));
	json_object_object_add(o, "count", json_object_new_int64(f->count));
	json_object_object_add(o, "first", json_object_new_int64(f->first));
	json_object_object_add(o, "last", json_object_new_int64(f->last));
	return o;
}

const char *hq_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

const char *hq_unit_of(const char *cgroup, char *buf, size_t len)
{
	static const char *const kinds[] = { ".service", ".scope", ".socket", ".slice" };
	const char *best = NULL, *p = cgroup;

	/* The deepest component that is a unit other than a slice, else the deepest slice. */
	while (p && *p) {
		const char *start = *p == '/' ? p + 1 : p, *end = strchr(start, '/');
		size_t n = end ? (size_t)(end - start) : strlen(start);

		for (size_t i = 0; i < 4; i++) {
			size_t k = strlen(kinds[i]);

			if (n > k && !strncmp(start + n - k, kinds[i], k) && (i < 3 || !best))
				best = start, snprintf(buf, len, "%.*s", (int)n, start);
		}
		p = end;
	}
	if (!best)
		snprintf(buf, len, "-");
	return buf;
}
