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

/* The end of an IPv6 interval starting at @lo spanning 2^@span addresses (span <= 128). */
LN_INLINE void ln_span_end(const __u64 lo[2], __u32 span, __u64 *hh, __u64 *hl)
{
	if (span >= 64) {
		*hh = lo[0] | (span >= 128 ? ~0ULL : (1ULL << (span - 64)) - 1);
		*hl = ~0ULL;
	} else {
		*hh = lo[0];
		*hl = lo[1] | (span ? (1ULL << span) - 1 : 0);
	}
}

/* The same for IPv6: @xh, @xl are the address's high and low halves. */
LN_INLINE __u32 ln_pack6_find(void *ctx, const struct ln_region *r, __u64 xh, __u64 xl)
{
	struct ln_bisect b = { .ctx = ctx, .first = r->off, .n = r->cnt, .xh = xh, .xl = xl };
	const struct ln_pack6_page *p;
	__u64 hh, hl;
	__u32 c, k;

	LN_BISECT6(&b);
	if (b.fail || b.n || b.first == r->off)
		return 0;
	c = b.first - 1;
	k = c % LN_PACK6_PAGE;
	p = ln_pack6_page_at(ctx, c / LN_PACK6_PAGE);
	if (!p)
		return 0;
	/* Up to the next interval: the bisection found x below its start. */
	if (p->span[k] == LN_SPAN_TO_NEXT)
		return p->rule_id[k];
	ln_span_end(p->lo[k], p->span[k], &hh, &hl);
	if (hh < xh || (hh == xh && hl < xl))
		return 0;
	return p->rule_id[k];
}

/* The Bloom filter's hash of (set, length, masked address as host-order words). */
LN_INLINE __u64 ln_bloom_hash(__u32 set, __u32 len, __u32 w0, __u32 w1, __u32 w2, __u32 w3)
{
	__u64 h = (((__u64)set << 9) | len) * 0x9e3779b97f4a7c15ULL;

	h = (h ^ w0) * 0xff51afd7ed558ccdULL;
	h ^= h >> 29;
	h = (h ^ w1) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 32;
	h = (h ^ w2) * 0xff51afd7ed558ccdULL;
	h ^= h >> 29;
	h = (h ^ w3) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 32);
}

/* The top @bits bits of a 32-bit word (0..32). */
LN_INLINE __u32 ln_mask32(__u32 bits)
{
	if (bits >= 32)
		return 0xffffffffu;
	if (!bits)
		return 0;
	return 0xffffffffu << (32 - bits);
}

/* @len bits of the 128-bit @w[4] (host-order words) that fall in word @i. */
LN_INLINE __u32 ln_word_bits(__u32 len, int i)
{
	if (len <= 32 * (__u32)i)
		return 0;
	return len - 32 * i;
}

/* The Bloom filter probe in progress: what ln_bloom_step() reads, and its answer. */
struct ln_bloom_walk {
	void *ctx;
	const struct ln_lists *l;
	const __u32 *w;
	__u32 set, n, mask;
	int v6, hit;
};

/*
 * Length @i of the set's list against the filter; 1 (stop) when the lengths
 * are used up or the filter says maybe (b->hit). Define before including:
 *   LN_INLINE int ln_bloom_bit(void *ctx, __u32 bit);
 */
LN_INLINE int ln_bloom_step(__u32 i, struct ln_bloom_walk *b)
{
	const __u32 *w = b->w;
	__u32 len, h1, h2;
	__u64 h;

	if (i >= b->n)
		return 1;
	if (b->v6) {
		len = b->l->lens6[i & (LN_BLOOM_LENS - 1)];
		h = ln_bloom_hash(b->set, len | 0x100, w[0] & ln_mask32(ln_word_bits(len, 0)),
				  w[1] & ln_mask32(ln_word_bits(len, 1)),
				  w[2] & ln_mask32(ln_word_bits(len, 2)),
				  w[3] & ln_mask32(ln_word_bits(len, 3)));
	} else {
		len = b->l->lens4[i & (LN_BLOOM_LENS - 1)];
		h = ln_bloom_hash(b->set, len, 0, 0, 0xffff, w[3] & ln_mask32(len));
	}
	h1 = (__u32)h;
	h2 = (__u32)(h >> 32) | 1;
	b->hit = ln_bloom_bit(b->ctx, h1 & b->mask) && ln_bloom_bit(b->ctx, (h1 + h2) & b->mask);
	return b->hit;
}

/* LN_BLOOM_LOOP(b) runs the steps (BPF: bpf_loop(), so the verifier checks one length). */
#ifndef LN_BLOOM_LOOP
#define LN_BLOOM_LOOP(b)                                                                     \
	do {                                                                                 \
		for (__u32 _i = 0; _i < LN_BLOOM_LENS && !ln_bloom_step(_i, b); _i++)        \
			;                                                                    \
	} while (0)
#endif

/*
 * Whether some entry of the set may cover the address (host-order words
 * @w; IPv4: w[3]); 0 means certainly not.
 */
LN_INLINE int ln_bloom_maybe(void *ctx, const struct ln_lists *l, __u32 set, int v6,
			     const __u32 w[4], __u32 mask)
{
	struct ln_bloom_walk b = {
		.ctx = ctx, .l = l, .w = w, .set = set, .mask = mask, .v6 = v6,
		.n = v6 ? l->n_lens6 : l->n_lens4,
	};

	if (b.n == LN_BLOOM_ALL)
		return 1;
	LN_BLOOM_LOOP(&b);
	return b.hit;
}

#endif /* LSNITCH_SEARCH_H */
