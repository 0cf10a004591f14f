// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: compiling to map entries, and the verdicts ln_compiled_decide() gives from them,
 * live DNS verdicts included.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "rules_test_util.h"
#include "lsnitch_sock.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define INI 1 /* file index of the policy file: loaded first */

struct resolve_row {
	const char *name;
	const char *addrs[3];
};

static const struct resolve_row resolve_table[] = {
    {"localhost", {"127.0.0.1", "::1"}},
    {"web.example", {"192.0.2.80"}},
    {"bad.example", {"198.51.100.66", "2001:db8::66"}},
    {"nxdomain.example", {NULL}},
};

static int table_resolve(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	size_t i, n;

	(void)ud;
	for (i = 0; i < sizeof(resolve_table) / sizeof(resolve_table[0]); i++) {
		if (strcmp(name, resolve_table[i].name))
			continue;
		for (n = 0; n < max && n < 3 && resolve_table[i].addrs[n]; n++)
			assert_int_equal(ln_prefix_parse(resolve_table[i].addrs[n], &out[n]), 0);
		return n;
	}
	return -ENOENT;
}

static char warnings[2048];

static void collect_warn(const char *msg, void *ud)
{
	(void)ud;
	strncat(warnings, msg, sizeof(warnings) - strlen(warnings) - 2);
	strcat(warnings, "\n");
}

struct fixture {
	struct ln_config c;
	struct ln_compiled cc;
};

/* Loads @text as the --config file (global allowed) and compiles it. */
static void compile_text(struct fixture *fx, const char *text)
{
	struct ln_error err = {""};

	warnings[0] = '\0';
	ln_config_init(&fx->c);
	if (ln_config_load_ini(&fx->c, write_file("c.ini", text), true, &err) ||
	    ln_config_validate(&fx->c, &err) ||
	    ln_compile(&fx->c, table_resolve, NULL, collect_warn, NULL, &fx->cc, &err))
		fail_msg("%s", err.msg);
}

static void fixture_free(struct fixture *fx)
{
	ln_compiled_free(&fx->cc);
	ln_config_free(&fx->c);
}

/*
 * A dns_verdicts map of one entry, as the agent's explain reads the kernel's:
 * the domain rules of @policy_id that matched @name, for the address @addr.
 */
struct fake_dns {
	__u32 policy_id;
	struct ln_prefix addr;
	struct ln_rule_set rs;
	bool expired;
	unsigned int calls;
};

static const struct ln_rule_set *fake_dns_lookup(void *ud, __u32 policy_id,
						 const __u8 addr[LN_ADDR_LEN])
{
	struct fake_dns *f = ud;

	f->calls++;
	if (f->expired || policy_id != f->policy_id || memcmp(addr, f->addr.addr, LN_ADDR_LEN))
		return NULL;
	return &f->rs;
}

/* Records that @name resolved to @addr for @policy_id, from the policy's domain rules. */
static void fake_dns_answer(struct fake_dns *f, const struct fixture *fx, __u32 policy_id,
			    const char *name, const char *addr)
{
	memset(f, 0, sizeof(*f));
	f->policy_id = policy_id;
	assert_int_equal(ln_prefix_parse(addr, &f->addr), 0);
	assert_true(ln_domain_rules_match(&fx->c.policies[policy_id - 1], &name, 1, &f->rs) > 0);
}

static struct fake_dns *live_dns; /* what decide() passes: NULL, no DNS verdicts */

static struct ln_decision decide(const struct fixture *fx, __u32 policy, const char *addr,
				 __u16 port, __u8 proto)
{
	struct ln_decision d;
	struct ln_prefix p;

	assert_int_equal(ln_prefix_parse(addr, &p), 0);
	ln_compiled_decide(&fx->cc, policy, p.addr, port, proto, live_dns ? fake_dns_lookup : NULL,
			   live_dns, &d);
	return d;
}

#define expect_verdict(fx, pol, addr, port, proto, verdict_, reason_, rule_id_)                    \
	do {                                                                                       \
		struct ln_decision d_ = decide(fx, pol, addr, port, proto);                        \
		if (d_.verdict != (verdict_) || d_.reason != (reason_) ||                          \
		    d_.rule_id != (rule_id_))                                                      \
			fail_msg("%s:%u/%u in policy %u: verdict %u reason %u rule %u:%u, "        \
				 "expected %u %u %u:%u",                                           \
				 addr, port, proto, pol, d_.verdict, d_.reason,                    \
				 LN_RULE_ID_FILE(d_.rule_id), LN_RULE_ID_LINE(d_.rule_id),         \
				 verdict_, reason_, LN_RULE_ID_FILE(rule_id_),                     \
				 LN_RULE_ID_LINE(rule_id_));                                       \
	} while (0)

#define ALLOW LN_VERDICT_ALLOW
#define DENY LN_VERDICT_DENY
#define R_RULE LN_REASON_RULE
#define R_BL LN_REASON_BLOCKLIST
#define R_DEF LN_REASON_DEFAULT
#define R_DOM LN_REASON_DOMAIN

/*
 * [rules NAME] in a second file (the agent's managed rules file): its rules join the policy's
 * own as equals, so the most specific wins and deny wins a tie, whichever file it is in.
 */
static void test_rules_section_joins_policy(void **state)
{
	struct ln_error err = {""};
	struct fixture fx;
	const char *m;

	(void)state;
	ln_config_init(&fx.c);
	m = write_file("m.ini", "[rules p]\n"		   /* 1 */
				"allow = 127.0.0.1:8080/tcp\n" /* 2 */
				"deny = 127.0.0.2:80/tcp\n"	   /* 3 */
				"allow = 127.0.0.3:80/tcp\n"   /* 4 */
				"allow = 127.0.0.4\n");	   /* 5 */
	if (ln_config_load_ini(&fx.c, write_file("c.ini", "[policy p]\n"	      /* 1 */
							"cgroup = p\n"	      /* 2 */
							"default = deny\n"	      /* 3 */
							"deny = 127.0.0.0/8\n"      /* 4 */
							"allow = 127.0.0.2:80/tcp\n" /* 5 */
							"deny = 127.0.0.3:80/tcp\n" /* 6 */
							"deny = 127.0.0.4:22\n"),   /* 7 */
			       true, &err) ||
	    ln_config_load_ini(&fx.c, m, false, &err) || ln_config_validate(&fx.c, &err) ||
	    ln_compile(&fx.c, table_resolve, NULL, collect_warn, NULL, &fx.cc, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(fx.c.n_policies, 1);
	expect_verdict(&fx, 1, "127.0.0.1", 8080, TCP, ALLOW, R_RULE, LN_RULE_ID(INI + 1, 2));
	expect_verdict(&fx, 1, "127.0.0.1", 8081, TCP, DENY, R_RULE, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 1, "127.0.0.2", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI + 1, 3));
	expect_verdict(&fx, 1, "127.0.0.3", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 6));
	/* the policy's own narrower rule still beats an added wider one */
	expect_verdict(&fx, 1, "127.0.0.4", 22, TCP, DENY, R_RULE, LN_RULE_ID(INI, 7));
	expect_verdict(&fx, 1, "127.0.0.4", 23, TCP, ALLOW, R_RULE, LN_RULE_ID(INI + 1, 5));
	fixture_free(&fx);
}

static void test_most_specific_prefix_wins(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy p]\n"		/* 1 */
			  "cgroup = p\n"		/* 2 */
			  "default = deny\n"		/* 3 */
			  "allow = 10.0.0.0/8\n"	/* 4 */
			  "deny = 10.1.0.0/16\n"	/* 5 */
			  "allow = 10.1.2.3\n"		/* 6 */
			  "allow = 10.0.0.0/8:443\n"	/* 7 */
			  "deny = 10.1.0.0/16:8000\n"); /* 8 */
	expect_verdict(&fx, 1, "10.2.0.1", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 1, "10.1.9.9", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "10.1.2.3", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 6));
	expect_verdict(&fx, 1, "10.1.2.3", 8000, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 6));
	/* a longer prefix beats a port-specific shorter one */
	expect_verdict(&fx, 1, "10.1.9.9", 443, TCP, DENY, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "10.2.0.1", 443, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 7));
	expect_verdict(&fx, 1, "11.0.0.1", 80, TCP, DENY, R_DEF, LN_RULE_ID(INI, 3));
	/* the set of 10.1.2.3 holds its own rule, then /16 (port first), then /8 */
	{
		const struct ln_rule_kv *kv = NULL;
		size_t i;

		for (i = 0; i < fx.cc.n_rules; i++)
			if (fx.cc.rules[i].k.prefixlen == 32 + 128)
				kv = &fx.cc.rules[i];
		assert_non_null(kv);
		assert_int_equal(kv->k.policy_id, 1);
		assert_int_equal(kv->v.count, 5);
		assert_int_equal(kv->v.e[0].rule_id, LN_RULE_ID(INI, 6));
		assert_int_equal(kv->v.e[1].rule_id, LN_RULE_ID(INI, 8));
		assert_int_equal(kv->v.e[2].rule_id, LN_RULE_ID(INI, 5));
		assert_int_equal(kv->v.e[3].rule_id, LN_RULE_ID(INI, 7));
		assert_int_equal(kv->v.e[4].rule_id, LN_RULE_ID(INI, 4));
		assert_int_equal(fx.cc.n_rules, 3);
	}
	fixture_free(&fx);
}

static void test_port_and_proto_specific_first(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy p]\n"
			  "cgroup = p\n"
			  "deny = 10.0.0.0/8\n"		     /* 3 */
			  "allow = 10.0.0.0/8:443/tcp\n"     /* 4 */
			  "deny = 192.0.2.5:53\n"	     /* 5 */
			  "allow = 192.0.2.5:53/udp\n"	     /* 6 */
			  "allow = 192.0.2.5:1-1000\n"	     /* 7 */
			  "deny = 192.0.2.5:100-200/tcp\n"); /* 8 */
	expect_verdict(&fx, 1, "10.9.9.9", 443, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 1, "10.9.9.9", 443, UDP, DENY, R_RULE, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "10.9.9.9", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "192.0.2.5", 53, UDP, ALLOW, R_RULE, LN_RULE_ID(INI, 6));
	expect_verdict(&fx, 1, "192.0.2.5", 53, TCP, DENY, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "192.0.2.5", 150, TCP, DENY, R_RULE, LN_RULE_ID(INI, 8));
	expect_verdict(&fx, 1, "192.0.2.5", 150, UDP, ALLOW, R_RULE, LN_RULE_ID(INI, 7));
	expect_verdict(&fx, 1, "192.0.2.5", 2000, UDP, ALLOW, LN_REASON_DEFAULT,
		       LN_RULE_ID(INI, 1));
	fixture_free(&fx);
}

static void test_deny_wins_ties(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy p]\n"
			  "cgroup = p\n"
			  "allow = 192.0.2.0/24:80\n" /* 3 */
			  "deny = 192.0.2.0/24:80\n"  /* 4 */
			  "allow = 192.0.2.0/24:80\n" /* 5: duplicate of 3, collapsed */
			  "deny = 2001:db8::/32\n"    /* 6 */
			  "allow = 2001:db8::/32\n"); /* 7 */
	expect_verdict(&fx, 1, "192.0.2.1", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 1, "2001:db8::1", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 6));
	assert_int_equal(fx.cc.n_rules, 2);
	assert_int_equal(fx.cc.rules[0].v.count + fx.cc.rules[1].v.count, 4);
	fixture_free(&fx);
}

static void test_rules_lists_defaults(void **state)
{
	struct fixture fx;
	const char *hosts = write_file("bl.txt", "203.0.113.5\n"       /* 1 */
						 "198.51.100.0/24\n"); /* 2 */
	__u32 bl;

	(void)state;
	compile_text(&fx, "[global]\n"		      /* 1 */
			  "blocked-hosts = bl.txt\n"  /* 2 */
			  "[policy ruled]\n"	      /* 3 */
			  "cgroup = a\n"	      /* 4 */
			  "allow = 203.0.113.5:443\n" /* 5 */
			  "[policy open]\n"	      /* 6 */
			  "cgroup = b\n"	      /* 7 */
			  "[policy closed]\n"	      /* 8 */
			  "cgroup = c\n"	      /* 9 */
			  "default = deny\n"	      /* 10 */
			  "allow = 198.51.100.7\n");  /* 11 */
	bl = ln_sources_add(&fx.c.sources, hosts);
	assert_int_equal(bl, 2);
	/* a rule beats the blocklist; without a matching rule the list decides */
	expect_verdict(&fx, 1, "203.0.113.5", 443, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "203.0.113.5", 80, TCP, DENY, R_BL, LN_RULE_ID(bl, 1));
	/* the blocklist beats a default allow */
	expect_verdict(&fx, 2, "198.51.100.99", 80, TCP, DENY, R_BL, LN_RULE_ID(bl, 2));
	expect_verdict(&fx, 2, "192.0.2.1", 80, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 6));
	/* default deny names its line; a rule inside a listed prefix still wins */
	expect_verdict(&fx, 3, "192.0.2.1", 80, TCP, DENY, R_DEF, LN_RULE_ID(INI, 10));
	expect_verdict(&fx, 3, "198.51.100.7", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 11));
	/* the implicit policy (and any unknown id) gets the global lists only */
	expect_verdict(&fx, 0, "198.51.100.1", 80, TCP, DENY, R_BL, LN_RULE_ID(bl, 2));
	expect_verdict(&fx, 0, "192.0.2.1", 80, TCP, ALLOW, R_DEF, 0);
	expect_verdict(&fx, 99, "203.0.113.5", 80, TCP, DENY, R_BL, LN_RULE_ID(bl, 1));
	assert_int_equal(fx.cc.policies[1].flags, LN_POLICY_HAS_RULES);
	assert_int_equal(fx.cc.policies[2].flags, 0);
	assert_int_equal(fx.cc.policies[0].flags, 0);
	fixture_free(&fx);
}

static void test_audit_and_log_flags(void **state)
{
	struct fixture fx;
	struct ln_decision d;

	(void)state;
	compile_text(&fx, "[policy watched]\ncgroup = a\ndefault = deny\naudit = yes\n"
			  "[policy chatty]\ncgroup = b\nlog-allowed = yes\ndeny = 192.0.2.1\n"
			  "[policy quiet]\ncgroup = c\ndeny = 192.0.2.1\n");
	d = decide(&fx, 1, "192.0.2.1", 80, TCP);
	assert_int_equal(d.verdict, DENY);
	assert_int_equal(d.audit, 1);
	assert_int_equal(d.log, 1);
	d = decide(&fx, 2, "192.0.2.2", 80, TCP);
	assert_int_equal(d.verdict, ALLOW);
	assert_int_equal(d.log, 1);
	d = decide(&fx, 2, "192.0.2.1", 80, TCP);
	assert_int_equal(d.verdict, DENY);
	assert_int_equal(d.audit, 0);
	d = decide(&fx, 3, "192.0.2.2", 80, TCP);
	assert_int_equal(d.log, 0);
	assert_int_equal(fx.cc.policies[1].flags, LN_POLICY_AUDIT);
	assert_int_equal(fx.cc.policies[2].flags, LN_POLICY_LOG_ALLOWED | LN_POLICY_HAS_RULES);
	fixture_free(&fx);

	/* global audit applies to every policy and the implicit one */
	compile_text(&fx, "[global]\naudit = on\nlog-allowed = on\n"
			  "[policy p]\ncgroup = a\ndefault = deny\n");
	assert_int_equal(fx.cc.policies[0].flags, LN_POLICY_AUDIT | LN_POLICY_LOG_ALLOWED);
	assert_int_equal(fx.cc.policies[1].flags, LN_POLICY_AUDIT | LN_POLICY_LOG_ALLOWED);
	d = decide(&fx, 1, "192.0.2.1", 80, TCP);
	assert_int_equal(d.audit, 1);
	fixture_free(&fx);
}

static void test_v4_rule_matches_v4_mapped(void **state)
{
	struct fixture fx;
	struct ln_prefix p;
	struct ln_decision d;

	(void)state;
	compile_text(&fx, "[policy p]\ncgroup = a\ndeny = 192.0.2.0/24\nallow = *:53/udp\n");
	/* what connect6 sees for a v4-mapped destination */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.9", p.addr), 1);
	ln_compiled_decide(&fx.cc, 1, p.addr, 80, TCP, NULL, NULL, &d);
	assert_int_equal(d.verdict, DENY);
	assert_int_equal(d.rule_id, LN_RULE_ID(INI, 3));
	/* "*" is ::/0: it covers IPv4 and IPv6 */
	expect_verdict(&fx, 1, "198.51.100.1", 53, UDP, ALLOW, R_RULE, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 1, "2001:db8::1", 53, UDP, ALLOW, R_RULE, LN_RULE_ID(INI, 4));
	/* but not a non-mapped v6 address with the same low bits */
	assert_int_equal(inet_pton(AF_INET6, "::192.0.2.9", p.addr), 1);
	ln_compiled_decide(&fx.cc, 1, p.addr, 80, TCP, NULL, NULL, &d);
	assert_int_equal(d.reason, R_DEF);
	fixture_free(&fx);
}

static void test_ipv6_rules(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy p]\ncgroup = a\n"
			  "deny = 2001:db8::/32\n"		/* 3 */
			  "allow = [2001:db8:1::/48]:443/tcp\n" /* 4 */
			  "deny = [2001:db8:1::5]:443\n");	/* 5 */
	expect_verdict(&fx, 1, "2001:db8:2::1", 443, TCP, DENY, R_RULE, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "2001:db8:1::1", 443, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 1, "2001:db8:1::1", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "2001:db8:1::5", 443, TCP, DENY, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "2001:db9::1", 443, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 1));
	fixture_free(&fx);
}

static void test_policy_list_in_own_set(void **state)
{
	struct fixture fx;
	__u32 a;
	size_t i;

	(void)state;
	write_file("a-hosts.txt", "192.0.2.99\n10.0.0.0/8\n192.0.2.99\n");
	compile_text(&fx, "[policy a]\ncgroup = a\nblocked-hosts = a-hosts.txt\n"
			  "[policy b]\ncgroup = b\n");
	a = ln_sources_add(&fx.c.sources, tpath("a-hosts.txt"));
	expect_verdict(&fx, 1, "192.0.2.99", 80, TCP, DENY, R_BL, LN_RULE_ID(a, 1));
	expect_verdict(&fx, 1, "10.1.1.1", 80, TCP, DENY, R_BL, LN_RULE_ID(a, 2));
	expect_verdict(&fx, 2, "192.0.2.99", 80, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 0, "192.0.2.99", 80, TCP, ALLOW, R_DEF, 0);
	assert_int_equal(fx.cc.policies[1].flags, LN_POLICY_HAS_LISTS);
	assert_int_equal(fx.cc.policies[2].flags, 0);
	assert_int_equal(fx.cc.n_bl_exact, 1);
	assert_int_equal(fx.cc.bl_exact[0].k.set, 1);
	assert_int_equal(fx.cc.n_bl_prefix, 1);
	assert_int_equal(fx.cc.bl_prefix[0].k.set, 1);
	assert_int_equal(fx.cc.bl_prefix[0].k.prefixlen, 32 + 96 + 8);
	for (i = 0; i < fx.cc.n_bl_exact; i++)
		assert_int_not_equal(fx.cc.bl_exact[i].k.set, 2);
	fixture_free(&fx);
}

static void test_blocklist_dedupe_and_resolve(void **state)
{
	struct fixture fx;
	char want[512];
	__u32 f;

	(void)state;
	write_file("g.txt", "192.0.2.1\n"	 /* 1 */
			    "10.0.0.0/8\n"	 /* 2 */
			    "192.0.2.1\n"	 /* 3 */
			    "10.9.0.0/8\n"	 /* 4: same prefix as 2 */
			    "2001:db8::1/128\n"	 /* 5 */
			    "bad.example\n"	 /* 6: two addresses */
			    "nxdomain.example\n" /* 7 */
			    "2001:db8::/64\n"	 /* 8 */
			    "198.51.100.66\n");	 /* 9: same as bad.example's */
	compile_text(&fx, "[global]\nblocked-hosts = g.txt\n[policy p]\ncgroup = p\n"
			  "allow = localhost:8080, web.example, gone.example\n");
	f = ln_sources_add(&fx.c.sources, tpath("g.txt"));
	assert_int_equal(fx.cc.n_bl_exact, 4); /* 192.0.2.1, 2001:db8::1, ...66 x2 */
	assert_int_equal(fx.cc.n_bl_prefix, 2);
	assert_int_equal(fx.cc.n_unresolved, 2);
	snprintf(want, sizeof(want),
		 "%s/c.ini:5: cannot resolve \"gone.example\", ignoring\n"
		 "%s/g.txt:7: cannot resolve \"nxdomain.example\", ignoring\n",
		 test_dir, test_dir);
	assert_string_equal(warnings, want);
	expect_verdict(&fx, 1, "192.0.2.1", 80, TCP, DENY, R_BL, LN_RULE_ID(f, 1));
	expect_verdict(&fx, 1, "10.1.2.3", 80, TCP, DENY, R_BL, LN_RULE_ID(f, 2));
	expect_verdict(&fx, 1, "198.51.100.66", 80, TCP, DENY, R_BL, LN_RULE_ID(f, 6));
	expect_verdict(&fx, 1, "2001:db8::66", 80, TCP, DENY, R_BL, LN_RULE_ID(f, 6));
	/* exact beats a covering prefix, as the BPF program looks there first */
	expect_verdict(&fx, 1, "2001:db8::1", 80, TCP, DENY, R_BL, LN_RULE_ID(f, 5));
	expect_verdict(&fx, 1, "2001:db8::2", 80, TCP, DENY, R_BL, LN_RULE_ID(f, 8));
	/* hostname rules: each address becomes a /32 or /128 */
	expect_verdict(&fx, 1, "127.0.0.1", 8080, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "::1", 8080, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "192.0.2.80", 1, UDP, ALLOW, R_RULE, LN_RULE_ID(INI, 5));
	assert_int_equal(fx.cc.n_rules, 3);
	fixture_free(&fx);
}

static void test_bindings(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy a]\ncgroup = x.slice\ncgroup = /y.slice/z.service\n"
			  "[policy b]\ncgroup = w.slice\n");
	assert_int_equal(fx.cc.n_bindings, 3);
	assert_string_equal(fx.cc.bindings[0].cgroup, "x.slice");
	assert_int_equal(fx.cc.bindings[0].policy_id, 1);
	assert_int_equal(fx.cc.bindings[0].rule_id, LN_RULE_ID(INI, 2));
	assert_string_equal(fx.cc.bindings[1].cgroup, "y.slice/z.service");
	assert_int_equal(fx.cc.bindings[1].rule_id, LN_RULE_ID(INI, 3));
	assert_int_equal(fx.cc.bindings[2].policy_id, 2);
	assert_int_equal(fx.cc.n_policies, 3);
	assert_int_equal(fx.cc.policies[0].default_verdict, ALLOW);
	assert_int_equal(fx.cc.policies[0].default_rule_id, 0);
	fixture_free(&fx);
	ln_compiled_free(NULL);
}

/* The order with live DNS verdicts: rules, then the domain verdict, then blocklists, default. */
static void test_dns_verdict_order(void **state)
{
	struct fixture fx;
	struct fake_dns dns;
	__u32 bl;

	(void)state;
	write_file("dbl.txt", "203.0.113.7\n"		      /* 1 */
			      "198.51.100.9\n");	      /* 2 */
	compile_text(&fx, "[global]\n"			      /* 1 */
			  "blocked-hosts = dbl.txt\n"	      /* 2 */
			  "[policy closed]\n"		      /* 3 */
			  "cgroup = a\n"		      /* 4 */
			  "default = deny\n"		      /* 5 */
			  "allow-domain = api.test:443/tcp\n" /* 6 */
			  "deny-domain = bad.test\n"	      /* 7 */
			  "deny = 203.0.113.8\n"	      /* 8 */
			  "[policy open]\n"		      /* 9 */
			  "cgroup = b\n"		      /* 10 */
			  "allow-domain = cdn.test\n");	      /* 11 */
	bl = ln_sources_add(&fx.c.sources, tpath("dbl.txt"));
	assert_int_equal(fx.cc.policies[1].flags, LN_POLICY_HAS_DOMAIN_RULES | LN_POLICY_HAS_RULES |
							  LN_POLICY_RESOLVER_GUARD);
	live_dns = &dns;

	/* a live allow-domain answer opens an address in a default-deny policy */
	fake_dns_answer(&dns, &fx, 1, "www.api.test", "192.0.2.10");
	expect_verdict(&fx, 1, "192.0.2.10", 443, TCP, ALLOW, R_DOM, LN_RULE_ID(INI, 6));
	expect_verdict(&fx, 1, "192.0.2.10", 80, TCP, DENY, R_DEF, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "192.0.2.11", 443, TCP, DENY, R_DEF, LN_RULE_ID(INI, 5));
	/* only for the policy it was recorded for */
	expect_verdict(&fx, 2, "192.0.2.10", 443, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 9));
	/* expired: the default again */
	dns.expired = true;
	expect_verdict(&fx, 1, "192.0.2.10", 443, TCP, DENY, R_DEF, LN_RULE_ID(INI, 5));

	/* a rule beats the DNS verdict, which is then not even looked up */
	fake_dns_answer(&dns, &fx, 1, "api.test", "203.0.113.8");
	expect_verdict(&fx, 1, "203.0.113.8", 443, TCP, DENY, R_RULE, LN_RULE_ID(INI, 8));
	assert_int_equal(dns.calls, 0);

	/* the DNS verdict beats the blocklist, both ways */
	fake_dns_answer(&dns, &fx, 1, "api.test", "203.0.113.7");
	expect_verdict(&fx, 1, "203.0.113.7", 443, TCP, ALLOW, R_DOM, LN_RULE_ID(INI, 6));
	expect_verdict(&fx, 1, "203.0.113.7", 80, TCP, DENY, R_BL, LN_RULE_ID(bl, 1));
	fake_dns_answer(&dns, &fx, 2, "cdn.test", "198.51.100.9");
	expect_verdict(&fx, 2, "198.51.100.9", 80, UDP, ALLOW, R_DOM, LN_RULE_ID(INI, 11));
	fake_dns_answer(&dns, &fx, 1, "x.bad.test", "198.51.100.9");
	expect_verdict(&fx, 1, "198.51.100.9", 80, TCP, DENY, R_DOM, LN_RULE_ID(INI, 7));
	/* expired or absent: the blocklist */
	dns.expired = true;
	expect_verdict(&fx, 1, "198.51.100.9", 80, TCP, DENY, R_BL, LN_RULE_ID(bl, 2));
	live_dns = NULL;
	expect_verdict(&fx, 1, "203.0.113.7", 443, TCP, DENY, R_BL, LN_RULE_ID(bl, 1));

	/* a policy without domain rules never asks */
	live_dns = &dns;
	dns.calls = 0;
	expect_verdict(&fx, 0, "198.51.100.9", 80, TCP, DENY, R_BL, LN_RULE_ID(bl, 2));
	assert_int_equal(dns.calls, 0);
	live_dns = NULL;
	fixture_free(&fx);
}

/* @n rules at one prefix plus @m at a longer one inside it. */
static int compile_overlap(unsigned int n, unsigned int m, struct ln_error *err)
{
	struct ln_config c;
	struct ln_compiled cc;
	char text[4096];
	size_t len;
	unsigned int i;
	int rc;

	len = snprintf(text, sizeof(text), "[policy many]\ncgroup = a\n");
	for (i = 0; i < n; i++)
		len += snprintf(text + len, sizeof(text) - len, "deny = 10.0.0.0/8:%u\n", i + 1);
	for (i = 0; i < m; i++)
		len += snprintf(text + len, sizeof(text) - len, "allow = 10.1.0.0/16:%u\n", i + 1);
	ln_config_init(&c);
	assert_int_equal(ln_config_load_ini(&c, write_file("o.ini", text), false, err), 0);
	rc = ln_compile(&c, table_resolve, NULL, NULL, NULL, &cc, err);
	if (!rc) {
		assert_true(cc.n_rules > 0);
		ln_compiled_free(&cc);
	} else {
		assert_null(cc.rules);
	}
	ln_config_free(&c);
	return rc;
}

static void test_too_many_overlapping(void **state)
{
	struct ln_error err = {""};

	(void)state;
	assert_int_equal(compile_overlap(16, 0, &err), 0);
	assert_int_equal(compile_overlap(10, 6, &err), 0);
	assert_int_equal(compile_overlap(17, 0, &err), -E2BIG);
	assert_string_equal(err.msg, expect_msg("o.ini:3: more than 16 rules overlap 10.0.0.0/8 "
						"in policy many"));
	assert_int_equal(compile_overlap(10, 7, &err), -E2BIG);
	assert_string_equal(err.msg, expect_msg("o.ini:13: more than 16 rules overlap 10.1.0.0/16 "
						"in policy many"));
}

/* The socket kinds a policy decides, and what the programs make of socket(2)'s arguments. */
static void test_sock_kind_of_socket(void **state)
{
	(void)state;
	assert_int_equal(ln_sock_kind(AF_INET, SOCK_RAW, IPPROTO_UDP), LN_SOCK_RAW);
	assert_int_equal(ln_sock_kind(AF_INET6, SOCK_RAW, IPPROTO_RAW), LN_SOCK_RAW);
	assert_int_equal(ln_sock_kind(AF_INET, SOCK_RAW, IPPROTO_ICMP), LN_SOCK_RAW);
	assert_int_equal(ln_sock_kind(AF_PACKET, SOCK_RAW, htons(3)), LN_SOCK_PACKET);
	assert_int_equal(ln_sock_kind(AF_PACKET, SOCK_DGRAM, 0), LN_SOCK_PACKET);
	assert_int_equal(ln_sock_kind(AF_PACKET, SOCK_PACKET, 0), LN_SOCK_PACKET);
	assert_int_equal(ln_sock_kind(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), LN_SOCK_ICMP);
	assert_int_equal(ln_sock_kind(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6), LN_SOCK_ICMP);
	/* not socket kinds: the sock_addr hooks decide them */
	assert_int_equal(ln_sock_kind(AF_INET, SOCK_DGRAM, 0), -1);
	assert_int_equal(ln_sock_kind(AF_INET, SOCK_DGRAM, IPPROTO_UDP), -1);
	assert_int_equal(ln_sock_kind(AF_INET6, SOCK_DGRAM, IPPROTO_ICMP), -1);
	assert_int_equal(ln_sock_kind(AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6), -1);
	assert_int_equal(ln_sock_kind(AF_INET6, SOCK_STREAM, IPPROTO_TCP), -1);
	assert_int_equal(ln_sock_kind(AF_UNIX, SOCK_RAW, 0), -1);
	assert_int_equal(ln_sock_kind(AF_NETLINK, SOCK_RAW, 0), -1);
}

#define expect_sock(fx, pol, kind, verdict_, rule_id_)                                             \
	do {                                                                                       \
		struct ln_decision d_;                                                             \
		ln_decide_sock(&(fx)->cc.policies[pol], kind, &d_);                                \
		if (d_.verdict != (verdict_) || d_.reason != LN_REASON_SOCKET_KIND ||              \
		    d_.rule_id != (rule_id_))                                                      \
			fail_msg("kind %d in policy %u: verdict %u reason %u rule %u:%u", kind,    \
				 pol, d_.verdict, d_.reason, LN_RULE_ID_FILE(d_.rule_id),          \
				 LN_RULE_ID_LINE(d_.rule_id));                                     \
	} while (0)

/* Each kind: its key where the policy has one, else the policy's default (and its line). */
static void test_sock_kinds(void **state)
{
	struct fixture fx;
	struct ln_decision d;

	(void)state;
	compile_text(&fx, "[policy closed]\n"	    /* 1 */
			  "cgroup = a\n"	    /* 2 */
			  "default = deny\n"	    /* 3 */
			  "icmp-sockets = allow\n" /* 4 */
			  "[policy open]\n"	    /* 5 */
			  "cgroup = b\n"	    /* 6 */
			  "raw-sockets = deny\n"    /* 7 */
			  "[policy watched]\n"	    /* 8 */
			  "cgroup = c\n"	    /* 9 */
			  "audit = yes\n"	    /* 10 */
			  "Packet-Sockets = DENY\n" /* 11 */);
	expect_sock(&fx, 1, LN_SOCK_RAW, DENY, LN_RULE_ID(INI, 3));
	expect_sock(&fx, 1, LN_SOCK_PACKET, DENY, LN_RULE_ID(INI, 3));
	expect_sock(&fx, 1, LN_SOCK_ICMP, ALLOW, LN_RULE_ID(INI, 4));
	/* default = allow when not written: the section line stands for it */
	expect_sock(&fx, 2, LN_SOCK_RAW, DENY, LN_RULE_ID(INI, 7));
	expect_sock(&fx, 2, LN_SOCK_PACKET, ALLOW, LN_RULE_ID(INI, 5));
	expect_sock(&fx, 2, LN_SOCK_ICMP, ALLOW, LN_RULE_ID(INI, 5));
	assert_int_equal(fx.cc.policies[1].sock_allow, 1u << LN_SOCK_ICMP);
	assert_int_equal(fx.cc.policies[2].sock_allow,
			 (1u << LN_SOCK_PACKET) | (1u << LN_SOCK_ICMP));
	/* audit: reported as a denial, not enforced */
	ln_decide_sock(&fx.cc.policies[3], LN_SOCK_PACKET, &d);
	assert_int_equal(d.verdict, DENY);
	assert_int_equal(d.audit, 1);
	assert_int_equal(d.log, 1);
	/* an allowed kind is not reported unless log-allowed */
	ln_decide_sock(&fx.cc.policies[3], LN_SOCK_RAW, &d);
	assert_int_equal(d.verdict, ALLOW);
	assert_int_equal(d.log, 0);
	/* the implicit policy allows every kind, no policy at all too */
	assert_int_equal(fx.cc.policies[0].sock_allow, (1u << LN_SOCK_KINDS) - 1);
	ln_decide_sock(NULL, LN_SOCK_RAW, &d);
	assert_int_equal(d.verdict, ALLOW);
	assert_int_equal(d.reason, LN_REASON_NONE);
	fixture_free(&fx);
}

/* 0.0.0.0, :: and ::ffff:0.0.0.0 reach loopback: decided as 127.0.0.1 and ::1. */
static void test_unspecified_is_loopback(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy p]\n"
			  "cgroup = p\n"
			  "deny = 127.0.0.0/8, ::1\n" /* 3 */
			  "[policy q]\n"	      /* 4 */
			  "cgroup = q\n"
			  "default = deny\n"	      /* 6 */
			  "allow = 127.0.0.1:80\n");  /* 7 */
	expect_verdict(&fx, 1, "0.0.0.0", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "::ffff:0.0.0.0", 80, UDP, DENY, R_RULE, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "::", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 3));
	/* only the unspecified address itself is loopback */
	expect_verdict(&fx, 1, "0.0.0.1", 80, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 1));
	expect_verdict(&fx, 1, "::2", 80, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 1));
	/* an allowed loopback port is allowed through 0.0.0.0 as well */
	expect_verdict(&fx, 2, "0.0.0.0", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 7));
	expect_verdict(&fx, 2, "0.0.0.0", 81, TCP, DENY, R_DEF, LN_RULE_ID(INI, 6));
	expect_verdict(&fx, 2, "::", 80, TCP, DENY, R_DEF, LN_RULE_ID(INI, 6));
	fixture_free(&fx);
}

/* NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms meet the IPv4 rules and lists. */
static void test_nat64_and_6to4_embedded_v4(void **state)
{
	const char *hosts = write_file("bl64.txt", "203.0.113.5\n"); /* 1 */
	struct fixture fx;
	__u32 bl;

	(void)state;
	compile_text(&fx, "[global]\n"
			  "blocked-hosts = bl64.txt\n"
			  "[policy p]\n"
			  "cgroup = p\n"
			  "deny = 192.0.2.0/24\n"); /* 5 */
	bl = ln_sources_add(&fx.c.sources, hosts);
	expect_verdict(&fx, 1, "64:ff9b::192.0.2.1", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "2002:c000:201::1", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 5));
	expect_verdict(&fx, 1, "64:ff9b::203.0.113.5", 80, UDP, DENY, R_BL, LN_RULE_ID(bl, 1));
	expect_verdict(&fx, 1, "2002:cb00:7105::", 80, UDP, DENY, R_BL, LN_RULE_ID(bl, 1));
	/* other addresses and prefixes that are not NAT64/6to4 stay as they are */
	expect_verdict(&fx, 1, "64:ff9b::198.51.100.1", 80, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "64:ff9b:1::c000:201", 80, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "2003:c000:201::", 80, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 3));
	fixture_free(&fx);
}

/* When the v6 form and the embedded v4 disagree: an explicit deny of either wins. */
static void test_v6_and_v4_forms_disagree(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy v4deny]\n"
			  "cgroup = a\n"
			  "allow = 64:ff9b::/96\n"	   /* 3 */
			  "deny = 192.0.2.1\n"		   /* 4 */
			  "[policy v6deny]\n"		   /* 5 */
			  "cgroup = b\n"
			  "deny = 64:ff9b::c000:201\n"	   /* 7 */
			  "allow = 192.0.2.0/24\n"	   /* 8 */
			  "[policy closed]\n"		   /* 9 */
			  "cgroup = c\n"
			  "default = deny\n"		   /* 11 */
			  "allow = 192.0.2.1\n"		   /* 12 */
			  "allow = 2002:c633:6401::/48\n"); /* 13 */
	expect_verdict(&fx, 1, "64:ff9b::192.0.2.1", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 4));
	expect_verdict(&fx, 1, "64:ff9b::192.0.2.2", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 2, "64:ff9b::192.0.2.1", 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 7));
	expect_verdict(&fx, 2, "64:ff9b::192.0.2.2", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 8));
	/* a default is no objection: an explicit allow of either form lets it through */
	expect_verdict(&fx, 3, "64:ff9b::192.0.2.1", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 12));
	expect_verdict(&fx, 3, "2002:c633:6401::1", 80, TCP, ALLOW, R_RULE, LN_RULE_ID(INI, 13));
	expect_verdict(&fx, 3, "64:ff9b::192.0.2.2", 80, TCP, DENY, R_DEF, LN_RULE_ID(INI, 11));
	fixture_free(&fx);
}

/* [global] nat64-prefix: every RFC 6052 length, with its examples for 192.0.2.33. */
static void test_local_nat64_prefix(void **state)
{
	static const char *const forms[][2] = {
	    {"2001:db8::/32", "2001:db8:c000:221::"},
	    {"2001:db8:100::/40", "2001:db8:1c0:2:21::"},
	    {"2001:db8:122::/48", "2001:db8:122:c000:2:2100::"},
	    {"2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"},
	    {"2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"},
	    {"2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"},
	};
	struct ln_error err;
	struct fixture fx;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(text, sizeof(text),
			 "[global]\nnat64-prefix = %s\n[policy p]\ncgroup = p\n"
			 "deny = 192.0.2.33\n", forms[i][0]); /* 5 */
		compile_text(&fx, text);
		expect_verdict(&fx, 1, forms[i][1], 80, TCP, DENY, R_RULE, LN_RULE_ID(INI, 5));
		expect_verdict(&fx, 1, "2001:db9::c000:221", 80, TCP, ALLOW, R_DEF,
			       LN_RULE_ID(INI, 3));
		fixture_free(&fx);
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const bad[] = {"2001:db8::/33", "10.0.0.0/8", "fe80::1/128"};

		ln_config_init(&fx.c);
		snprintf(text, sizeof(text), "[global]\nnat64-prefix = %s\n", bad[i]);
		assert_int_equal(ln_config_load_ini(&fx.c, write_file("c.ini", text), true, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "nat64-prefix"));
		ln_config_free(&fx.c);
	}
}

/* UDP-Lite is decided as UDP: udp rules match it. */
static void test_udplite_is_udp(void **state)
{
	struct fixture fx;

	(void)state;
	compile_text(&fx, "[policy p]\n"
			  "cgroup = p\n"
			  "deny = 192.0.2.1:5000/udp\n"); /* 3 */
	expect_verdict(&fx, 1, "192.0.2.1", 5000, IPPROTO_UDPLITE, DENY, R_RULE,
		       LN_RULE_ID(INI, 3));
	expect_verdict(&fx, 1, "192.0.2.1", 5000, TCP, ALLOW, R_DEF, LN_RULE_ID(INI, 1));
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_most_specific_prefix_wins),
	    cmocka_unit_test(test_rules_section_joins_policy),
	    cmocka_unit_test(test_port_and_proto_specific_first),
	    cmocka_unit_test(test_deny_wins_ties),
	    cmocka_unit_test(test_rules_lists_defaults),
	    cmocka_unit_test(test_audit_and_log_flags),
	    cmocka_unit_test(test_v4_rule_matches_v4_mapped),
	    cmocka_unit_test(test_ipv6_rules),
	    cmocka_unit_test(test_policy_list_in_own_set),
	    cmocka_unit_test(test_blocklist_dedupe_and_resolve),
	    cmocka_unit_test(test_bindings),
	    cmocka_unit_test(test_too_many_overlapping),
	    cmocka_unit_test(test_dns_verdict_order),
	    cmocka_unit_test(test_sock_kind_of_socket),
	    cmocka_unit_test(test_sock_kinds),
	    cmocka_unit_test(test_unspecified_is_loopback),
	    cmocka_unit_test(test_nat64_and_6to4_embedded_v4),
	    cmocka_unit_test(test_v6_and_v4_forms_disagree),
	    cmocka_unit_test(test_local_nat64_prefix),
	    cmocka_unit_test(test_udplite_is_udp),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
