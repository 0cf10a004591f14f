// SPDX-License-Identifier: GPL-2.0
/* Unit tests of agent/history.c: creation, migrations, per-minute merging, retention. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "history.h"
#include "history_plan.h"

#define HISTORY_TEST_TAG "history"
#define HISTORY_TEST_DB "sub/history.db"
#include "history_test_util.h"

static long long scalar(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static struct ln_history_row row(const char *addr, int64_t first, int64_t last, uint64_t count)
{
	return (struct ln_history_row){
		.cgroup = "/a", .policy = "p", .addr = addr, .name = "", .proto = "tcp",
		.verdict = "allow", .reason = "rule", .rule = "p.ini:3", .port = 443,
		.count = count, .first = first, .last = last,
	};
}

static void test_created_private_and_migrated(void **state)
{
	struct ln_history *h;
	struct ln_error err = {};
	struct stat st;

	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	ln_history_close(h);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	*strrchr(path, '/') = '\0';
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	strcat(path, "/history.db");
	assert_int_equal(scalar("PRAGMA user_version"), LN_HISTORY_SCHEMA);
	/* Opening again migrates nothing and keeps the version. */
	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	ln_history_close(h);
	assert_int_equal(scalar("PRAGMA user_version"), LN_HISTORY_SCHEMA);
}

static void test_minutes_merge(void **state)
{
	struct ln_history_row rows[] = {
		row("192.0.2.1", 6000, 6010, 2), row("192.0.2.1", 6005, 6050, 3),
		row("192.0.2.1", 6061, 6070, 1), row("192.0.2.2", 6000, 6000, 1),
	};
	struct ln_history *h;
	struct ln_error err = {};

	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	assert_int_equal(ln_history_add(h, rows, 4, &err), 0);
	assert_int_equal(ln_history_add_lost(h, 6001, 7, &err), 0);
	ln_history_close(h);
	assert_int_equal(scalar("SELECT count(*) FROM flow_keys"), 2);
	assert_int_equal(scalar("SELECT count(*) FROM buckets"), 3);
	assert_int_equal(scalar("SELECT count FROM buckets b JOIN flow_keys k ON k.id = b.key"
				" WHERE addr = '192.0.2.1' AND minute = 6000"), 5);
	assert_int_equal(scalar("SELECT first FROM buckets WHERE minute = 6000 AND count = 5"),
			 6000);
	assert_int_equal(scalar("SELECT last FROM buckets WHERE minute = 6000 AND count = 5"),
			 6050);
	assert_int_equal(scalar("SELECT count FROM lost WHERE minute = 6000"), 7);
}

static void test_retention(void **state)
{
	const int64_t now = 100 * 86400;
	struct ln_history_row rows[] = {
		row("192.0.2.1", now - 40 * 86400, now - 40 * 86400, 1),
		row("192.0.2.2", now - 86400, now - 86400, 1),
	};
	struct ln_history *h;
	struct ln_error err = {};
	uint64_t deleted = 0;

	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	assert_int_equal(ln_history_add(h, rows, 2, &err), 0);
	assert_int_equal(ln_history_prune(h, now, &deleted, &err), 0);
	ln_history_close(h);
	assert_int_equal(deleted, 1);
	assert_int_equal(scalar("SELECT count(*) FROM buckets"), 1);
	/* The key of the gone bucket goes with it. */
	assert_int_equal(scalar("SELECT count(*) FROM flow_keys WHERE addr = '192.0.2.1'"), 0);
}

static void test_newer_schema_refused(void **state)
{
	struct ln_history *h;
	struct ln_error err = {};
	sqlite3 *db;

	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	ln_history_close(h);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), 0);
	sqlite3_close(db);
	assert_int_equal(ln_history_open(path, &lim, &h, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "newer"));
}

static void test_unwritable_is_an_error(void **state)
{
	struct ln_history *h = NULL;
	struct ln_error err = {};

	assert_true(ln_history_open("/proc/lsnitch-no/history.db", &lim, &h, &err) < 0);
	assert_null(h);
	assert_non_null(strstr(err.msg, "history"));
}


/* ---- roll-ups ---- */

#define T0 (1000 * 86400LL + 5000) /* "now" of the roll-up tests: not on an hour */
#define KEYS 7

/* Minute @m's rows: key i when (m + i) % (i + 2) != 1, counts and times varied. */
static size_t minute_rows(int64_t m, struct ln_history_row *rows, char (*addrs)[32])
{
	size_t n = 0;

	for (int i = 0; i < KEYS; i++) {
		int64_t k = m / 60 + i;

		if (k % (i + 2) == 1)
			continue;
		snprintf(addrs[n], 32, "192.0.2.%d", i + 1);
		/* some first seen a little before their minute: a drain across its start */
		rows[n] = row(addrs[n], m + (k % 3 ? k % 50 : -4), m + 50 + k % 10,
			      1 + (uint64_t)(k * 7 % 5));
		n++;
	}
	return n;
}

/* Minutes of [@from, @to) through ln_history_add(), a few hundred per transaction. */
static void fill_minutes(int64_t from, int64_t to)
{
	struct ln_history_row rows[KEYS * 64];
	char addrs[KEYS * 64][32];
	struct ln_history *h;
	struct ln_error err = {};
	size_t n = 0;

	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	for (int64_t m = from; m < to; m += 60) {
		n += minute_rows(m, rows + n, addrs + n);
		if (n + KEYS > KEYS * 64 || m + 60 >= to) {
			assert_int_equal(ln_history_add(h, rows, n, &err), 0);
			n = 0;
		}
	}
	ln_history_close(h);
}

/* Rolls up (and with @lim2, prunes) as of @now until nothing is left to do. */
static void rollup_all(int64_t now, const struct ln_history_limits *lim2)
{
	struct ln_history *h;
	struct ln_error err = {};
	uint64_t deleted;
	bool more = true;

	assert_int_equal(ln_history_open(path, lim2 ? lim2 : &lim, &h, &err), 0);
	for (int i = 0; more && i < 10000; i++)
		assert_int_equal(ln_history_rollup(h, now, &more, &err), 0);
	assert_false(more);
	if (lim2)
		assert_int_equal(ln_history_prune(h, now, &deleted, &err), 0);
	ln_history_close(h);
}

/*
 * [@since, @until] per key as "key:count:first:last;", answered by the plan
 * over the database's levels, or (@minutes_only) from minute buckets alone.
 * *@total: the counts summed.
 */
static void answer(int64_t since, int64_t until, bool minutes_only, char *buf, size_t len,
		   long long *total)
{
	struct ln_history_span sp[LN_HL_N] = { { 0, INT64_MAX } };
	struct ln_history_seg segs[LN_HISTORY_MAX_SEGS];
	char from[4096], sql[4400];
	size_t off = 0;
	sqlite3_stmt *st;
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (!minutes_only)
		assert_int_equal(ln_history_spans_read(db, sp), 0);
	assert_int_equal(ln_history_plan_sql(segs, ln_history_plan(sp, since, until, segs), from,
					     sizeof(from)), 0);
	snprintf(sql, sizeof(sql), "SELECT key, sum(count), min(first), max(last) FROM (%s)"
		 " GROUP BY key ORDER BY key", from);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	buf[0] = '\0';
	*total = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		*total += sqlite3_column_int64(st, 1);
		off += snprintf(buf + off, off < len ? len - off : 0, "%lld:%lld:%lld:%lld;",
				sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
				sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
	}
	assert_true(off < len);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A range in the last @days days before T0, edges anywhere (seeded: the same each run). */
static void some_range(unsigned int *seed, int days, int64_t *since, int64_t *until)
{
	int64_t a = T0 - rand_r(seed) % (days * 86400), b = T0 - rand_r(seed) % (days * 86400);

	*since = a < b ? a : b;
	*until = a < b ? b : a;
}

static void test_rollup_same_counts(void **state)
{
	char want[2048], got[2048];
	long long tw, tg;
	unsigned int seed = 1;
	int coarse = 0;

	fill_minutes(T0 - 3 * 86400 - 1800, T0);
	rollup_all(T0, NULL);
	assert_true(scalar("SELECT count(*) FROM days") > 0);
	assert_int_equal(scalar("SELECT rolled_to FROM levels WHERE name = 'hour'"),
			 (T0 - LN_HISTORY_SETTLE_S) / 60 * 60);
	/* days: from whole hours (the one in progress stays in minutes) */
	assert_int_equal(scalar("SELECT rolled_to FROM levels WHERE name = 'day'"),
			 (T0 - LN_HISTORY_SETTLE_S) / 3600 * 3600);
	/* Every key's count and first/last seen, as the minutes give them. */
	for (int i = 0; i < 300; i++) {
		int64_t since, until;
		struct ln_history_seg segs[LN_HISTORY_MAX_SEGS];
		struct ln_history_span sp[LN_HL_N];
		sqlite3 *db;

		some_range(&seed, 4, &since, &until);
		if (i == 0)
			since = T0 - 3 * 86400, until = T0; /* the whole of it */
		answer(since, until, true, want, sizeof(want), &tw);
		answer(since, until, false, got, sizeof(got), &tg);
		assert_string_equal(got, want);
		assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), 0);
		ln_history_spans_read(db, sp);
		sqlite3_close(db);
		for (int j = 0, n = ln_history_plan(sp, since, until, segs); j < n; j++)
			coarse += segs[j].level != LN_HL_MINUTE;
	}
	assert_true(coarse > 300); /* the roll-ups did answer */
}

static void test_rollup_after_minutes_go(void **state)
{
	const struct ln_history_limits lim2 = { .retention_s = 30 * 86400, .minutes_s = 86400,
						.hours_s = 2 * 86400 };
	char want[2048], got[2048], wide[2048];
	long long tw, tg, twide;
	unsigned int seed = 2;
	int64_t kept;
	struct {
		int64_t since, until;
		long long total, wide;
		char text[2048];
	} *q = calloc(200, sizeof(*q));

	fill_minutes(T0 - 4 * 86400, T0);
	for (int i = 0; i < 200; i++) {
		some_range(&seed, 4, &q[i].since, &q[i].until);
		answer(q[i].since, q[i].until, true, q[i].text, sizeof(q[i].text), &q[i].total);
		/* the widest rounding: to whole days */
		answer(q[i].since / 86400 * 86400, q[i].until / 86400 * 86400 + 86399, true, wide,
		       sizeof(wide), &q[i].wide);
	}
	rollup_all(T0, &lim2);
	kept = scalar("SELECT kept_from FROM levels WHERE name = 'minute'");
	assert_int_equal(kept, (T0 - 86400) / 3600 * 3600);
	assert_int_equal(scalar("SELECT min(minute) FROM buckets"), kept);
	assert_int_equal(scalar("SELECT kept_from FROM levels WHERE name = 'hour'"),
			 (T0 - 2 * 86400) / 86400 * 86400);
	for (int i = 0; i < 200; i++) {
		answer(q[i].since, q[i].until, false, got, sizeof(got), &tg);
		if (q[i].since >= kept) {
			assert_string_equal(got, q[i].text); /* minutes still answer the edges */
			continue;
		}
		/* An older edge: to the hour or the day, never less than asked. */
		assert_true(tg >= q[i].total);
		assert_true(tg <= q[i].wide);
	}
	(void)want, (void)tw, (void)twide;
	free(q);
}

/* The schema of version 1, as agents before roll-ups wrote it. */
static const char schema1[] =
	"CREATE TABLE flow_keys (id INTEGER PRIMARY KEY, cgroup TEXT NOT NULL,"
	" policy TEXT NOT NULL, addr TEXT NOT NULL, name TEXT NOT NULL, port INTEGER NOT NULL,"
	" proto TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL, rule TEXT NOT NULL,"
	" UNIQUE (cgroup, policy, addr, name, port, proto, verdict, reason, rule));"
	"CREATE TABLE buckets (minute INTEGER NOT NULL, key INTEGER NOT NULL,"
	" count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (minute, key)) WITHOUT ROWID;"
	"CREATE INDEX buckets_by_key ON buckets (key, minute);"
	"CREATE TABLE lost (minute INTEGER PRIMARY KEY, count INTEGER NOT NULL);"
	"INSERT INTO flow_keys VALUES (1, '/a', 'p', '192.0.2.9', '', 443, 'tcp', 'allow',"
	" 'rule', 'p.ini:3');"
	"INSERT INTO buckets VALUES (86340000, 1, 5, 86340001, 86340050),"
	" (86343600, 1, 2, 86343601, 86343602), (86400000, 1, 1, 86400000, 86400000);"
	"PRAGMA user_version = 1;";

static void test_migration_from_1(void **state)
{
	char want[256], got[256];
	long long tw, tg;
	sqlite3 *db;

	*strrchr(path, '/') = '\0';
	mkdir(path, 0700);
	strcat(path, "/history.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	answer(0, 86500000, true, want, sizeof(want), &tw);
	/* The CLI reads a schema 1 database (an agent not restarted yet) from minutes. */
	answer(0, 86500000, false, got, sizeof(got), &tg);
	assert_string_equal(got, want);
	rollup_all(86500000, NULL); /* opens: migrates; then rolls everything up */
	assert_int_equal(scalar("PRAGMA user_version"), LN_HISTORY_SCHEMA);
	assert_int_equal(scalar("SELECT count(*) FROM buckets"), 3);
	assert_int_equal(scalar("SELECT sum(count) FROM hours"), 8);
	assert_int_equal(scalar("SELECT count FROM days WHERE day = 86313600"), 7);
	answer(0, 86500000, false, got, sizeof(got), &tg);
	assert_string_equal(got, want);
	assert_int_equal(tg, 8);
}

/* The marks agree with the tables: what a level says it rolled up is all there, once. */
static void assert_rollups_whole(void)
{
	long long to_h = scalar("SELECT rolled_to FROM levels WHERE name = 'hour'");
	long long to_d = scalar("SELECT rolled_to FROM levels WHERE name = 'day'");
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT total(count) FROM buckets WHERE minute < %lld", to_h);
	assert_int_equal(scalar("SELECT total(count) FROM hours"), scalar(sql));
	snprintf(sql, sizeof(sql), "SELECT total(count) FROM hours WHERE hour < %lld", to_d);
	assert_int_equal(scalar("SELECT total(count) FROM days"), scalar(sql));
}

/* Killed with -9 in the middle of roll-ups: the database opens, and agrees with itself. */
static void test_kill_during_rollup(void **state)
{
	char want[2048], got[2048];
	long long tw, tg;
	int killed = 0;

	fill_minutes(T0 - 2 * 86400, T0);
	answer(T0 - 2 * 86400, T0, true, want, sizeof(want), &tw);
	for (int round = 0; round < 6; round++) {
		struct timespec d = { 0, 2000000L * (1 + round * 3) };
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (!pid) {
			rollup_all(T0 + round * 3600, NULL);
			_exit(0);
		}
		nanosleep(&d, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		killed += WIFSIGNALED(status);
		assert_int_equal(scalar("SELECT count(*) FROM pragma_quick_check"
					" WHERE quick_check = 'ok'"), 1);
		assert_rollups_whole();
		if (getenv("LSN_TEST_VERBOSE"))
			printf("round %d: killed %d, hours to %lld\n", round, WIFSIGNALED(status),
			       scalar("SELECT rolled_to FROM levels WHERE name = 'hour'"));
	}
	assert_true(killed > 0);
	rollup_all(T0, NULL); /* and the next agent carries on */
	assert_rollups_whole();
	answer(T0 - 2 * 86400, T0, false, got, sizeof(got), &tg);
	assert_string_equal(got, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created_private_and_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minutes_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollup_same_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollup_after_minutes_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_during_rollup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
