// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the watcher's bound cgroups by path (agent/watch_index.c) against a plain list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "watch.h"

static void test_find_below(void **state)
{
	struct ln_bound_index *x = ln_bound_index_new();

	(void)state;
	assert_int_equal(ln_bound_index_find(NULL, "a", 1), -1);
	assert_int_equal(ln_bound_index_add(x, "pods/ctr-1", 0), 0);
	assert_int_equal(ln_bound_index_add(x, "pods/ctr-2/inner", 1), 0);
	assert_int_equal(ln_bound_index_add(x, "pods", 2), 0);
	assert_int_equal(ln_bound_index_find(x, "pods/ctr-1", 10), 0);
	/* a prefix of a path's bytes is a path of its own */
	assert_int_equal(ln_bound_index_find(x, "pods/ctr-1x", 4), 2);
	assert_int_equal(ln_bound_index_find(x, "pods/ctr-2", 10), -1);
	assert_int_equal(ln_bound_index_below(x, "pods"), 2);
	assert_int_equal(ln_bound_index_below(x, "pods/ctr-2"), 1);
	assert_int_equal(ln_bound_index_below(x, "pods/ctr-1"), 0);
	assert_int_equal(ln_bound_index_below(x, "pod"), 0);
	ln_bound_index_del(x, "pods/ctr-2/inner");
	assert_int_equal(ln_bound_index_below(x, "pods"), 1);
	assert_int_equal(ln_bound_index_below(x, "pods/ctr-2"), 0);
	ln_bound_index_move(x, "pods", 7);
	assert_int_equal(ln_bound_index_find(x, "pods", 4), 7);
	ln_bound_index_del(x, "pods");
	assert_int_equal(ln_bound_index_find(x, "pods", 4), -1);
	assert_int_equal(ln_bound_index_below(x, "pods"), 1); /* ctr-1 still */
	ln_bound_index_del(x, "pods/ctr-1");
	assert_int_equal(ln_bound_index_below(x, "pods"), 0);
	ln_bound_index_free(x);
	ln_bound_index_free(NULL);
}

#define N 3000

/* Random adds and deletes (the table grows and shifts runs back) agree with a plain list. */
static void test_against_list(void **state)
{
	static char path[N][32];
	static long idx[N];
	struct ln_bound_index *x = ln_bound_index_new();
	unsigned int seed = 16;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(path[i], sizeof(path[i]), "p%d/c%d/g%d", i % 7, i % 101, i);
		idx[i] = -1;
	}
	for (int round = 0; round < 20 * N; round++) {
		int i = rand_r(&seed) % N;

		if (idx[i] < 0) {
			assert_int_equal(ln_bound_index_add(x, path[i], round), 0);
			idx[i] = round;
		} else {
			ln_bound_index_del(x, path[i]);
			idx[i] = -1;
		}
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(ln_bound_index_find(x, path[i], strlen(path[i])), idx[i]);
	for (int p = 0; p < 7; p++) {
		char top[16];
		size_t want = 0;

		snprintf(top, sizeof(top), "p%d", p);
		for (int i = 0; i < N; i++)
			want += idx[i] >= 0 && i % 7 == p;
		assert_int_equal(ln_bound_index_below(x, top), want);
	}
	for (int i = 0; i < N; i++)
		ln_bound_index_del(x, path[i]);
	assert_int_equal(ln_bound_index_below(x, "p0"), 0);
	assert_int_equal(ln_bound_index_find(x, "p0", 2), -1);
	ln_bound_index_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_below),
		cmocka_unit_test(test_against_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
