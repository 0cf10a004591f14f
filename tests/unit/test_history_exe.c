// SPDX-License-Identifier: GPL-2.0
/* Unit tests of history schema 3: the executable and the container of a flow, migration from 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "history.h"
#include "../cli/histdb.h"
#include "rules.h"

#define HISTORY_TEST_TAG "histexe"
#define HISTORY_TEST_DB "history.db"
#include "history_test_util.h"

static long long scalar(const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* A database of schema 2 as agents before this one left it: one key, minutes, an hour, a day. */
static const char schema2[] =
	"CREATE TABLE flow_keys (id INTEGER PRIMARY KEY, cgroup TEXT NOT NULL,"
	" policy TEXT NOT NULL, addr TEXT NOT NULL, name TEXT NOT NULL, port INTEGER NOT NULL,"
	" proto TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL, rule TEXT NOT NULL,"
	" UNIQUE (cgroup, policy, addr, name, port, proto, verdict, reason, rule));"
	"CREATE TABLE buckets (minute INTEGER NOT NULL, key INTEGER NOT NULL,"
	" count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (minute, key)) WITHOUT ROWID;"
	"CREATE TABLE lost (minute INTEGER PRIMARY KEY, count INTEGER NOT NULL);"
	"CREATE TABLE hours (hour INTEGER NOT NULL, key INTEGER NOT NULL,"
	" count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (hour, key)) WITHOUT ROWID;"
	"CREATE TABLE days (day INTEGER NOT NULL, key INTEGER NOT NULL,"
	" count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (day, key)) WITHOUT ROWID;"
	"CREATE TABLE levels (name TEXT PRIMARY KEY, kept_from INTEGER NOT NULL,"
	" rolled_to INTEGER NOT NULL);"
	"INSERT INTO levels VALUES ('minute', 0, 9223372036854775807), ('hour', 0, 86400000),"
	" ('day', 0, 86400000);"
	"INSERT INTO flow_keys VALUES (7, '/system.slice/docker-0123456789abcdef0123456789abcdef"
	"0123456789abcdef0123456789abcdef.scope', 'p', '192.0.2.9', '', 443, 'tcp', 'allow',"
	" 'rule', 'p.ini:3');"
	"INSERT INTO buckets VALUES (86396400, 7, 5, 86396401, 86396450),"
	" (86400060, 7, 2, 86400061, 86400062);"
	"INSERT INTO hours VALUES (86396400, 7, 5, 86396401, 86396450);"
	"INSERT INTO days VALUES (86313600, 7, 5, 86396401, 86396450);"
	"PRAGMA user_version = 2;";

static void make_v2(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema2, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

struct seen {
	int n;
	long long count[4];
	char exe[4][64], container[4][80];
};

static void take(const struct hq_flow *f, void *ud)
{
	struct seen *s = ud;

	if (s->n >= 4)
		return;
	s->count[s->n] = f->count;
	snprintf(s->exe[s->n], sizeof(s->exe[0]), "%s", f->exe);
	snprintf(s->container[s->n], sizeof(s->container[0]), "%s", f->container);
	s->n++;
}

/* The flows of [0, 86500000] that @q (its filter) matches, busiest first. */
static struct seen query(struct hq q)
{
	struct seen s = {};
	struct ln_error err = {};
	sqlite3 *db;

	q.since = 0;
	q.until = 86500000;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(hq_run(db, &q, take, &s, NULL, &err), 0);
	sqlite3_close(db);
	return s;
}

/* The CLI reads a schema 2 database (its agent not restarted yet): no exe, no container. */
static void test_v2_read_as_is(void **state)
{
	struct seen s;

	make_v2();
	s = query((struct hq){});
	assert_int_equal(s.n, 1);
	assert_int_equal(s.count[0], 7);
	assert_string_equal(s.exe[0], "");
	assert_int_equal(query((struct hq){ .exe = "/usr/bin/curl" }).n, 0);
}

static struct ln_history_row row(const char *exe, const char *container, uint64_t count)
{
	return (struct ln_history_row){
		.cgroup = "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef"
			  "0123456789abcdef.scope",
		.policy = "p", .addr = "192.0.2.9", .name = "", .proto = "tcp", .verdict = "allow",
		.reason = "rule", .rule = "p.ini:3", .exe = exe, .container = container,
		.port = 443, .count = count, .first = 86400100, .last = 86400110,
	};
}

/* Migrated, the old key keeps its id and buckets; two executables are two flows. */
static void test_migration_from_2(void **state)
{
	const char *ctr = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct ln_history_row rows[] = {
		row("/usr/bin/curl", ctr, 3), row("/tmp/x/curl", ctr, 5), row("/usr/bin/curl", ctr, 1),
	};
	struct ln_history *h;
	struct ln_error err = {};
	struct seen s;

	make_v2();
	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	assert_int_equal(ln_history_add(h, rows, 3, &err), 0);
	ln_history_close(h);
	assert_int_equal(scalar("PRAGMA user_version"), LN_HISTORY_SCHEMA);
	assert_int_equal(scalar("SELECT count(*) FROM flow_keys WHERE id = 7 AND exe = ''"), 1);
	assert_int_equal(scalar("SELECT count(*) FROM flow_keys"), 3);
	assert_int_equal(scalar("SELECT sum(count) FROM days WHERE key = 7"), 5);
	assert_int_equal(scalar("SELECT sum(count) FROM buckets WHERE key = 7"), 7);
	s = query((struct hq){ .exe = "/usr/bin/curl" });
	assert_int_equal(s.n, 1);
	assert_int_equal(s.count[0], 4);
	assert_string_equal(s.container[0], ctr);
	s = query((struct hq){ .container = "0123456789ab" });
	assert_int_equal(s.n, 2);
	assert_string_equal(s.exe[0], "/tmp/x/curl");
	assert_int_equal(s.count[0], 5);
	assert_int_equal(query((struct hq){ .container = "0123456789ac" }).n, 0);
	assert_int_equal(query((struct hq){}).n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v2_read_as_is, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_2, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
