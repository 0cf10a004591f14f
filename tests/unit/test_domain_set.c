// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the domain suffix set (suffix semantics, normalization, duplicates, size). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "domain_set.h"

/* A list from literal names; rule id = file 1, line = index + 1. */
static void list_of(struct ln_domainlist *l, __u32 file, const char *const *names, size_t n)
{
	size_t i;

	l->v = calloc(n ? n : 1, sizeof(*l->v));
	assert_non_null(l->v);
	for (i = 0; i < n; i++) {
		l->v[i].name = strdup(names[i]);
		assert_non_null(l->v[i].name);
		l->v[i].rule_id = LN_RULE_ID(file, i + 1);
	}
	l->n = l->cap = n;
}

static struct ln_domain_set *set_of(const char *const *names, size_t n)
{
	struct ln_domainlist l = {0};
	const struct ln_domainlist *lists[] = {&l};
	struct ln_domain_set *s;

	list_of(&l, 1, names, n);
	assert_int_equal(ln_domain_set_build(&s, lists, 1), 0);
	ln_domainlist_free(&l);
	return s;
}

static void test_suffix(void **state)
{
	static const char *const names[] = {"example.com", "ads.example.org", "tld"};
	struct ln_domain_set *s = set_of(names, 3);

	(void)state;
	assert_int_equal(ln_domain_set_size(s), 3);
	assert_int_equal(ln_domain_set_lookup(s, "example.com"), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "www.example.com"), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "a.b.c.example.com"), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "notexample.com"), 0);
	assert_int_equal(ln_domain_set_lookup(s, "example.com.evil"), 0);
	assert_int_equal(ln_domain_set_lookup(s, "xexample.com"), 0);
	assert_int_equal(ln_domain_set_lookup(s, "com"), 0);
	assert_int_equal(ln_domain_set_lookup(s, "example.org"), 0);
	assert_int_equal(ln_domain_set_lookup(s, "x.ads.example.org"), LN_RULE_ID(1, 2));
	assert_int_equal(ln_domain_set_lookup(s, "tld"), LN_RULE_ID(1, 3));
	assert_int_equal(ln_domain_set_lookup(s, "anything.tld"), LN_RULE_ID(1, 3));
	assert_int_equal(ln_domain_set_lookup(s, "tld.x"), 0);
	assert_int_equal(ln_domain_set_lookup(s, ""), 0);
	assert_int_equal(ln_domain_set_lookup(s, "."), 0);
	ln_domain_set_free(s);
}

static void test_case_and_dot(void **state)
{
	static const char *const names[] = {"Example.COM.", "lower.test"};
	struct ln_domain_set *s = set_of(names, 2);

	(void)state;
	assert_int_equal(ln_domain_set_lookup(s, "example.com"), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "EXAMPLE.com."), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "Www.ExAmple.Com."), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "X.LOWER.TEST"), LN_RULE_ID(1, 2));
	assert_int_equal(ln_domain_set_lookup(s, "lower.test.."), 0);
	ln_domain_set_free(s);
}

/* A listed subdomain never hides its listed parent, nor the parent the sub. */
static void test_sub_and_parent(void **state)
{
	static const char *const names[] = {"ads.example.com", "example.com",
					    "deep.ads.example.com"};
	struct ln_domain_set *s = set_of(names, 3);

	(void)state;
	assert_int_equal(ln_domain_set_size(s), 3);
	assert_int_equal(ln_domain_set_lookup(s, "example.com"), LN_RULE_ID(1, 2));
	assert_int_equal(ln_domain_set_lookup(s, "www.example.com"), LN_RULE_ID(1, 2));
	assert_int_equal(ln_domain_set_lookup(s, "ads.example.com"), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "x.ads.example.com"), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "deep.ads.example.com"), LN_RULE_ID(1, 3));
	assert_int_equal(ln_domain_set_lookup(s, "x.deep.ads.example.com"), LN_RULE_ID(1, 3));
	ln_domain_set_free(s);
}

static void test_duplicates_first_wins(void **state)
{
	static const char *const a[] = {"dup.test", "a.test", "DUP.test."};
	static const char *const b[] = {"dup.test", "b.test"};
	struct ln_domainlist la = {0}, lb = {0};
	const struct ln_domainlist *lists[] = {&la, NULL, &lb};
	struct ln_domain_set *s;

	(void)state;
	list_of(&la, 1, a, 3);
	list_of(&lb, 2, b, 2);
	assert_int_equal(ln_domain_set_build(&s, lists, 3), 0);
	assert_int_equal(ln_domain_set_size(s), 3);
	assert_int_equal(ln_domain_set_lookup(s, "dup.test"), LN_RULE_ID(1, 1));
	assert_int_equal(ln_domain_set_lookup(s, "b.test"), LN_RULE_ID(2, 2));
	ln_domain_set_free(s);
	ln_domainlist_free(&la);
	ln_domainlist_free(&lb);
}

static void test_empty_and_invalid(void **state)
{
	static const char *const bad[] = {"ok.test", "."};
	struct ln_domainlist l = {0};
	const struct ln_domainlist *lists[] = {&l};
	struct ln_domain_set *s = (void *)1;

	(void)state;
	assert_int_equal(ln_domain_set_build(&s, NULL, 0), 0);
	assert_int_equal(ln_domain_set_size(s), 0);
	assert_int_equal(ln_domain_set_lookup(s, "example.com"), 0);
	ln_domain_set_free(s);
	ln_domain_set_free(NULL);
	assert_int_equal(ln_domain_set_lookup(NULL, "example.com"), 0);
	assert_int_equal(ln_domain_set_size(NULL), 0);

	list_of(&l, 1, bad, 2);
	assert_int_equal(ln_domain_set_build(&s, lists, 1), -EINVAL);
	assert_null(s);
	l.v[1].name[0] = 'x';
	l.v[1].rule_id = 0;
	assert_int_equal(ln_domain_set_build(&s, lists, 1), -EINVAL);
	ln_domainlist_free(&l);
}

/* Names longer than anything listable: only their short-enough suffixes are looked at. */
static void test_long_names(void **state)
{
	static const char *const names[] = {"ads.example.com"};
	struct ln_domain_set *s = set_of(names, 1);
	char name[1100];
	size_t i;

	(void)state;
	for (i = 0; i + 4 < 1000; i += 4)
		memcpy(name + i, "\\000", 4);
	strcpy(name + i, ".aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.ads.example.com.");
	assert_int_equal(ln_domain_set_lookup(s, name), LN_RULE_ID(1, 1));
	memset(name, 'a', 1000);
	name[1000] = '\0';
	assert_int_equal(ln_domain_set_lookup(s, name), 0);
	strcpy(name + 1000, ".ads.example.com");
	name[500] = '.';
	assert_int_equal(ln_domain_set_lookup(s, name), LN_RULE_ID(1, 1));
	ln_domain_set_free(s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Generated names: each found with its rule id, its subdomains too, near misses not. */
static void test_many(void **state)
{
	size_t n = 100000, i, text = 0;
	const char *env = getenv("LN_DOMAIN_SET_N");
	struct ln_domainlist l = {0};
	const struct ln_domainlist *lists[] = {&l};
	struct ln_domain_set *s;
	char buf[300];
	double t0, t_build, t_lookup, t_miss;
	__u32 sink = 0;

	(void)state;
	if (env)
		n = strtoul(env, NULL, 10);
	l.v = calloc(n, sizeof(*l.v));
	assert_non_null(l.v);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "h%zx-%zu.d%zu.example%zu.test", i * 2654435761u % 99991,
			 i, i % 977, i % 13);
		l.v[i].name = strdup(buf);
		l.v[i].rule_id = LN_RULE_ID(1, i + 1);
		text += strlen(buf) + 1;
	}
	l.n = l.cap = n;
	t0 = now_s();
	assert_int_equal(ln_domain_set_build(&s, lists, 1), 0);
	t_build = now_s() - t0;
	assert_int_equal(ln_domain_set_size(s), n);
	t0 = now_s();
	for (i = 0; i < n; i++)
		sink += ln_domain_set_lookup(s, l.v[i].name);
	t_lookup = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "www.q%zu.example%zu.net", i, i % 13);
		sink += ln_domain_set_lookup(s, buf);
	}
	t_miss = now_s() - t0;
	for (i = 0; i < n; i += 7) {
		assert_int_equal(ln_domain_set_lookup(s, l.v[i].name), LN_RULE_ID(1, i + 1));
		snprintf(buf, sizeof(buf), "www.%s.", l.v[i].name);
		assert_int_equal(ln_domain_set_lookup(s, buf), LN_RULE_ID(1, i + 1));
		snprintf(buf, sizeof(buf), "x%s", l.v[i].name);
		assert_int_equal(ln_domain_set_lookup(s, buf), 0);
	}
	assert_int_equal(ln_domain_set_lookup(s, "d1.example1.test"), 0);
	printf("# domain set: %zu names, build %.1f ms, %.1f bytes/name beyond text "
	       "(%zu bytes total), lookup %.0f ns a hit, %.0f ns a 4-label miss (incl. snprintf)\n",
	       n, t_build * 1e3, (double)(ln_domain_set_memory(s) - text) / n,
	       ln_domain_set_memory(s), t_lookup * 1e9 / n, t_miss * 1e9 / n);
	assert_true(sink != 0);
	ln_domain_set_free(s);
	ln_domainlist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suffix),	    cmocka_unit_test(test_case_and_dot),
	    cmocka_unit_test(test_sub_and_parent), cmocka_unit_test(test_duplicates_first_wins),
	    cmocka_unit_test(test_empty_and_invalid), cmocka_unit_test(test_long_names),
	    cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
