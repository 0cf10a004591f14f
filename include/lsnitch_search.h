/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bisection over packed blocklist intervals, in one place for the BPF
 * programs and the host code. Before including, define
 *   LN_INLINE const struct ln_pack4_page *ln_pack4_page_at(void *ctx, __u32 page);
 *   LN_INLINE const struct ln_pack6_page *ln_pack6_page_at(void *ctx, __u32 page);
 * (a map lookup in BPF, an array index in user space), and optionally
 * LN_BISECT4(b) / LN_BISECT6(b) to run the steps (BPF: bpf_loop(), so the
 * verifier checks one step instead of every path through 26 of them).
 */
#ifndef LSNITCH_SEARCH_H
#define LSNITCH_SEARCH_H

#include "lsnitch.h"

/* Bisection state: [first, first + n) holds the first interval whose lo > x. */
struct ln_bisect {
	void *ctx;
	__u32 first, n;
	__u64 xh, xl; /* IPv4: xl only */
	__u32 fail;
	__u32 pad;
};

/* One step; 1 when done. */
LN_INLINE int ln_pack4_step(struct ln_bisect *b)
{
	const struct ln_pack4_page *p;
	__u32 half, mid;

	if (!b->n)
		return 1;
	half = b->n >> 1;
	mid = b->first + half;
	p = ln_pack4_page_at(b->ctx, mid / LN_PACK4_PAGE);
	if (!p) {
		b->fail = 1;
		return 1;
	}
	if (p->lo[mid % LN_PACK4_PAGE] <= (__u32)b->xl) {
		b->first = mid + 1;
		b->n -= half + 1;
	} else {
		b->n = half;
	}
	return 0;
}

LN_INLINE int ln_u128_le(const __u64 a[2], __u64 bh, __u64 bl)
{
	return a[0] < bh || (a[0] == bh && a[1] <= bl);
}

LN_INLINE int ln_pack6_step(struct ln_bisect *b)
{
	const struct ln_pack6_page *p;
	__u32 half, mid;

	if (!b->n)
		return 1;
	half = b->n >> 1;
	mid = b->first + half;
	p = ln_pack6_page_at(b->ctx, mid / LN_PACK6_PAGE);
	if (!p) {
		b->fail = 1;
		return 1;
	}
	if (ln_u128_le(p->lo[mid % LN_PACK6_PAGE], b->xh, b->xl)) {
		b->first = mid + 1;
		b->n -= half + 1;
	} else {
		b->n = half;
	}
	return 0;
}

#ifndef LN_BISECT4
#define LN_BISECT4(b)                                                                        \
	do {                                                                                 \
		for (int _i = 0; _i < LN_PACK_STEPS && !ln_pack4_step(b); _i++)              \
			;                                                                    \
	} while (0)
#endif
#ifndef LN_BISECT6
#define LN_BISECT6(b)                                                                        \
	do {                                                                                 \
		for (int _i = 0; _i < LN_PACK_STEPS && !ln_pack6_step(b); _i++)              \
			;                                                                    \
	} while (0)
#endif

/* Rule id of the interval of @r containing @x (host order), or 0. */
LN_INLINE __u32 ln_pack4_find(void *ctx, const struct ln_region *r, __u32 x)
{
	struct ln_bisect b = { .ctx = ctx, .first = r->off, .n = r->cnt, .xl = x };
	const struct ln_pack4_page *p;
	__u32 c;

	LN_BISECT4(&b);
	if (b.fail || b.n || b.first == r->off)
		return 0;
	c = b.first - 1;
	p = ln_pack4_page_at(ctx, c / LN_PACK4_PAGE);
	if (!p || x > p->hi[c % LN_PACK4_PAGE])
		return 0;
	return p->rule_id[c % LN_PACK4_PAGE];
}

/* The same for IPv6: @xh, @xl are the address's high and low halves. */
LN_INLINE __u32 ln_pack6_find(void *ctx, const struct ln_region *r, __u64 xh, __u64 xl)
{
	struct ln_bisect b = { .ctx = ctx, .first = r->off, .n = r->cnt, .xh = xh, .xl = xl };
	const struct ln_pack6_page *p;
	const __u64 *hi;
	__u32 c;

	LN_BISECT6(&b);
	if (b.fail || b.n || b.first == r->off)
		return 0;
	c = b.first - 1;
	p = ln_pack6_page_at(ctx, c / LN_PACK6_PAGE);
	if (!p)
		return 0;
	hi = p->hi[c % LN_PACK6_PAGE];
	if (hi[0] < xh || (hi[0] == xh && hi[1] < xl))
		return 0;
	return p->rule_id[c % LN_PACK6_PAGE];
}

#endif /* LSNITCH_SEARCH_H */
