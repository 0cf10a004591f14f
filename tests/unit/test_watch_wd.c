// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the watcher's watch descriptors (agent/watch_wd.c), removed oldest first. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "watch.h"

#define N 1000

static void test_oldest_first(void **state)
{
	struct ln_wd_table w = {};
	char path[32];

	(void)state;
	for (int wd = 1; wd <= N; wd++) {
		snprintf(path, sizeof(path), "pods/ctr-%d", wd);
		assert_int_equal(ln_wd_set(&w, wd, path), 0);
	}
	for (int wd = 1; wd <= N; wd++) {
		ln_wd_del(&w, wd);
		ln_wd_del(&w, wd); /* twice: nothing more */
		assert_null(ln_wd_path(&w, wd));
		for (int k = wd + 1; k <= N; k += 97) {
			snprintf(path, sizeof(path), "pods/ctr-%d", k);
			assert_string_equal(ln_wd_path(&w, k), path);
		}
	}
	assert_true(w.n <= 1);
	/* a wd handed out again after its gap, and new ones after */
	assert_int_equal(ln_wd_set(&w, 7, "again"), 0);
	assert_int_equal(ln_wd_set(&w, N + 1, "new"), 0);
	assert_string_equal(ln_wd_path(&w, 7), "again");
	assert_string_equal(ln_wd_path(&w, N + 1), "new");
	ln_wd_free(&w);
}

static void test_gap_reused(void **state)
{
	struct ln_wd_table w = {};

	(void)state;
	for (int wd = 1; wd <= 10; wd++)
		assert_int_equal(ln_wd_set(&w, wd, "x"), 0);
	ln_wd_del(&w, 3);
	assert_null(ln_wd_path(&w, 3));
	assert_int_equal(ln_wd_set(&w, 3, "back"), 0);
	assert_string_equal(ln_wd_path(&w, 3), "back");
	assert_int_equal(w.dead, 0);
	assert_string_equal(ln_wd_path(&w, 4), "x");
	ln_wd_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oldest_first),
		cmocka_unit_test(test_gap_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
