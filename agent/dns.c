// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's side of DNS: runs the resolver proxy, tells it which server and
 * policy a slot stands for, which names are blocked, and records the domain
 * verdicts of every answer in the kernel before the answer is relayed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "names.h"
#include "dns_proxy.h"
#include "heartbeat.h"
#include "report.h"
#include "lsnitch.skel.h"

#define NAME_CACHE_SLOTS 65536 /* power of two */
#define NAME_CACHE_PROBE 8
#define SLOT_IDLE_NS (600ULL * 1000000000ULL)

/* Address -> the names (CNAME chain) it was last resolved from, until expiry. */
struct name_entry {
	__u8 addr[LN_ADDR_LEN];
	__u64 expires_ns;
	char **names;
	size_t n_names;
};

struct ln_name_cache {
	struct name_entry v[NAME_CACHE_SLOTS];
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void entry_clear(struct name_entry *e)
{
	for (size_t i = 0; i < e->n_names; i++)
		free(e->names[i]);
	free(e->names);
	memset(e, 0, sizeof(*e));
}

static size_t addr_hash(const __u8 *a)
{
	size_t h = 1469598103934665603ULL;

	for (int i = 0; i < LN_ADDR_LEN; i++)
		h = (h ^ a[i]) * 1099511628211ULL;
	return h;
}

static struct name_entry *cache_find(struct ln_name_cache *c, const __u8 *addr, bool for_insert)
{
	size_t h = addr_hash(addr), best = h & (NAME_CACHE_SLOTS - 1);
	__u64 now = mono_ns();

	for (size_t i = 0; i < NAME_CACHE_PROBE; i++) {
		struct name_entry *e = &c->v[(h + i) & (NAME_CACHE_SLOTS - 1)];

		if (e->n_names && !memcmp(e->addr, addr, LN_ADDR_LEN))
			return e->expires_ns > now || for_insert ? e : NULL;
		if (!for_insert)
			continue;
		/* Replace an empty slot, else the one closest to expiry. */
		if (!e->n_names || e->expires_ns < c->v[best].expires_ns)
			best = (h + i) & (NAME_CACHE_SLOTS - 1);
	}
	return for_insert ? &c->v[best] : NULL;
}

static void cache_store(struct ln_name_cache *c, const __u8 *addr, const char *const *names,
			size_t n, __u64 expires_ns)
{
	struct name_entry *e = cache_find(c, addr, true);

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
	e->expires_ns = expires_ns;
}

const char *ln_dns_name_of(struct ln_manager *m, const __u8 addr[LN_ADDR_LEN])
{
	struct name_entry *e;

	if (!m->names)
		return NULL;
	e = cache_find(m->names, addr, false);
	return e ? e->names[0] : NULL;
}

/* Domain verdicts of every policy of @g for one address resolved from @names. */
static void record_addr(struct ln_manager *m, struct ln_generation *g, const __u8 *addr,
			const char *const *names, size_t n_names, __u64 expires_ns)
{
	int fd = bpf_map__fd(g->skel->maps.dns_verdicts);

	for (size_t i = 0; i < g->cfg->n_policies; i++) {
		const struct ln_policy *p = &g->cfg->policies[i];
		struct ln_dns_verdict v = { .expires_ns = expires_ns };
		struct ln_bl_key k = { .set = p->id };

		if (!p->n_domain_rules || ln_domain_rules_match(p, names, n_names, &v.rs) <= 0)
			continue;
		memcpy(k.addr, addr, LN_ADDR_LEN);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) < 0)
			ln_note(m, LOG_WARNING, "recording a DNS verdict for policy %s: %m, "
				"ignoring", p->name);
	}
}

static void op_record(void *ud, __u32 policy_id, const char *const *names, size_t n_names,
		      const struct ln_dns_answer_addr *addrs, size_t n_addrs)
{
	struct ln_manager *m = ud;
	const struct ln_config *c = m->gen->cfg;
	__u64 now = mono_ns();

	for (size_t i = 0; i < n_addrs; i++) {
		__u32 ttl = addrs[i].ttl;
		__u64 exp;

		if (ttl < c->dns_ttl_min)
			ttl = c->dns_ttl_min;
		if (ttl > c->dns_ttl_max)
			ttl = c->dns_ttl_max;
		exp = now + ttl * 1000000000ULL;
		cache_store(m->names, addrs[i].addr.addr, names, n_names, exp);
		record_addr(m, m->gen, addrs[i].addr.addr, names, n_names, exp);
	}
}

static __u32 op_name_blocked(void *ud, __u32 policy_id, const char *name, bool *audit)
{
	struct ln_manager *m = ud;
	struct ln_generation *g = m->gen;
	const struct ln_config *c = g->cfg;
	__u32 id = 0;

	*audit = c->audit || (policy_id && policy_id <= c->n_policies &&
			      c->policies[policy_id - 1].audit);
	if (g->domains)
		id = ln_domain_set_lookup(g->domains, name);
	if (!id && policy_id && policy_id <= g->n_policy_domains &&
	    g->policy_domains[policy_id - 1])
		id = ln_domain_set_lookup(g->policy_domains[policy_id - 1], name);
	return id;
}

static int op_slot_lookup(void *ud, __u16 slot, struct ln_dns_slot *out)
{
	struct ln_manager *m = ud;
	struct ln_dns_slot_val v;
	__u32 key = slot;
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (bpf_map_lookup_elem(m->dns_slot_owner_fd, &key, &v) < 0)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->policy_id = v.owner.policy_id;
	if (!memcmp(v.owner.addr, mapped, sizeof(mapped))) {
		struct sockaddr_in *sin = (void *)&out->server;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(v.owner.port);
		memcpy(&sin->sin_addr, &v.owner.addr[12], 4);
		out->server_len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&out->server;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(v.owner.port);
		memcpy(&sin6->sin6_addr, v.owner.addr, LN_ADDR_LEN);
		out->server_len = sizeof(*sin6);
	}
	return 0;
}

static const char *qtype_name(__u16 t, char *buf, size_t len)
{
	switch (t) {
	case 1:
		return "A";
	case 28:
		return "AAAA";
	case 5:
		return "CNAME";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 33:
		return "SRV";
	case 65:
		return "HTTPS";
	default:
		snprintf(buf, len, "TYPE%u", t);
		return buf;
	}
}

/* "127.0.0.1:5353" / "[::1]:5353", "-" if unknown. */
static void format_client(const struct sockaddr *client, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	snprintf(buf, len, "-");
	if (client && client->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)client;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(buf, len, "%s:%u", addr, ntohs(sin->sin_port));
	} else if (client && client->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)client;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, len, "[%s]:%u", addr, ntohs(sin6->sin6_port));
	}
}

/* A listed name the proxy blocked, or (audit) reported and answered. */
static void op_blocked(void *ud, const struct ln_dns_block *b)
{
	struct ln_manager *m = ud;
	const struct ln_config *c = m->gen->cfg;
	char rule[600], cl[INET6_ADDRSTRLEN + 8], tb[16];
	struct ln_record r = LN_RECORD_INIT(LN_RECORD_DNS);
	__u32 id = b->policy_id;

	ln_rule_id_format(&c->sources, b->rule_id, rule, sizeof(rule));
	format_client(b->client, cl, sizeof(cl));
	r.deny = true;
	r.verdict = b->audit ? "would-deny" : "deny";
	r.proto = "dns";
	r.name = b->name;
	r.qtype = qtype_name(b->qtype, tb, sizeof(tb));
	r.client = cl;
	r.policy = id && id <= c->n_policies ? c->policies[id - 1].name : "-";
	r.rule = rule;
	r.reason = ln_reason_name(LN_REASON_DOMAIN_BLOCKLIST);
	ln_report(m, &r);
}

static const struct ln_dns_proxy_ops proxy_ops = {
	.slot_lookup = op_slot_lookup,
	.name_blocked = op_name_blocked,
	.record = op_record,
	.blocked = op_blocked,
};

static struct ln_dns_state state_of(struct ln_manager *m, bool on)
{
	const struct ln_config *c = m->gen->cfg;

	return (struct ln_dns_state){
		.heartbeat_ns = on ? mono_ns() : 0,
		.agent_tgid = getpid(),
		.base_port = c->dns_port,
		.n_slots = on ? LN_DNS_SLOTS : 0,
	};
}

/* On: through the heartbeat thread, the one writer while it runs. */
static int write_state(struct ln_manager *m, bool on)
{
	struct ln_dns_state st = state_of(m, on);
	__u32 zero = 0;

	if (on && m->heartbeat)
		return ln_heartbeat_set(m->heartbeat, &st);
	return bpf_map_update_elem(m->dns_state_fd, &zero, &st, BPF_ANY) < 0 ? -errno : 0;
}

/* Free slots nobody used for a while, so (server, policy) pairs can't use them all up. */
static void gc_slots(struct ln_manager *m)
{
	__u64 now = mono_ns();
	__u32 key, next, *prev = NULL;
	struct ln_dns_slot_val v;

	while (bpf_map_get_next_key(m->dns_slot_owner_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->dns_slot_owner_fd, &key, &v) < 0)
			continue;
		if (now - v.last_used_ns < SLOT_IDLE_NS)
			continue;
		bpf_map_delete_elem(m->dns_slot_by_owner_fd, &v.owner);
		bpf_map_delete_elem(m->dns_slot_owner_fd, &key);
	}
}

/* The heartbeat itself is the thread's (heartbeat.c): the loop only shows it is alive. */
static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ln_manager *m = userdata;
	static unsigned int ticks;
	__u64 gap;

	sd_event_source_set_time(s, usec + 1000000);
	gap = ln_heartbeat_loop_alive(m->heartbeat);
	if (gap >= LN_LOOP_STALL_NS)
		ln_note(m, LOG_WARNING, "the event loop was stuck for %llu s: guarded DNS went "
			"direct meanwhile", (unsigned long long)(gap / 1000000000ULL));
	if (++ticks % 60 == 0)
		gc_slots(m);
	return 0;
}

int ln_dns_start(struct ln_manager *m, struct ln_error *err)
{
	const struct ln_config *c = m->gen->cfg;
	struct ln_dns_proxy_config pc = {
		.base_port = c->dns_port,
		.n_slots = LN_DNS_SLOTS,
		.block_mode = c->dns_block,
		.timeout_ms = 4000,
		.ops = &proxy_ops,
		.ud = m,
	};
	struct ln_dns_state st;
	int r;

	if (!c->dns)
		return 0;
	r = ln_dns_proxy_start(m->event, &pc, &m->dns, err);
	if (r < 0)
		return r;
	st = state_of(m, true);
	r = ln_heartbeat_start(m->dns_state_fd, &st, &m->heartbeat);
	if (r < 0)
		return ln_err(err, r, "DNS state map: %s", strerror(-r));
	r = sd_event_add_time_relative(m->event, &m->heartbeat_source, CLOCK_MONOTONIC, 1000000,
				       100000, on_heartbeat, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->heartbeat_source, SD_EVENT_ON);
	if (r < 0)
		return ln_err(err, r, "DNS heartbeat timer: %s", strerror(-r));
	return 0;
}

void ln_dns_stop(struct ln_manager *m)
{
	ln_heartbeat_stop(m->heartbeat);
	m->heartbeat = NULL;
	/* Only the agent whose proxy ran switches the redirect off: not one that failed to start. */
	if (m->dns && m->dns_state_fd >= 0 && m->gen)
		write_state(m, false);
	m->heartbeat_source = sd_event_source_disable_unref(m->heartbeat_source);
	ln_dns_proxy_stop(m->dns);
	m->dns = NULL;
	if (m->names) {
		for (size_t i = 0; i < NAME_CACHE_SLOTS; i++)
			entry_clear(&m->names->v[i]);
		free(m->names);
		m->names = NULL;
	}
}

/*
 * The domain sets of @g's configuration. The parsed lists are released once
 * the sets hold them: the sets are all the proxy reads, and a list kept
 * beside its set would double the memory per name.
 */
static int build_sets(struct ln_generation *g, struct ln_error *err)
{
	struct ln_config *c = g->cfg;
	const struct ln_domainlist *lists[1] = { &c->domains };
	int r = -ENOMEM;

	g->domain_refs = calloc(1, sizeof(*g->domain_refs));
	g->policy_domains = calloc(c->n_policies ? c->n_policies : 1, sizeof(*g->policy_domains));
	if (!g->domain_refs || !g->policy_domains)
		goto fail;
	*g->domain_refs = 1;
	g->n_policy_domains = c->n_policies;
	if (c->domains.n) {
		r = ln_domain_set_build(&g->domains, lists, 1);
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < c->n_policies; i++) {
		lists[0] = &c->policies[i].domains;
		if (!lists[0]->n)
			continue;
		r = ln_domain_set_build(&g->policy_domains[i], lists, 1);
		if (r < 0)
			goto fail;
	}
	ln_domainlist_free(&c->domains);
	for (size_t i = 0; i < c->n_policies; i++)
		ln_domainlist_free(&c->policies[i].domains);
	/* A million small names freed: give the pages back, not just to malloc. */
	malloc_trim(0);
	return 0;
fail:
	return ln_err(err, r, "building the domain sets: %s", strerror(-r));
}

int ln_dns_prepare(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	/* A hostname refresh: same configuration, same sets (the loop swaps only after). */
	if (m->gen && m->gen->cfg == g->cfg && m->gen->domain_refs) {
		g->domains = m->gen->domains;
		g->policy_domains = m->gen->policy_domains;
		g->n_policy_domains = m->gen->n_policy_domains;
		g->domain_refs = m->gen->domain_refs;
		(*g->domain_refs)++;
		return 0;
	}
	return build_sets(g, err);
}

int ln_dns_replay(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	__u64 now = mono_ns();

	if (!m->names) {
		m->names = calloc(1, sizeof(*m->names));
		if (!m->names)
			return ln_err(err, -ENOMEM, "the DNS name cache: out of memory");
	}
	/* Answers still live keep their verdicts under the new policy. */
	for (size_t i = 0; i < NAME_CACHE_SLOTS; i++) {
		struct name_entry *e = &m->names->v[i];

		if (e->n_names && e->expires_ns > now)
			record_addr(m, g, e->addr, (const char *const *)e->names, e->n_names,
				    e->expires_ns);
	}
	return 0;
}

void ln_dns_generation_free(struct ln_generation *g)
{
	if (g->domain_refs && --*g->domain_refs)
		goto forget; /* still in use by another generation */
	for (size_t i = 0; i < g->n_policy_domains; i++)
		ln_domain_set_free(g->policy_domains[i]);
	free(g->policy_domains);
	ln_domain_set_free(g->domains);
	free(g->domain_refs);
forget:
	g->policy_domains = NULL;
	g->domains = NULL;
	g->domain_refs = NULL;
	g->n_policy_domains = 0;
}
