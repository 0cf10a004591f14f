/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DNS redirect (included by lsnitch.bpf.c): while the agent's proxy is
 * alive, a guarded port-53 query goes to the proxy socket of its (server,
 * policy) slot in the asker's own netns; with no slot or no such socket it is
 * refused, never sent direct. The restore hooks ask which server a port stands for.
 */
#ifndef LSNITCH_DNS_REDIRECT_BPF_H
#define LSNITCH_DNS_REDIRECT_BPF_H

#include "lsnitch_siphash.h"

/* ln_check() results beyond allow/deny: redirect to the proxy's port, or refuse (| reason). */
#define LN_REDIRECT 0x10000
#define LN_DNS_REFUSE 0x20000

/* The proxy is up (fresh heartbeat) and this is not one of its own sockets. */
LN_INLINE const struct ln_dns_state *ln_dns_active(void)
{
	const struct ln_dns_state *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&dns_state, &zero);
	if (!st || !st->n_slots || st->n_slots > LN_DNS_MAX_SLOTS)
		return NULL;
	if (bpf_ktime_get_ns() - st->heartbeat_ns > LN_DNS_HEARTBEAT_NS)
		return NULL;
	if ((bpf_get_current_pid_tgid() >> 32) == st->agent_tgid)
		return NULL;
	return st;
}

LN_INLINE int ln_dns_owner_eq(const struct ln_dns_owner *a, const struct ln_dns_owner *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
}

struct bpf_map;

struct ln_dns_count {
	__u32 policy_id;
	__u32 n;
};

static long ln_dns_count_one(struct bpf_map *map, __u32 *slot, struct ln_dns_slot_val *v,
			     struct ln_dns_count *c)
{
	if (v->owner.policy_id == c->policy_id)
		c->n++;
	return 0;
}

/* A claim in progress: the entry to write, where probing starts, the slot found. */
struct ln_dns_probe {
	struct ln_dns_slot_val nv;
	__u32 h, n;
	int slot; /* -1: none yet */
};

/*
 * Probe @i of a claim: slot (h + i) % n taken for the owner, or already its.
 * A bpf_loop() callback: the verifier checks one probe, not each of up to
 * LN_DNS_MAX_SLOTS in turn. 1 (stop): the slot is found.
 */
static long ln_dns_probe_step(__u32 i, void *ctx)
{
	struct ln_dns_probe *pr = ctx;
	struct ln_dns_slot_val *cur;
	__u32 s;

	if (!pr->n)
		return 1;
	s = (pr->h + i) % pr->n;
	/* BPF_NOEXIST makes the claim atomic against other CPUs. */
	if (bpf_map_update_elem(&dns_slot_owner, &s, &pr->nv, BPF_NOEXIST) == 0) {
		bpf_map_update_elem(&dns_slot_by_owner, &pr->nv.owner, &s, BPF_ANY);
		pr->slot = (int)s;
		return 1;
	}
	cur = bpf_map_lookup_elem(&dns_slot_owner, &s);
	if (cur && ln_dns_owner_eq(&cur->owner, &pr->nv.owner)) {
		pr->slot = (int)s;
		return 1;
	}
	return 0;
}

/*
 * Claims a free slot for @o: probing from a keyed hash of all its bytes (no
 * set of servers can be aimed at a few slots), and only while its policy
 * holds fewer than policy_slots (one policy cannot take them all). -1: none.
 */
LN_INLINE int ln_dns_claim(const struct ln_dns_state *st, const struct ln_dns_owner *o)
{
	struct ln_dns_probe pr = {.nv = {.owner = *o, .last_used_ns = bpf_ktime_get_ns()},
				  .n = st->n_slots, .slot = -1};
	struct ln_dns_count c = {.policy_id = o->policy_id};

	bpf_for_each_map_elem(&dns_slot_owner, ln_dns_count_one, &c, 0);
	if (st->policy_slots && c.n >= st->policy_slots)
		return -1;
	pr.h = (__u32)ln_siphash_words(st->hash_key, (const __u32 *)o, sizeof(*o) / 4);
	bpf_loop(pr.n < LN_DNS_MAX_SLOTS ? pr.n : LN_DNS_MAX_SLOTS, ln_dns_probe_step, &pr, 0);
	return pr.slot;
}

/* The slot of (server, policy), claiming a free one on first use; -1 if none. */
LN_INLINE int ln_dns_slot(const struct ln_dns_state *st, const struct ln_dns_owner *o)
{
	struct ln_dns_slot_val *cur;
	__u32 *found;

	found = bpf_map_lookup_elem(&dns_slot_by_owner, o);
	if (!found)
		return ln_dns_claim(st, o);
	cur = bpf_map_lookup_elem(&dns_slot_owner, found);
	if (cur)
		cur->last_used_ns = bpf_ktime_get_ns();
	return *found < st->n_slots ? (int)*found : -1;
}

LN_INLINE int ln_is_v4_mapped(const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

/* Which proxy socket serves a query to @addr (v4 mapped: 127.0.0.1, else ::1) over @proto. */
LN_INLINE __u16 ln_dns_kind(const __u8 *addr, __u8 proto)
{
	return (ln_is_v4_mapped(addr) ? LN_DNS_UDP4 : LN_DNS_UDP6) + (proto == IPPROTO_TCP);
}

/* Asks the agent to serve netns @netns (it dedupes; a full ring drops the ask). */
LN_INLINE void ln_dns_request(__u64 netns, __u32 policy_id)
{
	struct ln_dns_netns_req *r = bpf_ringbuf_reserve(&dns_requests, sizeof(*r), 0);

	if (!r)
		return;
	r->netns = netns;
	r->tgid = bpf_get_current_pid_tgid() >> 32;
	r->policy_id = policy_id;
	bpf_ringbuf_submit(r, 0);
}

/*
 * The proxy port for a DNS query of (server, policy) from @ctx's netns, as
 * LN_REDIRECT | port; LN_DNS_REFUSE | reason when there is no slot, or no
 * proxy socket in that netns yet (the agent is asked to make them).
 */
LN_INLINE int ln_dns_redirect(void *ctx, const struct ln_dns_state *st, const __u8 *addr,
			      __u16 port, __u8 proto, __u32 policy_id)
{
	struct ln_dns_owner o = {.port = port, .policy_id = policy_id};
	struct ln_dns_port_key k = {.kind = ln_dns_kind(addr, proto)};
	__u32 *to;
	int slot;

	__builtin_memcpy(o.addr, addr, LN_ADDR_LEN);
	slot = ln_dns_slot(st, &o);
	if (slot < 0) {
		ln_count(LN_CNT_DNS_NO_SLOT);
		return LN_DNS_REFUSE | LN_REASON_DNS_NO_SLOT;
	}
	k.netns = bpf_get_netns_cookie(ctx);
	k.num = (__u32)slot;
	to = bpf_map_lookup_elem(&dns_ports, &k);
	if (!to) {
		ln_dns_request(k.netns, policy_id);
		ln_count(LN_CNT_DNS_NO_PROXY);
		return LN_DNS_REFUSE | LN_REASON_DNS_NO_PROXY;
	}
	ln_count(LN_CNT_DNS_REDIRECTED);
	return LN_REDIRECT | (__u16)*to;
}

/*
 * ln_dns_redirect() while the proxy is active (0 when not) for the query of a
 * sock_addr hook's @ctx to @a, port and protocol in @port_proto (port << 8 |
 * protocol), under @policy_id from cgroup @cg; a redirected query's asker noted.
 * A global function: the verifier checks the slot claim once, not in every
 * state of ln_check(), and the asker's record is not on the hook's stack.
 */
__attribute__((noinline)) int ln_dns_redirect_sa(struct bpf_sock_addr *ctx, const struct ln_words *a,
						 __u32 port_proto, __u32 policy_id, __u64 cg)
{
	const struct ln_dns_state *dns = ln_dns_active();
	int to;

	if (!dns || !a)
		return 0;
	to = ln_dns_redirect(ctx, dns, (const __u8 *)a, port_proto >> 8, (__u8)port_proto,
			     policy_id);
	return to & LN_REDIRECT ? ln_dns_asker_note(ctx, cg, policy_id, to) : to;
}

/*
 * DNS goes to the proxy, which applies the domain lists and records what
 * names resolve to; only an explicit deny rule, or a pending cgroup (no
 * policy to ask the proxy about yet), stops it here. Returns
 * LN_REDIRECT | port, LN_DNS_REFUSE | reason, or 0: decided here.
 */
LN_INLINE int ln_dns_divert(struct bpf_sock_addr *ctx, const struct ln_words *a, __u16 port,
			    __u8 proto, __u32 policy_id, __u64 cg, const struct ln_decision *d)
{
	int to;

	if (port != LN_DNS_PORT || (proto != IPPROTO_UDP && proto != IPPROTO_TCP))
		return 0;
	if (d->reason == LN_REASON_PENDING)
		return 0;
	if (d->reason == LN_REASON_RULE && d->verdict == LN_VERDICT_DENY && !d->audit)
		return 0;
	to = ln_dns_redirect_sa(ctx, a, (__u32)port << 8 | proto, policy_id, cg);
	/* the call's result is any number to the verifier: bound it for the hooks' writes */
	if (to & LN_REDIRECT)
		return LN_REDIRECT | (__u16)to;
	if (to & LN_DNS_REFUSE)
		return LN_DNS_REFUSE | (__u8)to;
	return 0;
}

/* The (server, policy) the proxy port @port (of @kind, in @ctx's netns) stands for, or NULL. */
LN_INLINE const struct ln_dns_slot_val *ln_dns_owner_of(void *ctx, __u16 port, __u16 kind)
{
	struct ln_dns_port_key k = {.num = port, .kind = kind, .by_port = 1};
	const struct ln_dns_state *st;
	__u32 zero = 0, *slot;

	st = bpf_map_lookup_elem(&dns_state, &zero);
	if (!st || !st->n_slots)
		return NULL;
	if ((bpf_get_current_pid_tgid() >> 32) == st->agent_tgid)
		return NULL;
	k.netns = bpf_get_netns_cookie(ctx);
	slot = bpf_map_lookup_elem(&dns_ports, &k);
	return slot ? bpf_map_lookup_elem(&dns_slot_owner, slot) : NULL;
}

#endif /* LSNITCH_DNS_REDIRECT_BPF_H */
