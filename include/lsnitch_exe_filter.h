/* SPDX-License-Identifier: GPL-2.0 */
/* The exe policies' table in front of exe_policy: a slot per hash of (scope, executable). */
#ifndef LSNITCH_EXE_FILTER_H
#define LSNITCH_EXE_FILTER_H

#include "lsnitch.h"

#ifndef LN_INLINE
#define LN_INLINE static inline __attribute__((always_inline))
#endif

/*
 * A fresh verdict in a scope with exe policies asks this table before the exe_policy hash:
 * an array map of LN_EXE_SLOTS slots (its lookup is inlined: no call, no jhash of a 24-byte
 * key), a slot per hash of (scope, executable). A slot holds the one exe_policy entry that
 * hashes there, or says "shared" when more than one does or did: then exe_policy decides.
 * An empty slot, or one holding another (scope, executable), means no entry: exactly what
 * the lookup would have said. The agent makes a slot valid only after writing its identity
 * and policy, and before it adds the exe_policy entry; it marks a slot shared before it
 * deletes its entry (a replaced binary's old inode) and never clears the mark while the
 * generation lives. Each of those writes changes one byte, so a program reading a slot
 * while it is written sees it before or after, never a mix. A shared slot only costs the
 * lookup, never another verdict.
 */
#define LN_EXE_SLOTS 1024

struct ln_exe_slot {
	__u64 ino;
	__u32 dev;
	__u32 scope;
	__u32 policy_id;
	__u8 valid;  /* ino, dev, scope, policy_id are in force */
	__u8 shared; /* exe_policy decides (sticky) */
	__u16 pad;
};
_Static_assert(sizeof(struct ln_exe_slot) == 24, "ln_exe_slot size");

/* The slot of executable (@dev, @ino) in scope @scope. */
LN_INLINE __u32 ln_exe_slot_of(__u32 scope, __u64 dev, __u64 ino)
{
	__u64 h = ino * 0x9e3779b97f4a7c15ULL;

	h ^= ((dev << 32) | scope) * 0xc2b2ae3d27d4eb4fULL;
	return (__u32)(h >> 40) & (LN_EXE_SLOTS - 1);
}

/* Whether slot @s holds executable @exe in scope @scope. */
LN_INLINE int ln_exe_slot_is(const struct ln_exe_slot *s, __u32 scope, const struct ln_exe_id *exe)
{
	return s->ino == exe->ino && s->dev == exe->dev && s->scope == scope;
}

#endif /* LSNITCH_EXE_FILTER_H */
