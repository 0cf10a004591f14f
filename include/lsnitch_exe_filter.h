/* SPDX-License-Identifier: GPL-2.0 */
/* The exe policies' prefilter: a bit per (scope, executable) an exe policy names, both sides. */
#ifndef LSNITCH_EXE_FILTER_H
#define LSNITCH_EXE_FILTER_H

#include "lsnitch.h"

#ifndef LN_INLINE
#define LN_INLINE static inline __attribute__((always_inline))
#endif

/*
 * A fresh verdict in a scope with exe policies asks this bitmap (an array map of one
 * value: the lookup is inlined, no call, no hash of a 24-byte key) before the exe_policy
 * map. The agent sets a (scope, executable)'s bit before it adds its exe_policy entry and
 * never clears one while the generation lives: a clear bit means no entry, exactly what
 * the lookup would have said; a set bit (a named executable, a replaced binary's old
 * inode, a collision) only costs the lookup, never another verdict. 8192 bits: 100 names
 * leave a stranger a ~1% chance of paying the lookup.
 */
#define LN_EXE_FILTER_BITS 8192
#define LN_EXE_FILTER_WORDS (LN_EXE_FILTER_BITS / 64)

struct ln_exe_filter {
	__u32 mask; /* LN_EXE_FILTER_BITS - 1; smaller only for a test of collisions */
	__u32 pad;
	__u64 w[LN_EXE_FILTER_WORDS];
};
_Static_assert(sizeof(struct ln_exe_filter) == 8 + LN_EXE_FILTER_BITS / 8, "ln_exe_filter size");

/* The bit of executable (@dev, @ino) in scope @scope, under @mask. */
LN_INLINE __u32 ln_exe_filter_bit(__u32 scope, __u64 dev, __u64 ino, __u32 mask)
{
	__u64 h = ino * 0x9e3779b97f4a7c15ULL;

	h ^= ((dev << 32) | scope) * 0xc2b2ae3d27d4eb4fULL;
	return (__u32)(h >> 40) & mask & (LN_EXE_FILTER_BITS - 1);
}

/* Whether filter @f has executable @exe's bit in scope @scope: 0 means no exe policy. */
LN_INLINE int ln_exe_filter_has(const struct ln_exe_filter *f, __u32 scope,
				const struct ln_exe_id *exe)
{
	__u32 b = ln_exe_filter_bit(scope, exe->dev, exe->ino, f->mask);

	return !!(f->w[b / 64] & (1ULL << (b % 64)));
}

LN_INLINE void ln_exe_filter_set(struct ln_exe_filter *f, __u32 scope,
				 const struct ln_exe_id *exe)
{
	__u32 b = ln_exe_filter_bit(scope, exe->dev, exe->ino, f->mask);

	f->w[b / 64] |= 1ULL << (b % 64);
}

#endif /* LSNITCH_EXE_FILTER_H */
