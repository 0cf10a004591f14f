// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the INI policy loader end to end (load, validate, compile, decide). */
#include <netinet/in.h>
#include <string.h>

#include "fuzz_common.h"

/* The live domain verdicts explain would read: the set the first matching names gave. */
struct fuzz_dns {
	struct ln_rule_set rs;
	int n;
};

static const struct ln_rule_set *fuzz_dns_lookup(void *ud, __u32 policy_id,
						 const __u8 addr[LN_ADDR_LEN])
{
	struct fuzz_dns *d = ud;

	(void)policy_id;
	(void)addr;
	return d->n > 0 ? &d->rs : NULL;
}

/*
 * A rule promises: its own address, port and protocol are decided by a rule,
 * unless the address means another one (0.0.0.0 is decided as the loopback it
 * reaches; a NAT64/6to4 form also as its IPv4, whose blocklist entry or deny
 * may win).
 */
static void check_rule_decides(const struct ln_compiled *cc, const struct ln_policy *p,
			       const struct ln_rule *r)
{
	struct ln_decision d = {0};
	__u8 proto = r->proto ? r->proto : IPPROTO_TCP;
	__u8 reached[LN_ADDR_LEN];
	__u32 v4;

	if (r->kind != LN_TARGET_PREFIX)
		return;
	ln_addr_reached(r->pfx.addr, reached);
	if (memcmp(reached, r->pfx.addr, LN_ADDR_LEN) ||
	    ln_embedded_v4(r->pfx.addr, &cc->nat64, &v4))
		return;
	ln_compiled_decide(cc, p->id, r->pfx.addr, r->port_lo, proto, NULL, NULL, &d);
	FUZZ_ASSERT(d.reason == LN_REASON_RULE);
}

/* Domain rules match their own name, and their verdicts reach the decision. */
static void check_domain_rules(const struct ln_compiled *cc, const struct ln_policy *p,
			       const __u8 addr[LN_ADDR_LEN])
{
	struct fuzz_dns dns = {0};
	struct ln_decision d = {0};
	const char *names[2];

	for (size_t i = 0; i < p->n_domain_rules; i++) {
		names[0] = p->domain_rules[i].hostname;
		names[1] = "x.example";
		dns.n = ln_domain_rules_match(p, names, 2, &dns.rs);
		FUZZ_ASSERT(dns.n >= 1 && dns.n <= LN_RULES_PER_PREFIX);
		ln_compiled_decide(cc, p->id, addr, 443, IPPROTO_UDP, fuzz_dns_lookup, &dns, &d);
	}
}

static void decide_all(const struct ln_config *c, const struct ln_compiled *cc, const uint8_t *data,
		       size_t size)
{
	struct ln_decision d;
	__u8 addr[LN_ADDR_LEN];
	size_t i, j;

	fuzz_addr(data + (size > 17 ? size - 17 : 0), size > 17 ? 17 : size, addr);
	for (i = 0; i <= c->n_policies + 1; i++) {
		ln_compiled_decide(cc, i, addr, size & 0xffff, IPPROTO_TCP, NULL, NULL, &d);
		ln_compiled_decide(cc, i, addr, 53, IPPROTO_UDP, NULL, NULL, &d);
	}
	for (i = 0; i < c->n_policies; i++) {
		const struct ln_policy *p = &c->policies[i];

		for (j = 0; j < p->n_rules; j++)
			check_rule_decides(cc, p, &p->rules[j]);
		check_domain_rules(cc, p, addr);
	}
	for (i = 0; i < c->hosts.n; i++) {
		ln_compiled_decide(cc, 0, c->hosts.v[i].pfx.addr, 80, IPPROTO_TCP, NULL, NULL, &d);
		FUZZ_ASSERT(d.rule_id != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ln_error err = {""};
	struct ln_compiled cc;
	const uint8_t *part[3];
	struct ln_config c;
	const char *ini;
	size_t len[3];
	int rc;

	if (size > 65536 || fuzz_names_special_file(data, size))
		return -1;
	fuzz_split(data, size, part, len, 3);
	fuzz_write("h.txt", part[1], len[1]);
	fuzz_write("d.txt", part[2], len[2]);
	ini = fuzz_write("p.ini", part[0], len[0]);
	ln_config_init(&c);
	rc = ln_config_load_ini(&c, ini, true, &err);
	/* [list NAME]: the copies are the files above ([list h.txt] reads h.txt) */
	if (!rc && !c.lists_dir)
		c.lists_dir = strndup(ini, strrchr(ini, '/') - ini);
	if (!rc)
		rc = ln_config_load_lists(&c, &err);
	if (!rc)
		rc = ln_config_validate(&c, &err);
	if (!rc) {
		rc = ln_compile(&c, fuzz_resolve, NULL, fuzz_warn, NULL, &cc, &err);
		if (!rc) {
			decide_all(&c, &cc, data, size);
			ln_compiled_free(&cc);
		}
	}
	/* every failure says why */
	FUZZ_ASSERT(rc <= 0 && (!rc || err.msg[0]));
	ln_config_free(&c);
	return 0;
}
