// SPDX-License-Identifier: GPL-2.0
/* Unit tests: blocked_domains.txt in its formats (plain, hosts, adblock, dnsmasq). */
#include "rules_test_util.h"

struct want_domain {
	const char *name;
	__u32 line;
};

static void test_golden(void **state)
{
	static const struct want_domain want[] = {
	    {"example.com", 2},	  {"wild.example", 3},	   {"ads.example", 4},
	    {"track.example", 5}, {"deep.sub.example", 6}, {"a.example", 9},
	    {"b.example", 9},	  {"c.example", 10},	   {"d.example", 14},
	    {"e.example", 15},	  {"f.example", 15},	   {"g.example", 16},
	    {"h.example", 17},	  {"www.example.org", 20}, {"x_y.example", 21},
	    {"example.com", 22},  {"i.example", 23},	   {"j.example", 24},
	    {"k.example", 25},	  {"l.example", 26},
	};
	struct ln_domainlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	const char *path = write_file("domains.txt", "# plain\n"
						     "example.com\n"
						     "*.wild.example\n"
						     "||ads.example^\n"
						     "||track.example^$third-party\n"
						     "  ||*.deep.sub.example^  \n"
						     "127.0.0.1 localhost\n"
						     "::1 ip6-localhost ip6-loopback\n"
						     "0.0.0.0 a.example b.example\n"
						     "127.0.0.1\tc.example # hosts comment\n"
						     "0.0.0.0 0.0.0.0\n"
						     "! adblock comment\n"
						     "[Adblock Plus 2.0]\n"
						     "address=/d.example/\n"
						     "address=/e.example/f.example/0.0.0.0\n"
						     "address=/g.example/#\n"
						     "address=/h.example/::\n"
						     "\n"
						     "255.255.255.255 broadcasthost\n"
						     "WWW.Example.ORG.\n"
						     "x_y.example\r\n"
						     "example.com\n"
						     "i.example # trailing comment\n"
						     ":: j.example localhost.localdomain\n"
						     "address=/k.example/   # dnsmasq comment\n"
						     "address=/l.example/#\t# comment\n");
	size_t i;

	(void)state;
	if (ln_domainlist_parse_file(&l, &src, path, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < l.n; i++) {
		assert_string_equal(l.v[i].name, want[i].name);
		assert_int_equal(l.v[i].rule_id, LN_RULE_ID(1, want[i].line));
	}
	ln_domainlist_free(&l);
	ln_domainlist_free(NULL);
	ln_sources_free(&src);
}

static void expect_error(const char *line, const char *reason_fmt, const char *arg)
{
	struct ln_domainlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	char text[512], reason[256];
	const char *path;

	/* the bad line is line 3, after a good entry and a comment */
	snprintf(text, sizeof(text), "ok.example\n# comment\n%s\nlater.example\n", line);
	snprintf(reason, sizeof(reason), reason_fmt, arg);
	path = write_file("bad.txt", text);
	if (ln_domainlist_parse_file(&l, &src, path, &err) != -EINVAL)
		fail_msg("accepted \"%s\"", line);
	assert_string_equal(err.msg, expect_msg("bad.txt:3: %s", reason));
	assert_true(l.n >= 1);
	assert_string_equal(l.v[0].name, "ok.example");
	ln_domainlist_free(&l);
	ln_sources_free(&src);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("@@||good.example^", "adblock exception rules (@@) are not supported", NULL);
	expect_error("/ads[0-9]+\\./", "adblock regular expressions are not supported", NULL);
	expect_error("example.com##.banner", "adblock element hiding rules are not supported",
		     NULL);
	expect_error("example.com#@#.banner", "adblock element hiding rules are not supported",
		     NULL);
	expect_error("server=/example.com/1.1.1.1", "server=/.../ forwards, does not block", NULL);
	expect_error("||x.example",
		     "unsupported adblock rule \"%s\" (only ||name^ blocks a domain)",
		     "||x.example");
	expect_error("||x.example^|",
		     "unsupported adblock rule \"%s\" (only ||name^ blocks a "
		     "domain)",
		     "||x.example^|");
	expect_error("|http://x.example",
		     "unsupported adblock rule \"%s\" (only ||name^ blocks a "
		     "domain)",
		     "|http://x.example");
	expect_error("ads$script", "unsupported adblock rule \"%s\" (only ||name^ blocks a domain)",
		     "ads$script");
	expect_error("local=/x.example/",
		     "unsupported dnsmasq option \"%s\" (only address=/name/ "
		     "blocks)",
		     "local=");
	expect_error("address=/#/", "address=/#/ (every domain) is not supported", NULL);
	expect_error("address=/x.example/nope", "bad address \"%s\" in address=/.../", "nope");
	expect_error("address=/", "expected address=/name/[address]", NULL);
	expect_error("address=//", "expected address=/name/[address]", NULL);
	expect_error("bad!name.example", "bad domain name \"%s\"", "bad!name.example");
	expect_error("*", "bad domain name \"%s\"", "*");
	expect_error("*.", "bad domain name \"%s\"", "*");
	expect_error("a*.example", "bad domain name \"%s\"", "a*.example");
	expect_error("||bad..example^", "bad domain name \"%s\"", "bad..example");
	expect_error("0.0.0.0 good.example bad_name!", "bad domain name \"%s\"", "bad_name!");
	expect_error("192.0.2.1", "address \"%s\" without a name", "192.0.2.1");
	expect_error("two words", "expected a domain or \"ADDRESS name...\", found \"%s\" first",
		     "two");
	expect_error("10.0.0.256", "bad domain name \"%s\"", "10.0.0.256");
	expect_error("example.com..", "bad domain name \"%s\"", "example.com.");
}

static void test_missing_and_long(void **state)
{
	struct ln_domainlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	char *text = malloc(LN_MAX_LINE_LEN + 16);

	(void)state;
	assert_int_equal(ln_domainlist_parse_file(&l, &src, tpath("none.txt"), &err), -ENOENT);
	assert_string_equal(err.msg,
			    expect_msg("none.txt: cannot open: No such file or directory"));
	memset(text, 'a', LN_MAX_LINE_LEN + 1);
	strcpy(text + LN_MAX_LINE_LEN + 1, "\n");
	assert_int_equal(ln_domainlist_parse_file(&l, &src, write_file("long.txt", text), &err),
			 -EINVAL);
	assert_string_equal(err.msg, expect_msg("long.txt:1: line too long (max 4096)"));
	free(text);
	ln_domainlist_free(&l);
	ln_sources_free(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_missing_and_long),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
