// SPDX-License-Identifier: GPL-2.0
/* Unit tests: address prefixes, their text forms, and hostname syntax. */
#include "rules_test_util.h"

static void test_parse_v4(void **state)
{
	static const __u8 want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
	struct ln_prefix p;

	(void)state;
	assert_int_equal(ln_prefix_parse("192.0.2.1", &p), 0);
	assert_memory_equal(p.addr, want, 16);
	assert_int_equal(p.len, 128);
	assert_true(ln_prefix_is_v4(&p));
	assert_string_equal(prefix_str(&p), "192.0.2.1");
}

static void test_parse_v4_cidr_clears_host_bits(void **state)
{
	struct ln_prefix p;

	(void)state;
	assert_int_equal(ln_prefix_parse("192.0.2.77/24", &p), 0);
	assert_int_equal(p.len, 96 + 24);
	assert_int_equal(p.addr[15], 0);
	assert_string_equal(prefix_str(&p), "192.0.2.0/24");
	assert_int_equal(ln_prefix_parse("10.255.1.1/9", &p), 0);
	assert_string_equal(prefix_str(&p), "10.128.0.0/9");
	assert_int_equal(ln_prefix_parse("0.0.0.0/0", &p), 0);
	assert_int_equal(p.len, 96);
	assert_string_equal(prefix_str(&p), "0.0.0.0/0");
	assert_int_equal(ln_prefix_parse("1.2.3.4/32", &p), 0);
	assert_int_equal(p.len, 128);
}

static void test_parse_v6(void **state)
{
	struct ln_prefix p;

	(void)state;
	assert_int_equal(ln_prefix_parse("2001:db8::1", &p), 0);
	assert_int_equal(p.len, 128);
	assert_false(ln_prefix_is_v4(&p));
	assert_string_equal(prefix_str(&p), "2001:db8::1");
	assert_int_equal(ln_prefix_parse("2001:db8:ffff::1/32", &p), 0);
	assert_int_equal(p.len, 32);
	assert_string_equal(prefix_str(&p), "2001:db8::/32");
	assert_int_equal(ln_prefix_parse("::/0", &p), 0);
	assert_int_equal(p.len, 0);
	assert_string_equal(prefix_str(&p), "::/0");
	assert_int_equal(ln_prefix_parse("2001:db8::ff/127", &p), 0);
	assert_string_equal(prefix_str(&p), "2001:db8::fe/127");
}

static void test_parse_v4_mapped_v6(void **state)
{
	struct ln_prefix p, q;

	(void)state;
	assert_int_equal(ln_prefix_parse("::ffff:192.0.2.1", &p), 0);
	assert_int_equal(ln_prefix_parse("192.0.2.1", &q), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	assert_true(ln_prefix_is_v4(&p));
	assert_int_equal(ln_prefix_parse("::ffff:10.0.0.0/104", &p), 0);
	assert_string_equal(prefix_str(&p), "10.0.0.0/8");
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "1.2.3.4/33",
	    "::/129",
	    "1.2.3",
	    "abc",
	    "1.2.3.4/",
	    "1.2.3.4/-1",
	    "1.2.3.4/ 8",
	    "1.2.3.4/8x",
	    " 1.2.3.4",
	    "1.2.3.4 ",
	    "256.0.0.1",
	    "2001:db8:::1",
	    "[::1]",
	    "1.2.3.4/1000",
	    "::1/",
	    "example.com",
	    "1.2.3.4/8/8",
	    "0000000000000000000000000000000000000000000000000000000000001.2.3.4",
	};
	struct ln_prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ln_prefix_parse(bad[i], &p) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void test_addr_format(void **state)
{
	struct ln_prefix p;
	char buf[64];

	(void)state;
	assert_int_equal(ln_prefix_parse("198.51.100.7", &p), 0);
	assert_string_equal(ln_addr_format(p.addr, buf, sizeof(buf)), "198.51.100.7");
	assert_int_equal(ln_prefix_parse("2001:db8::42", &p), 0);
	assert_string_equal(ln_addr_format(p.addr, buf, sizeof(buf)), "2001:db8::42");
}

static void test_contains(void **state)
{
	struct ln_prefix a, b, any;

	(void)state;
	assert_int_equal(ln_prefix_parse("10.0.0.0/8", &a), 0);
	assert_int_equal(ln_prefix_parse("10.1.0.0/16", &b), 0);
	assert_int_equal(ln_prefix_parse("::/0", &any), 0);
	assert_true(ln_prefix_contains(&a, &b));
	assert_false(ln_prefix_contains(&b, &a));
	assert_true(ln_prefix_contains(&a, &a));
	assert_true(ln_prefix_contains(&any, &a));
	assert_int_equal(ln_prefix_parse("11.0.0.1", &b), 0);
	assert_false(ln_prefix_contains(&a, &b));
	assert_int_equal(ln_prefix_parse("10.128.0.0/9", &a), 0);
	assert_int_equal(ln_prefix_parse("10.127.255.255", &b), 0);
	assert_false(ln_prefix_contains(&a, &b));
	assert_int_equal(ln_prefix_parse("10.128.0.1", &b), 0);
	assert_true(ln_prefix_contains(&a, &b));
	assert_int_equal(ln_prefix_parse("2001:db8::/32", &a), 0);
	assert_int_equal(ln_prefix_parse("2001:db9::1", &b), 0);
	assert_false(ln_prefix_contains(&a, &b));
}

static void test_hostname_valid(void **state)
{
	static const char *const good[] = {
	    "example.com",
	    "a",
	    "localhost",
	    "xn--bcher-kva.example",
	    "_dmarc.example.com",
	    "example.com.",
	    "EXAMPLE.Com",
	    "r3---sn-abc.googlevideo.com",
	    "1.2.3.example",
	    "123abc",
	    "a-.b.com",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	};
	static const char *const bad[] = {
	    "",
	    ".",
	    "a..b",
	    "-a.com",
	    "a.-b.com",
	    "a b",
	    "10.0.0.256",
	    "1.2.3.4",
	    "exa$mple.com",
	    ".example.com",
	    "a.com..",
	    "*.example.com",
	    "example.com/8",
	    "ex:ample",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	};
	char longname[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ln_hostname_is_valid(good[i]))
			fail_msg("rejected \"%s\"", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ln_hostname_is_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	/* 253 characters is the limit: 63 * 4 labels + 3 dots = 255 is too long */
	memset(longname, 'a', sizeof(longname));
	for (i = 63; i < 253; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	assert_true(ln_hostname_is_valid(longname));
	longname[253] = 'a';
	longname[254] = '\0';
	assert_false(ln_hostname_is_valid(longname));
}

static void test_sources(void **state)
{
	struct ln_sources s = {0};
	char buf[128];

	(void)state;
	assert_int_equal(ln_sources_add(&s, "a.ini"), 1);
	assert_int_equal(ln_sources_add(&s, "b.txt"), 2);
	assert_int_equal(ln_sources_add(&s, "a.ini"), 1);
	assert_string_equal(ln_sources_path(&s, 2), "b.txt");
	assert_null(ln_sources_path(&s, 3));
	assert_null(ln_sources_path(&s, 0));
	assert_string_equal(ln_rule_id_format(&s, LN_RULE_ID(2, 17), buf, sizeof(buf)), "b.txt:17");
	assert_string_equal(ln_rule_id_format(&s, 0, buf, sizeof(buf)), "-");
	ln_sources_free(&s);
	ln_sources_free(NULL);
	assert_int_equal(s.n, 0);
}

static void test_sources_limit(void **state)
{
	struct ln_sources s = {0};
	char name[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < LN_RULE_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		assert_int_equal(ln_sources_add(&s, name), (int)i + 1);
	}
	assert_int_equal(ln_sources_add(&s, "one-too-many"), -E2BIG);
	assert_int_equal(ln_sources_add(&s, "f0"), 1);
	ln_sources_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_v4),
	    cmocka_unit_test(test_parse_v4_cidr_clears_host_bits),
	    cmocka_unit_test(test_parse_v6),
	    cmocka_unit_test(test_parse_v4_mapped_v6),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_addr_format),
	    cmocka_unit_test(test_contains),
	    cmocka_unit_test(test_hostname_valid),
	    cmocka_unit_test(test_sources),
	    cmocka_unit_test(test_sources_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
