/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict logic, in one place: compiled into the BPF programs and into the
 * host code (explain, tests), which supply the lookups.
 *
 * Precedence (documented in README.md), the order ln_decide() asks in:
 *   1. the policy's rules: the first matching entry of the longest matching
 *      prefix's pre-sorted set (most specific wins, deny wins ties);
 *   2. the policy's domain rules, for an address a DNS answer for a matching
 *      name resolved to (recorded by the resolver proxy, until the TTL ends);
 *   3. the host blocklists (global, then the policy's own);
 *   4. the policy's default verdict.
 *
 * ln_decide() exists only for includers that define LN_DECIDE_LOOKUPS and,
 * before including (a map lookup in BPF, a scan or a callback on the host):
 *   LN_INLINE const struct ln_rule_set *ln_lookup_rules(const void *ctx,
 *           __u32 policy_id, const __u8 *addr);
 *       the rules trie's value for (policy, address), or NULL;
 *   LN_INLINE const struct ln_rule_set *ln_lookup_dns(const void *ctx,
 *           __u32 policy_id, const __u8 *addr);
 *       the live domain-rule set recorded for (policy, address), NULL when
 *       there is none or it expired (against bpf_ktime_get_ns(), which is
 *       CLOCK_MONOTONIC);
 *   LN_INLINE __u32 ln_lookup_blocklist(const void *ctx, const struct ln_lists *l,
 *           __u32 set, const __u8 *addr);
 *       rule id of the entry of blocklist set @set (packed as @l) covering
 *       the address, or 0.
 * Everyone else (rules.h) gets struct ln_decision and the matchers only.
 */
#ifndef LSNITCH_DECIDE_H
#define LSNITCH_DECIDE_H

#include "lsnitch.h"

#ifndef LN_INLINE
#define LN_INLINE static inline __attribute__((always_inline))
#endif

struct ln_decision {
	__u32 rule_id;
	__u8 verdict; /* enum ln_verdict */
	__u8 reason;  /* enum ln_reason */
	__u8 audit;   /* 1: report verdict, but allow */
	__u8 log;     /* 1: send an event */
};

LN_INLINE int ln_rule_entry_matches(const struct ln_rule_entry *e, __u16 port, __u8 proto)
{
	if (e->proto != LN_PROTO_ANY && e->proto != proto)
		return 0;
	return port >= e->port_lo && port <= e->port_hi;
}

/* Index of the first entry of @rs matching (port, proto), or -1. */
LN_INLINE int ln_rule_set_match(const struct ln_rule_set *rs, __u16 port, __u8 proto)
{
	__u32 n = rs->count;
	int i;

	if (n > LN_RULES_PER_PREFIX)
		n = LN_RULES_PER_PREFIX;
	for (i = 0; i < LN_RULES_PER_PREFIX; i++) {
		if ((__u32)i >= n)
			break;
		if (ln_rule_entry_matches(&rs->e[i], port, proto))
			return i;
	}
	return -1;
}

/*
 * Fills @d from what the lookups found.
 * @pol: the policy (NULL: no policy at all, only the global lists apply)
 * @rs, @i: the rules trie's value for (policy, destination) and the index of
 *     its first entry matching port and protocol (-1: none, or no @rs)
 * @dns, @j: the live domain-rule set recorded for (policy, destination) and
 *     its first matching entry (-1: none)
 * @bl_rule_id: rule id of the blocklist entry that matched, or 0
 */
LN_INLINE void ln_decide_at(const struct ln_policy_val *pol, const struct ln_rule_set *rs, int i,
			    const struct ln_rule_set *dns, int j, __u32 bl_rule_id,
			    struct ln_decision *d)
{
	__u32 flags = pol ? pol->flags : 0;

	if (rs && i >= 0 && i < LN_RULES_PER_PREFIX) {
		d->verdict = rs->e[i].verdict;
		d->reason = LN_REASON_RULE;
		d->rule_id = rs->e[i].rule_id;
	} else if (dns && j >= 0 && j < LN_RULES_PER_PREFIX) {
		d->verdict = dns->e[j].verdict;
		d->reason = LN_REASON_DOMAIN;
		d->rule_id = dns->e[j].rule_id;
	} else if (bl_rule_id) {
		d->verdict = LN_VERDICT_DENY;
		d->reason = LN_REASON_BLOCKLIST;
		d->rule_id = bl_rule_id;
	} else if (pol) {
		d->verdict = pol->default_verdict;
		d->reason = LN_REASON_DEFAULT;
		d->rule_id = pol->default_rule_id;
	} else {
		d->verdict = LN_VERDICT_ALLOW;
		d->reason = LN_REASON_NONE;
		d->rule_id = 0;
	}
	d->audit = d->verdict == LN_VERDICT_DENY && (flags & LN_POLICY_AUDIT);
	d->log = d->verdict == LN_VERDICT_DENY || (flags & LN_POLICY_LOG_ALLOWED);
}

#endif /* LSNITCH_DECIDE_H */

#if defined(LN_DECIDE_LOOKUPS) && !defined(LSNITCH_DECIDE_ORDER)
#define LSNITCH_DECIDE_ORDER

/*
 * The verdict for (@addr, @port, @proto) under policy @policy_id (@pol, NULL:
 * none), every lookup made in precedence order and only when the one before
 * did not decide. @global: the global blocklists; @ctx goes to the lookups.
 */
LN_INLINE void ln_decide(const void *ctx, const struct ln_policy_val *pol, __u32 policy_id,
			 const struct ln_lists *global, const __u8 *addr, __u16 port, __u8 proto,
			 struct ln_decision *d)
{
	const struct ln_rule_set *rs = NULL, *dns = NULL;
	__u32 flags = pol ? pol->flags : 0, bl = 0;
	int i = -1, j = -1;

	if (flags & LN_POLICY_HAS_RULES) {
		rs = ln_lookup_rules(ctx, policy_id, addr);
		if (rs)
			i = ln_rule_set_match(rs, port, proto);
	}
	if (i < 0 && (flags & LN_POLICY_HAS_DOMAIN_RULES)) {
		dns = ln_lookup_dns(ctx, policy_id, addr);
		if (dns)
			j = ln_rule_set_match(dns, port, proto);
	}
	if (i < 0 && j < 0) {
		bl = ln_lookup_blocklist(ctx, global, LN_SET_GLOBAL, addr);
		if (!bl && policy_id && (flags & LN_POLICY_HAS_LISTS))
			bl = ln_lookup_blocklist(ctx, &pol->lists, policy_id, addr);
	}
	ln_decide_at(pol, rs, i, dns, j, bl, d);
}

#endif /* LN_DECIDE_LOOKUPS */
