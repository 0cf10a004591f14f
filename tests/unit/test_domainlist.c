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

/* "b.exam\0ple.com" is an error, not the domain "b.exam". */
static void test_nul_byte(void **state)
{
	static const char text[] = "a.example\nb.exam\0ple.com\n";
	struct ln_domainlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	const char *path = write_bytes("nul.txt", text, sizeof(text) - 1);

	(void)state;
	assert_int_equal(ln_domainlist_parse_file(&l, &src, path, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("nul.txt:2: NUL byte in line"));
	ln_domainlist_free(&l);
	ln_sources_free(&src);
}

/* /dev/zero would be read forever, a FIFO would block: both refused at once. */
static void test_not_regular(void **state)
{
	struct ln_domainlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};

	(void)state;
	alarm(5); /* a hang kills the test */
	assert_int_equal(ln_domainlist_parse_file(&l, &src, "/dev/zero", &err), -EINVAL);
	assert_string_equal(err.msg, "/dev/zero: not a regular file");
	assert_int_equal(ln_domainlist_parse_file(&l, &src, make_fifo("fifo.txt"), &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("fifo.txt: not a regular file"));
	alarm(0);
	ln_domainlist_free(&l);
	ln_sources_free(&src);
}

/* What a list line holds reaches the message escaped: no terminal escape, no broken UTF-8. */
static void test_escaped_messages(void **state)
{
	(void)state;
	expect_error("\x1b[2J\x1b]0;owned\x07.example", "bad domain name \"%s\"",
		     "\\x1b[2j\\x1b]0;owned\\x07.example");
	expect_error("b.example\x7f", "bad domain name \"%s\"", "b.example\\x7f");
	/* valid UTF-8 (an IDN not in punycode) stays readable */
	expect_error("b\303\274cher.example", "bad domain name \"%s\"", "b\303\274cher.example");
	/* invalid UTF-8: a stray byte, an overlong '/', a surrogate, a C1 CSI */
	expect_error("\xff\xfe.example", "bad domain name \"%s\"", "\\xff\\xfe.example");
	expect_error("\xc0\xaf.example", "bad domain name \"%s\"", "\\xc0\\xaf.example");
	expect_error("\xed\xa0\x80.example", "bad domain name \"%s\"", "\\xed\\xa0\\x80.example");
	expect_error("\302\23331m.example", "bad domain name \"%s\"", "\\xc2\\x9b31m.example");
}

/* ln_err() itself: one line, whatever the arguments hold; cut whole, never mid-escape. */
static void test_err_escape(void **state)
{
	struct ln_error err;
	char many[LN_ERR_MAX];
	size_t n;

	(void)state;
	assert_int_equal(ln_err(&err, -EINVAL, "a\nb\tc\r%s", "\x1b[0m"), -EINVAL);
	assert_string_equal(err.msg, "a\\x0ab\\x09c\\x0d\\x1b[0m");
	ln_err(&err, -EINVAL, "%s", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\x41");
	assert_string_equal(err.msg, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\x41");
	ln_err(&err, -EINVAL, "%s", "cut \xe2\x82 \xf4\x90\x80\x80");
	assert_string_equal(err.msg, "cut \\xe2\\x82 \\xf4\\x90\\x80\\x80");
	/* the message is its own argument: escaping it again changes nothing */
	ln_err(&err, -EINVAL, "%s", err.msg);
	assert_string_equal(err.msg, "cut \\xe2\\x82 \\xf4\\x90\\x80\\x80");
	memset(many, '\x1b', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	ln_err(&err, -EINVAL, "x%s", many);
	n = strlen(err.msg);
	assert_true(n < LN_ERR_MAX);
	assert_int_equal((n - 1) % 4, 0);
	assert_string_equal(err.msg + n - 4, "\\x1b");
	assert_int_equal(ln_err(NULL, -ENOENT, "%s", "no message"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),	     cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_missing_and_long), cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_not_regular),	     cmocka_unit_test(test_escaped_messages),
	    cmocka_unit_test(test_err_escape),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
