// SPDX-License-Identifier: GPL-2.0
/* Domain suffix set: one string arena plus an open-addressing table of XXH3 fingerprints. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "domain_set.h"

/* Longest name in presentation form without escapes; nothing longer is ever listed. */
#define DS_NAME_MAX 253

/*
 * The low bits of the hash pick the slot, the high 32 bits are kept as a
 * fingerprint so that almost every probe of a name that is not in the set
 * ends without touching the arena. rule_id 0 marks an empty slot.
 */
struct ds_slot {
	__u32 fp;
	__u32 off;
	__u32 rule_id;
};

struct ln_domain_set {
	struct ds_slot *slots;
	size_t mask; /* capacity - 1, capacity a power of two */
	size_t n;
	char *arena; /* NUL-terminated names */
	size_t arena_len;
};

static inline __u32 ds_fp(XXH64_hash_t h)
{
	return (__u32)(h >> 32);
}

/* Slot holding @name (len bytes, hash @h), or the empty slot where it would go. */
static struct ds_slot *ds_find(const struct ln_domain_set *s, const char *name, size_t len,
			       XXH64_hash_t h)
{
	__u32 fp = ds_fp(h);
	size_t i = (size_t)h & s->mask;

	for (;; i = (i + 1) & s->mask) {
		struct ds_slot *e = &s->slots[i];
		const char *t;

		if (!e->rule_id)
			return e;
		if (e->fp != fp)
			continue;
		t = s->arena + e->off;
		if (!memcmp(t, name, len) && t[len] == '\0')
			return e;
	}
}

/* Copies @len bytes of @src lower-cased into @dst, NUL-terminated. */
static void ds_lower(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = src[i];

		dst[i] = c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
	}
	dst[len] = '\0';
}

/* Length of @name without one trailing dot. */
static size_t ds_len(const char *name)
{
	size_t len = strlen(name);

	return len && name[len - 1] == '.' ? len - 1 : len;
}

/* Counts entries and the arena they need at most; -EINVAL on an entry that cannot be kept. */
static int ds_measure(const struct ln_domainlist *const *lists, size_t n_lists, size_t *n_out,
		      size_t *bytes_out)
{
	size_t i, j, n = 0, bytes = 0;

	for (i = 0; i < n_lists; i++) {
		if (!lists[i])
			continue;
		for (j = 0; j < lists[i]->n; j++) {
			const struct ln_domain_entry *e = &lists[i]->v[j];
			size_t len = ds_len(e->name);

			if (!e->rule_id || !len || len > DS_NAME_MAX)
				return -EINVAL;
			bytes += len + 1;
		}
		n += lists[i]->n;
	}
	*n_out = n;
	*bytes_out = bytes;
	return 0;
}

/*
 * Entries go in batches: hash a batch and prefetch its slots first, so the
 * table's cache misses overlap instead of costing one after another (the
 * build of a 1M list is bound by them).
 */
#define DS_BATCH 16

struct ds_pending {
	char name[DS_NAME_MAX + 1];
	size_t len;
	XXH64_hash_t h;
	__u32 rule_id;
};

/* Indexes @p, copying its name to the arena tail, unless the name is there already. */
static void ds_insert(struct ln_domain_set *s, const struct ds_pending *p)
{
	struct ds_slot *slot = ds_find(s, p->name, p->len, p->h);

	if (slot->rule_id)
		return; /* duplicate: the first rule id stays */
	memcpy(s->arena + s->arena_len, p->name, p->len + 1);
	slot->fp = ds_fp(p->h);
	slot->off = (__u32)s->arena_len;
	slot->rule_id = p->rule_id;
	s->arena_len += p->len + 1;
	s->n++;
}

static void ds_insert_list(struct ln_domain_set *s, const struct ln_domainlist *l)
{
	struct ds_pending batch[DS_BATCH];
	size_t i, j, k;

	for (i = 0; i < l->n; i += DS_BATCH) {
		k = l->n - i < DS_BATCH ? l->n - i : DS_BATCH;
		for (j = 0; j < k; j++) {
			struct ds_pending *p = &batch[j];

			p->len = ds_len(l->v[i + j].name);
			ds_lower(p->name, l->v[i + j].name, p->len);
			p->h = XXH3_64bits(p->name, p->len);
			p->rule_id = l->v[i + j].rule_id;
			__builtin_prefetch(&s->slots[(size_t)p->h & s->mask]);
		}
		for (j = 0; j < k; j++)
			ds_insert(s, &batch[j]);
	}
}

int ln_domain_set_build(struct ln_domain_set **out, const struct ln_domainlist *const *lists,
			size_t n_lists)
{
	struct ln_domain_set *s = NULL;
	size_t n, bytes, cap = 16, i;
	char *arena;
	int rc;

	*out = NULL;
	rc = ds_measure(lists, n_lists, &n, &bytes);
	if (rc)
		return rc;
	if (bytes > UINT32_MAX)
		return -E2BIG;
	while (cap / 4 * 3 < n)
		cap *= 2;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mask = cap - 1;
	s->slots = calloc(cap, sizeof(*s->slots));
	s->arena = malloc(bytes + 1);
	if (!s->slots || !s->arena) {
		rc = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < n_lists; i++)
		if (lists[i])
			ds_insert_list(s, lists[i]);
	/* duplicates left space at the tail: give it back */
	arena = realloc(s->arena, s->arena_len + 1);
	if (arena)
		s->arena = arena;
	*out = s;
	return 0;

err_free:
	ln_domain_set_free(s);
	return rc;
}

__u32 ln_domain_set_lookup(const struct ln_domain_set *s, const char *name)
{
	char buf[DS_NAME_MAX + 1];
	size_t len, start = 0, i;

	if (!s || !s->n)
		return 0;
	len = ds_len(name);
	/* suffixes longer than any listed name cannot match: start at the first that fits */
	while (len - start > DS_NAME_MAX) {
		const char *dot = memchr(name + start, '.', len - start);

		if (!dot)
			return 0;
		start = (size_t)(dot - name) + 1;
	}
	len -= start;
	ds_lower(buf, name + start, len);
	for (i = 0; i < len;) {
		const struct ds_slot *e = ds_find(s, buf + i, len - i, XXH3_64bits(buf + i, len - i));
		const char *dot;

		if (e->rule_id)
			return e->rule_id;
		dot = memchr(buf + i, '.', len - i);
		if (!dot)
			break;
		i = (size_t)(dot - buf) + 1;
	}
	return 0;
}

size_t ln_domain_set_size(const struct ln_domain_set *s)
{
	return s ? s->n : 0;
}

size_t ln_domain_set_memory(const struct ln_domain_set *s)
{
	if (!s)
		return 0;
	return sizeof(*s) + (s->mask + 1) * sizeof(*s->slots) + s->arena_len + 1;
}

void ln_domain_set_free(struct ln_domain_set *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s->arena);
	free(s);
}
