// SPDX-License-Identifier: GPL-2.0
/*
 * Deciding without a kernel: the host includer of lsnitch_decide.h, whose
 * ln_decide() the BPF programs run too. The lookups search the compiled
 * arrays instead of maps; live DNS verdicts come from the caller
 * (explain: the running agent's dns_verdicts; tests: their own).
 */
#include <string.h>

#include "rules_internal.h"

static bool addr_in(const __u8 *pfx, __u32 len, const __u8 addr[LN_ADDR_LEN])
{
	struct ln_prefix p = {.len = len}, a = {.len = 128};

	memcpy(p.addr, pfx, LN_ADDR_LEN);
	memcpy(a.addr, addr, LN_ADDR_LEN);
	return ln_prefix_contains(&p, &a);
}

/* The lookups lsnitch_decide.h asks for, done on @cc and the caller's callback. */
struct decide_ctx {
	const struct ln_compiled *cc;
	ln_dns_lookup_fn dns;
	void *ud;
};

/* The rules trie's longest match for (policy, addr), or NULL. */
LN_INLINE const struct ln_rule_set *ln_lookup_rules(const void *ctx, __u32 policy_id,
						    const __u8 *addr)
{
	const struct ln_compiled *cc = ((const struct decide_ctx *)ctx)->cc;
	const struct ln_rule_kv *best = NULL;
	size_t i;

	for (i = 0; i < cc->n_rules; i++) {
		const struct ln_rule_kv *kv = &cc->rules[i];

		if (kv->k.policy_id != policy_id ||
		    !addr_in(kv->k.addr, kv->k.prefixlen - 32, addr))
			continue;
		if (!best || kv->k.prefixlen > best->k.prefixlen)
			best = kv;
	}
	return best ? &best->v : NULL;
}

LN_INLINE const struct ln_rule_set *ln_lookup_dns(const void *ctx, __u32 policy_id,
						  const __u8 *addr)
{
	const struct decide_ctx *cx = ctx;

	return cx->dns ? cx->dns(cx->ud, policy_id, addr) : NULL;
}

/* ln_packed_lookup() finds set @set's lists (@l) itself. */
LN_INLINE __u32 ln_lookup_blocklist(const void *ctx, const struct ln_lists *l, __u32 set,
				    const __u8 *addr)
{
	return ln_packed_lookup(&((const struct decide_ctx *)ctx)->cc->packed, set, addr);
}

LN_INLINE const struct ln_nat64 *ln_lookup_nat64(const void *ctx)
{
	return &((const struct decide_ctx *)ctx)->cc->nat64;
}

#define LN_DECIDE_LOOKUPS
#include "lsnitch_decide.h"

void ln_compiled_decide(const struct ln_compiled *cc, __u32 policy_id, const __u8 addr[LN_ADDR_LEN],
			__u16 port, __u8 proto, ln_dns_lookup_fn dns, void *ud,
			struct ln_decision *d)
{
	struct decide_ctx cx = {.cc = cc, .dns = dns, .ud = ud};
	__u32 pid = policy_id < cc->n_policies ? policy_id : LN_POLICY_IMPLICIT;
	const struct ln_policy_val *pol = cc->n_policies ? &cc->policies[pid] : NULL;
	const struct ln_lists *global = cc->packed.n_sets ? &cc->packed.sets[LN_SET_GLOBAL] : NULL;

	ln_decide(&cx, pol, pid, global, addr, port, proto, d);
}
