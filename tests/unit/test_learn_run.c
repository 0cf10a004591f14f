// SPDX-License-Identifier: GPL-2.0
/* Unit tests of learn_text_run (the CLI's and the agent's learn): by executable, and bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "history.h"
#include "../cli/histdb.h"
#include "../cli/learn_run.h"
#include "rules.h"

#define HISTORY_TEST_TAG "learn"
#define HISTORY_TEST_DB "history.db"
#include "history_test_util.h"

/* A flow of cgroup /t/box by @exe to 192.0.2.@host:443, @count times. */
static struct ln_history_row row(const char *exe, const char *host, uint64_t count)
{
	return (struct ln_history_row){
	    .cgroup = "/t/box",
	    .policy = "box",
	    .addr = host,
	    .name = "",
	    .proto = "tcp",
	    .verdict = "allow",
	    .reason = "default",
	    .rule = "box.ini:3",
	    .exe = exe,
	    .container = "",
	    .port = 443,
	    .count = count,
	    .first = 86400100,
	    .last = 86400110,
	};
}

static void fill(const struct ln_history_row *rows, size_t n)
{
	struct ln_history *h;
	struct ln_error err = {};

	assert_int_equal(ln_history_open(path, &lim, &h, &err), 0);
	assert_int_equal(ln_history_add(h, rows, n, &err), 0);
	ln_history_close(h);
}

/* learn_text_run over [0, 86500000] for @q: its rc, the text in @t, the message in @err. */
static int learn(struct hq q, struct learn_text *t, struct ln_error *err)
{
	sqlite3 *db;
	int r;

	q.since = 0;
	q.until = 86500000;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	r = learn_text_run(db, &q, "h.db", t, err);
	sqlite3_close(db);
	return r;
}

/* By executable: one exe policy per path; a (DEV:INO) one gets none, a comment says so. */
static void test_by_exe(void **state)
{
	struct ln_history_row rows[] = {
	    row("/usr/bin/curl", "192.0.2.1", 2),
	    row("(8:1234)", "192.0.2.2", 3),
	    row("", "192.0.2.3", 1),
	};
	struct learn_text t;
	struct ln_error err = {};

	fill(rows, 3);
	assert_int_equal(learn((struct hq){.cgroup = "/t/box", .by_exe = true}, &t, &err), 0);
	assert_string_equal(t.name, "learned-box");
	assert_int_equal(t.exes, 1);
	assert_int_equal(t.rules, 3);
	assert_non_null(strstr(t.text, "[policy learned-box-curl]\ncgroup = t/box\n"
				       "exe = /usr/bin/curl\ndefault = deny\n"));
	assert_non_null(strstr(t.text, "No exe policy for 3 attempts by executables known only "
				       "as (DEV:INO)"));
	assert_null(strstr(t.text, "exe = (8:1234)"));
	assert_int_equal(strlen(t.text), t.len);
	learn_text_free(&t);
	/* the same flows, one policy: no exe line */
	assert_int_equal(learn((struct hq){.cgroup = "/t/box"}, &t, &err), 0);
	assert_int_equal(t.exes, 0);
	assert_int_equal(t.rules, 3);
	assert_null(strstr(t.text, "exe ="));
	learn_text_free(&t);
}

/* No flows, or by executable none with a path: an error, no text. */
static void test_bad_input(void **state)
{
	struct ln_history_row rows[] = {row("(8:1234)", "192.0.2.2", 3), row("", "192.0.2.3", 1)};
	struct learn_text t;
	struct ln_error err = {};

	fill(rows, 2);
	assert_int_equal(learn((struct hq){.cgroup = "/t/none"}, &t, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no flows of cgroup /t/none"));
	assert_null(t.text);
	assert_int_equal(learn((struct hq){.policy = "nonesuch", .by_exe = true}, &t, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "no flows of policy nonesuch"));
	assert_int_equal(learn((struct hq){.cgroup = "/t/box", .by_exe = true}, &t, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no flow of cgroup /t/box names an executable's path (3 "
					"attempts by executables known only as (DEV:INO))"));
	assert_null(t.text);
	/* without --by-exe the same flows are one policy */
	assert_int_equal(learn((struct hq){.cgroup = "/t/box"}, &t, &err), 0);
	assert_int_equal(t.rules, 2);
	learn_text_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_by_exe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
