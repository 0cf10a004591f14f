// SPDX-License-Identifier: GPL-2.0
/* Unit tests: one allow/deny value, TARGET[:PORT[-PORT]][/tcp|/udp]. */
#include <netinet/in.h>

#include "rules_test_util.h"

struct good_case {
	const char *in;
	const char *target; /* prefix text, or the hostname */
	bool hostname;
	__u16 lo, hi;
	__u8 proto;
};

static void test_good(void **state)
{
	static const struct good_case cases[] = {
	    {"192.0.2.0/24:443/tcp", "192.0.2.0/24", false, 443, 443, IPPROTO_TCP},
	    {"[2001:db8::1]:53/udp", "2001:db8::1", false, 53, 53, IPPROTO_UDP},
	    {"2001:db8::/32", "2001:db8::/32", false, 0, 65535, LN_PROTO_ANY},
	    {"2001:db8::/32/tcp", "2001:db8::/32", false, 0, 65535, IPPROTO_TCP},
	    {"2001:db8::1:80", "2001:db8::1:80", false, 0, 65535, LN_PROTO_ANY},
	    {"[2001:db8::/32]:443", "2001:db8::/32", false, 443, 443, LN_PROTO_ANY},
	    {"[2001:db8::/32]:443/UDP", "2001:db8::/32", false, 443, 443, IPPROTO_UDP},
	    {"[::1]", "::1", false, 0, 65535, LN_PROTO_ANY},
	    {"*:25/tcp", "::/0", false, 25, 25, IPPROTO_TCP},
	    {"*/udp", "::/0", false, 0, 65535, IPPROTO_UDP},
	    {"*", "::/0", false, 0, 65535, LN_PROTO_ANY},
	    {"ANY:53", "::/0", false, 53, 53, LN_PROTO_ANY},
	    {"localhost:8080", "localhost", true, 8080, 8080, LN_PROTO_ANY},
	    {"Example.COM.:443/tcp", "example.com", true, 443, 443, IPPROTO_TCP},
	    {"10.0.0.1:1000-2000", "10.0.0.1", false, 1000, 2000, LN_PROTO_ANY},
	    {"10.0.0.0/8:1-65535/udp", "10.0.0.0/8", false, 1, 65535, IPPROTO_UDP},
	    {"10.9.9.9/8", "10.0.0.0/8", false, 0, 65535, LN_PROTO_ANY},
	    {"10.0.0.1:7-7", "10.0.0.1", false, 7, 7, LN_PROTO_ANY},
	    {"::ffff:192.0.2.1", "192.0.2.1", false, 0, 65535, LN_PROTO_ANY},
	};
	struct ln_error err = {""};
	struct ln_rule r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct good_case *c = &cases[i];

		if (ln_rule_parse(c->in, LN_VERDICT_DENY, &r, &err))
			fail_msg("\"%s\": %s", c->in, err.msg);
		assert_int_equal(r.verdict, LN_VERDICT_DENY);
		assert_int_equal(r.kind, c->hostname ? LN_TARGET_HOSTNAME : LN_TARGET_PREFIX);
		if (c->hostname)
			assert_string_equal(r.hostname, c->target);
		else
			assert_string_equal(prefix_str(&r.pfx), c->target);
		assert_int_equal(r.port_lo, c->lo);
		assert_int_equal(r.port_hi, c->hi);
		assert_int_equal(r.proto, c->proto);
		ln_rule_free(&r);
	}
	ln_rule_free(NULL);
}

static void test_any_is_zero_length(void **state)
{
	struct ln_error err = {""};
	struct ln_rule r;
	struct ln_prefix v4;

	(void)state;
	assert_int_equal(ln_rule_parse("any", LN_VERDICT_ALLOW, &r, &err), 0);
	assert_int_equal(r.pfx.len, 0);
	assert_int_equal(r.verdict, LN_VERDICT_ALLOW);
	assert_int_equal(ln_prefix_parse("192.0.2.1", &v4), 0);
	assert_true(ln_prefix_contains(&r.pfx, &v4));
}

struct bad_case {
	const char *in;
	const char *msg;
};

static void test_bad(void **state)
{
	static const struct bad_case cases[] = {
	    {"", "empty rule"},
	    {"192.0.2.1:99999", "bad port \"99999\" (must be 1-65535)"},
	    {"192.0.2.1:0", "bad port \"0\" (must be 1-65535)"},
	    {"192.0.2.1:", "bad port \"\" (must be 1-65535)"},
	    {"192.0.2.1:http", "bad port \"http\" (must be 1-65535)"},
	    {"192.0.2.1:2000-1000", "bad port range \"2000-1000\" (low > high)"},
	    {"192.0.2.1:10-", "bad port \"\" (must be 1-65535)"},
	    {"192.0.2.1:-10", "bad port \"\" (must be 1-65535)"},
	    {"192.0.2.1:+5", "bad port \"+5\" (must be 1-65535)"},
	    {"192.0.2.1/sctp", "unknown protocol \"sctp\" (tcp or udp)"},
	    {"192.0.2.1:80/", "bad port \"80/\" (must be 1-65535)"},
	    {"192.0.2.0/33", "bad address, CIDR or hostname \"192.0.2.0/33\""},
	    {"2001:db8::/129", "bad address, CIDR or hostname \"2001:db8::/129\""},
	    {"[2001:db8::1:53", "missing ']' in \"[2001:db8::1:53\""},
	    {"[2001:db8::1]53", "unexpected \"53\" after ']'"},
	    {"[example.com]:80", "bad address, CIDR or hostname \"example.com\""},
	    {"[*]:80", "bad address, CIDR or hostname \"*\""},
	    {"bad!host:80", "bad address, CIDR or hostname \"bad!host\""},
	    {"10.0.0.256", "bad address, CIDR or hostname \"10.0.0.256\""},
	    {"/tcp", "missing target before \"/\""},
	    {":80", "bad address, CIDR or hostname \"\""},
	};
	struct ln_error err = {""};
	struct ln_rule r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ln_rule_parse(cases[i].in, LN_VERDICT_ALLOW, &r, &err) != -EINVAL)
			fail_msg("accepted \"%s\"", cases[i].in);
		assert_string_equal(err.msg, cases[i].msg);
		assert_null(r.hostname);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_any_is_zero_length),
	    cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
