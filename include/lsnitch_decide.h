/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict logic, in one place: compiled into the BPF programs and into the
 * host unit tests. It takes the results of the map lookups, never does them.
 *
 * Precedence (documented in README.md):
 *   1. the policy's rules: the first matching entry of the longest matching
 *      prefix's pre-sorted set (most specific wins, deny wins ties);
 *   2. the policy's domain rules, for an address a DNS answer for a matching
 *      name resolved to (recorded by the resolver proxy, until the TTL ends);
 *   3. the host blocklists (global, then the policy's own);
 *   4. the policy's default verdict.
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

/* The same, scanning the sets itself (user space and tests). */
LN_INLINE void ln_decide(const struct ln_policy_val *pol, const struct ln_rule_set *rs,
			 const struct ln_rule_set *dns, __u32 bl_rule_id, __u16 port, __u8 proto,
			 struct ln_decision *d)
{
	int i = rs ? ln_rule_set_match(rs, port, proto) : -1;
	int j = i < 0 && dns ? ln_rule_set_match(dns, port, proto) : -1;

	ln_decide_at(pol, rs, i, dns, j, bl_rule_id, d);
}

#endif /* LSNITCH_DECIDE_H */
