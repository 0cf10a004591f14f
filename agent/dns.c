// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's side of DNS: runs the resolver proxy, tells it which server and
 * policy a slot stands for, which names are blocked, and records the domain
 * verdicts of every answer, for the policy that asked, before it is relayed.
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
#include "dns_agent.h"
#include "lsnitch.skel.h"

#define LN_DNS_PORT_UNSET 10530 /* the rules' default dns-port: another value is warned about */

const char *ln_dns_name_of(struct ln_manager *m, __u32 policy_id,
			   const __u8 addr[LN_ADDR_LEN])
{
	if (!m->gen)
		return NULL;
	return ln_names_lookup(m->names, ln_dns_policy_key(m->gen->cfg, policy_id), addr);
}

/*
 * The rule set policy @policy_id of @g gives names @names (the question and
 * its CNAME chain): whether any of its domain rules matches. Only the policy
 * whose process asked: an answer from a server the asker chose must not open
 * anything for anyone else.
 */
static bool verdict_of(struct ln_generation *g, __u32 policy_id, const char *const *names,
		       size_t n_names, struct ln_rule_set *rs)
{
	const struct ln_policy *p;

	if (!policy_id || policy_id > g->cfg->n_policies)
		return false;
	p = &g->cfg->policies[policy_id - 1];
	return p->n_domain_rules && ln_domain_rules_match(p, names, n_names, rs) > 0;
}

/* Writes @n domain verdicts of policy @policy_id of @g into dns_verdicts in one syscall. */
static void write_verdicts(struct ln_manager *m, struct ln_generation *g, __u32 policy_id,
			   const struct ln_bl_key *keys, const struct ln_dns_verdict *v, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	int fd = bpf_map__fd(g->skel->maps.dns_verdicts);

	if (bpf_map_update_batch(fd, keys, v, &n, &opts) < 0)
		ln_note(m, LOG_WARNING, "recording a DNS verdict for policy %s: %m, ignoring",
			g->cfg->policies[policy_id - 1].name);
	/* after the write: this policy's verdicts cached before it are stale */
	ln_vc_policy_changed(g, policy_id);
}

/* The domain verdict of policy @policy_id of @g for one address resolved from @names. */
static void record_addr(struct ln_manager *m, struct ln_generation *g, __u32 policy_id,
			const __u8 *addr, const char *const *names, size_t n_names,
			__u64 expires_ns)
{
	struct ln_dns_verdict v = { .expires_ns = expires_ns };
	struct ln_bl_key k = { .set = policy_id };

	if (!verdict_of(g, policy_id, names, n_names, &v.rs))
		return;
	memcpy(k.addr, addr, LN_ADDR_LEN);
	write_verdicts(m, g, policy_id, &k, &v, 1);
}

#define RECORD_BATCH 64 /* verdicts written per syscall */

/*
 * Before the proxy relays an answer: its names for every address, and the
 * asking policy's domain verdicts, matched once for the whole answer (the
 * names are the same for each address) and written RECORD_BATCH at a time.
 */
static void op_record(void *ud, __u32 policy_id, const char *const *names, size_t n_names,
		      const struct ln_dns_answer_addr *addrs, size_t n_addrs)
{
	struct ln_manager *m = ud;
	const struct ln_config *c = m->gen->cfg;
	__u64 now = ln_dns_mono_ns(), key = ln_dns_policy_key(c, policy_id);
	struct ln_bl_key keys[RECORD_BATCH];
	struct ln_dns_verdict v[RECORD_BATCH];
	struct ln_rule_set rs;
	bool has = verdict_of(m->gen, policy_id, names, n_names, &rs);
	__u32 n = 0;

	for (size_t i = 0; i < n_addrs; i++) {
		__u32 ttl = addrs[i].ttl;
		__u64 exp;

		if (ttl < c->dns_ttl_min)
			ttl = c->dns_ttl_min;
		if (ttl > c->dns_ttl_max)
			ttl = c->dns_ttl_max;
		exp = now + ttl * 1000000000ULL;
		ln_names_store(m->names, key, addrs[i].addr.addr, names, n_names, exp);
		if (!has)
			continue;
		keys[n] = (struct ln_bl_key){ .set = policy_id };
		memcpy(keys[n].addr, addrs[i].addr.addr, LN_ADDR_LEN);
		v[n++] = (struct ln_dns_verdict){ .expires_ns = exp, .rs = rs };
		if (n == RECORD_BATCH || i + 1 == n_addrs) {
			write_verdicts(m, m->gen, policy_id, keys, v, n);
			n = 0;
		}
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

static const struct ln_dns_proxy_ops proxy_ops = {
	.slot_lookup = op_slot_lookup,
	.name_blocked = op_name_blocked,
	.record = op_record,
	.blocked = ln_dns_report_blocked,
	.server_refused = ln_dns_server_refused,
	.ports = ln_dns_slots_ports,
};

static struct ln_dns_state state_of(struct ln_manager *m, bool on)
{
	struct ln_dns_state st = {
		.heartbeat_ns = on ? ln_dns_mono_ns() : 0,
		.agent_tgid = getpid(),
		.n_slots = on ? LN_DNS_SLOTS : 0,
	};

	ln_dns_slots_state(m, &st);
	return st;
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

/* The heartbeat itself is the thread's (heartbeat.c): the loop only shows it is alive. */
static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ln_manager *m = userdata;
	__u64 gap;

	sd_event_source_set_time(s, usec + 1000000);
	gap = ln_heartbeat_loop_alive(m->heartbeat);
	if (gap >= LN_LOOP_STALL_NS)
		ln_note(m, LOG_WARNING, "the event loop was stuck for %llu s: guarded DNS went "
			"direct meanwhile", (unsigned long long)(gap / 1000000000ULL));
	ln_dns_slots_tick(m);
	return 0;
}

int ln_dns_start(struct ln_manager *m, struct ln_error *err)
{
	const struct ln_config *c = m->gen->cfg;
	struct ln_dns_proxy_config pc = {
		.n_slots = LN_DNS_SLOTS,
		.block_mode = c->dns_block,
		.timeout_ms = 4000,
		.cache = c->dns_cache,
		.cache_ttl_max = c->dns_ttl_max,
		.ops = &proxy_ops,
		.ud = m,
	};
	struct ln_dns_state st;
	int r;

	if (!c->dns)
		return 0;
	if (c->dns_port != LN_DNS_PORT_UNSET)
		ln_note(m, LOG_WARNING, "dns-port is deprecated and ignored: the proxy's ports are "
			"chosen by the kernel (none can be taken first)");
	r = ln_dns_slots_start(m, err);
	if (r >= 0)
		r = ln_dns_proxy_start(m->event, &pc, &m->dns, err);
	if (r >= 0)
		r = ln_dns_slots_listen(m, err);
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
	ln_dns_slots_stop(m);
	ln_names_free(m->names);
	m->names = NULL;
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

/* The policies of a new generation by name key, sorted: re-recording looks each answer up. */
struct rerecord {
	struct ln_manager *m;
	struct ln_generation *g;
	struct policy_key {
		__u64 key;
		__u32 id;
	} *keys;
};

static int key_cmp(const void *a, const void *b)
{
	const struct policy_key *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static void rerecord_one(void *ud, __u64 policy_key, const __u8 *addr, const char *const *names,
			 size_t n, __u64 expires_ns)
{
	struct rerecord *rr = ud;
	struct policy_key want = { .key = policy_key }, *k;

	k = bsearch(&want, rr->keys, rr->g->cfg->n_policies, sizeof(*k), key_cmp);
	if (k)
		record_addr(rr->m, rr->g, k->id, addr, names, n, expires_ns);
}

/* Answers still live keep their verdicts under the new policy of the same name. */
static int rerecord(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	size_t n = g->cfg->n_policies;
	struct rerecord rr = { m, g, calloc(n ? n : 1, sizeof(*rr.keys)) };

	if (!rr.keys)
		return ln_err(err, -ENOMEM, "the DNS name cache: out of memory");
	for (__u32 id = 1; id <= n; id++)
		rr.keys[id - 1] = (struct policy_key){ ln_dns_policy_key(g->cfg, id), id };
	qsort(rr.keys, n, sizeof(*rr.keys), key_cmp);
	ln_names_each_live(m->names, rerecord_one, &rr);
	free(rr.keys);
	return 0;
}

/* Off the loop (reload worker): the domain sets of @g. */
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

/* On the loop, before the swap: resolvers (resolv.conf, may warn) and live answers. */
int ln_dns_replay(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	int r;

	if (!m->names) {
		m->names = ln_names_new();
		if (!m->names)
			return ln_err(err, -ENOMEM, "the DNS name cache: out of memory");
	}
	r = ln_dns_servers_prepare(m, g, err);
	if (r < 0)
		return r;
	return rerecord(m, g, err);
}

void ln_dns_generation_free(struct ln_generation *g)
{
	ln_dns_servers_release(g);
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
