/* SPDX-License-Identifier: GPL-2.0 */
/* A compact suffix set over domain blocklists: name -> rule id of the most specific suffix. */
#ifndef LSNITCH_DOMAIN_SET_H
#define LSNITCH_DOMAIN_SET_H

#include <stddef.h>
#include <linux/types.h>

#include "rules.h"

/*
 * Every listed name stands for itself and all its subdomains. The set keeps
 * all names (a listed subdomain and its listed parent are both kept, so each
 * keeps its own rule id) in one string arena, indexed by an open-addressing
 * table of (XXH3 fingerprint, arena offset, rule id): 12 bytes a slot, load
 * factor at most 3/4, no allocation per name. Immutable once built; lookups
 * may run concurrently.
 */
struct ln_domain_set;

/*
 * Builds a set from @n_lists lists (NULL lists are skipped). Names are
 * lower-cased and a trailing dot dropped; on duplicates the first list
 * order occurrence's rule id wins. Entries with rule id 0 or an empty name
 * are rejected (-EINVAL). Returns 0, -EINVAL, -E2BIG (arena over 4 GiB) or
 * -ENOMEM.
 */
int ln_domain_set_build(struct ln_domain_set **out, const struct ln_domainlist *const *lists,
			size_t n_lists);

/*
 * Rule id of the longest listed suffix of @name (the name itself first, then
 * each parent up to the top-level label), or 0. @name is taken
 * case-insensitively; one trailing dot is ignored. O(labels) hash probes.
 */
__u32 ln_domain_set_lookup(const struct ln_domain_set *s, const char *name);

/* Distinct names in the set. */
size_t ln_domain_set_size(const struct ln_domain_set *s);
/* Bytes the set holds: table, arena and header. */
size_t ln_domain_set_memory(const struct ln_domain_set *s);
/* Accepts NULL. */
void ln_domain_set_free(struct ln_domain_set *s);

#endif /* LSNITCH_DOMAIN_SET_H */
