// SPDX-License-Identifier: GPL-2.0
/*
 * Packing host blocklists: every set's exact addresses and prefixes become
 * sorted, disjoint intervals carrying the rule id of the most specific entry
 * that covers them (prefixes nest or are disjoint, so a sweep with a stack
 * does it), laid out in the pages the BPF programs bisect. 12 bytes an IPv4
 * interval, 21 an IPv6 one (its end as a span), instead of ~100 in a hash map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

/* The user-space side of include/lsnitch_search.h: pages are array elements. */
LN_INLINE const struct ln_pack4_page *ln_pack4_page_at(void *ctx, __u32 page)
{
	const struct ln_packed *pk = ctx;

	return page < pk->pages4 ? &pk->p4[page] : NULL;
}

LN_INLINE const struct ln_pack6_page *ln_pack6_page_at(void *ctx, __u32 page)
{
	const struct ln_packed *pk = ctx;

	return page < pk->pages6 ? &pk->p6[page] : NULL;
}

LN_INLINE int ln_bloom_bit(void *ctx, __u32 bit)
{
	const struct ln_packed *pk = ctx;

	return (pk->bloom[bit >> 6] >> (bit & 63)) & 1;
}

#include "lsnitch_search.h"

typedef unsigned __int128 u128;

struct ival {
	u128 lo, hi;
	__u32 set;
	__u32 rule_id;
	__u8 v4;
	__u8 len; /* the entry's prefix length: of two equal ranges the longer wins */
};

struct ivec {
	struct ival *v;
	size_t n, cap;
};

/* One entry as the Bloom filter sees it. */
struct bitem {
	__u32 set;
	__u32 len; /* family-relative; | 0x100 for IPv6 */
	__u32 w[4];
};

struct bvec {
	struct bitem *v;
	size_t n, cap;
};

/* One family of one set's output while it is swept. */
struct emit {
	struct ln_packed *pk;
	int v4;
	bool gap;   /* IPv6: the last interval runs to the next one, which must start at gap_at */
	u128 gap_at;
};

static int push(struct ivec *iv, const struct ival *x)
{
	if (ln_grow((void **)&iv->v, &iv->cap, iv->n + 1, sizeof(*iv->v)))
		return -ENOMEM;
	iv->v[iv->n++] = *x;
	return 0;
}

static u128 addr_u128(const __u8 *a)
{
	u128 x = 0;

	for (int i = 0; i < LN_ADDR_LEN; i++)
		x = (x << 8) | a[i];
	return x;
}

static u128 low_bits(unsigned int n)
{
	return n >= 128 ? ~(u128)0 : (((u128)1 << n) - 1);
}

static int bpush(struct bvec *bv, __u32 set, __u32 len, u128 masked, bool v6)
{
	struct bitem *b;

	if (ln_grow((void **)&bv->v, &bv->cap, bv->n + 1, sizeof(*bv->v)))
		return -ENOMEM;
	b = &bv->v[bv->n++];
	b->set = set;
	b->len = len | (v6 ? 0x100 : 0);
	b->w[0] = (__u32)(masked >> 96);
	b->w[1] = (__u32)(masked >> 64);
	b->w[2] = (__u32)(masked >> 32);
	b->w[3] = (__u32)masked;
	if (!v6) {
		b->w[0] = b->w[1] = 0;
		b->w[2] = 0xffff;
	}
	return 0;
}

/* An entry (set, prefix, rule id) as the interval(s) it covers. */
static int add_entry(struct ivec *iv, struct bvec *bv, __u32 set, const __u8 *addr, __u32 len,
		     __u32 rule_id)
{
	static const struct ln_prefix mapped = { .addr = { [10] = 0xff, [11] = 0xff }, .len = 96 };
	struct ln_prefix p = { .len = (__u8)len };
	struct ival x = { .set = set, .rule_id = rule_id, .len = (__u8)len };
	u128 a = addr_u128(addr);

	memcpy(p.addr, addr, LN_ADDR_LEN);
	if (ln_prefix_is_v4(&p)) {
		x.v4 = 1;
		x.lo = (a & 0xffffffffu) & ~low_bits(128 - len);
		x.hi = x.lo | low_bits(128 - len);
		if (bpush(bv, set, len - LN_V4_MAPPED_PREFIX, x.lo, false))
			return -ENOMEM;
		return push(iv, &x);
	}
	x.lo = a & ~low_bits(128 - len);
	x.hi = x.lo | low_bits(128 - len);
	if (push(iv, &x) || bpush(bv, set, len, x.lo, true))
		return -ENOMEM;
	/* A v6 prefix holding all of ::ffff:0:0/96 blocks every IPv4 address too. */
	if (ln_prefix_contains(&p, &mapped)) {
		x.v4 = 1;
		x.lo = 0;
		x.hi = 0xffffffffu;
		if (bpush(bv, set, 0, 0, false))
			return -ENOMEM;
		return push(iv, &x);
	}
	return 0;
}

/*
 * set, family, lo ascending; the outer (larger) of equal starts first; of
 * equal ranges the more specific entry (a v4 /0 over a v6 ::/0), then the
 * lower rule id, first.
 */
static int cmp_ival(const void *pa, const void *pb)
{
	const struct ival *a = pa, *b = pb;

	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	if (a->v4 != b->v4)
		return a->v4 > b->v4 ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi > b->hi ? -1 : 1;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return a->rule_id < b->rule_id ? -1 : a->rule_id > b->rule_id;
}

/* Room for one more interval of @e's family. */
static int reserve(struct emit *e)
{
	struct ln_packed *pk = e->pk;
	size_t n = e->v4 ? pk->n4 : pk->n6, *cap = e->v4 ? &pk->cap4 : &pk->cap6;
	size_t pages;
	void *np;

	if (n < *cap * (e->v4 ? LN_PACK4_PAGE : LN_PACK6_PAGE))
		return 0;
	pages = *cap ? *cap * 2 : 4;
	np = realloc(e->v4 ? (void *)pk->p4 : (void *)pk->p6,
		     pages * (e->v4 ? sizeof(*pk->p4) : sizeof(*pk->p6)));
	if (!np)
		return -ENOMEM;
	if (e->v4)
		pk->p4 = np;
	else
		pk->p6 = np;
	*cap = pages;
	return 0;
}

/* The span of [lo, hi] if it is an aligned power of two (a prefix), else LN_SPAN_TO_NEXT. */
static __u8 span_of(u128 lo, u128 hi)
{
	u128 size = hi - lo; /* 2^span - 1 */
	__u8 span = 0;

	if ((size & (size + 1)) || (lo & size))
		return LN_SPAN_TO_NEXT;
	for (; size; size >>= 1)
		span++;
	return span;
}

static int put6(struct emit *e, u128 lo, __u8 span, __u32 id)
{
	struct ln_packed *pk = e->pk;
	struct ln_pack6_page *p;
	size_t k;

	if (reserve(e))
		return -ENOMEM;
	p = &pk->p6[pk->n6 / LN_PACK6_PAGE];
	k = pk->n6 % LN_PACK6_PAGE;
	p->lo[k][0] = (__u64)(lo >> 64);
	p->lo[k][1] = (__u64)lo;
	p->span[k] = span;
	p->rule_id[k] = id;
	pk->n6++;
	return 0;
}

/*
 * After an IPv6 interval that runs to the next one (see struct
 * ln_pack6_page): the gap up to @next_lo (the end of the set's region:
 * @last), an interval of rule id 0, unless @next_lo follows at once.
 */
static int close_gap(struct emit *e, u128 next_lo, bool last)
{
	bool gap = e->gap;

	e->gap = false;
	if (!gap || (!last && next_lo == e->gap_at))
		return 0;
	return put6(e, e->gap_at, LN_SPAN_TO_NEXT, 0);
}

static int out_append6(struct emit *e, u128 lo, u128 hi, __u32 id)
{
	__u8 span = span_of(lo, hi);

	if (close_gap(e, lo, false) || put6(e, lo, span, id))
		return -ENOMEM;
	e->gap = span == LN_SPAN_TO_NEXT && hi != ~(u128)0;
	e->gap_at = hi + 1;
	return 0;
}

static int out_append(struct emit *e, u128 lo, u128 hi, __u32 id)
{
	struct ln_packed *pk = e->pk;
	struct ln_pack4_page *p;
	size_t k;

	if (!e->v4)
		return out_append6(e, lo, hi, id);
	/* Neighbours with the same rule merge (an outer prefix around a hole of its own). */
	if (pk->n4) {
		p = &pk->p4[(pk->n4 - 1) / LN_PACK4_PAGE];
		k = (pk->n4 - 1) % LN_PACK4_PAGE;
		if (p->rule_id[k] == id && (u128)p->hi[k] + 1 == lo && pk->n4 > pk->cur_off) {
			p->hi[k] = (__u32)hi;
			return 0;
		}
	}
	if (reserve(e))
		return -ENOMEM;
	p = &pk->p4[pk->n4 / LN_PACK4_PAGE];
	k = pk->n4 % LN_PACK4_PAGE;
	p->lo[k] = (__u32)lo;
	p->hi[k] = (__u32)hi;
	p->rule_id[k] = id;
	pk->n4++;
	return 0;
}

/* Sweep one (set, family) group v[0..n): nested or disjoint intervals in. */
static int sweep(struct emit *e, const struct ival *v, size_t n)
{
	const struct ival **stack;
	size_t top = 0;
	u128 cur = 0;
	bool done = false;
	int rc = 0;

	stack = malloc(n * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct ival *x = &v[i];

		if (i && x->lo == v[i - 1].lo && x->hi == v[i - 1].hi)
			continue; /* the same range twice: the one that wins came first */
		while (top && stack[top - 1]->hi < x->lo && !rc) {
			const struct ival *t = stack[--top];

			if (cur <= t->hi)
				rc = out_append(e, cur, t->hi, t->rule_id);
			cur = t->hi + 1;
		}
		if (top && cur < x->lo && !rc)
			rc = out_append(e, cur, x->lo - 1, stack[top - 1]->rule_id);
		cur = x->lo;
		stack[top++] = x;
	}
	while (top && !rc && !done) {
		const struct ival *t = stack[--top];

		if (cur <= t->hi)
			rc = out_append(e, cur, t->hi, t->rule_id);
		done = t->hi == (t->v4 ? (u128)0xffffffffu : ~(u128)0);
		cur = t->hi + 1;
	}
	free(stack);
	return rc;
}

/* The lengths each set uses, per family: the prefixes a lookup probes. */
static void note_len(struct ln_lists *l, __u32 len)
{
	bool v6 = len & 0x100;
	__u8 *n = v6 ? &l->n_lens6 : &l->n_lens4, *lens = v6 ? l->lens6 : l->lens4;

	len &= 0xff;
	if (*n == LN_BLOOM_ALL)
		return;
	for (__u8 i = 0; i < *n; i++)
		if (lens[i] == len)
			return;
	if (*n == LN_BLOOM_LENS) {
		*n = LN_BLOOM_ALL; /* too many lengths to probe: always bisect */
		return;
	}
	lens[(*n)++] = (__u8)len;
}

static void bloom_set(struct ln_packed *pk, __u32 bit)
{
	bit &= pk->bloom_mask;
	pk->bloom[bit >> 6] |= 1ULL << (bit & 63);
}

static int build_bloom(struct ln_packed *pk, const struct bvec *bv)
{
	size_t bits = 64;

	while (bits < bv->n * LN_BLOOM_BITS_PER_ENTRY && bits < ((size_t)1 << 32))
		bits <<= 1;
	pk->bloom_words = bits / 64;
	pk->bloom_mask = (__u32)(bits - 1);
	pk->bloom = calloc(pk->bloom_words, sizeof(*pk->bloom));
	if (!pk->bloom)
		return -ENOMEM;
	for (size_t i = 0; i < bv->n; i++) {
		const struct bitem *b = &bv->v[i];
		__u64 h = ln_bloom_hash(b->set, b->len, b->w[0], b->w[1], b->w[2], b->w[3]);
		__u32 h1 = (__u32)h, h2 = (__u32)(h >> 32) | 1;

		bloom_set(pk, h1);
		bloom_set(pk, h1 + h2);
		note_len(&pk->sets[b->set], b->len);
	}
	return 0;
}

/*
 * The exact entries as intervals in cmp_ival() order without sorting them
 * again: the compiler sorted them by (set, address), so per set the IPv4
 * (mapped) ones are one run, and the IPv6 ones before and after it are
 * another once it is taken out. Checked: an input in another order is sorted.
 */
static int collect_exact(const struct ln_compiled *cc, struct ivec *iv, struct bvec *bv)
{
	size_t i, j;

	for (i = 0; i < cc->n_bl_exact; i = j) {
		__u32 set = cc->bl_exact[i].k.set;

		for (j = i; j < cc->n_bl_exact && cc->bl_exact[j].k.set == set; j++)
			;
		for (int v4 = 1; v4 >= 0; v4--)
			for (size_t k = i; k < j; k++) {
				const struct ln_bl_kv *x = &cc->bl_exact[k];
				struct ln_prefix p = { .len = 128 };

				memcpy(p.addr, x->k.addr, LN_ADDR_LEN);
				if (ln_prefix_is_v4(&p) == !!v4 &&
				    add_entry(iv, bv, set, x->k.addr, 128, x->rule_id))
					return -ENOMEM;
			}
	}
	for (i = 1; i < iv->n; i++)
		if (cmp_ival(&iv->v[i - 1], &iv->v[i]) > 0) {
			qsort(iv->v, iv->n, sizeof(*iv->v), cmp_ival);
			break;
		}
	return 0;
}

/* Every entry as intervals sorted by cmp_ival() into @iv, and as Bloom items into @bv. */
static int collect(const struct ln_compiled *cc, struct ivec *iv, struct bvec *bv)
{
	struct ivec ex = {}, pre = {};
	size_t a = 0, b = 0;
	int rc = -ENOMEM;

	if (collect_exact(cc, &ex, bv))
		goto out;
	for (size_t i = 0; i < cc->n_bl_prefix; i++)
		if (add_entry(&pre, bv, cc->bl_prefix[i].k.set, cc->bl_prefix[i].k.addr,
			      cc->bl_prefix[i].k.prefixlen - 32, cc->bl_prefix[i].rule_id))
			goto out;
	if (pre.n)
		qsort(pre.v, pre.n, sizeof(*pre.v), cmp_ival);
	iv->n = ex.n + pre.n;
	iv->v = malloc((iv->n ? iv->n : 1) * sizeof(*iv->v));
	if (!iv->v)
		goto out;
	for (size_t k = 0; k < iv->n; k++)
		iv->v[k] = b == pre.n || (a < ex.n && cmp_ival(&ex.v[a], &pre.v[b]) <= 0)
				   ? ex.v[a++] : pre.v[b++];
	iv->cap = iv->n;
	rc = 0;
out:
	free(ex.v);
	free(pre.v);
	return rc;
}

_Static_assert(2ULL * LN_MAX_LIST_ENTRIES + 1 < 1ULL << LN_PACK_STEPS, "a list's bisection");

int ln_pack_blocklists(const struct ln_compiled *cc, struct ln_packed *pk)
{
	struct bvec bv = {};
	struct ivec iv = {};
	size_t i, j, n_sets = cc->n_policies ? cc->n_policies : 1;
	int rc = -ENOMEM;

	memset(pk, 0, sizeof(*pk));
	pk->sets = calloc(n_sets, sizeof(*pk->sets));
	if (!pk->sets)
		goto fail;
	pk->n_sets = n_sets;
	if (collect(cc, &iv, &bv))
		goto fail;
	for (i = 0; i < iv.n; i = j) {
		struct emit e = { .pk = pk, .v4 = iv.v[i].v4 };
		struct ln_region *r;

		for (j = i; j < iv.n && iv.v[j].set == iv.v[i].set && iv.v[j].v4 == iv.v[i].v4; j++)
			;
		if (iv.v[i].set >= n_sets) {
			rc = -EINVAL;
			goto fail;
		}
		r = e.v4 ? &pk->sets[iv.v[i].set].v4 : &pk->sets[iv.v[i].set].v6;
		r->off = e.v4 ? pk->n4 : pk->n6;
		pk->cur_off = r->off;
		rc = sweep(&e, iv.v + i, j - i) ?: close_gap(&e, 0, true);
		if (rc)
			goto fail;
		r->cnt = (e.v4 ? pk->n4 : pk->n6) - r->off;
		/* More than the bisection's steps reach: it would miss. (Hostnames add addresses.) */
		rc = r->cnt >> LN_PACK_STEPS ? -E2BIG : 0;
		if (rc)
			goto fail;
	}
	pk->pages4 = (pk->n4 + LN_PACK4_PAGE - 1) / LN_PACK4_PAGE;
	pk->pages6 = (pk->n6 + LN_PACK6_PAGE - 1) / LN_PACK6_PAGE;
	for (i = 0; i < bv.n; i++)
		if (bv.v[i].set >= n_sets) {
			rc = -EINVAL;
			goto fail;
		}
	rc = build_bloom(pk, &bv);
	if (rc)
		goto fail;
	free(iv.v);
	free(bv.v);
	return 0;
fail:
	free(iv.v);
	free(bv.v);
	ln_packed_free(pk);
	return rc;
}

void ln_packed_free(struct ln_packed *pk)
{
	if (!pk)
		return;
	free(pk->p4);
	free(pk->p6);
	free(pk->sets);
	free(pk->bloom);
	memset(pk, 0, sizeof(*pk));
}


__u32 ln_packed_lookup(const struct ln_packed *pk, __u32 set, const __u8 addr[LN_ADDR_LEN])
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	u128 a = addr_u128(addr);

	__u32 w[4] = { (__u32)(a >> 96), (__u32)(a >> 64), (__u32)(a >> 32), (__u32)a };
	bool v4 = !memcmp(addr, mapped, sizeof(mapped));

	if (set >= pk->n_sets || !pk->bloom)
		return 0;
	if (!ln_bloom_maybe((void *)pk, &pk->sets[set], set, !v4, w, pk->bloom_mask))
		return 0;
	if (v4)
		return ln_pack4_find((void *)pk, &pk->sets[set].v4, (__u32)a);
	return ln_pack6_find((void *)pk, &pk->sets[set].v6, (__u64)(a >> 64), (__u64)a);
}
