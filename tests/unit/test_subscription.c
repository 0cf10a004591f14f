// SPDX-License-Identifier: GPL-2.0
/* [list NAME] sections: keys and their errors, loading the copies, lsnitch-update's state. */
#include "rules_test_util.h"

/* Loads @text as l.ini (the --config file), then its lists: the rc of the first failure. */
static int load(struct ln_config *c, const char *text, struct ln_error *err)
{
	int rc;

	ln_config_init(c);
	rc = ln_config_load_ini(c, write_file("l.ini", text), true, err);
	return rc ? rc : ln_config_load_lists(c, err);
}

static void expect_error(const char *text, const char *msg)
{
	struct ln_config c;
	struct ln_error err = {""};

	assert_int_equal(load(&c, text, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("%s", msg));
	ln_config_free(&c);
}

static void test_keys(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	char ini[600];

	(void)state;
	mkdir(tpath("lists"), 0755);
	snprintf(ini, sizeof(ini),
		 "[global]\nlists-dir = %s\n[policy web]\ncgroup = a\n"
		 "[list ads]\nurl = https://example.org/hosts\nkind = domains\n"
		 "[list bad-ips]\nurl = http://example.org/ips\nkind = hosts\nrefresh = 12h\n"
		 "policy = web\n",
		 tpath("lists"));
	assert_int_equal(load(&c, ini, &err), 0);
	assert_int_equal(c.n_lists, 2);
	assert_string_equal(c.lists[0].url, "https://example.org/hosts");
	assert_int_equal(c.lists[0].kind, LN_LIST_DOMAINS);
	assert_int_equal(c.lists[0].refresh_sec, 86400);
	assert_null(c.lists[0].policy);
	assert_false(c.lists[0].loaded); /* no copy: not an error */
	assert_int_equal(c.lists[1].refresh_sec, 12 * 3600);
	assert_string_equal(c.lists[1].policy, "web");
	ln_config_free(&c);
}

static void test_copies_loaded(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	char ini[600];

	(void)state;
	mkdir(tpath("lists"), 0755);
	write_file("lists/ads", "0.0.0.0 ads.example\n||track.example^\nplain.example\n");
	write_file("lists/ips", "192.0.2.1\n198.51.100.0/24\n");
	snprintf(ini, sizeof(ini),
		 "[global]\nlists-dir = %s\n[policy web]\ncgroup = a\n"
		 "[list ads]\nurl = https://example.org/hosts\nkind = domains\n"
		 "[list ips]\nurl = http://example.org/ips\nkind = hosts\npolicy = web\n",
		 tpath("lists"));
	assert_int_equal(load(&c, ini, &err), 0);
	assert_true(c.lists[0].loaded);
	assert_int_equal(c.lists[0].entries, 3);
	assert_int_equal(c.domains.n, 3);
	assert_int_equal(c.lists[1].entries, 2);
	assert_int_equal(c.policies[0].hosts.n, 2);
	assert_int_equal(c.hosts.n, 0);
	ln_config_free(&c);
	/* a bad copy is an error naming its own file:line */
	write_file("lists/ips", "192.0.2.1\nnot an address\n");
	assert_int_equal(load(&c, ini, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "lists/ips:2: "));
	ln_config_free(&c);
	/* the updater's directory: a link there (to a file only root may read) is refused */
	unlink(tpath("lists/ips"));
	assert_int_equal(symlink(write_file("secret", "192.0.2.9\n"), tpath("lists/ips")), 0);
	assert_int_equal(load(&c, ini, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "lists/ips: cannot open: "));
	ln_config_free(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[list a]\nurl = ftp://x/y\n",
		     "l.ini:2: bad url \"ftp://x/y\" (http:// or https://)");
	expect_error("[list a]\nkind = ips\n", "l.ini:2: bad value \"ips\" for kind (hosts or domains)");
	expect_error("[list a]\nrefresh = 10s\n",
		     "l.ini:2: bad value \"10s\" for refresh (N, Ns, Nm, Nh or Nd: 1m to 30d)");
	expect_error("[list a]\nrefresh = 31d\n",
		     "l.ini:2: bad value \"31d\" for refresh (N, Ns, Nm, Nh or Nd: 1m to 30d)");
	expect_error("[list a]\nrefresh = 1w\n",
		     "l.ini:2: bad value \"1w\" for refresh (N, Ns, Nm, Nh or Nd: 1m to 30d)");
	expect_error("[list a]\nfoo = 1\n", "l.ini:2: unknown key \"foo\" in [list a]");
	expect_error("[list a]\nkind = hosts\nkind = hosts\n",
		     "l.ini:3: duplicate key \"kind\" (first at line 2)");
	expect_error("[list a/b]\n",
		     "l.ini:1: bad list name \"a/b\" (letters, digits, _.@-, not starting with .)");
	expect_error("[list .x]\n",
		     "l.ini:1: bad list name \".x\" (letters, digits, _.@-, not starting with .)");
	expect_error("[list a]\nkind = hosts\n[list a]\n", "l.ini:3: list \"a\" is already defined");
	expect_error("[list a]\nkind = hosts\n", "l.ini:1: [list a] needs url = and kind =");
	expect_error("[list a]\nurl = http://x/\nkind = hosts\npolicy = nope\n",
		     "l.ini:4: no policy \"nope\" for [list a]");
	expect_error("[global]\nlists-dir = rel\n", "l.ini:2: lists-dir \"rel\" is not an absolute path");
}

static void test_only_in_config(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};

	(void)state;
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, write_file("r.ini", "[list a]\n"), false, &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    expect_msg("r.ini:1: [list] is only allowed in the --config file"));
	ln_config_free(&c);
}

static void test_validate_and_state(void **state)
{
	struct ln_list_state s = {.fetched_at = 7, .entries = 3}, r;
	struct ln_error err = {""};
	FILE *f;

	(void)state;
	assert_int_equal(ln_list_validate(LN_LIST_DOMAINS, write_file("d", "a.example\n"), &err), 1);
	assert_int_equal(ln_list_validate(LN_LIST_DOMAINS, write_file("d", "# only\n"), &err),
			 -ENODATA);
	assert_int_equal(ln_list_validate(LN_LIST_HOSTS, write_file("d", "<html>\n"), &err),
			 -EINVAL);
	snprintf(s.etag, sizeof(s.etag), "\"abc\"");
	snprintf(s.error, sizeof(s.error), "HTTP status 404");
	f = fopen(tpath("st"), "w");
	assert_int_equal(ln_list_state_write(f, &s), 0);
	fclose(f);
	assert_int_equal(ln_list_state_read(tpath("st"), &r), 0);
	assert_int_equal(r.fetched_at, 7);
	assert_int_equal(r.entries, 3);
	assert_string_equal(r.etag, "\"abc\"");
	assert_string_equal(r.error, "HTTP status 404");
	assert_int_equal(ln_list_state_read(tpath("none"), &r), -ENOENT);
	assert_int_equal(symlink(tpath("st"), tpath("st-link")), 0);
	assert_int_equal(ln_list_state_read(tpath("st-link"), &r), -ELOOP);
	assert_int_equal(ln_list_state_read(make_fifo("st-fifo"), &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_copies_loaded),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_only_in_config),
	    cmocka_unit_test(test_validate_and_state),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
