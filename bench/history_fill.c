// SPDX-License-Identifier: GPL-2.0
/*
 * history_fill DB FLOWS MINUTES [MODE]: writes FLOWS distinct flows in each of
 * MINUTES consecutive minutes (ending now) through the agent's own history
 * code (agent/history.c), in the drain's chunks; prints "rows SECONDS
 * rows_per_s bytes" (bytes: the database file after a checkpoint).
 * MODE "rollup": then rolls them up as the agent does (ln_history_rollup());
 * "DB 0 0 rollup" rolls up what DB holds.
 * MODE "month": the database 30 days of FLOWS flows a minute leaves under the
 * agent's default limits: the minutes as above, older hours (7 days) and days
 * (30) made up in SQL as the roll-ups of such minutes would be, then the
 * agent's roll-up and prune (size cap included) as of now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sqlite3.h>

#include "history.h"
#include "history_plan.h"

#define CHUNK 1024 /* as agent/flows.c: entries per transaction */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Flow @i as the drain would hand it over: 100 cgroups, addresses 10.x.y.z, 4 ports. */
static void make_row(long i, int64_t when, struct ln_history_row *w, char (*addr)[32],
		     char (*cg)[64])
{
	snprintf(*addr, sizeof(*addr), "10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	snprintf(*cg, sizeof(*cg), "/system.slice/app%ld.service", i % 100);
	*w = (struct ln_history_row){
		.cgroup = *cg, .policy = "bench", .addr = *addr, .name = "", .proto = "tcp",
		.verdict = i % 10 ? "allow" : "would-deny", .reason = i % 10 ? "rule" : "default",
		.rule = "bench.ini:3", .port = 443 + (unsigned int)(i % 4), .count = 1 + i % 7,
		.first = when, .last = when + 30,
	};
}

static int fill(struct ln_history *h, long flows, long minutes, int64_t start)
{
	static struct ln_history_row rows[CHUNK];
	static char addrs[CHUNK][32], cgs[CHUNK][64];
	struct ln_error err = {};
	long n = 0;

	for (long m = 0; m < minutes; m++) {
		for (long i = 0; i < flows; i++) {
			make_row(i, start + m * 60, &rows[n], &addrs[n], &cgs[n]);
			if (++n < CHUNK && i + 1 < flows)
				continue;
			if (ln_history_add(h, rows, (size_t)n, &err) < 0) {
				fprintf(stderr, "%s\n", err.msg);
				return -1;
			}
			n = 0;
		}
	}
	return 0;
}

static int rollup(struct ln_history *h, int64_t now)
{
	struct ln_error err = {};
	bool more = true;

	while (more)
		if (ln_history_rollup(h, now, &more, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return -1;
		}
	return 0;
}

static int sql(sqlite3 *db, const char *s)
{
	char *e = NULL;

	if (sqlite3_exec(db, s, NULL, NULL, &e) == SQLITE_OK)
		return 0;
	fprintf(stderr, "%s: %s\n", s, e);
	sqlite3_free(e);
	return -1;
}

/*
 * Hours of [h0, hs) and days of [d0, h0) for every flow key, each count what
 * its minutes would have summed to (the minutes' pattern: 1 + i % 7 a minute),
 * and the levels' marks as the agent would have left them.
 */
static int month_before(const char *path, int64_t d0, int64_t h0, int64_t hs)
{
	char s[1024];
	sqlite3 *db;
	int r;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	snprintf(s, sizeof(s),
		 "BEGIN; WITH RECURSIVE t(x) AS (SELECT %lld UNION ALL SELECT x + 3600 FROM t"
		 " WHERE x + 3600 < %lld) INSERT INTO hours SELECT x, id, 60 * (1 + (id - 1) %% 7),"
		 " x, x + 3570 FROM t, flow_keys;"
		 " WITH RECURSIVE t(x) AS (SELECT %lld UNION ALL SELECT x + 86400 FROM t"
		 " WHERE x + 86400 < %lld) INSERT INTO days SELECT x, id, 1440 * (1 + (id - 1) %% 7),"
		 " x, x + 86370 FROM t, flow_keys;"
		 " UPDATE levels SET kept_from = %lld WHERE name = 'minute';"
		 " UPDATE levels SET kept_from = %lld WHERE name = 'hour';"
		 " UPDATE levels SET kept_from = %lld, rolled_to = %lld WHERE name = 'day'; COMMIT",
		 (long long)h0, (long long)hs, (long long)d0, (long long)h0, (long long)hs,
		 (long long)h0, (long long)d0, (long long)h0);
	r = sql(db, s);
	sqlite3_close(db);
	return r;
}

/* The agent's defaults, as of @now: roll up what is due, then retention and the cap. */
static int month_after(const char *path, int64_t now)
{
	struct ln_history_limits lim = {
		.retention_s = LN_HISTORY_RETENTION_S, .max_bytes = LN_HISTORY_MAX_BYTES,
		.minutes_s = LN_HISTORY_MINUTES_S, .hours_s = LN_HISTORY_HOURS_S,
	};
	struct ln_history *h;
	struct ln_error err = {};
	uint64_t deleted;
	int r;

	if (ln_history_open(path, &lim, &h, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	r = rollup(h, now);
	if (!r && ln_history_prune(h, now, &deleted, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		r = -1;
	}
	ln_history_close(h);
	return r;
}

int main(int argc, char **argv)
{
	struct ln_history_limits lim = { .retention_s = 0x7fffffff };
	const char *mode = argc > 4 ? argv[4] : "";
	long flows, minutes;
	struct ln_history *h;
	struct ln_error err = {};
	struct stat st;
	int64_t now = time(NULL), start, d0, h0;
	double t0;
	int r;

	if (argc < 4 || argc > 5 || (flows = atol(argv[2])) < 0 || (minutes = atol(argv[3])) < 0) {
		fprintf(stderr, "usage: %s DB FLOWS MINUTES [rollup|month]\n", argv[0]);
		return 2;
	}
	start = now / 60 * 60 - minutes * 60;
	if (!strcmp(mode, "month")) {
		start = start / 3600 * 3600; /* minutes from an hour on: the rest is in hours */
		minutes = (now / 60 * 60 - start) / 60;
	}
	if (ln_history_open(argv[1], &lim, &h, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	t0 = now_s();
	r = fill(h, flows, minutes, start);
	t0 = now_s() - t0;
	if (!r && !strcmp(mode, "rollup"))
		r = rollup(h, now);
	ln_history_close(h); /* the last connection checkpoints the WAL into the file */
	h0 = (now - LN_HISTORY_HOURS_S) / 86400 * 86400;
	d0 = (now - LN_HISTORY_RETENTION_S) / 86400 * 86400;
	if (!r && !strcmp(mode, "month"))
		r = month_before(argv[1], d0, h0, start) ?: month_after(argv[1], now);
	if (r < 0)
		return 1;
	stat(argv[1], &st);
	printf("%ld %.3f %.0f %lld\n", flows * minutes, t0, t0 > 0 ? flows * minutes / t0 : 0,
	       (long long)st.st_size);
	return 0;
}
