// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: packed blocklists. ln_packed_lookup() (the bisection the BPF
 * programs run, include/lsnitch_search.h) must agree with a brute-force
 * "most specific entry of the set covering the address" on random nested,
 * overlapping, adjacent and duplicate entries, IPv4 and IPv6, several sets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

static const struct ln_prefix mapped96 = { .addr = { [10] = 0xff, [11] = 0xff }, .len = 96 };

struct entry {
	__u32 set;
	struct ln_prefix p;
	__u32 rule_id;
};

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)random() % n;
}

/* Addresses from a small space so that entries nest and collide often. */
static void rand_addr(__u8 a[16], bool v4)
{
	memset(a, 0, 16);
	if (v4) {
		a[10] = a[11] = 0xff;
		a[12] = 10;
		a[13] = rnd(4);
		a[14] = rnd(4);
		a[15] = rnd(8) * 32 + rnd(3);
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[7] = rnd(4);
		a[15] = rnd(8);
	}
}

static void mask(struct ln_prefix *p)
{
	for (int i = 0; i < 16; i++) {
		int bits = (int)p->len - i * 8;

		if (bits >= 8)
			continue;
		p->addr[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

static __u32 brute(const struct entry *v, size_t n, __u32 set, const __u8 addr[16])
{
	struct ln_prefix a = { .len = 128 };
	const struct entry *best = NULL;
	__u8 best_len = 0;

	memcpy(a.addr, addr, 16);
	for (size_t i = 0; i < n; i++) {
		if (v[i].set != set || !ln_prefix_contains(&v[i].p, &a))
			continue;
		if (!best || v[i].p.len > best_len ||
		    (v[i].p.len == best_len && v[i].rule_id < best->rule_id)) {
			best = &v[i];
			best_len = v[i].p.len;
		}
	}
	return best ? best->rule_id : 0;
}

/* Builds ln_compiled's input arrays the way ln_compile leaves them (deduped by key). */
static void fill(struct ln_compiled *cc, const struct entry *v, size_t n, size_t sets)
{
	memset(cc, 0, sizeof(*cc));
	cc->n_policies = sets;
	cc->bl_exact = calloc(n + 1, sizeof(*cc->bl_exact));
	cc->bl_prefix = calloc(n + 1, sizeof(*cc->bl_prefix));
	assert_non_null(cc->bl_exact);
	assert_non_null(cc->bl_prefix);
	for (size_t i = 0; i < n; i++) {
		if (v[i].p.len == 128) {
			cc->bl_exact[cc->n_bl_exact].k.set = v[i].set;
			memcpy(cc->bl_exact[cc->n_bl_exact].k.addr, v[i].p.addr, 16);
			cc->bl_exact[cc->n_bl_exact++].rule_id = v[i].rule_id;
		} else {
			cc->bl_prefix[cc->n_bl_prefix].k.set = v[i].set;
			cc->bl_prefix[cc->n_bl_prefix].k.prefixlen = 32 + v[i].p.len;
			memcpy(cc->bl_prefix[cc->n_bl_prefix].k.addr, v[i].p.addr, 16);
			cc->bl_prefix[cc->n_bl_prefix++].rule_id = v[i].rule_id;
		}
	}
}

static bool same_key(const struct entry *a, const struct entry *b)
{
	return a->set == b->set && a->p.len == b->p.len && !memcmp(a->p.addr, b->p.addr, 16);
}

static bool few_lens; /* only a few prefix lengths: the Bloom prefilter is used */

static void check_random(unsigned int seed, size_t n, size_t sets)
{
	struct entry *v = calloc(n, sizeof(*v));
	struct ln_compiled cc;
	size_t m = 0;

	srandom(seed);
	for (size_t i = 0; i < n; i++) {
		struct entry e = { .set = rnd(sets), .rule_id = (__u32)i + 1 };
		bool v4 = rnd(3) != 0, dup = false;

		rand_addr(e.p.addr, v4);
		e.p.len = v4 ? 96 + (rnd(5) == 0 ? 32 : 20 + rnd(13)) : 100 + rnd(29);
		if (few_lens)
			e.p.len = v4 ? 96 + 24 + rnd(3) * 4 : 120 + rnd(2) * 8;
		if (rnd(50) == 0)
			e.p.len = v4 ? 96 : 0; /* everything (v4), or ::/0 covering v4 too */
		mask(&e.p);
		/* ln_compile dedupes equal keys keeping the first rule id */
		for (size_t j = 0; j < m && !dup; j++)
			dup = same_key(&v[j], &e);
		if (!dup)
			v[m++] = e;
	}
	fill(&cc, v, m, sets);
	assert_int_equal(ln_pack_blocklists(&cc, &cc.packed), 0);
	for (int k = 0; k < 20000; k++) {
		__u8 a[16];
		__u32 set = rnd(sets);

		rand_addr(a, rnd(2));
		if (rnd(10) == 0) /* an exact entry's address, or just next to one */
			memcpy(a, v[rnd(m)].p.addr, 16), a[15] += rnd(3) - 1;
		assert_int_equal(ln_packed_lookup(&cc.packed, set, a), brute(v, m, set, a));
	}
	/* no interval of a set overlaps the next */
	for (size_t s = 0; s < sets; s++) {
		const struct ln_region *r = &cc.packed.sets[s].v4;

		for (__u32 i = r->off + 1; i < r->off + r->cnt; i++) {
			const struct ln_pack4_page *p = &cc.packed.p4[(i - 1) / LN_PACK4_PAGE];
			const struct ln_pack4_page *q = &cc.packed.p4[i / LN_PACK4_PAGE];

			assert_true(p->hi[(i - 1) % LN_PACK4_PAGE] < q->lo[i % LN_PACK4_PAGE]);
		}
	}
	if (few_lens)
		for (size_t s = 0; s < sets; s++)
			assert_true(cc.packed.sets[s].n_lens4 != LN_BLOOM_ALL &&
				    cc.packed.sets[s].n_lens6 != LN_BLOOM_ALL);
	ln_compiled_free(&cc);
	free(v);
	(void)mapped96;
}

static void test_random_small(void **state)
{
	for (unsigned int seed = 1; seed <= 40; seed++)
		check_random(seed, 30, 3);
}

static void test_random_large(void **state)
{
	check_random(4242, 3000, 4);
}

/* Few lengths per set: lookups go through the Bloom filter first. */
static void test_random_prefiltered(void **state)
{
	few_lens = true;
	for (unsigned int seed = 100; seed <= 120; seed++)
		check_random(seed, 200, 3);
	check_random(777, 5000, 2);
	few_lens = false;
}

static void test_everything_and_holes(void **state)
{
	struct entry v[] = {
		{ 0, { .addr = { [10] = 0xff, [11] = 0xff }, .len = 96 }, 1 },   /* 0.0.0.0/0 */
		{ 0, { .addr = { [10] = 0xff, [11] = 0xff, 255, 255, 255, 255 }, .len = 128 }, 2 },
		{ 0, { .addr = { [10] = 0xff, [11] = 0xff, 0, 0, 0, 0 }, .len = 128 }, 3 },
		{ 1, { .len = 0 }, 4 },                                          /* ::/0 */
	};
	__u8 a[16] = { [10] = 0xff, [11] = 0xff, 255, 255, 255, 255 };
	struct ln_compiled cc;

	fill(&cc, v, 4, 2);
	assert_int_equal(ln_pack_blocklists(&cc, &cc.packed), 0);
	assert_int_equal(ln_packed_lookup(&cc.packed, 0, a), 2);
	a[15] = 254;
	assert_int_equal(ln_packed_lookup(&cc.packed, 0, a), 1);
	memset(a + 12, 0, 4);
	assert_int_equal(ln_packed_lookup(&cc.packed, 0, a), 3);
	/* set 1: ::/0 covers IPv4 (mapped) and IPv6 */
	assert_int_equal(ln_packed_lookup(&cc.packed, 1, a), 4);
	memset(a, 0xff, 16);
	assert_int_equal(ln_packed_lookup(&cc.packed, 1, a), 4);
	/* a set with nothing */
	ln_compiled_free(&cc);
}

static void test_empty(void **state)
{
	struct ln_compiled cc;
	__u8 a[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };

	fill(&cc, NULL, 0, 1);
	assert_int_equal(ln_pack_blocklists(&cc, &cc.packed), 0);
	assert_int_equal(cc.packed.n4 + cc.packed.n6, 0);
	assert_int_equal(ln_packed_lookup(&cc.packed, 0, a), 0);
	assert_int_equal(ln_packed_lookup(&cc.packed, 7, a), 0);
	ln_compiled_free(&cc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_random_large),
		cmocka_unit_test(test_random_prefiltered),
		cmocka_unit_test(test_everything_and_holes),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
