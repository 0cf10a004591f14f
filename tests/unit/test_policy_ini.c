// SPDX-License-Identifier: GPL-2.0
/* Unit tests: INI policy files, the rules directory, and cross-file validation. */
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "rules_test_util.h"

static __u32 file_of(const struct ln_config *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->sources.n; i++)
		if (!strcmp(c->sources.paths[i], path))
			return i + 1;
	fail_msg("no source %s", path);
	return 0;
}

static void test_full_policy(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *ini, *hosts, *domains;
	const struct ln_policy *p;
	__u32 f;

	(void)state;
	hosts = write_file("lists/web-hosts.txt", "192.0.2.66\nbad.example\n");
	domains = write_file("lists/web-domains.txt", "||ads.example^\n");
	ini = write_file("web.ini", "; web server policy\n"
				    "[policy web]\n"
				    "cgroup = /system.slice/nginx.service/\n"
				    "cgroup = system.slice//php-fpm.service\n"
				    "default = deny\n"
				    "allow = 192.0.2.0/24:443/tcp, [2001:db8::1]:53/udp\n"
				    "allow = localhost:8080 10.0.0.1:1000-2000 ; inline comment\n"
				    "deny = *:25/tcp # hash comment\n"
				    "allow =\n"
				    "    2001:db8::/32,\n"
				    "    */udp\n"
				    "audit = yes\n"
				    "log-allowed = off\n"
				    "blocked-hosts = lists/web-hosts.txt\n"
				    "blocked-domains = lists/web-domains.txt\n"
				    "\n"
				    "[policy other]\n"
				    "cgroup = user.slice\n");
	ln_config_init(&c);
	assert_int_equal(c.refresh_sec, 300);
	if (ln_config_load_ini(&c, ini, false, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ln_config_validate(&c, &err), 0);
	f = file_of(&c, ini);
	assert_int_equal(c.n_policies, 2);
	p = &c.policies[0];
	assert_string_equal(p->name, "web");
	assert_int_equal(p->id, 1);
	assert_int_equal(p->section_rule_id, LN_RULE_ID(f, 2));
	assert_int_equal(p->n_cgroups, 2);
	assert_string_equal(p->cgroups[0], "system.slice/nginx.service");
	assert_string_equal(p->cgroups[1], "system.slice/php-fpm.service");
	assert_int_equal(p->cgroup_ids[0], LN_RULE_ID(f, 3));
	assert_int_equal(p->cgroup_ids[1], LN_RULE_ID(f, 4));
	assert_int_equal(p->default_verdict, LN_VERDICT_DENY);
	assert_int_equal(p->default_rule_id, LN_RULE_ID(f, 5));
	assert_true(p->audit);
	assert_false(p->log_allowed);
	assert_int_equal(p->n_rules, 7);
	assert_string_equal(prefix_str(&p->rules[0].pfx), "192.0.2.0/24");
	assert_int_equal(p->rules[0].proto, IPPROTO_TCP);
	assert_int_equal(p->rules[0].verdict, LN_VERDICT_ALLOW);
	assert_int_equal(p->rules[0].rule_id, LN_RULE_ID(f, 6));
	assert_int_equal(p->rules[1].rule_id, LN_RULE_ID(f, 6));
	assert_int_equal(p->rules[1].port_lo, 53);
	assert_int_equal(p->rules[2].kind, LN_TARGET_HOSTNAME);
	assert_string_equal(p->rules[2].hostname, "localhost");
	assert_int_equal(p->rules[3].port_hi, 2000);
	assert_int_equal(p->rules[3].rule_id, LN_RULE_ID(f, 7));
	assert_int_equal(p->rules[4].verdict, LN_VERDICT_DENY);
	assert_int_equal(p->rules[4].port_lo, 25);
	assert_int_equal(p->rules[4].rule_id, LN_RULE_ID(f, 8));
	/* continuation lines keep their own line numbers */
	assert_string_equal(prefix_str(&p->rules[5].pfx), "2001:db8::/32");
	assert_int_equal(p->rules[5].rule_id, LN_RULE_ID(f, 10));
	assert_int_equal(p->rules[6].proto, IPPROTO_UDP);
	assert_int_equal(p->rules[6].rule_id, LN_RULE_ID(f, 11));
	assert_int_equal(p->hosts.n, 1);
	assert_int_equal(p->hosts.n_names, 1);
	assert_int_equal(p->hosts.v[0].rule_id, LN_RULE_ID(file_of(&c, hosts), 1));
	assert_int_equal(p->domains.n, 1);
	assert_int_equal(p->domains.v[0].rule_id, LN_RULE_ID(file_of(&c, domains), 1));
	p = &c.policies[1];
	assert_string_equal(p->name, "other");
	assert_int_equal(p->id, 2);
	assert_int_equal(p->default_verdict, LN_VERDICT_ALLOW);
	assert_int_equal(p->default_rule_id, LN_RULE_ID(f, 17));
	assert_int_equal(c.hosts.n + c.domains.n, 0);
	ln_config_free(&c);
	ln_config_free(NULL);
}

static void test_global_section(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *ini;

	(void)state;
	write_file("g/hosts.txt", "198.51.100.1\n");
	write_file("g/domains.txt", "tracker.example\n");
	ini = write_file("g/lsnitch.ini", "[global]\n"
					  "blocked-hosts = hosts.txt\n"
					  "blocked-domains = domains.txt\n"
					  "audit = true\n"
					  "log-allowed = 1\n"
					  "refresh = 60\n"
					  "[policy]\n"
					  "cgroup = a.slice\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, true, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c.hosts.n, 1);
	assert_int_equal(c.domains.n, 1);
	assert_true(c.audit);
	assert_true(c.log_allowed);
	assert_int_equal(c.refresh_sec, 60);
	assert_int_equal(c.n_policies, 1);
	assert_string_equal(c.policies[0].name, "lsnitch");
	ln_config_free(&c);
}

static void test_policy_name_from_file(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *ini = write_file("units.d/nginx.service.ini",
				     "[policy]\ncgroup = system.slice/nginx.service\n");

	(void)state;
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, ini, false, &err), 0);
	assert_string_equal(c.policies[0].name, "nginx.service");
	ln_config_free(&c);
}

/* Loads @text as NAME and expects "NAME:line: reason". */
/* Loads @path, expecting @rc and "DIR/@msg". */
static void expect_load_error(const char *path, bool allow_global, int rc, const char *msg)
{
	struct ln_config c;
	struct ln_error err = {""};

	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, path, allow_global, &err), rc);
	assert_string_equal(err.msg, expect_msg("%s", msg));
	ln_config_free(&c);
}

static void expect_ini_error(const char *name, const char *text, bool allow_global, int rc,
			     const char *msg)
{
	expect_load_error(write_file(name, text), allow_global, rc, msg);
}

static void test_errors(void **state)
{
	char long_line[300];

	(void)state;
	expect_ini_error("e.ini", "[policy web]\ncgroup = a\nfoo = bar\n", false, -EINVAL,
			 "e.ini:3: unknown key \"foo\" in [policy web]");
	expect_ini_error("e.ini", "[global]\nfoo = bar\n", true, -EINVAL,
			 "e.ini:2: unknown key \"foo\" in [global]");
	expect_ini_error("e.ini", "; c\nallow = *\n", false, -EINVAL,
			 "e.ini:2: key \"allow\" before any section");
	expect_ini_error("e.ini", "[policy a]\ncgroup = a\n[global]\n", false, -EINVAL,
			 "e.ini:3: [global] is only allowed in the --config file");
	expect_ini_error("e.ini", "[policies x]\n", false, -EINVAL,
			 "e.ini:1: unknown section \"[policies x]\" (expected [policy NAME], "
			 "[rules NAME], [list NAME] or [global])");
	expect_ini_error("e.ini", "[global x]\n", true, -EINVAL,
			 "e.ini:1: unknown section \"[global x]\" (expected [policy NAME], "
			 "[rules NAME], [list NAME] or [global])");
	expect_ini_error("e.ini", "[policy a b]\n", false, -EINVAL,
			 "e.ini:1: bad policy name \"a b\" (letters, digits, _.@-, \\xNN)");
	/* systemd's escapes are part of unit names; a bare backslash is not */
	expect_ini_error("e.ini", "[policy a\\x2]\n", false, -EINVAL,
			 "e.ini:1: bad policy name \"a\\x2\" (letters, digits, _.@-, \\xNN)");
	expect_ini_error("e.ini", "[policy web\n", false, -EINVAL,
			 "e.ini:1: missing ']' in section header");
	expect_ini_error("e.ini", "[policy web] x\n", false, -EINVAL,
			 "e.ini:1: unexpected \"x\" after section header");
	expect_ini_error("web.ini", "[policy web]\ncgroup = a\n\n\n\n\nallow = 10.0.0.1:99999\n",
			 false, -EINVAL, "web.ini:7: bad port \"99999\" (must be 1-65535)");
	expect_ini_error("e.ini", "[policy a]\ndeny = 10.0.0.1, 10.0.0.0/40\n", false, -EINVAL,
			 "e.ini:2: bad address, CIDR or hostname \"10.0.0.0/40\"");
	expect_ini_error("e.ini", "[policy a]\ndefault = maybe\n", false, -EINVAL,
			 "e.ini:2: bad value \"maybe\" for default (allow or deny)");
	expect_ini_error("e.ini", "[policy a]\ndefault = deny\ndefault = allow\n", false, -EINVAL,
			 "e.ini:3: duplicate key \"default\" (first at line 2)");
	expect_ini_error("e.ini", "[policy a]\naudit = sometimes\n", false, -EINVAL,
			 "e.ini:2: bad value \"sometimes\" for audit (yes/no, true/false, on/off, "
			 "1/0)");
	expect_ini_error("e.ini", "[policy a]\ncgroup = /\n", false, -EINVAL,
			 "e.ini:2: binding the root cgroup: use the implicit policy (--cgroup) "
			 "instead");
	expect_ini_error("e.ini", "[policy a]\ncgroup =\n", false, -EINVAL,
			 "e.ini:2: empty cgroup path");
	expect_ini_error("e.ini", "[policy a]\ncgroup = a/../../etc\n", false, -EINVAL,
			 "e.ini:2: cgroup path may not contain \".\" or \"..\"");
	expect_ini_error("e.ini", "[global]\nrefresh = 5\n", true, -EINVAL,
			 "e.ini:2: bad value \"5\" for refresh (seconds, 10-86400)");
	expect_ini_error("e.ini", "[global]\nrefresh = 60s\n", true, -EINVAL,
			 "e.ini:2: bad value \"60s\" for refresh (seconds, 10-86400)");
	expect_ini_error("e.ini", "[policy a]\ncgroup = a\njust some words\nfoo = bar\n", false,
			 -EINVAL, "e.ini:3: expected \"key = value\", \"[section]\" or a comment");
	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "[policy a]\nallow = ", 19);
	strcpy(long_line + 11 + 200, "\n");
	expect_ini_error("e.ini", long_line, false, -EINVAL, "e.ini:2: line too long (max 199)");
	expect_ini_error("bad name!.ini", "[policy]\n", false, -EINVAL,
			 "bad name!.ini:1: file name \"bad name!\" is not a policy name: use "
			 "[policy NAME]");
}

/* 199 characters is the longest line inih takes whole; 200 is an error (above). */
static void test_longest_line(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	char text[300] = "[policy a]\ncgroup = a\nallow = ";
	size_t start = strlen("[policy a]\ncgroup = a\n"), n;

	(void)state;
	while ((n = strlen(text) - start) + strlen("10.0.0.1, ") <= 199)
		strcat(text, "10.0.0.1, ");
	while (strlen(text) - start < 199)
		strcat(text, " ");
	strcat(text, "\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, write_file("long.ini", text), false, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c.policies[0].n_rules, (199 - strlen("allow = ")) / 10);
	ln_config_free(&c);
}

static void test_list_errors(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *ini;

	(void)state;
	ln_config_init(&c);
	ini = write_file("l.ini", "[policy a]\ncgroup = a\nblocked-hosts = nothere.txt\n");
	assert_int_equal(ln_config_load_ini(&c, ini, false, &err), -ENOENT);
	assert_string_equal(err.msg, expect_msg("l.ini:3: %s/nothere.txt: cannot open: No such "
						"file or directory",
						test_dir));
	ln_config_free(&c);

	/* an error inside the list names the list's own line */
	write_file("broken-hosts.txt", "192.0.2.1\n\nnot an entry\n");
	ini = write_file("l.ini", "[policy a]\ncgroup = a\nblocked-hosts = broken-hosts.txt\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, ini, false, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("broken-hosts.txt:3: unexpected \"an entry\" "
						"after \"not\" (one entry per line)"));
	ln_config_free(&c);

	write_file("broken-domains.txt", "@@||x.example^\n");
	ini = write_file("l.ini", "[global]\nblocked-domains = broken-domains.txt\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, ini, true, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("broken-domains.txt:1: adblock exception rules "
						"(@@) are not supported"));
	ln_config_free(&c);

	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, tpath("absent.ini"), false, &err), -ENOENT);
	assert_string_equal(err.msg, expect_msg("absent.ini: cannot open: No such file or "
						"directory"));
	ln_config_free(&c);
}

static void test_validate(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *a, *b;

	(void)state;
	a = write_file("v/a.ini", "[policy one]\ncgroup = x.slice\n\n[policy two]\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, a, false, &err), 0);
	assert_int_equal(ln_config_validate(&c, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("v/a.ini:4: policy \"two\" has no cgroup= line"));
	ln_config_free(&c);

	a = write_file("v/a.ini", "[policy one]\ncgroup = x.slice\n");
	b = write_file("v/b.ini", "# other\n[policy one]\ncgroup = y.slice\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, a, false, &err), 0);
	assert_int_equal(ln_config_load_ini(&c, b, false, &err), 0);
	assert_int_equal(ln_config_validate(&c, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("v/b.ini:2: policy \"one\" is already defined at "
						"%s/v/a.ini:1",
						test_dir));
	ln_config_free(&c);

	b = write_file("v/b.ini", "[policy two]\ncgroup = z.slice\ncgroup = /x.slice/\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, a, false, &err), 0);
	assert_int_equal(ln_config_load_ini(&c, b, false, &err), 0);
	assert_int_equal(ln_config_validate(&c, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("v/b.ini:3: cgroup \"x.slice\" is already bound "
						"by policy \"one\" at %s/v/a.ini:2",
						test_dir));
	ln_config_free(&c);

	b = write_file("v/b.ini", "[policy two]\ncgroup = z.slice\ncgroup = z.slice\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, b, false, &err), 0);
	assert_int_equal(ln_config_validate(&c, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("v/b.ini:3: cgroup \"z.slice\" is already bound "
						"by policy \"two\" at %s/v/b.ini:2",
						test_dir));
	ln_config_free(&c);
}

/* [rules NAME]: rule keys only, for a policy defined before, in this file or an earlier one. */
static void test_rules_section(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *a, *b;

	(void)state;
	a = write_file("rs/a.ini", "[policy one]\ncgroup = x.slice\nallow = 127.0.0.1\n");
	b = write_file("rs/b.ini", "[rules one]\nallow = 127.0.0.2:80/tcp\n"
				   "deny-domain = example.com\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, a, false, &err), 0);
	assert_int_equal(ln_config_load_ini(&c, b, false, &err), 0);
	assert_int_equal(ln_config_validate(&c, &err), 0);
	assert_int_equal(c.n_policies, 1);
	assert_int_equal(c.policies[0].n_rules, 2);
	assert_int_equal(c.policies[0].n_domain_rules, 1);
	ln_config_free(&c);

	expect_ini_error("e.ini", "[rules nope]\nallow = 127.0.0.1\n", false, -ENOENT,
			 "e.ini:1: [rules nope]: no policy \"nope\" defined before this line "
			 "(load order: --config, --rules, --units, --managed-rules)");
	expect_ini_error("e.ini", "[policy a]\ncgroup = a\n[rules a]\ncgroup = b\n", false,
			 -EINVAL, "e.ini:4: unknown key \"cgroup\" in [rules a]");
	expect_ini_error("e.ini", "[policy a]\ncgroup = a\n[rules a]\ndefault = deny\n", false,
			 -EINVAL, "e.ini:4: unknown key \"default\" in [rules a]");
	expect_ini_error("e.ini", "[rules]\n", false, -EINVAL,
			 "e.ini:1: unknown section \"[rules]\" (expected [policy NAME], [rules NAME], "
			 "[list NAME] or [global])");
}

static void test_load_dir(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};

	(void)state;
	write_file("rules.d/20-b.ini", "[policy b]\ncgroup = b\n");
	write_file("rules.d/10-a.ini", "[policy a]\ncgroup = a\n");
	write_file("rules.d/30-c.ini.disabled", "garbage\n");
	write_file("rules.d/.hidden.ini", "garbage\n");
	write_file("rules.d/README", "garbage\n");
	mkdir(tpath("rules.d/sub"), 0755);
	ln_config_init(&c);
	if (ln_config_load_dir(&c, tpath("rules.d"), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c.n_policies, 2);
	assert_string_equal(c.policies[0].name, "a");
	assert_string_equal(c.policies[1].name, "b");
	assert_int_equal(c.policies[1].id, 2);
	assert_int_equal(ln_config_validate(&c, &err), 0);
	ln_config_free(&c);

	mkdir(tpath("empty.d"), 0755);
	ln_config_init(&c);
	assert_int_equal(ln_config_load_dir(&c, tpath("empty.d"), &err), 0);
	assert_int_equal(c.n_policies, 0);
	assert_int_equal(ln_config_load_dir(&c, tpath("missing.d"), &err), -ENOENT);
	assert_string_equal(err.msg, expect_msg("missing.d: cannot open: No such file or "
						"directory"));
	ln_config_free(&c);

	/* an error in the second file stops there; what was loaded is freed cleanly */
	write_file("bad.d/1.ini", "[policy one]\ncgroup = one\nallow = 10.0.0.1\n");
	write_file("bad.d/2.ini", "[policy two]\ncgroup = two\nallow = nonsense!\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_dir(&c, tpath("bad.d/"), &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("bad.d/2.ini:3: bad address, CIDR or hostname "
						"\"nonsense!\""));
	ln_config_free(&c);
}

static void test_load_units_dir(void **state)
{
	struct ln_config c;
	struct ln_compiled cc = {};
	struct ln_error err = {""};
	const struct ln_policy *p;

	(void)state;
	write_file("units.d/nginx.service.ini", "[policy]\ndefault = deny\nallow = 192.0.2.1\n");
	write_file("units.d/pinned.service.ini", "[policy]\ncgroup = system.slice/pinned.service\n"
						 "cgroup = machine.slice/libpod-*.scope\n");
	write_file("units.d/run-u7.scope.ini", "[policy]\ndeny = *:25/tcp\n");
	write_file("units.d/user-1000.slice.ini", "[policy]\n");
	write_file("units.d/README.ini", "garbage\n");
	write_file("units.d/x.socket.ini", "garbage\n");
	ln_config_init(&c);
	if (ln_config_load_units_dir(&c, tpath("units.d"), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ln_config_validate(&c, &err), 0);
	assert_int_equal(c.n_policies, 4);
	p = &c.policies[0];
	assert_string_equal(p->name, "nginx.service");
	assert_string_equal(p->unit, "nginx.service");
	assert_int_equal(p->n_cgroups, 0);
	assert_int_equal(p->default_verdict, LN_VERDICT_DENY);
	/* with cgroup= lines the file's name is only the policy's name */
	p = &c.policies[1];
	assert_string_equal(p->name, "pinned.service");
	assert_null(p->unit);
	assert_int_equal(p->n_cgroups, 2);
	assert_string_equal(c.policies[2].unit, "run-u7.scope");
	assert_string_equal(c.policies[3].unit, "user-1000.slice");

	/* bindings: in load order, a unit binding names its section line */
	assert_int_equal(ln_compile(&c, NULL, NULL, NULL, NULL, &cc, &err), 0);
	assert_int_equal(cc.n_bindings, 5);
	assert_null(cc.bindings[0].cgroup);
	assert_string_equal(cc.bindings[0].unit, "nginx.service");
	assert_int_equal(cc.bindings[0].policy_id, 1);
	assert_int_equal(cc.bindings[0].rule_id, c.policies[0].section_rule_id);
	assert_string_equal(cc.bindings[1].cgroup, "system.slice/pinned.service");
	assert_null(cc.bindings[1].unit);
	assert_string_equal(cc.bindings[2].cgroup, "machine.slice/libpod-*.scope");
	assert_int_equal(cc.bindings[2].policy_id, 2);
	assert_string_equal(cc.bindings[3].unit, "run-u7.scope");
	assert_string_equal(cc.bindings[4].unit, "user-1000.slice");
	assert_int_equal(cc.bindings[4].policy_id, 4);
	ln_compiled_free(&cc);
	ln_config_free(&c);

	/* a unit file whose policy names no cgroup outside --units is an error */
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, tpath("units.d/nginx.service.ini"), false, &err),
			 0);
	assert_int_equal(ln_config_validate(&c, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("units.d/nginx.service.ini:1: policy "
						"\"nginx.service\" has no cgroup= line"));
	ln_config_free(&c);

	/* two policies of one unit file following the unit: the second is refused */
	write_file("units2.d/two.service.ini", "[policy]\n[policy other]\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_units_dir(&c, tpath("units2.d"), &err), 0);
	assert_int_equal(ln_config_validate(&c, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("units2.d/two.service.ini:2: unit \"two.service\" "
						"already has policy \"two.service\" at "
						"%s:1",
						tpath("units2.d/two.service.ini")));
	ln_config_free(&c);
}

static void test_command_line_lists(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};

	(void)state;
	ln_config_init(&c);
	assert_int_equal(ln_config_add_hosts(&c, write_file("cl-hosts.txt", "192.0.2.9\n"), &err),
			 0);
	assert_int_equal(ln_config_add_domains(&c, write_file("cl-dom.txt", "a.example\n"), &err),
			 0);
	assert_int_equal(c.hosts.n, 1);
	assert_int_equal(c.domains.n, 1);
	assert_int_equal(c.sources.n, 2);
	ln_config_free(&c);
}

static void test_limits(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *path = tpath("big.ini");
	FILE *f = fopen(path, "w");
	unsigned int i, line = 2;

	(void)state;
	/* LN_MAX_RULES rules are fine, one more is not: 8 per line */
	assert_non_null(f);
	fprintf(f, "[policy big]\ncgroup = big\n");
	for (i = 0; i < LN_MAX_RULES; i += 8, line++)
		fprintf(f,
			"allow = 10.0.%u.%u, 10.0.%u.%u, 10.0.%u.%u, 10.0.%u.%u, 10.0.%u.%u, "
			"10.0.%u.%u, 10.0.%u.%u, 10.0.%u.%u\n",
			(i >> 8) & 255, i & 255, (i >> 8) & 255, (i + 1) & 255, (i >> 8) & 255,
			(i + 2) & 255, (i >> 8) & 255, (i + 3) & 255, (i >> 8) & 255, (i + 4) & 255,
			(i >> 8) & 255, (i + 5) & 255, (i >> 8) & 255, (i + 6) & 255,
			(i >> 8) & 255, (i + 7) & 255);
	fprintf(f, "deny = 192.0.2.1\n");
	line++;
	fclose(f);
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, path, false, &err), -E2BIG);
	assert_string_equal(err.msg,
			    expect_msg("big.ini:%u: too many allow/deny rules (max 65536)", line));
	assert_int_equal(c.policies[0].n_rules, LN_MAX_RULES);
	ln_config_free(&c);

	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < LN_MAX_POLICIES; i++)
		fprintf(f, "[policy p%u]\ncgroup = p%u\n", i, i);
	fclose(f);
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, path, false, &err), -E2BIG);
	assert_string_equal(err.msg, expect_msg("big.ini:%u: too many policies (max 4095)",
						2 * (LN_MAX_POLICIES - 1) + 1));
	ln_config_free(&c);
}

static void test_domain_rule_keys(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const struct ln_policy *p;
	const char *ini;
	__u32 f;

	(void)state;
	ini = write_file("d.ini", "[policy d]\n"
				  "cgroup = d\n"
				  "allow-domain = api.example.com:443/tcp, *.cdn.test\n"
				  "deny-domain = Tracker.Example. ads.test:1000-2000/udp\n"
				  "ALLOW-DOMAIN = *.x\n"
				  "allow = 192.0.2.1\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, false, &err))
		fail_msg("%s", err.msg);
	f = file_of(&c, ini);
	p = &c.policies[0];
	assert_int_equal(p->n_rules, 1);
	assert_int_equal(p->n_domain_rules, 5);
	assert_int_equal(p->domain_rules[0].kind, LN_TARGET_DOMAIN);
	assert_string_equal(p->domain_rules[0].hostname, "api.example.com");
	assert_int_equal(p->domain_rules[0].verdict, LN_VERDICT_ALLOW);
	assert_int_equal(p->domain_rules[0].port_lo, 443);
	assert_int_equal(p->domain_rules[0].port_hi, 443);
	assert_int_equal(p->domain_rules[0].proto, IPPROTO_TCP);
	assert_int_equal(p->domain_rules[0].rule_id, LN_RULE_ID(f, 3));
	/* "*." is the same as the bare domain: it and its subdomains */
	assert_string_equal(p->domain_rules[1].hostname, "cdn.test");
	assert_int_equal(p->domain_rules[1].port_lo, 0);
	assert_int_equal(p->domain_rules[1].port_hi, 65535);
	assert_int_equal(p->domain_rules[1].proto, LN_PROTO_ANY);
	assert_int_equal(p->domain_rules[1].rule_id, LN_RULE_ID(f, 3));
	/* lower-cased, trailing dot dropped */
	assert_string_equal(p->domain_rules[2].hostname, "tracker.example");
	assert_int_equal(p->domain_rules[2].verdict, LN_VERDICT_DENY);
	assert_int_equal(p->domain_rules[2].rule_id, LN_RULE_ID(f, 4));
	assert_string_equal(p->domain_rules[3].hostname, "ads.test");
	assert_int_equal(p->domain_rules[3].port_lo, 1000);
	assert_int_equal(p->domain_rules[3].port_hi, 2000);
	assert_int_equal(p->domain_rules[3].proto, IPPROTO_UDP);
	assert_int_equal(p->domain_rules[3].verdict, LN_VERDICT_DENY);
	assert_string_equal(p->domain_rules[4].hostname, "x");
	assert_int_equal(p->domain_rules[4].rule_id, LN_RULE_ID(f, 5));
	ln_config_free(&c);

	expect_ini_error("e.ini", "[policy a]\ncgroup = a\nallow-domain = 192.0.2.1\n", false,
			 -EINVAL,
			 "e.ini:3: \"192.0.2.1\" is not a domain name (use allow/deny for "
			 "addresses)");
	expect_ini_error("e.ini", "[policy a]\ndeny-domain = ok.test, 10.0.0.0/8:443\n", false,
			 -EINVAL,
			 "e.ini:2: \"10.0.0.0/8:443\" is not a domain name (use allow/deny for "
			 "addresses)");
	expect_ini_error("e.ini", "[policy a]\ndeny-domain = [2001:db8::1]:53\n", false, -EINVAL,
			 "e.ini:2: \"[2001:db8::1]:53\" is not a domain name (use allow/deny for "
			 "addresses)");
	expect_ini_error("e.ini", "[policy a]\nallow-domain = *\n", false, -EINVAL,
			 "e.ini:2: \"*\" is not a domain name (use allow/deny for addresses)");
	expect_ini_error("e.ini", "[policy a]\nallow-domain = *.192.0.2.1\n", false, -EINVAL,
			 "e.ini:2: \"192.0.2.1\" is not a domain name (use allow/deny for "
			 "addresses)");
	expect_ini_error("e.ini", "[policy a]\nallow-domain = example.com:99999\n", false, -EINVAL,
			 "e.ini:2: bad port \"99999\" (must be 1-65535)");
	expect_ini_error("e.ini", "[policy a]\nallow-domain = example.com:90-80\n", false, -EINVAL,
			 "e.ini:2: bad port range \"90-80\" (low > high)");
	expect_ini_error("e.ini", "[policy a]\nallow-domain = example.com/icmp\n", false, -EINVAL,
			 "e.ini:2: unknown protocol \"icmp\" (tcp or udp)");
	expect_ini_error("e.ini", "[policy a]\nallow-domain = bad_name!.com\n", false, -EINVAL,
			 "e.ini:2: bad address, CIDR or hostname \"bad_name!.com\"");
	expect_ini_error("e.ini", "[global]\nallow-domain = example.com\n", true, -EINVAL,
			 "e.ini:2: unknown key \"allow-domain\" in [global]");
}

static void test_dns_global_keys(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *ini;

	(void)state;
	ln_config_init(&c);
	assert_true(c.dns);
	assert_int_equal(c.dns_block, 0);
	assert_int_equal(c.dns_port, 10530);
	assert_int_equal(c.dns_ttl_min, 30);
	assert_int_equal(c.dns_ttl_max, 3600);
	ln_config_free(&c);

	ini = write_file("dns.ini", "[global]\n"
				    "dns = no\n"
				    "dns-block = REFUSED\n"
				    "dns-port = 1024\n"
				    "dns-ttl-min = 1\n"
				    "dns-ttl-max = 604800\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, true, &err))
		fail_msg("%s", err.msg);
	assert_false(c.dns);
	assert_int_equal(c.dns_block, 1);
	assert_int_equal(c.dns_port, 1024);
	assert_int_equal(c.dns_ttl_min, 1);
	assert_int_equal(c.dns_ttl_max, 604800);
	ln_config_free(&c);

	ini = write_file("dns.ini", "[global]\n"
				    "dns = on\n"
				    "dns-block = zero\n"
				    "dns-port = 65000\n"
				    "dns-ttl-min = 604800\n"
				    "dns-ttl-max = 1\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, true, &err))
		fail_msg("%s", err.msg);
	assert_true(c.dns);
	assert_int_equal(c.dns_block, 2);
	assert_int_equal(c.dns_port, 65000);
	/* min > max: each line parses, the check across them names the later one */
	assert_int_equal(c.dns_ttl_min, 604800);
	assert_int_equal(c.dns_ttl_max, 1);
	assert_int_equal(ln_config_validate(&c, &err), -EINVAL);
	assert_non_null(
	    strstr(err.msg, "dns.ini:6: dns-ttl-min (604800) is above dns-ttl-max (1)"));
	ln_config_free(&c);

	ini = write_file("dns.ini", "[global]\ndns-block = nxdomain\n");
	ln_config_init(&c);
	c.dns_block = 2;
	assert_int_equal(ln_config_load_ini(&c, ini, true, &err), 0);
	assert_int_equal(c.dns_block, 0);
	ln_config_free(&c);

	expect_ini_error("e.ini", "[global]\ndns = maybe\n", true, -EINVAL,
			 "e.ini:2: bad value \"maybe\" for dns (yes/no, true/false, on/off, 1/0)");
	expect_ini_error("e.ini", "[global]\ndns = yes\ndns = no\n", true, -EINVAL,
			 "e.ini:3: duplicate key \"dns\" (first at line 2)");
	expect_ini_error("e.ini", "[global]\ndns-block = drop\n", true, -EINVAL,
			 "e.ini:2: bad value \"drop\" for dns-block (nxdomain, refused or zero)");
	expect_ini_error("e.ini", "[global]\ndns-block =\n", true, -EINVAL,
			 "e.ini:2: bad value \"\" for dns-block (nxdomain, refused or zero)");
	expect_ini_error("e.ini", "[global]\ndns-block = zero\ndns-block = zero\n", true, -EINVAL,
			 "e.ini:3: duplicate key \"dns-block\" (first at line 2)");
	expect_ini_error("e.ini", "[global]\ndns-port = 1023\n", true, -EINVAL,
			 "e.ini:2: bad value \"1023\" for dns-port (1024-65000)");
	expect_ini_error("e.ini", "[global]\ndns-port = 65001\n", true, -EINVAL,
			 "e.ini:2: bad value \"65001\" for dns-port (1024-65000)");
	expect_ini_error("e.ini", "[global]\ndns-port = 5353x\n", true, -EINVAL,
			 "e.ini:2: bad value \"5353x\" for dns-port (1024-65000)");
	expect_ini_error("e.ini", "[global]\ndns-port = -2000\n", true, -EINVAL,
			 "e.ini:2: bad value \"-2000\" for dns-port (1024-65000)");
	expect_ini_error("e.ini", "[global]\ndns-port = 99999999999999999999\n", true, -EINVAL,
			 "e.ini:2: bad value \"99999999999999999999\" for dns-port (1024-65000)");
	expect_ini_error("e.ini", "[global]\ndns-port = 2000\ndns-port = 3000\n", true, -EINVAL,
			 "e.ini:3: duplicate key \"dns-port\" (first at line 2)");
	expect_ini_error("e.ini", "[global]\ndns-ttl-min = 0\n", true, -EINVAL,
			 "e.ini:2: bad value \"0\" for dns-ttl-min (1-604800)");
	expect_ini_error("e.ini", "[global]\ndns-ttl-min = 604801\n", true, -EINVAL,
			 "e.ini:2: bad value \"604801\" for dns-ttl-min (1-604800)");
	expect_ini_error("e.ini", "[global]\ndns-ttl-max = 0\n", true, -EINVAL,
			 "e.ini:2: bad value \"0\" for dns-ttl-max (1-604800)");
	expect_ini_error("e.ini", "[global]\ndns-ttl-max = 1h\n", true, -EINVAL,
			 "e.ini:2: bad value \"1h\" for dns-ttl-max (1-604800)");
	expect_ini_error("e.ini", "[global]\ndns-ttl-max = 604801\n", true, -EINVAL,
			 "e.ini:2: bad value \"604801\" for dns-ttl-max (1-604800)");
	expect_ini_error("e.ini", "[global]\ndns-ttl-max = 60\ndns-ttl-max = 60\n", true, -EINVAL,
			 "e.ini:3: duplicate key \"dns-ttl-max\" (first at line 2)");
	/* [global] only */
	expect_ini_error("e.ini", "[policy a]\ncgroup = a\ndns-port = 2000\n", false, -EINVAL,
			 "e.ini:3: unknown key \"dns-port\" in [policy a]");
	expect_ini_error("e.ini", "[policy a]\ndns = no\n", false, -EINVAL,
			 "e.ini:2: unknown key \"dns\" in [policy a]");
}

/* dns-servers = in [global] (default "system") and per policy (none: [global]'s). */
static void test_dns_servers(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	struct ln_prefix p;
	const char *ini;

	(void)state;
	ln_config_init(&c);
	assert_true(c.dns_servers.system);
	assert_int_equal(c.dns_servers.n, 0);
	ln_config_free(&c);

	ini = write_file("dns.ini", "[global]\n"
				    "dns-servers = 192.0.2.53, [2001:db8::53] 10.0.0.0/8\n"
				    "[policy a]\n"
				    "cgroup = a\n"
				    "dns-servers = system 127.0.0.53\n"
				    "[policy b]\n"
				    "cgroup = b\n"
				    "[policy c]\n"
				    "cgroup = c\n"
				    "dns-servers = none\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, true, &err))
		fail_msg("%s", err.msg);
	assert_false(c.dns_servers.system);
	assert_int_equal(c.dns_servers.n, 3);
	assert_int_equal(LN_RULE_ID_LINE(c.dns_servers.rule_id), 2);
	assert_int_equal(ln_prefix_parse("192.0.2.53", &p), 0);
	assert_true(ln_dns_servers_has(&c.dns_servers, p.addr));
	assert_int_equal(ln_prefix_parse("10.1.2.3", &p), 0);
	assert_true(ln_dns_servers_has(&c.dns_servers, p.addr));
	assert_int_equal(ln_prefix_parse("2001:db8::53", &p), 0);
	assert_true(ln_dns_servers_has(&c.dns_servers, p.addr));
	assert_int_equal(ln_prefix_parse("192.0.2.54", &p), 0);
	assert_false(ln_dns_servers_has(&c.dns_servers, p.addr));
	assert_true(c.policies[0].dns_servers.system);
	assert_int_equal(c.policies[0].dns_servers.n, 1);
	assert_int_equal(LN_RULE_ID_LINE(c.policies[0].dns_servers.rule_id), 5);
	assert_int_equal(c.policies[1].dns_servers.rule_id, 0);
	assert_false(c.policies[2].dns_servers.system);
	assert_int_equal(c.policies[2].dns_servers.n, 0);
	assert_int_equal(LN_RULE_ID_LINE(c.policies[2].dns_servers.rule_id), 10);
	ln_config_free(&c);

	expect_ini_error("e.ini", "[global]\ndns-servers = 192.0.2.1 resolver.example\n", true,
			 -EINVAL, "e.ini:2: bad value \"resolver.example\" in dns-servers (an "
			 "address, a CIDR, \"system\" or \"none\")");
	expect_ini_error("e.ini", "[global]\ndns-servers = system\ndns-servers = none\n", true,
			 -EINVAL, "e.ini:3: duplicate key \"dns-servers\" (first at line 2)");
	expect_ini_error("e.ini", "[policy a]\ndns-servers = 192.0.2.1:53\n", false, -EINVAL,
			 "e.ini:2: bad value \"192.0.2.1:53\" in dns-servers (an address, a CIDR, "
			 "\"system\" or \"none\")");
}

/* A resolv.conf: nameserver lines, as glibc reads them. */
static void test_resolv_conf(void **state)
{
	struct ln_dns_servers s = {0};
	struct ln_error err = {""};
	struct ln_prefix p;
	const char *path;

	(void)state;
	path = write_file("resolv.conf", "# comment\nsearch example\nnameserver 127.0.0.53\n"
					 "nameserver fe80::1%eth0\noptions edns0\nnameserver bad\n"
					 "nameserver\n");
	assert_int_equal(ln_resolv_conf_read(path, &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(ln_prefix_parse("127.0.0.53", &p), 0);
	assert_true(ln_dns_servers_has(&s, p.addr));
	assert_int_equal(ln_prefix_parse("fe80::1", &p), 0);
	assert_true(ln_dns_servers_has(&s, p.addr));
	ln_dns_servers_free(&s);
	assert_int_equal(ln_resolv_conf_read("/nonexistent/resolv.conf", &s, &err), -ENOENT);
}

/* Every once-only key given twice names the second line and the first. */
static void test_once_only_keys(void **state)
{
	static const char *const policy_once[] = {
	    "default = deny",	 "audit = no",	       "log-allowed = yes",
	    "raw-sockets = deny", "packet-sockets = allow", "icmp-sockets = deny"};
	static const char *const global_once[] = {
	    "audit = no",	"log-allowed = no", "refresh = 60",    "dns = yes",
	    "dns-block = zero", "dns-port = 2000",  "dns-ttl-min = 5", "dns-ttl-max = 50"};
	char text[256], want[256], key[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(policy_once) / sizeof(policy_once[0]); i++) {
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(policy_once[i], " "),
			 policy_once[i]);
		snprintf(text, sizeof(text), "[policy a]\ncgroup = a\n%s\n\n%s\n", policy_once[i],
			 policy_once[i]);
		snprintf(want, sizeof(want), "once.ini:5: duplicate key \"%s\" (first at line 3)",
			 key);
		expect_ini_error("once.ini", text, false, -EINVAL, want);
	}
	for (i = 0; i < sizeof(global_once) / sizeof(global_once[0]); i++) {
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(global_once[i], " "),
			 global_once[i]);
		snprintf(text, sizeof(text), "[global]\n%s\n%s\n", global_once[i], global_once[i]);
		snprintf(want, sizeof(want), "once.ini:3: duplicate key \"%s\" (first at line 2)",
			 key);
		expect_ini_error("once.ini", text, true, -EINVAL, want);
	}
	/* keys are case-insensitive, so a different spelling is still the same key */
	expect_ini_error("once.ini", "[policy a]\nDefault = deny\nDEFAULT = allow\n", false,
			 -EINVAL, "once.ini:3: duplicate key \"default\" (first at line 2)");
}

/* Once-only is per section; repeatable keys may come again. */
static void test_once_per_section(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const char *ini;

	(void)state;
	ini = write_file("per.ini",
			 "[global]\naudit = yes\n"
			 "[policy a]\ncgroup = a\ncgroup = a2\naudit = yes\ndefault = deny\n"
			 "allow = 192.0.2.1\nallow = 192.0.2.2\n"
			 "[policy b]\ncgroup = b\naudit = no\ndefault = deny\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, true, &err))
		fail_msg("%s", err.msg);
	assert_true(c.audit);
	assert_int_equal(c.n_policies, 2);
	assert_int_equal(c.policies[0].n_cgroups, 2);
	assert_int_equal(c.policies[0].n_rules, 2);
	assert_true(c.policies[0].audit);
	assert_false(c.policies[1].audit);
	ln_config_free(&c);
}

/* raw-sockets / packet-sockets / icmp-sockets: allow or deny, the line kept for events. */
static void test_socket_kind_keys(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};
	const struct ln_policy *p;
	const char *ini;

	(void)state;
	ini = write_file("sk.ini", "[policy a]\ncgroup = a\nraw-sockets = deny\n"
				   "packet-sockets = Allow ; comment\nicmp-sockets = deny # why\n"
				   "[policy b]\ncgroup = b\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, false, &err))
		fail_msg("%s", err.msg);
	p = &c.policies[0];
	assert_int_equal(p->sock[LN_SOCK_RAW].verdict, LN_VERDICT_DENY);
	assert_int_equal(LN_RULE_ID_LINE(p->sock[LN_SOCK_RAW].rule_id), 3);
	assert_int_equal(p->sock[LN_SOCK_PACKET].verdict, LN_VERDICT_ALLOW);
	assert_int_equal(LN_RULE_ID_LINE(p->sock[LN_SOCK_PACKET].rule_id), 4);
	assert_int_equal(p->sock[LN_SOCK_ICMP].verdict, LN_VERDICT_DENY);
	assert_int_equal(LN_RULE_ID_LINE(p->sock[LN_SOCK_ICMP].rule_id), 5);
	/* not written: no rule, the policy's default decides */
	for (int k = 0; k < LN_SOCK_KINDS; k++)
		assert_int_equal(c.policies[1].sock[k].rule_id, 0);
	ln_config_free(&c);
	expect_ini_error("e.ini", "[policy a]\ncgroup = a\nraw-sockets = yes\n", false, -EINVAL,
			 "e.ini:3: bad value \"yes\" for raw-sockets (allow or deny)");
	expect_ini_error("e.ini", "[policy a]\nicmp-sockets =\n", false, -EINVAL,
			 "e.ini:2: bad value \"\" for icmp-sockets (allow or deny)");
	expect_ini_error("e.ini", "[global]\npacket-sockets = deny\n", true, -EINVAL,
			 "e.ini:2: unknown key \"packet-sockets\" in [global]");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_ini_error("u.ini", "[policy web]\ncgroup = a\n\nBlocked-Host = x.txt\n", false,
			 -EINVAL, "u.ini:4: unknown key \"Blocked-Host\" in [policy web]");
	expect_ini_error("u.ini", "; settings\n[global]\nrefresh = 60\nrefresh-interval = 60\n",
			 true, -EINVAL, "u.ini:4: unknown key \"refresh-interval\" in [global]");
	/* a key of the other section is unknown here */
	expect_ini_error("u.ini", "[global]\ncgroup = a\n", true, -EINVAL,
			 "u.ini:2: unknown key \"cgroup\" in [global]");
	expect_ini_error("u.ini", "[policy p]\nrefresh = 60\n", false, -EINVAL,
			 "u.ini:2: unknown key \"refresh\" in [policy p]");
}

static void test_refresh_values(void **state)
{
	static const char *const bad[] = {"0", "9",   "86401", "-60", "+60",
					  " ", "abc", "60s",   "1e3", "99999999999999999999"};
	struct ln_config c;
	struct ln_error err = {""};
	char text[128], want[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[global]\nrefresh = %s\n", bad[i]);
		snprintf(want, sizeof(want),
			 "r.ini:2: bad value \"%s\" for refresh (seconds, 10-86400)",
			 strcmp(bad[i], " ") ? bad[i] : "");
		expect_ini_error("r.ini", text, true, -EINVAL, want);
	}
	ln_config_init(&c);
	assert_int_equal(
	    ln_config_load_ini(&c, write_file("r.ini", "[global]\nrefresh = 10\n"), true, &err), 0);
	assert_int_equal(c.refresh_sec, 10);
	ln_config_free(&c);
	ln_config_init(&c);
	assert_int_equal(
	    ln_config_load_ini(&c, write_file("r.ini", "[global]\nrefresh = 86400 # a day\n"), true,
			       &err),
	    0);
	assert_int_equal(c.refresh_sec, 86400);
	ln_config_free(&c);
}

/* NUL bytes, files that are not regular, huge lines, failed reads: each an error naming it. */
static void test_bad_input(void **state)
{
	static const char nul[] = "[policy a]\ncgroup = a\ndeny = 192.0.2.1\0, 10.0.0.0/8\n";
	static const char nul_comment[] = "; policy\0 a\n[policy a]\ncgroup = a\n";
	static const char head[] = "[policy a]\ncgroup = a\nallow = 192.0.2.1";
	struct ln_config c;
	struct ln_error err = {""};
	struct rusage ru;
	char text[300];
	const char *ini;
	FILE *f;

	(void)state;
	expect_load_error(write_bytes("nul.ini", nul, sizeof(nul) - 1), false, -EINVAL,
			  "nul.ini:3: NUL byte in line");
	expect_load_error(write_bytes("nul.ini", nul_comment, sizeof(nul_comment) - 1), false,
			  -EINVAL, "nul.ini:1: NUL byte in line");
	alarm(5); /* a hang kills the test */
	expect_load_error(make_fifo("fifo.ini"), true, -EINVAL, "fifo.ini: not a regular file");
	make_fifo("fifo.txt");
	ini = write_file("l.ini", "[global]\n# the list\nblocked-domains = fifo.txt\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, ini, true, &err), -EINVAL);
	assert_string_equal(err.msg,
			    expect_msg("l.ini:3: %s/fifo.txt: not a regular file", test_dir));
	assert_int_equal(ln_config_load_ini(&c, "/dev/zero", true, &err), -EINVAL);
	assert_string_equal(err.msg, "/dev/zero: not a regular file");
	assert_int_equal(ln_config_load_ini(&c, "/proc/self/mem", true, &err), -EIO);
	assert_string_equal(err.msg, "/proc/self/mem: read error: Input/output error");
	ln_config_free(&c);
	/* a 1 GB line, then a second policy: "line too long" at once, nothing read whole */
	memset(text, ' ', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, head, strlen(head));
	ini = write_sparse("huge.ini", text, 1L << 30);
	f = fopen(ini, "a");
	assert_non_null(f);
	fputs("\n[policy b]\ncgroup = b\n", f);
	fclose(f);
	expect_load_error(ini, false, -EINVAL, "huge.ini:3: line too long (max 199)");
	alarm(0);
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	assert_true(ru.ru_maxrss < 256 * 1024); /* KiB */
}

typedef int (*load_dir_fn)(struct ln_config *c, const char *dir, struct ln_error *err);

/* Walks @dir with @load, expecting @rc and the message "DIR/@dir@msg". */
static void expect_dir_error(load_dir_fn load, const char *dir, int rc, const char *msg)
{
	struct ln_config c;
	struct ln_error err = {""};

	ln_config_init(&c);
	assert_int_equal(load(&c, tpath(dir), &err), rc);
	assert_string_equal(err.msg, expect_msg("%s%s", dir, msg));
	ln_config_free(&c);
}

/*
 * 1 if the walk of @dir says an unprivileged uid cannot read its x.ini (mode 000). In a child
 * that drops root, since root reads it anyway.
 */
static int unreadable_entry_refused(const char *dir)
{
	struct ln_config c;
	struct ln_error err = {""};
	int status;
	pid_t pid;

	pid = fork();
	if (!pid) {
		if (!geteuid() && (setgid(65534) || setuid(65534)))
			_exit(2);
		ln_config_init(&c);
		_exit(ln_config_load_dir(&c, dir, &err) == -EACCES &&
			      strstr(err.msg, "/x.ini: cannot open: Permission denied")
			  ? 1
			  : 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* An entry of rules.d or units.d that cannot be read is an error naming it, never skipped. */
static void test_dir_unreadable_entries(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};

	(void)state;
	alarm(5); /* a hang kills the test */
	write_file("dangling.d/10-ok.ini", "[policy]\ncgroup = ok\n");
	symlink("nowhere.ini", tpath("dangling.d/20-x.ini"));
	expect_dir_error(ln_config_load_dir, "dangling.d", -ENOENT,
			 "/20-x.ini: cannot open: No such file or directory");
	write_file("loop.d/x.ini", "");
	unlink(tpath("loop.d/x.ini"));
	symlink("x.ini", tpath("loop.d/x.ini"));
	expect_dir_error(ln_config_load_dir, "loop.d", -ELOOP,
			 "/x.ini: cannot open: Too many levels of symbolic links");
	mkdir(tpath("subdir.d"), 0755);
	mkdir(tpath("subdir.d/x.ini"), 0755);
	expect_dir_error(ln_config_load_dir, "subdir.d", -EINVAL, "/x.ini: not a regular file");
	mkdir(tpath("fifo.d"), 0755);
	make_fifo("fifo.d/x.ini");
	expect_dir_error(ln_config_load_dir, "fifo.d", -EINVAL, "/x.ini: not a regular file");
	write_file("units.d/a.service.ini", "[policy]\n");
	symlink("gone", tpath("units.d/b.service.ini"));
	expect_dir_error(ln_config_load_units_dir, "units.d", -ENOENT,
			 "/b.service.ini: cannot open: No such file or directory");
	/* names the walk does not take stay ignored, readable or not */
	write_file("ignored.d/a.ini", "[policy]\ncgroup = a\n");
	symlink("nowhere", tpath("ignored.d/.hidden.ini"));
	symlink("nowhere", tpath("ignored.d/b.ini.bak"));
	make_fifo("ignored.d/README");
	ln_config_init(&c);
	if (ln_config_load_dir(&c, tpath("ignored.d"), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c.n_policies, 1);
	ln_config_free(&c);
	/* the directory itself must be one, and a FIFO in its place does not block */
	write_file("file.d", "[policy]\n");
	expect_dir_error(ln_config_load_dir, "file.d", -ENOTDIR, ": not a directory");
	make_fifo("fifo-dir.d");
	expect_dir_error(ln_config_load_units_dir, "fifo-dir.d", -ENOTDIR, ": not a directory");
	alarm(0);
	write_file("perm.d/x.ini", "[policy]\ncgroup = x\n");
	assert_int_equal(chmod(tpath("perm.d/x.ini"), 0), 0);
	assert_int_equal(chmod(tpath("perm.d"), 0755), 0);
	assert_int_equal(chmod(test_dir, 0755), 0);
	assert_int_equal(unreadable_entry_refused(tpath("perm.d")), 1);
	assert_int_equal(chmod(test_dir, 0700), 0);
}

/* rules.d and units.d share one walk: the names it accepts, in name order, nothing else. */
static void test_dir_walk(void **state)
{
	struct ln_config c;
	struct ln_error err = {""};

	(void)state;
	write_file("walk.d/b.ini", "[policy]\ncgroup = b\n");
	write_file("walk.d/10.ini", "[policy]\ncgroup = ten\n");
	write_file("walk.d/2.ini", "[policy]\ncgroup = two\n");
	write_file("walk.d/A.ini", "[policy]\ncgroup = upper\n");
	write_file("walk.d/a.ini", "[policy]\ncgroup = lower\n");
	write_file("walk.d/c.ini~", "garbage\n");
	write_file("walk.d/c.INI", "garbage\n");
	write_file("walk.d/.d.ini", "garbage\n");
	write_file("walk.d/.ini", "garbage\n");
	write_file("walk.d/notes.txt", "garbage\n");
	mkdir(tpath("walk.d/sub.d"), 0755);
	ln_config_init(&c);
	if (ln_config_load_dir(&c, tpath("walk.d/"), &err))
		fail_msg("%s", err.msg);
	/* alphasort() in the C locale (neither the agent nor the tests call setlocale): bytes */
	assert_int_equal(c.n_policies, 5);
	assert_string_equal(c.policies[0].name, "10");
	assert_string_equal(c.policies[1].name, "2");
	assert_string_equal(c.policies[2].name, "A");
	assert_string_equal(c.policies[3].name, "a");
	assert_string_equal(c.policies[4].name, "b");
	assert_int_equal(c.sources.n, 5);
	/* a trailing '/' on the directory does not double in the file names */
	assert_string_equal(c.sources.paths[0], tpath("walk.d/10.ini"));
	assert_int_equal(ln_config_validate(&c, &err), 0);
	ln_config_free(&c);

	/* the units walk: only NAME.service/.scope/.slice.ini, in name order */
	write_file("uwalk.d/b.slice.ini", "[policy]\n");
	write_file("uwalk.d/a.service.ini", "[policy]\n");
	write_file("uwalk.d/a.socket.ini", "garbage\n");
	write_file("uwalk.d/plain.ini", "garbage\n");
	write_file("uwalk.d/c.scope.ini.bak", "garbage\n");
	ln_config_init(&c);
	if (ln_config_load_units_dir(&c, tpath("uwalk.d"), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c.n_policies, 2);
	assert_string_equal(c.policies[0].unit, "a.service");
	assert_string_equal(c.policies[1].unit, "b.slice");
	assert_string_equal(c.sources.paths[1], tpath("uwalk.d/b.slice.ini"));
	ln_config_free(&c);

	/* the first failing file stops the walk: later files are not read */
	write_file("stop.d/1.ini", "[policy]\ncgroup = one\n");
	write_file("stop.d/2.ini", "[policy]\nbogus = 1\n");
	write_file("stop.d/3.ini", "[policy]\ncgroup = three\n");
	ln_config_init(&c);
	assert_int_equal(ln_config_load_dir(&c, tpath("stop.d"), &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("stop.d/2.ini:2: unknown key \"bogus\" in "
						"[policy 2]"));
	assert_int_equal(c.sources.n, 2);
	ln_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_policy),
	    cmocka_unit_test(test_global_section),
	    cmocka_unit_test(test_policy_name_from_file),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_longest_line),
	    cmocka_unit_test(test_list_errors),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_load_dir),
	    cmocka_unit_test(test_load_units_dir),
	    cmocka_unit_test(test_command_line_lists),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_domain_rule_keys),
	    cmocka_unit_test(test_dns_global_keys),
	    cmocka_unit_test(test_dns_servers),
	    cmocka_unit_test(test_resolv_conf),
	    cmocka_unit_test(test_once_only_keys),
	    cmocka_unit_test(test_once_per_section),
	    cmocka_unit_test(test_socket_kind_keys),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_refresh_values),
	    cmocka_unit_test(test_dir_walk),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_rules_section),
	    cmocka_unit_test(test_dir_unreadable_entries),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
