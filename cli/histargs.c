// SPDX-License-Identifier: GPL-2.0
/* The history commands' options (--since, --policy, ...) and opening the database read-only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "rules.h"
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
		return hq_cgroup_norm(v, q->cgroup_buf, sizeof(q->cgroup_buf)),
		       q->cgroup = q->cgroup_buf, 1;
	if ((takes & HQ_WHO) && !strcmp(o, "--unit"))
		return q->unit = v, 1;
	if ((takes & HQ_WHO) && !strcmp(o, "--exe"))
		return q->exe = v, 1;
	if ((takes & HQ_WHO) && !strcmp(o, "--container"))
		return q->container = v, 1;
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

int hq_parse(const char *cmd, int argc, char **argv, unsigned int takes, struct hq *q)
{
	struct ln_error err = {};
	const char *v;
	int r;

	q->until = time(NULL);
	q->since = q->until - 86400;
	for (int i = 0; i < argc; i++) {
		if ((takes & HQ_TOP) && !strcmp(argv[i], "--once")) {
			q->once = true;
			continue;
		}
		if ((takes & HQ_BY_EXE) && !strcmp(argv[i], "--by-exe")) {
			q->by_exe = true;
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
	r = hq_check(q, &err);
	if (r < 0)
		p_err("%s: %s", cmd, err.msg);
	return r;
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
