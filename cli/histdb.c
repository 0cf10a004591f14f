// SPDX-License-Identifier: GPL-2.0
/* The flow history, read-only: time and filter options, the one aggregated query. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "history_plan.h"
#include "lsnitch.h"
#include "histdb.h"

const char *history_path = LN_HISTORY_PATH;

/* "90", "90s", "30m", "2h", "7d", "1w" ago, "now", "@UNIX", "YYYY-MM-DD[ HH:MM[:SS]]" UTC. */
static int parse_when(const char *s, int64_t now, int64_t *out)
{
	static const struct { char c; int64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	struct tm tm = {};
	const char *end;
	char *e;
	long long v;

	if (!strcmp(s, "now"))
		return *out = now, 0;
	if (s[0] == '@') {
		v = strtoll(s + 1, &e, 10);
		return *e || e == s + 1 ? -EINVAL : (*out = v, 0);
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && (!*end || (end = strptime(end, " %H:%M", &tm))) && end &&
	    (!*end || ((end = strptime(end, ":%S", &tm)) && !*end)))
		return *out = timegm(&tm), 0;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno || e == s || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (*e == units[i].c && !e[1])
			return *out = now - v * units[i].mul, 0;
	return *e ? -EINVAL : (*out = now - v, 0);
}

/* --cgroup as the agent stores it: "/a/b", whatever slashes it was given with. */
static void norm_cgroup(const char *in, char *buf, size_t len)
{
	size_t n;

	while (*in == '/')
		in++;
	snprintf(buf, len, "/%s", in);
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
}

/* The value of option @argv[*i] (@name), or NULL (said). */
static const char *take_value(const char *cmd, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		p_err("%s: %s needs a value", cmd, argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

static int parse_time_opt(const char *cmd, const char *opt, const char *v, int64_t *out)
{
	if (parse_when(v, time(NULL), out) < 0) {
		p_err("%s: %s: bad time \"%s\" (30m, 2h, 7d, now, @UNIX, YYYY-MM-DD HH:MM)", cmd,
		      opt, v);
		return -EINVAL;
	}
	return 0;
}

/* One option (with its value in @v) into @q: 1 taken, 0 not an option of @takes. */
static int take_opt(const char *cmd, const char *o, const char *v, unsigned int takes,
		    struct hq *q)
{
	if ((takes & HQ_TIME) && !strcmp(o, "--since"))
		return parse_time_opt(cmd, o, v, &q->since) ?: 1;
	if ((takes & HQ_TIME) && !strcmp(o, "--until"))
		return parse_time_opt(cmd, o, v, &q->until) ?: 1;
	if ((takes & HQ_WHO) && !strcmp(o, "--policy"))
		return q->policy = v, 1;
	if ((takes & HQ_WHO) && !strcmp(o, "--cgroup"))
		return norm_cgroup(v, q->cgroup_buf, sizeof(q->cgroup_buf)),
		       q->cgroup = q->cgroup_buf, 1;
	if ((takes & HQ_WHO) && !strcmp(o, "--unit"))
		return q->unit = v, 1;
	if ((takes & HQ_VERDICT) && !strcmp(o, "--verdict"))
		return q->verdict = v, 1;
	if ((takes & HQ_DEST) && !strcmp(o, "--dest"))
		return q->dest = v, 1;
	if ((takes & HQ_TOP) && !strcmp(o, "--sort"))
		return q->sort = v, 1;
	if ((takes & HQ_TOP) && (!strcmp(o, "--limit") || !strcmp(o, "--interval"))) {
		long n = strtol(v, NULL, 10);

		if (n <= 0) {
			p_err("%s: %s must be a positive number", cmd, o);
			return -EINVAL;
		}
		*(o[2] == 'l' ? &q->limit : &q->interval) = n;
		return 1;
	}
	return 0;
}

static int hq_check(const char *cmd, const struct hq *q)
{
	static const char *const verdicts[] = { "allow", "deny", "would-deny", "redirect" };
	bool known = !q->verdict;

	for (size_t i = 0; !known && i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		known = !strcmp(q->verdict, verdicts[i]);
	if (!known) {
		p_err("%s: --verdict must be allow, deny, would-deny or redirect", cmd);
		return -EINVAL;
	}
	if (!!q->policy + !!q->cgroup + !!q->unit > 1) {
		p_err("%s: one of --policy, --cgroup, --unit", cmd);
		return -EINVAL;
	}
	if (q->sort && strcmp(q->sort, "count") && strcmp(q->sort, "last") &&
	    strcmp(q->sort, "dest")) {
		p_err("%s: --sort must be count, last or dest", cmd);
		return -EINVAL;
	}
	return 0;
}

int hq_parse(const char *cmd, int argc, char **argv, unsigned int takes, struct hq *q)
{
	const char *v;
	int r;

	q->until = time(NULL);
	q->since = q->until - 86400;
	for (int i = 0; i < argc; i++) {
		if ((takes & HQ_TOP) && !strcmp(argv[i], "--once")) {
			q->once = true;
			continue;
		}
		if (strncmp(argv[i], "--", 2)) {
			p_err("%s: unexpected argument \"%s\"", cmd, argv[i]);
			return -EINVAL;
		}
		v = take_value(cmd, argc, argv, &i);
		if (!v)
			return -EINVAL;
		r = take_opt(cmd, argv[i - 1], v, takes, q);
		if (r < 0)
			return r;
		if (!r) {
			p_err("%s: unknown option \"%s\" (try \"lsnitch help\")", cmd, argv[i - 1]);
			return -EINVAL;
		}
	}
	return hq_check(cmd, q);
}

int hdb_open(sqlite3 **db)
{
	int rc = sqlite3_open_v2(history_path, db, SQLITE_OPEN_READONLY, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(*db, "SELECT 1 FROM buckets LIMIT 1", NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(*db, 2000);
		return 0;
	}
	p_err("history %s: %s (is the agent running with --history?)", history_path,
	      *db ? sqlite3_errmsg(*db) : "out of memory");
	sqlite3_close(*db);
	*db = NULL;
	return -EIO;
}

/*
 * The WHERE clause of @q over the flow keys (the time is in the buckets'
 * query); the values are bound by hq_bind() in the same order.
 */
static void hq_where(const struct hq *q, char *buf, size_t len)
{
	snprintf(buf, len, "1%s%s%s%s%s",
		 q->policy ? " AND k.policy = ?3" : "",
		 q->cgroup ? " AND (k.cgroup = ?4 OR substr(k.cgroup, 1, length(?4) + 1) = ?4 || '/')"
			   : "",
		 q->unit ? " AND ('/' || k.cgroup || '/') LIKE '%/' || ?5 || '/%'" : "",
		 q->verdict ? " AND k.verdict = ?6" : "",
		 q->dest ? " AND (k.addr = ?7 OR k.name = ?7)" : "");
}

static void hq_bind(sqlite3_stmt *st, const struct hq *q)
{
	const char *texts[] = { q->policy, q->cgroup, q->unit, q->verdict, q->dest };

	sqlite3_bind_int64(st, 1, q->since);
	sqlite3_bind_int64(st, 2, q->until);
	for (int i = 0; i < 5; i++)
		if (texts[i])
			sqlite3_bind_text(st, i + 3, texts[i], -1, SQLITE_STATIC);
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
	const char **texts[] = { &f->cgroup, &f->policy, &f->addr, &f->name,
				 &f->proto, &f->verdict, &f->reason, &f->rule };

	for (int i = 0; i < 8; i++) {
		const char *t = (const char *)sqlite3_column_text(st, i);

		*texts[i] = t ? t : "";
	}
	f->port = sqlite3_column_int(st, 8);
	f->count = sqlite3_column_int64(st, 9);
	f->first = sqlite3_column_int64(st, 10);
	f->last = sqlite3_column_int64(st, 11);
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

/* The query of @q over the buckets' parts @from, each flow to @fn: 0 or -EIO (said). */
static int hq_flows(sqlite3 *db, const struct hq *q, const char *from, hq_flow_fn fn, void *ud)
{
	char where[512], sql[4096];
	struct hq_flow f;
	sqlite3_stmt *st;
	int rc;

	hq_where(q, where, sizeof(where));
	snprintf(sql, sizeof(sql),
		 "SELECT k.cgroup, k.policy, k.addr, k.name, k.proto, k.verdict, k.reason, k.rule,"
		 " k.port, sum(b.count), min(b.first), max(b.last)"
		 " FROM (%s) b JOIN flow_keys k ON k.id = b.key WHERE %s"
		 " GROUP BY k.id ORDER BY %s LIMIT %ld", from, where, hq_order(q),
		 q->limit ? q->limit : -1);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	hq_bind(st, q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hq_row(st, &f);
		fn(&f, ud);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int hq_run(sqlite3 *db, const struct hq *q, hq_flow_fn fn, void *ud, int64_t *lost)
{
	char from[3072];
	int r;

	/* One snapshot: the levels read and the tables they point to agree (WAL). */
	r = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
	r = r ?: hq_buckets(db, q, from, sizeof(from));
	r = r ?: hq_flows(db, q, from, fn, ud);
	if (r < 0)
		p_err("history: %s", sqlite3_errmsg(db));
	else if (lost)
		*lost = hq_lost(db, q);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r < 0 ? -EIO : 0;
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
