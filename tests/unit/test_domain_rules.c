// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: allow-domain / deny-domain matching (ln_domain_matches,
 * ln_domain_rules_match): suffix semantics, the order of the rules a DNS
 * answer's names select, and the cap at LN_RULES_PER_PREFIX.
 */
#include <netinet/in.h>

#include "rules_test_util.h"

static void test_matches_suffix(void **state)
{
	(void)state;
	/* equal, and any subdomain */
	assert_true(ln_domain_matches("example.com", "example.com"));
	assert_true(ln_domain_matches("www.example.com", "example.com"));
	assert_true(ln_domain_matches("a.b.c.example.com", "example.com"));
	/* a label boundary is needed: a longer label is another domain */
	assert_false(ln_domain_matches("notexample.com", "example.com"));
	assert_false(ln_domain_matches("xexample.com", "example.com"));
	assert_false(ln_domain_matches("www.notexample.com", "example.com"));
	/* the parent does not match its child, nor a sibling, nor a longer TLD */
	assert_false(ln_domain_matches("example.com", "www.example.com"));
	assert_false(ln_domain_matches("com", "example.com"));
	assert_false(ln_domain_matches("example.org", "example.com"));
	assert_false(ln_domain_matches("example.com.evil", "example.com"));
	assert_false(ln_domain_matches("example.co", "example.com"));
	/* a one-label suffix covers everything under it */
	assert_true(ln_domain_matches("x.test", "test"));
	assert_false(ln_domain_matches("xtest", "test"));
	assert_false(ln_domain_matches("", "example.com"));
}

static void test_matches_case(void **state)
{
	(void)state;
	assert_true(ln_domain_matches("WWW.Example.COM", "example.com"));
	assert_true(ln_domain_matches("EXAMPLE.COM", "example.com"));
	assert_true(ln_domain_matches("api.example.com", "API.Example.Com"));
	assert_false(ln_domain_matches("NOTEXAMPLE.COM", "example.com"));
}

/* A policy whose domain rules are built from @spec, one per line number 1.. */
struct drule {
	const char *suffix;
	__u16 lo, hi;
	__u8 proto, verdict;
};

static void policy_of(struct ln_policy *p, const struct drule *spec, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->domain_rules = calloc(n ? n : 1, sizeof(*p->domain_rules));
	assert_non_null(p->domain_rules);
	for (size_t i = 0; i < n; i++) {
		struct ln_rule *r = &p->domain_rules[i];

		r->kind = LN_TARGET_DOMAIN;
		r->hostname = strdup(spec[i].suffix);
		assert_non_null(r->hostname);
		r->port_lo = spec[i].lo;
		r->port_hi = spec[i].hi;
		r->proto = spec[i].proto;
		r->verdict = spec[i].verdict;
		r->rule_id = LN_RULE_ID(1, i + 1);
	}
	p->n_domain_rules = p->cap_domain_rules = n;
}

static void policy_done(struct ln_policy *p)
{
	for (size_t i = 0; i < p->n_domain_rules; i++)
		ln_rule_free(&p->domain_rules[i]);
	free(p->domain_rules);
}

#define A LN_VERDICT_ALLOW
#define D LN_VERDICT_DENY
#define ANY LN_PROTO_ANY

/* The lines (rule ids of file 1) of @out, in order, as "l1 l2 ..." */
static const char *lines_of(const struct ln_rule_set *out)
{
	static char buf[256];
	size_t n = 0;

	buf[0] = '\0';
	for (__u32 i = 0; i < out->count; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%u", i ? " " : "",
			      out->e[i].rule_id - LN_RULE_ID(1, 0));
	return buf;
}

static void test_rules_order(void **state)
{
	static const struct drule spec[] = {
	    /* 1 */ {"example.com", 0, 65535, ANY, A},
	    /* 2 */ {"api.example.com", 0, 65535, ANY, A},
	    /* 3 */ {"example.com", 443, 443, ANY, A},
	    /* 4 */ {"example.com", 443, 443, IPPROTO_TCP, A},
	    /* 5 */ {"example.com", 443, 443, IPPROTO_TCP, D},
	    /* 6 */ {"example.com", 1, 1024, ANY, D},
	    /* 7 */ {"other.test", 0, 65535, ANY, D},
	    /* 8 */ {"notexample.com", 0, 65535, ANY, D},
	};
	const char *names[] = {"v1.api.example.com"};
	struct ln_rule_set out;
	struct ln_policy p;

	(void)state;
	policy_of(&p, spec, sizeof(spec) / sizeof(spec[0]));
	assert_int_equal(ln_domain_rules_match(&p, names, 1, &out), 6);
	/*
	 * Longer suffix first (2); then, among example.com, narrower ports (443
	 * before 1-1024 before any), a specific proto before any, deny before
	 * allow on a tie.
	 */
	assert_string_equal(lines_of(&out), "2 5 4 3 6 1");
	assert_int_equal(out.e[0].port_lo, 0);
	assert_int_equal(out.e[0].port_hi, 65535);
	assert_int_equal(out.e[1].verdict, D);
	assert_int_equal(out.e[1].proto, IPPROTO_TCP);
	assert_int_equal(out.e[1].port_lo, 443);
	assert_int_equal(out.e[1].port_hi, 443);
	assert_int_equal(out.e[2].verdict, A);

	names[0] = "example.com";
	assert_int_equal(ln_domain_rules_match(&p, names, 1, &out), 5);
	assert_string_equal(lines_of(&out), "5 4 3 6 1");
	names[0] = "EXAMPLE.COM";
	assert_int_equal(ln_domain_rules_match(&p, names, 1, &out), 5);
	names[0] = "notexample.com";
	assert_int_equal(ln_domain_rules_match(&p, names, 1, &out), 1);
	assert_string_equal(lines_of(&out), "8");
	policy_done(&p);
}

/* Same specificity, same verdict: the earlier line first. */
static void test_rules_tie_by_line(void **state)
{
	static const struct drule spec[] = {
	    {"a.test", 80, 80, ANY, A},
	    {"a.test", 81, 81, ANY, A},
	    {"a.test", 80, 80, ANY, D},
	};
	const char *names[] = {"a.test"};
	struct ln_rule_set out;
	struct ln_policy p;

	(void)state;
	policy_of(&p, spec, 3);
	assert_int_equal(ln_domain_rules_match(&p, names, 1, &out), 3);
	assert_string_equal(lines_of(&out), "3 1 2");
	policy_done(&p);
}

static void test_rules_chain(void **state)
{
	static const struct drule spec[] = {
	    /* 1 */ {"cdn.test", 0, 65535, ANY, D},
	    /* 2 */ {"www.shop.test", 443, 443, IPPROTO_TCP, A},
	    /* 3 */ {"shop.test", 0, 65535, ANY, A},
	    /* 4 */ {"unrelated.test", 0, 65535, ANY, D},
	};
	/* www.shop.test CNAME shop.edge.cdn.test: every name of the chain counts */
	const char *chain[] = {"www.shop.test", "shop.edge.cdn.test"};
	const char *last_only[] = {"x.test", "y.cdn.test"};
	/* two names matching the same rule: it is listed once */
	const char *twice[] = {"a.shop.test", "b.shop.test"};
	struct ln_rule_set out;
	struct ln_policy p;

	(void)state;
	policy_of(&p, spec, 4);
	assert_int_equal(ln_domain_rules_match(&p, chain, 2, &out), 3);
	/* by suffix length: www.shop.test (13), shop.test (9), cdn.test (8) */
	assert_string_equal(lines_of(&out), "2 3 1");
	assert_int_equal(ln_domain_rules_match(&p, last_only, 2, &out), 1);
	assert_string_equal(lines_of(&out), "1");
	assert_int_equal(ln_domain_rules_match(&p, twice, 2, &out), 1);
	assert_string_equal(lines_of(&out), "3");
	policy_done(&p);
}

static void test_rules_no_match(void **state)
{
	static const struct drule spec[] = {{"example.com", 0, 65535, ANY, D}};
	const char *names[] = {"example.org", "notexample.com", "com"};
	struct ln_rule_set out;
	struct ln_policy p, empty;

	(void)state;
	policy_of(&p, spec, 1);
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(ln_domain_rules_match(&p, names, 3, &out), 0);
	assert_int_equal(out.count, 0);
	/* no names at all */
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(ln_domain_rules_match(&p, names, 0, &out), 0);
	assert_int_equal(out.count, 0);
	/* a policy without domain rules */
	memset(&empty, 0, sizeof(empty));
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(ln_domain_rules_match(&empty, names, 3, &out), 0);
	assert_int_equal(out.count, 0);
	policy_done(&p);
}

/* More matching rules than a set holds: the LN_RULES_PER_PREFIX most specific stay. */
static void test_rules_cap(void **state)
{
	enum { N = LN_RULES_PER_PREFIX + 8 };
	struct drule spec[N];
	char suffix[N][160];
	const char *names[] = {"h.d1.d2.d3.d4.d5.d6.d7.d8.d9.d10.d11.d12.d13.d14.d15.d16.d17."
			       "d18.d19.d20.d21.d22.d23.d24.test"};
	struct ln_rule_set out;
	struct ln_policy p;
	size_t i;

	(void)state;
	/*
	 * Line i+1 names the i-th shortest suffix ("test", "d24.test", ...), so
	 * the longest suffixes are the last lines; put the widest-port rule
	 * on the most specific suffix, to see that suffix length comes first.
	 */
	for (i = 0; i < N; i++) {
		const char *s = names[0] + strlen(names[0]);
		size_t dots = 0;

		while (s > names[0] && dots <= i) {
			s--;
			if (*s == '.')
				dots++;
		}
		snprintf(suffix[i], sizeof(suffix[i]), "%s", *s == '.' ? s + 1 : s);
		spec[i] = (struct drule){suffix[i], 443, 443, IPPROTO_TCP, D};
	}
	spec[N - 1].lo = 0;
	spec[N - 1].hi = 65535;
	spec[N - 1].proto = ANY;
	spec[N - 1].verdict = A;
	assert_string_equal(suffix[0], "test");
	assert_string_equal(suffix[1], "d24.test");
	policy_of(&p, spec, N);
	assert_int_equal(ln_domain_rules_match(&p, names, 1, &out), LN_RULES_PER_PREFIX);
	assert_int_equal(out.count, LN_RULES_PER_PREFIX);
	for (i = 0; i < LN_RULES_PER_PREFIX; i++)
		assert_int_equal(out.e[i].rule_id, LN_RULE_ID(1, N - i));
	assert_int_equal(out.e[0].verdict, A);
	policy_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matches_suffix),  cmocka_unit_test(test_matches_case),
	    cmocka_unit_test(test_rules_order),     cmocka_unit_test(test_rules_tie_by_line),
	    cmocka_unit_test(test_rules_chain),     cmocka_unit_test(test_rules_no_match),
	    cmocka_unit_test(test_rules_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
