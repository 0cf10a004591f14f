// SPDX-License-Identifier: GPL-2.0
/*
 * The proxy's answer cache: replies that passed every check, kept for their TTL and
 * answered again to the same question from the same place (netns, policy, server).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <xxhash.h>

#include "dp_internal.h"

/*
 * Set-associative, so memory is bounded without a list to maintain: DP_CACHE_SETS *
 * DP_CACHE_WAYS replies of at most DP_CACHE_MSG_MAX bytes (about 8 MB at worst). The hash
 * is seeded at start: a client cannot choose names that all fall into one set.
 */
#define DP_CACHE_SETS 1024
#define DP_CACHE_WAYS 4
#define DP_CACHE_MSG_MAX LN_DNS_EDNS_SIZE /* larger replies are relayed, not kept */
#define DP_CACHE_KEY_MAX 600
#define USEC_PER_SEC 1000000ULL
/*
 * How often a hit records its answer's verdicts again. Every verdict written for an answer
 * lasts at least as long as the answer is kept (its TTL left, clamped up by dns-ttl-min);
 * writing again refreshes dns-ttl-min's margin and an entry the LRU may have dropped, and
 * once a second does that without a parse and a map write for every hit.
 */
#define DP_CACHE_RECORD_USEC USEC_PER_SEC

struct dp_cache_entry {
	__u64 hash;
	uint64_t born, expires; /* CLOCK_MONOTONIC usec */
	uint64_t recorded;      /* when its verdicts were last written */
	__u16 key_len, msg_len;
	struct ln_dns_ttls ttls;
	__u8 data[]; /* the key, then the reply as upstream sent it */
};

struct dp_cache {
	__u64 seed;
	__u32 ttl_max;
	/* the key of the last query dp_cache_get() missed, for dp_cache_keep() */
	__u8 key[DP_CACHE_KEY_MAX];
	size_t key_len;
	__u64 hash;
	struct dp_cache_entry *e[DP_CACHE_SETS * DP_CACHE_WAYS];
};

int dp_cache_start(struct ln_dns_proxy *p, __u32 ttl_max)
{
	struct dp_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed)) {
		free(c);
		return -EIO;
	}
	c->ttl_max = ttl_max;
	dp_cache_stop(p);
	p->cache = c;
	return 0;
}

void dp_cache_flush(struct ln_dns_proxy *p)
{
	if (!p->cache)
		return;
	for (size_t i = 0; i < DP_CACHE_SETS * DP_CACHE_WAYS; i++) {
		free(p->cache->e[i]);
		p->cache->e[i] = NULL;
	}
}

void dp_cache_stop(struct ln_dns_proxy *p)
{
	dp_cache_flush(p);
	free(p->cache);
	p->cache = NULL;
}

/*
 * The key of a client's query into c->key: where it was asked (netns, policy, server),
 * then the query from its flags on with the name lower-cased, so RD, CD, the type,
 * class and the whole EDNS part (DO, size, options such as a client cookie) must match
 * too. Returns false for a query too long to key.
 */
static bool dp_cache_key(struct dp_cache *c, const struct dp_dest *to,
			 const struct ln_dns_slot *slot, const __u8 *msg, size_t len,
			 const struct ln_dns_query *q)
{
	size_t name = q->qwire_len - 4, head = sizeof(__u64) + sizeof(__u32) + slot->server_len;
	__u8 *k = c->key;

	if (len < LN_DNS_HDR_LEN + q->qwire_len || head + len - 2 > DP_CACHE_KEY_MAX)
		return false;
	memcpy(k, &to->l->ns->cookie, sizeof(__u64));
	memcpy(k + sizeof(__u64), &slot->policy_id, sizeof(__u32));
	memcpy(k + sizeof(__u64) + sizeof(__u32), &slot->server, slot->server_len);
	memcpy(k + head, msg + 2, len - 2);
	/* length octets are below 64: only letters change */
	for (__u8 *b = k + head + LN_DNS_HDR_LEN - 2; b < k + head + LN_DNS_HDR_LEN - 2 + name; b++)
		if (*b >= 'A' && *b <= 'Z')
			*b += 'a' - 'A';
	c->key_len = head + len - 2;
	c->hash = XXH3_64bits_withSeed(c->key, c->key_len, c->seed);
	return true;
}

/* Where the entry for @key is (NULL: none); an expired one is dropped on the way. */
static struct dp_cache_entry **dp_cache_find(struct dp_cache *c, __u64 hash, const __u8 *key,
					     size_t key_len, uint64_t now)
{
	struct dp_cache_entry **set = &c->e[(hash % DP_CACHE_SETS) * DP_CACHE_WAYS];

	for (int w = 0; w < DP_CACHE_WAYS; w++) {
		struct dp_cache_entry *e = set[w];

		if (!e || e->hash != hash || e->key_len != key_len || memcmp(e->data, key, key_len))
			continue;
		if (now < e->expires)
			return &set[w];
		free(e);
		set[w] = NULL;
	}
	return NULL;
}

int dp_cache_get(struct ln_dns_proxy *p, const struct dp_dest *to, const struct ln_dns_slot *slot,
		 __u8 *msg, size_t len, const struct ln_dns_query *q, bool *record)
{
	struct dp_cache *c = p->cache;
	size_t name = q->qwire_len - 4;
	struct dp_cache_entry **slotp, *e;
	__u8 asked[LN_DNS_WIRE_NAME_LEN];
	uint64_t now;

	if (c)
		c->key_len = 0;
	/* TCP clients may take larger replies than the cache keeps: they are relayed */
	if (!c || to->conn || !dp_cache_key(c, to, slot, msg, len, q))
		return 0;
	sd_event_now(p->event, CLOCK_MONOTONIC, &now);
	slotp = dp_cache_find(c, c->hash, c->key, c->key_len, now);
	if (!slotp)
		return 0;
	e = *slotp;
	/* the reply echoes the question as this client wrote it (0x20 case randomisation) */
	memcpy(asked, msg + LN_DNS_HDR_LEN, name);
	memcpy(msg, e->data + e->key_len, e->msg_len);
	memcpy(msg + LN_DNS_HDR_LEN, asked, name);
	ln_dns_reply_age(msg, e->data + e->key_len, &e->ttls,
			 (__u32)((now - e->born) / USEC_PER_SEC));
	ln_dns_set_id(msg, e->msg_len, q->id);
	*record = now - e->recorded >= DP_CACHE_RECORD_USEC;
	if (*record)
		e->recorded = now;
	p->stats.cached++;
	return e->msg_len;
}

int dp_cache_keep(struct ln_dns_proxy *p, struct dp_upstream *u)
{
	struct dp_cache *c = p->cache;

	if (!c || !c->key_len)
		return 0;
	u->ckey = malloc(c->key_len);
	if (!u->ckey)
		return -ENOMEM;
	memcpy(u->ckey, c->key, c->key_len);
	u->ckey_len = c->key_len;
	u->chash = c->hash;
	c->key_len = 0; /* one query's key, never another's */
	return 0;
}

/* The way of @hash's set a new entry takes: a free one, else the one expiring first. */
static struct dp_cache_entry **dp_cache_victim(struct dp_cache *c, __u64 hash)
{
	struct dp_cache_entry **set = &c->e[(hash % DP_CACHE_SETS) * DP_CACHE_WAYS], **v = set;

	for (int w = 0; w < DP_CACHE_WAYS; w++) {
		if (!set[w])
			return &set[w];
		if (set[w]->expires < (*v)->expires)
			v = &set[w];
	}
	return v;
}

/* Whether @a and @b are the same @n octets but for the case of letters. */
static bool dp_wire_eq_nocase(const __u8 *a, const __u8 *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		__u8 x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 'a' - 'A' : a[i];
		__u8 y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 'a' - 'A' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

void dp_cache_put(struct dp_upstream *u, const __u8 *msg, size_t len)
{
	struct ln_dns_proxy *p = u->p;
	struct dp_cache *c = p->cache;
	struct dp_cache_entry **slotp, *e;
	struct ln_dns_ttls ttls;
	uint64_t now;
	int ttl;

	/* a hit writes the asker's question over the reply's: it must be the same octets */
	if (!c || !u->ckey || len > DP_CACHE_MSG_MAX || len < LN_DNS_HDR_LEN + u->q.qwire_len ||
	    !dp_wire_eq_nocase(msg + LN_DNS_HDR_LEN, u->q.qwire, u->q.qwire_len))
		return;
	ttl = ln_dns_reply_ttls(msg, len, c->ttl_max, &ttls);
	if (ttl <= 0)
		return;
	e = malloc(sizeof(*e) + u->ckey_len + len);
	if (!e)
		return;
	sd_event_now(p->event, CLOCK_MONOTONIC, &now);
	*e = (struct dp_cache_entry){.hash = u->chash,
				     .born = now,
				     .recorded = now,
				     .expires = now + (uint64_t)ttl * USEC_PER_SEC,
				     .key_len = (__u16)u->ckey_len,
				     .msg_len = (__u16)len,
				     .ttls = ttls};
	memcpy(e->data, u->ckey, u->ckey_len);
	memcpy(e->data + u->ckey_len, msg, len);
	slotp = dp_cache_find(c, u->chash, u->ckey, u->ckey_len, now);
	if (!slotp)
		slotp = dp_cache_victim(c, u->chash);
	free(*slotp);
	*slotp = e;
}
