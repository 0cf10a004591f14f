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
 *       the address, or 0;
 *   LN_INLINE const struct ln_nat64 *ln_lookup_nat64(const void *ctx);
 *       the local NAT64 prefix, or NULL.
 *
 * Addresses that mean something else (README "How it decides"): the
 * unspecified 0.0.0.0, :: and ::ffff:0.0.0.0 are decided as the loopback the
 * kernel sends them to; a NAT64 (64:ff9b::/96, the local prefix) or 6to4
 * (2002::/16) address is decided as itself and as the IPv4 address it embeds,
 * and ln_decide_merge() says which of the two wins. UDP-Lite is decided as UDP.
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

/*
 * A pending cgroup's verdict (see LN_POLICY_PENDING): 1 and @d a deny with
 * reason "pending", reported, never audited; 0: @pol is a policy.
 */
LN_INLINE int ln_decide_pending(const struct ln_policy_val *pol, struct ln_decision *d)
{
	if (!pol || !(pol->flags & LN_POLICY_PENDING_DENY))
		return 0;
	d->verdict = LN_VERDICT_DENY;
	d->reason = LN_REASON_PENDING;
	d->rule_id = 0;
	d->audit = 0;
	d->log = 1;
	return 1;
}

#define LN_IPPROTO_UDP 17
#define LN_IPPROTO_UDPLITE 136
#define LN_NAT64_WKP_HI 0x0064ff9b00000000ULL /* 64:ff9b::/96, RFC 6052 */
#define LN_6TO4_HI16 0x2002 /* 2002::/16, RFC 3056 */

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

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LN_BE32(x) __builtin_bswap32(x)
#else
#define LN_BE32(x) (x)
#endif

/* The 64-bit big-endian number at @b (4-byte aligned). */
LN_INLINE __u64 ln_be64(const __u8 *b)
{
	const __u32 *w = (const __u32 *)__builtin_assume_aligned(b, 4);

	return (__u64)LN_BE32(w[0]) << 32 | LN_BE32(w[1]);
}

/*
 * The address a packet to @in goes to, into @out (4-byte aligned): Linux
 * sends one to the unspecified 0.0.0.0 (or ::ffff:0.0.0.0) to 127.0.0.1 (the
 * socket's own address if it is bound), and one to :: to ::1. Anything else
 * is itself.
 */
LN_INLINE void ln_addr_reached(const __u8 *in, __u8 *out)
{
	__u64 hi, lo;

	__builtin_memcpy(out, in, LN_ADDR_LEN);
	hi = ln_be64(out);
	lo = ln_be64(out + 8);
	if (hi || (lo && lo != 0x0000ffff00000000ULL))
		return;
	if (lo)
		out[12] = 127;
	out[15] = 1;
}

/* The IPv4 address (host order) @hi:@lo embeds under NAT64 prefix @n (RFC 6052 2.2), if any. */
LN_INLINE int ln_nat64_v4(__u64 hi, __u64 lo, const struct ln_nat64 *n, __u32 *v4)
{
	__u32 len = n->len, in_hi, in_lo;

	if (len == 96) {
		if (hi != n->hi || lo >> 32 != n->lo >> 32)
			return 0;
		*v4 = (__u32)lo;
		return 1;
	}
	if (len < 32 || len > 64 || (hi & (~0ULL << (64 - len))) != n->hi)
		return 0;
	/* The IPv4 bytes follow the prefix; bits 64..71 (the "u" octet) are skipped. */
	in_hi = (64 - len) / 8;
	in_lo = 4 - in_hi;
	*v4 = (__u32)(((hi & ((1ULL << (8 * in_hi)) - 1)) << (8 * in_lo)) |
		      ((lo >> (56 - 8 * in_lo)) & ((1ULL << (8 * in_lo)) - 1)));
	return 1;
}

/*
 * The IPv4 address (host order, in *@v4) a NAT64 or 6to4 address @a embeds;
 * 1 if it embeds one. @n: the local NAT64 prefix, or NULL.
 */
LN_INLINE int ln_embedded_v4(const __u8 *a, const struct ln_nat64 *n, __u32 *v4)
{
	__u64 hi = ln_be64(a), lo = ln_be64(a + 8);

	if (hi == LN_NAT64_WKP_HI && !(lo >> 32)) {
		*v4 = (__u32)lo;
		return 1;
	}
	if (hi >> 48 == LN_6TO4_HI16) {
		*v4 = (__u32)(hi >> 16);
		return 1;
	}
	return n && n->len ? ln_nat64_v4(hi, lo, n, v4) : 0;
}

/*
 * Of the decisions for an address's two forms (@d: the IPv6 form, @e: the
 * IPv4 one it embeds), keeps in @d: an explicit deny of either (a rule, a
 * domain rule, a list), else an explicit allow of either, else the default.
 * A deny of either wins because either form names the same host; a default
 * does not count against an explicit allow, so "allow 192.0.2.1" under
 * "default = deny" lets its NAT64 form through.
 */
LN_INLINE void ln_decide_merge(struct ln_decision *d, const struct ln_decision *e)
{
	int d_says = d->reason != LN_REASON_DEFAULT && d->reason != LN_REASON_NONE;
	int e_says = e->reason != LN_REASON_DEFAULT && e->reason != LN_REASON_NONE;

	if (d_says && d->verdict == LN_VERDICT_DENY)
		return;
	if ((e_says && e->verdict == LN_VERDICT_DENY) || (!d_says && e_says))
		*d = *e;
}

#endif /* LSNITCH_DECIDE_H */

#if defined(LN_DECIDE_LOOKUPS) && !defined(LSNITCH_DECIDE_ORDER)
#define LSNITCH_DECIDE_ORDER

/*
 * An includer may define LN_RULE_SET_MATCH as its own ln_rule_set_match() (BPF:
 * a function of its own, which the verifier checks once, and whose result it
 * does not follow as 17 different indexes through the rest of the decision).
 */
#ifndef LN_RULE_SET_MATCH
#define LN_RULE_SET_MATCH ln_rule_set_match
#endif

/* One address form to decide. */
struct ln_query {
	__u8 addr[LN_ADDR_LEN] __attribute__((aligned(8))); /* read as words */
	const void *ctx;                 /* goes to the lookups */
	const struct ln_policy_val *pol; /* NULL: no policy */
	const struct ln_lists *global;   /* the global blocklists */
	__u32 policy_id;
	__u16 port;
	__u8 proto;
};

/*
 * The verdict for one address form, every lookup made in precedence order and
 * only when the one before did not decide.
 */
LN_INLINE void ln_decide_form(const struct ln_query *q, struct ln_decision *d)
{
	const struct ln_rule_set *rs = NULL, *dns = NULL;
	__u32 flags = q->pol ? q->pol->flags : 0, bl = 0;
	int i = -1, j = -1;

	if (flags & LN_POLICY_HAS_RULES) {
		rs = ln_lookup_rules(q->ctx, q->policy_id, q->addr);
		if (rs)
			i = LN_RULE_SET_MATCH(rs, q->port, q->proto);
	}
	if (i < 0 && (flags & LN_POLICY_HAS_DOMAIN_RULES)) {
		dns = ln_lookup_dns(q->ctx, q->policy_id, q->addr);
		if (dns)
			j = LN_RULE_SET_MATCH(dns, q->port, q->proto);
	}
	if (i < 0 && j < 0) {
		bl = ln_lookup_blocklist(q->ctx, q->global, LN_SET_GLOBAL, q->addr);
		if (!bl && q->policy_id && (flags & LN_POLICY_HAS_LISTS))
			bl = ln_lookup_blocklist(q->ctx, &q->pol->lists, q->policy_id, q->addr);
	}
	ln_decide_at(q->pol, rs, i, dns, j, bl, d);
}

LN_INLINE void ln_addr_set_v4(__u8 *a, __u32 v4)
{
	__builtin_memset(a, 0, 10);
	a[10] = 0xff;
	a[11] = 0xff;
	a[12] = v4 >> 24;
	a[13] = v4 >> 16;
	a[14] = v4 >> 8;
	a[15] = v4;
}

/*
 * The verdict for (@addr, @port, @proto) under policy @policy_id (@pol, NULL:
 * none): for the address @addr reaches, and for the IPv4 address it embeds.
 * @global: the global blocklists; @ctx goes to the lookups.
 */
LN_INLINE void ln_decide(const void *ctx, const struct ln_policy_val *pol, __u32 policy_id,
			 const struct ln_lists *global, const __u8 *addr, __u16 port, __u8 proto,
			 struct ln_decision *d)
{
	struct ln_query q = {.ctx = ctx, .pol = pol, .global = global, .policy_id = policy_id,
			     .port = port, .proto = proto};
	struct ln_decision e;
	__u32 v4;

	if (ln_decide_pending(pol, d))
		return;
	if (proto == LN_IPPROTO_UDPLITE)
		q.proto = LN_IPPROTO_UDP;
	ln_addr_reached(addr, q.addr);
	ln_decide_form(&q, d);
	if (!ln_embedded_v4(q.addr, ln_lookup_nat64(ctx), &v4))
		return;
	ln_addr_set_v4(q.addr, v4);
	ln_decide_form(&q, &e);
	ln_decide_merge(d, &e);
}

#endif /* LN_DECIDE_LOOKUPS */
