// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: resolvers that bypass the proxy -- resolver-sockets (the map entries, which
 * policies refuse them, the verdict) and encrypted-dns (the deny rules it adds, their lines).
 */
#include <netinet/in.h>

#include "rules_test_util.h"
#include "lsnitch_unix.h"

#define INI 1 /* file index of the --config file: loaded first */
#define DOH 2 /* the doh-resolvers list it names first */

struct fixture {
	struct ln_config c;
	struct ln_compiled cc;
};

static int no_resolve(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	(void)max;
	(void)ud;
	if (strcmp(name, "doh.example"))
		return 0;
	return ln_prefix_parse("192.0.2.53", out) ? -EINVAL : 1;
}

static char warnings[1024];

static void collect_warn(const char *msg, void *ud)
{
	(void)ud;
	snprintf(warnings + strlen(warnings), sizeof(warnings) - strlen(warnings), "%s\n", msg);
}

static int compile_text(struct fixture *fx, const char *text, struct ln_error *err)
{
	warnings[0] = '\0';
	write_file("d.txt", "listed.example\n");
	ln_config_init(&fx->c);
	return ln_config_load_ini(&fx->c, write_file("c.ini", text), true, err) ?:
	       ln_config_validate(&fx->c, err) ?:
	       ln_compile(&fx->c, no_resolve, NULL, collect_warn, NULL, &fx->cc, err);
}

static void compile_ok(struct fixture *fx, const char *text)
{
	struct ln_error err = {""};

	if (compile_text(fx, text, &err))
		fail_msg("%s", err.msg);
}

static void fixture_free(struct fixture *fx)
{
	ln_compiled_free(&fx->cc);
	ln_config_free(&fx->c);
}

static struct ln_decision decide(const struct fixture *fx, __u32 policy, const char *addr,
				 __u16 port)
{
	struct ln_decision d;
	struct ln_prefix p;

	assert_int_equal(ln_prefix_parse(addr, &p), 0);
	ln_compiled_decide(&fx->cc, policy, p.addr, port, IPPROTO_TCP, NULL, NULL, &d);
	return d;
}

static void test_default_resolver_sockets(void **state)
{
	struct fixture fx;

	(void)state;
	compile_ok(&fx, "[global]\nblocked-domains = d.txt\n"
			"[policy p]\ncgroup = p\n");
	assert_int_equal(fx.cc.n_resolver_sockets, 4);
	assert_string_equal(fx.cc.resolver_sockets[0].k.path,
			    "/run/systemd/resolve/io.systemd.Resolve");
	assert_int_equal(fx.cc.resolver_sockets[2].v.index, 2);
	assert_int_equal(fx.cc.resolver_sockets[2].v.rule_id, 0);
	assert_string_equal(ln_resolver_socket_path(&fx.c, 3), "/var/run/nscd/socket");
	assert_null(ln_resolver_socket_path(&fx.c, 4));
	/* a global domain list: every policy, the implicit one too, refuses them */
	assert_true(fx.cc.policies[0].flags & LN_POLICY_RESOLVER_GUARD);
	assert_true(fx.cc.policies[1].flags & LN_POLICY_RESOLVER_GUARD);
	fixture_free(&fx);
}

static void test_guard_follows_domain_filtering(void **state)
{
	struct ln_unix_val v = {.index = 0, .rule_id = 7};
	struct ln_decision d;
	struct fixture fx;

	(void)state;
	compile_ok(&fx, "[policy plain]\ncgroup = a\n"
			"[policy named]\ncgroup = b\ndeny-domain = x.example\n"
			"[policy listed]\ncgroup = c\nblocked-domains = d.txt\n"
			"[policy audited]\ncgroup = d\naudit = yes\nallow-domain = y.example\n");
	assert_false(fx.cc.policies[0].flags & LN_POLICY_RESOLVER_GUARD);
	assert_false(fx.cc.policies[1].flags & LN_POLICY_RESOLVER_GUARD);
	assert_true(fx.cc.policies[2].flags & LN_POLICY_RESOLVER_GUARD);
	assert_true(fx.cc.policies[3].flags & LN_POLICY_RESOLVER_GUARD);
	ln_decide_unix(&fx.cc.policies[1], &v, &d);
	assert_int_equal(d.verdict, LN_VERDICT_ALLOW);
	assert_false(d.log);
	ln_decide_unix(&fx.cc.policies[2], &v, &d);
	assert_int_equal(d.verdict, LN_VERDICT_DENY);
	assert_int_equal(d.reason, LN_REASON_RESOLVER_SOCKET);
	assert_int_equal(d.rule_id, 7);
	assert_true(d.log && !d.audit);
	ln_decide_unix(&fx.cc.policies[4], &v, &d);
	assert_true(d.verdict == LN_VERDICT_DENY && d.audit);
	/* no socket there at load: refused all the same, not reported */
	v.flags = LN_UNIX_QUIET;
	ln_decide_unix(&fx.cc.policies[2], &v, &d);
	assert_true(d.verdict == LN_VERDICT_DENY && !d.log);
	fixture_free(&fx);
	/* dns = no: no proxy to fall back to, the sockets stay open */
	compile_ok(&fx,
		   "[global]\ndns = no\n[policy named]\ncgroup = b\ndeny-domain = x.example\n");
	assert_false(fx.cc.policies[1].flags & LN_POLICY_RESOLVER_GUARD);
	fixture_free(&fx);
}

static void test_resolver_sockets_key(void **state)
{
	struct ln_error err = {""};
	struct fixture fx;
	char long_path[200];

	(void)state;
	compile_ok(&fx, "[global]\n"					/* 1 */
			"resolver-sockets = /run/a.sock, /run/b.sock\n" /* 2 */
			"resolver-sockets = /run/c.sock\n");		/* 3 */
	assert_int_equal(fx.cc.n_resolver_sockets, 3);
	assert_string_equal(fx.cc.resolver_sockets[1].k.path, "/run/b.sock");
	assert_int_equal(fx.cc.resolver_sockets[1].v.rule_id, LN_RULE_ID(INI, 2));
	assert_int_equal(fx.cc.resolver_sockets[2].v.rule_id, LN_RULE_ID(INI, 3));
	fixture_free(&fx);
	compile_ok(&fx, "[global]\nresolver-sockets = none\n");
	assert_int_equal(fx.cc.n_resolver_sockets, 0);
	assert_null(fx.cc.resolver_sockets);
	fixture_free(&fx);
	assert_int_equal(compile_text(&fx, "[global]\nresolver-sockets = run/x\n", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "c.ini:2: bad resolver socket \"run/x\""));
	fixture_free(&fx);
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '/';
	snprintf(long_path + 120, 40, "\n");
	{
		char text[300];

		snprintf(text, sizeof(text), "[global]\nresolver-sockets = %s", long_path);
		assert_int_equal(compile_text(&fx, text, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "at most 107 bytes"));
		fixture_free(&fx);
	}
}

static void test_encrypted_dns(void **state)
{
	struct ln_decision d;
	struct fixture fx;

	(void)state;
	write_file("doh.txt", "# test list\n"	    /* 1 */
			      "198.51.100.53\n"	    /* 2 */
			      "2001:db8::53\n"	    /* 3 */
			      "doh.example\n");	    /* 4 */
	compile_ok(&fx, "[global]\n"		    /* 1 */
			"doh-resolvers = doh.txt\n" /* 2 */
			"[policy strict]\n"	    /* 3 */
			"cgroup = a\n"		    /* 4 */
			"encrypted-dns = deny\n"    /* 5 */
			"allow = 198.51.100.53\n"   /* 6 */
			"[policy open]\n"	    /* 7 */
			"cgroup = b\n");	    /* 8 */
	assert_string_equal(warnings, "");
	d = decide(&fx, 1, "203.0.113.9", 853);
	assert_int_equal(d.verdict, LN_VERDICT_DENY);
	assert_int_equal(d.reason, LN_REASON_RULE);
	assert_int_equal(d.rule_id, LN_RULE_ID(INI, 5));
	d = decide(&fx, 1, "2001:db8::99", 853);
	assert_int_equal(d.rule_id, LN_RULE_ID(INI, 5));
	/* a listed server's 443: denied by its list line, even against an allow of the host */
	d = decide(&fx, 1, "198.51.100.53", 443);
	assert_int_equal(d.verdict, LN_VERDICT_DENY);
	assert_int_equal(d.rule_id, LN_RULE_ID(DOH, 2));
	d = decide(&fx, 1, "2001:db8::53", 443);
	assert_int_equal(d.rule_id, LN_RULE_ID(DOH, 3));
	d = decide(&fx, 1, "192.0.2.53", 443);
	assert_int_equal(d.rule_id, LN_RULE_ID(DOH, 4));
	/* its other ports are the policy's: 53 stays the proxy's, the allow rule decides */
	d = decide(&fx, 1, "198.51.100.53", 53);
	assert_int_equal(d.verdict, LN_VERDICT_ALLOW);
	assert_int_equal(d.rule_id, LN_RULE_ID(INI, 6));
	/* another server's 443, and the policy without the key: untouched */
	assert_int_equal(decide(&fx, 1, "203.0.113.9", 443).reason, LN_REASON_DEFAULT);
	assert_int_equal(decide(&fx, 2, "203.0.113.9", 853).verdict, LN_VERDICT_ALLOW);
	assert_int_equal(decide(&fx, 2, "198.51.100.53", 443).reason, LN_REASON_DEFAULT);
	fixture_free(&fx);
}

static void test_encrypted_dns_global_default(void **state)
{
	struct ln_error err = {""};
	struct fixture fx;

	(void)state;
	compile_ok(&fx, "[global]\n"		    /* 1 */
			"encrypted-dns = deny\n"    /* 2 */
			"[policy a]\ncgroup = a\n"  /* 3, 4 */
			"[policy b]\ncgroup = b\n"  /* 5, 6 */
			"encrypted-dns = allow\n"); /* 7 */
	assert_int_equal(decide(&fx, 1, "203.0.113.9", 853).rule_id, LN_RULE_ID(INI, 2));
	/* no doh-resolvers list: port 853 only, and said so */
	assert_non_null(strstr(warnings, "c.ini:2: encrypted-dns = deny, but no doh-resolvers list"));
	assert_int_equal(decide(&fx, 2, "203.0.113.9", 853).verdict, LN_VERDICT_ALLOW);
	fixture_free(&fx);
	assert_int_equal(compile_text(&fx, "[policy a]\nencrypted-dns = maybe\n", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad value \"maybe\" for encrypted-dns (allow or deny)"));
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_resolver_sockets),
	    cmocka_unit_test(test_guard_follows_domain_filtering),
	    cmocka_unit_test(test_resolver_sockets_key),
	    cmocka_unit_test(test_encrypted_dns),
	    cmocka_unit_test(test_encrypted_dns_global_default),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
