// SPDX-License-Identifier: GPL-2.0
/* Unit tests of agent/history.c: creation, migrations, per-minute merging, retention. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "history.h"

static char dir[64], path[128];
static const struct ln_history_limits lim = { LN_HISTORY_RETENTION_S, 0 };

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/lsnitch-unit-history.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/sub/history.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created_private_and_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minutes_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_is_an_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
