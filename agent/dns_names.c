// SPDX-License-Identifier: GPL-2.0
/* The DNS name cache: (policy, address) -> the names it was resolved from, until it expires. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_agent.h"

#define NAME_CACHE_SLOTS 65536 /* power of two */
#define NAME_CACHE_PROBE 8

/*
 * Keyed by the policy that asked as well as the address: an answer names an
 * address, and counts, only for the policy whose process asked for it.
 */
struct name_entry {
	__u8 addr[LN_ADDR_LEN];
	__u64 policy_key;
	__u64 expires_ns;
	char **names;
	size_t n_names;
};

struct ln_name_cache {
	struct name_entry v[NAME_CACHE_SLOTS];
};

__u64 ln_dns_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* FNV-1a of the policy's name: stable across reloads that renumber policies. */
__u64 ln_dns_policy_key(const struct ln_config *c, __u32 policy_id)
{
	const char *s =
	    policy_id && policy_id <= c->n_policies ? c->policies[policy_id - 1].name : "";
	__u64 h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void entry_clear(struct name_entry *e)
{
	for (size_t i = 0; i < e->n_names; i++)
		free(e->names[i]);
	free(e->names);
	memset(e, 0, sizeof(*e));
}

static size_t entry_hash(const __u8 *a, __u64 policy_key)
{
	size_t h = 1469598103934665603ULL ^ policy_key;

	for (int i = 0; i < LN_ADDR_LEN; i++)
		h = (h ^ a[i]) * 1099511628211ULL;
	return h;
}

static bool entry_is(const struct name_entry *e, const __u8 *addr, __u64 policy_key)
{
	return e->n_names && e->policy_key == policy_key && !memcmp(e->addr, addr, LN_ADDR_LEN);
}

static struct name_entry *cache_find(struct ln_name_cache *c, const __u8 *addr, __u64 policy_key,
				     bool for_insert)
{
	size_t h = entry_hash(addr, policy_key), best = h & (NAME_CACHE_SLOTS - 1);
	__u64 now = ln_dns_mono_ns();

	for (size_t i = 0; i < NAME_CACHE_PROBE; i++) {
		struct name_entry *e = &c->v[(h + i) & (NAME_CACHE_SLOTS - 1)];

		if (entry_is(e, addr, policy_key))
			return e->expires_ns > now || for_insert ? e : NULL;
		if (!for_insert)
			continue;
		/* Replace an empty slot, else the one closest to expiry. */
		if (!e->n_names || e->expires_ns < c->v[best].expires_ns)
			best = (h + i) & (NAME_CACHE_SLOTS - 1);
	}
	return for_insert ? &c->v[best] : NULL;
}

/* Whether @e holds @names already: a repeated answer only moves the expiry (no allocation). */
static bool entry_same_names(const struct name_entry *e, const char *const *names, size_t n)
{
	if (e->n_names != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e->names[i], names[i]))
			return false;
	return true;
}

void ln_names_store(struct ln_name_cache *c, __u64 policy_key, const __u8 *addr,
		    const char *const *names, size_t n, __u64 expires_ns)
{
	struct name_entry *e = cache_find(c, addr, policy_key, true);

	if (entry_is(e, addr, policy_key) && entry_same_names(e, names, n)) {
		e->expires_ns = expires_ns;
		return;
	}
	entry_clear(e);
	e->names = calloc(n, sizeof(*e->names));
	if (!e->names)
		return;
	for (size_t i = 0; i < n; i++) {
		e->names[i] = strdup(names[i]);
		if (!e->names[i]) {
			entry_clear(e);
			return;
		}
		e->n_names++;
	}
	memcpy(e->addr, addr, LN_ADDR_LEN);
	e->policy_key = policy_key;
	e->expires_ns = expires_ns;
}

const char *ln_names_lookup(struct ln_name_cache *c, __u64 policy_key, const __u8 *addr)
{
	struct name_entry *e = c ? cache_find(c, addr, policy_key, false) : NULL;

	return e ? e->names[0] : NULL;
}

void ln_names_each_live(struct ln_name_cache *c, ln_names_fn fn, void *ud)
{
	__u64 now = ln_dns_mono_ns();

	for (size_t i = 0; i < NAME_CACHE_SLOTS; i++) {
		struct name_entry *e = &c->v[i];

		if (e->n_names && e->expires_ns > now)
			fn(ud, e->policy_key, e->addr, (const char *const *)e->names, e->n_names,
			   e->expires_ns);
	}
}

struct ln_name_cache *ln_names_new(void)
{
	return calloc(1, sizeof(struct ln_name_cache));
}

void ln_names_free(struct ln_name_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NAME_CACHE_SLOTS; i++)
		entry_clear(&c->v[i]);
	free(c);
}
