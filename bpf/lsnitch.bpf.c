// SPDX-License-Identifier: GPL-2.0
/* lsnitch cgroup/connect4|6 and sendmsg4|6 programs: verdicts before any packet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define LN_INLINE static __always_inline
#include "lsnitch.h"
#include "lsnitch_exe_filter.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Every map, sized by the agent before load. */
#include "maps.bpf.h"

LN_INLINE void ln_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1;
}

/* New cgroups the agent has not seen yet, decided by name: cg_child.bpf.h. */
#include "cg_child.bpf.h"
/* Exe policies: the policy of the task's executable within its scope. */
#include "exe.bpf.h"

/* The walk up a cgroup's path to the nearest one a policy names: cgroup_walk.bpf.h. */
#include "cgroup_walk.bpf.h"

/*
 * Nearest ancestor of cgroup @cg that a policy names; 0: none. @cg is the
 * calling task's cgroup, or with @skb (cgroup_skb programs) the socket's: the
 * ancestor ids come from the one or the other.
 */
LN_INLINE __u32 ln_cgroup_policy(const struct ln_config_val *cfg, __u64 cg, struct __sk_buff *skb,
				  struct bpf_sock_addr *sa)
{
	struct ln_cache_val *cached, fresh;
	__u32 policy_id, generation;

	if (!(cfg->flags & LN_CFG_HAS_POLICIES))
		return LN_POLICY_IMPLICIT;
	/*
	 * Read the generation once, before the walk: the agent binds a new
	 * cgroup, then bumps the generation. Were it read after the walk, a
	 * walk that missed the new binding could be cached as current.
	 */
	generation = *(volatile __u32 *)&cfg->generation;
	cached = bpf_map_lookup_elem(&policy_cache, &cg);
	if (cached && cached->generation == generation)
		return cached->policy_id;
	policy_id = skb  ? ln_cgroup_walk_skb(skb, cg)
		    : sa ? ln_cgroup_walk_sa(sa, cg)
			 : ln_cgroup_walk_task(cg);
	/* Pending ends when the agent writes the entry, with no bump: not cached. */
	if (policy_id == LN_POLICY_PENDING) {
		ln_count(LN_CNT_PENDING);
		return policy_id;
	}
	fresh.policy_id = policy_id;
	fresh.generation = generation;
	bpf_map_update_elem(&policy_cache, &cg, &fresh, BPF_ANY);
	return policy_id;
}

/* @ctx: the slot's inner map (ln_blocklist()), carried through the bisection. */
LN_INLINE const struct ln_pack4_page *ln_pack4_page_at(void *ctx, __u32 page)
{
	return bpf_map_lookup_elem(ctx, &page);
}

LN_INLINE const struct ln_pack6_page *ln_pack6_page_at(void *ctx, __u32 page)
{
	return bpf_map_lookup_elem(ctx, &page);
}

LN_INLINE int ln_bloom_bit(void *ctx, __u32 bit)
{
	__u32 word = bit >> 6;
	__u64 *w = bpf_map_lookup_elem(ctx, &word);

	return w && ((*w >> (bit & 63)) & 1);
}

/* bpf_loop() callbacks: the verifier checks one bisection step, not 26 paths. */
static long ln_pack4_cb(__u32 i, void *b);
static long ln_pack6_cb(__u32 i, void *b);
static long ln_bloom_cb(__u32 i, void *b);
#define LN_BISECT4(b) bpf_loop(LN_PACK_STEPS, ln_pack4_cb, (b), 0)
#define LN_BISECT6(b) bpf_loop(LN_PACK_STEPS, ln_pack6_cb, (b), 0)
#define LN_BLOOM_LOOP(b) bpf_loop(LN_BLOOM_LENS, ln_bloom_cb, (b), 0)
#include "lsnitch_search.h"

static long ln_pack4_cb(__u32 i, void *b)
{
	return ln_pack4_step(b);
}

static long ln_pack6_cb(__u32 i, void *b)
{
	return ln_pack6_step(b);
}

static long ln_bloom_cb(__u32 i, void *b)
{
	return ln_bloom_step(i, b);
}

struct ln_words {
	__u32 w[4]; /* the address, host-order words */
};

/*
 * Rule id of the blocklist entry of set @set covering @a, or 0, from the list
 * slot in force: lists_sel is read once, so the head, the Bloom filter and the
 * pages are all the old slot's or all the new one's. A global function: the
 * verifier checks it once, not at each of its call sites.
 */
__attribute__((noinline)) __u32 ln_blocklist(__u32 set, const struct ln_words *a)
{
	const struct ln_lists_head *h;
	void *heads, *bloom, *pages;
	__u32 key = 0, *sel; /* one key for every lookup: the stack is full */
	int v4;

	sel = bpf_map_lookup_elem(&lists_sel, &key);
	if (!sel || !a)
		return 0;
	key = *(volatile __u32 *)sel;
	heads = bpf_map_lookup_elem(&bl_heads, &key);
	key = set;
	h = heads ? bpf_map_lookup_elem(heads, &key) : NULL;
	if (!h)
		return 0;
	v4 = a->w[0] == 0 && a->w[1] == 0 && a->w[2] == 0x0000ffff;
	if (v4 ? !h->lists.v4.cnt : !h->lists.v6.cnt)
		return 0;
	key = h->slot;
	bloom = bpf_map_lookup_elem(&bl_bloom, &key);
	if (!bloom || !ln_bloom_maybe(bloom, &h->lists, set, !v4, a->w, h->bloom_mask))
		return 0;
	key = h->slot;
	pages = bpf_map_lookup_elem(v4 ? (void *)&bl_pack4 : (void *)&bl_pack6, &key);
	if (!pages)
		return 0;
	if (v4)
		return ln_pack4_find(pages, &h->lists.v4, a->w[3]);
	return ln_pack6_find(pages, &h->lists.v6, ((__u64)a->w[0] << 32) | a->w[1],
			     ((__u64)a->w[2] << 32) | a->w[3]);
}

/* The lookups lsnitch_decide.h asks for; @ctx is the config map's value. */
LN_INLINE const struct ln_rule_set *ln_lookup_rules(const void *ctx, __u32 policy_id,
						    const __u8 *addr)
{
	struct ln_rule_key rk = { .prefixlen = 32 + 128, .policy_id = policy_id };

	__builtin_memcpy(rk.addr, addr, LN_ADDR_LEN);
	return bpf_map_lookup_elem(&rules, &rk);
}

LN_INLINE const struct ln_rule_set *ln_lookup_dns(const void *ctx, __u32 policy_id,
						  const __u8 *addr)
{
	struct ln_bl_key dk = { .set = policy_id };
	const struct ln_dns_verdict *dv;

	__builtin_memcpy(dk.addr, addr, LN_ADDR_LEN);
	dv = bpf_map_lookup_elem(&dns_verdicts, &dk);
	return dv && bpf_ktime_get_ns() < dv->expires_ns ? &dv->rs : NULL;
}

/* @l: unused here, the slot in force has the regions (ln_blocklist()). */
LN_INLINE __u32 ln_lookup_blocklist(const void *ctx, const struct ln_lists *l, __u32 set,
				    const __u8 *addr)
{
	const __u32 *aw = (const __u32 *)addr;
	struct ln_words w = { { bpf_ntohl(aw[0]), bpf_ntohl(aw[1]), bpf_ntohl(aw[2]),
				bpf_ntohl(aw[3]) } };

	return ln_blocklist(set, &w);
}

LN_INLINE const struct ln_nat64 *ln_lookup_nat64(const void *ctx)
{
	return &((const struct ln_config_val *)ctx)->nat64;
}

__attribute__((noinline)) __u32 ln_rule_set_match_bpf(const struct ln_rule_set *rs, __u16 port,
						      __u8 proto);

/*
 * Its index is any number to the verifier: masked here, in the register every
 * later use copies, so rs->e[i] is in bounds whatever the compiler makes of the
 * checks after (an asm: the compiler would drop a mask it knows is redundant).
 */
LN_INLINE int ln_rule_set_match_call(const struct ln_rule_set *rs, __u16 port, __u8 proto)
{
	__u32 i = ln_rule_set_match_bpf(rs, port, proto);

	if (i >= LN_RULES_PER_PREFIX)
		return -1;
	asm volatile("%0 &= %1" : "+r"(i) : "i"(LN_RULES_PER_PREFIX - 1));
	return (int)i;
}

#define LN_RULE_SET_MATCH ln_rule_set_match_call
#define LN_DECIDE_LOOKUPS
#include "lsnitch_decide.h"

/*
 * ln_rule_set_match() as a global function: checked once, and its index is a
 * number the verifier does not split the decision's states by.
 */
__attribute__((noinline)) __u32 ln_rule_set_match_bpf(const struct ln_rule_set *rs, __u16 port,
						      __u8 proto)
{
	return rs ? (__u32)ln_rule_set_match(rs, port, proto) : (__u32)-1;
}

LN_INLINE const struct ln_policy_val *ln_policy_by_id(__u32 policy_id);

/*
 * The decision from scratch (a verdict cache miss, a packet on the slow path)
 * for @a, @port, @proto under policy @policy_id, into @d. A global function:
 * the verifier checks the decision, both address forms included, once, not in
 * every state its callers reach it in. Pointers do not cross into it: it looks
 * the config and the policy up again.
 */
__attribute__((noinline)) int ln_decide_bpf(__u32 policy_id, const struct ln_words *a,
					    __u16 port, __u8 proto, struct ln_decision *d)
{
	const struct ln_config_val *cfg;
	__u32 zero = 0;

	if (!a || !d)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 0;
	ln_decide(cfg, ln_policy_by_id(policy_id), policy_id, &cfg->lists, (const __u8 *)a, port,
		  proto, d);
	return 0;
}

/* Event records: ring buffer reservation, the task, the repeat limiter. */
#include "event.bpf.h"

LN_INLINE void ln_report(struct bpf_sock_addr *ctx, const __u8 *addr, __u16 port, __u64 cg,
			 __u32 policy_id, const struct ln_decision *d, __u8 hook)
{
	struct ln_event *e = ln_event_start(cg, policy_id, d, hook);

	if (!e)
		return;
	__builtin_memcpy(e->addr, addr, LN_ADDR_LEN);
	e->port = port;
	/* A send to the connected peer has no address, so no address family. */
	e->family = ctx->user_family ? ctx->user_family : ctx->family;
	e->proto = ctx->protocol;
	bpf_ringbuf_submit(e, 0);
}

/* Who asked: the redirected socket's task, for the proxy's events. */
#include "dns_asker.bpf.h"
/* The DNS redirect: the proxy's state, a slot per (server, policy), the redirect. */
#include "dns_redirect.bpf.h"

/* Flow accounting: every final verdict into a bounded table the agent drains. */
#include "flow.bpf.h"

/* Verdicts already decided, per (cgroup, destination, port, protocol). */
#include "verdict_cache.bpf.h"

/* A hook's verdict counted as a flow: a cached one where its flow was counted last. */
#include "flow_sa.bpf.h"

/* What a pending cgroup is under: every verdict a deny with reason "pending". */
static const struct ln_policy_val ln_pending_policy = {.flags = LN_POLICY_PENDING_DENY};

LN_INLINE const struct ln_policy_val *ln_policy_by_id(__u32 policy_id)
{
	if (policy_id == LN_POLICY_PENDING)
		return &ln_pending_policy;
	return bpf_map_lookup_elem(&policies, &policy_id);
}

/*
 * The policy of cgroup @cg (the calling task's, or with @skb or @sa the
 * socket's), its id in *@policy_id; NULL: none at all, or not guarded
 * (LN_POLICY_NONE). @exe: the task's executable if the caller read it.
 */
LN_INLINE const struct ln_policy_val *ln_policy_at(const struct ln_config_val *cfg, __u64 cg,
						   struct __sk_buff *skb, struct bpf_sock_addr *sa,
						   const struct ln_exe_id *exe, __u32 *policy_id)
{
	const struct ln_policy_val *pol;
	__u32 zero = 0;

	*policy_id = ln_cgroup_policy(cfg, cg, skb, sa);
	if (*policy_id == LN_POLICY_NONE)
		return NULL; /* below a gate: no --cgroup guards it */
	pol = ln_policy_by_id(*policy_id);
	if (pol)
		return ln_exe_refine(pol, skb, sa, exe, policy_id);
	*policy_id = LN_POLICY_IMPLICIT;
	return bpf_map_lookup_elem(&policies, &zero);
}

LN_INLINE const struct ln_policy_val *ln_policy_of(const struct ln_config_val *cfg, __u64 cg,
						   struct __sk_buff *skb, __u32 *policy_id)
{
	return ln_policy_at(cfg, cg, skb, NULL, NULL, policy_id);
}

LN_INLINE const struct ln_policy_val *ln_policy(const struct ln_config_val *cfg, __u64 cg,
						__u32 *policy_id)
{
	return ln_policy_of(cfg, cg, NULL, policy_id);
}

/* Counts and reports @d; 1 allow, 0 deny (EPERM). */
LN_INLINE int ln_enforce(struct bpf_sock_addr *ctx, const __u8 *addr, __u16 port, __u64 cg,
			 __u32 policy_id, const struct ln_decision *d, __u8 hook)
{
	if (d->verdict == LN_VERDICT_ALLOW)
		ln_count(LN_CNT_ALLOWED);
	else if (d->audit)
		ln_count(LN_CNT_AUDITED);
	else
		ln_count(LN_CNT_DENIED);
	if (d->log)
		ln_report(ctx, addr, port, cg, policy_id, d, hook);
	return d->verdict == LN_VERDICT_DENY && !d->audit ? 0 : 1;
}

/* The one decision path of every hook: 1 allow, 0 deny (EPERM), or LN_REDIRECT | port. */
LN_INLINE int ln_check(struct bpf_sock_addr *ctx, const __u8 *addr, __u16 port, __u8 hook)
{
	/* the verdict asked for: also the cache's key and the flow's */
	struct ln_vc_ref vc = { .port = port, .proto = ctx->protocol };
	const struct ln_words *a = (const struct ln_words *)addr;
	const struct ln_policy_val *pol = NULL;
	const struct ln_config_val *cfg;
	struct ln_decision d = {};
	__u32 zero = 0;
	int to = 0, hit = 0;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 1;
	/* the task, read once: cgroup; executable for policy choice, cache key, socket note */
	if (ln_task_exe(&vc.exe, &vc.cg)) { /* a socket the kernel connects for a process */
		vc.cg = ln_sa_cgroup_id(ctx);
		vc.uncached = 1;
		pol = ln_policy_at(cfg, vc.cg, NULL, ctx, NULL, &vc.policy_id);
	} else {
		hit = ln_vc_get(cfg, &vc, a, &d);
		if (!hit)
			pol = ln_policy_at(cfg, vc.cg, NULL, NULL, &vc.exe, &vc.policy_id);
	}
	if (!hit) {
		if (!pol)
			return 1;
		vc.exe_note = ln_exe_noted(pol);
		ln_vc_stamp(&vc);
		ln_decide_bpf(vc.policy_id, a, port, vc.proto, &d);
		to = ln_dns_divert(ctx, a, port, vc.proto, vc.policy_id, vc.cg, &d);
	}
	if (to & LN_DNS_REFUSE) {
		/* fail closed, even under audit: never direct while the proxy runs */
		d.verdict = LN_VERDICT_DENY;
		d.reason = (__u8)to;
		d.rule_id = 0;
		d.audit = 0;
		d.log = 1;
	}
	ln_exe_note(ctx, vc.exe_note, &vc.exe);
	ln_flow_note(&vc, a, &d, (to & LN_REDIRECT) ? LN_FLOW_DNS : 0, hit);
	if (to & LN_REDIRECT) /* the asker noted (ln_dns_redirect_sa()) */
		return to;
	if (!hit && !vc.uncached) /* ln_vc_cacheable() does the rest */
		ln_vc_put(&vc, a, &d);
	return ln_enforce(ctx, addr, port, vc.cg, vc.policy_id, &d, hook);
}

LN_INLINE void ln_addr_from_v4(__u8 *addr, __u32 ip4)
{
	__u32 *w = (__u32 *)addr;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = ip4;
}

LN_INLINE void ln_addr_from_v6(__u8 *addr, const struct bpf_sock_addr *ctx)
{
	__u32 *w = (__u32 *)addr;

	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
}

/* 127.0.0.1, ::ffff:127.0.0.1 or ::1: where the DNS proxy listens. */
LN_INLINE int ln_is_proxy_addr(const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;

	return !w[0] && !w[1] &&
	       ((!w[2] && w[3] == bpf_htonl(1)) ||
		(w[2] == bpf_htonl(0x0000ffff) && w[3] == bpf_htonl(0x7f000001)));
}

/*
 * A UDP send with no address -- a connected socket sending with a control
 * message (IP_TOS, IPV6_TCLASS, IP_PKTINFO...) -- runs sendmsg4|6 with a zero
 * address and port 0, meaning the connected peer: ctx->sk's, into @addr, its
 * port returned. A send that names port 0 is refused by the kernel before the
 * hook, so no address can pass for this. A peer that is the DNS proxy
 * (connect() was redirected) is decided as the server it stands for; a
 * redirect written to the context then goes nowhere: with no address, the
 * kernel hands the program a scratch one and ignores it afterwards.
 */
LN_INLINE __u16 ln_peer(struct bpf_sock_addr *ctx, __u32 *addr, int v6)
{
	const struct ln_dns_slot_val *v = NULL;
	struct bpf_sock *sk = ctx->sk;
	__u16 port = bpf_ntohs(sk->dst_port);

	if (v6) {
		addr[0] = sk->dst_ip6[0];
		addr[1] = sk->dst_ip6[1];
		addr[2] = sk->dst_ip6[2];
		addr[3] = sk->dst_ip6[3];
	} else {
		ln_addr_from_v4((__u8 *)addr, sk->dst_ip4);
	}
	if (ln_is_proxy_addr((__u8 *)addr))
		v = ln_dns_owner_of(ctx, port, ln_dns_kind((__u8 *)addr, ctx->protocol));
	if (!v)
		return port;
	__builtin_memcpy(addr, v->owner.addr, LN_ADDR_LEN);
	return v->owner.port;
}

/*
 * The hooks write the context themselves, field by field with constant
 * offsets: the verifier refuses context writes through computed pointers.
 */
LN_INLINE int ln_hook4(struct bpf_sock_addr *ctx, __u8 hook)
{
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u32 addr[4];
	int r;

	if (hook == LN_HOOK_SENDMSG4 && !port)
		port = ln_peer(ctx, addr, 0);
	else
		ln_addr_from_v4((__u8 *)addr, ctx->user_ip4);
	r = ln_check(ctx, (__u8 *)addr, port, hook);
	if (r & LN_REDIRECT) {
		ctx->user_ip4 = bpf_htonl(0x7f000001);
		ctx->user_port = bpf_htons((__u16)r);
		return 1;
	}
	return r;
}

LN_INLINE int ln_hook6(struct bpf_sock_addr *ctx, __u8 hook)
{
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u32 addr[4];
	int r;

	if (hook == LN_HOOK_SENDMSG6 && !port)
		port = ln_peer(ctx, addr, 1);
	else
		ln_addr_from_v6((__u8 *)addr, ctx);
	r = ln_check(ctx, (__u8 *)addr, port, hook);
	if (r & LN_REDIRECT) {
		/* A v4-mapped server is redirected to the v4-mapped loopback. */
		if (ln_is_v4_mapped((__u8 *)addr)) {
			ctx->user_ip6[2] = bpf_htonl(0x0000ffff);
			ctx->user_ip6[3] = bpf_htonl(0x7f000001);
		} else {
			ctx->user_ip6[0] = 0;
			ctx->user_ip6[1] = 0;
			ctx->user_ip6[2] = 0;
			ctx->user_ip6[3] = bpf_htonl(1);
		}
		ctx->user_port = bpf_htons((__u16)r);
		return 1;
	}
	return r;
}

SEC("cgroup/connect4")
int ln_connect4(struct bpf_sock_addr *ctx)
{
	return ln_hook4(ctx, LN_HOOK_CONNECT4);
}

SEC("cgroup/connect6")
int ln_connect6(struct bpf_sock_addr *ctx)
{
	return ln_hook6(ctx, LN_HOOK_CONNECT6);
}

SEC("cgroup/sendmsg4")
int ln_sendmsg4(struct bpf_sock_addr *ctx)
{
	return ln_hook4(ctx, LN_HOOK_SENDMSG4);
}

SEC("cgroup/sendmsg6")
int ln_sendmsg6(struct bpf_sock_addr *ctx)
{
	return ln_hook6(ctx, LN_HOOK_SENDMSG6);
}

/* Replies and peer names of redirected DNS: recvmsg4|6, getpeername4|6. */
#include "dns_restore.bpf.h"

/* Socket kinds at socket(): cgroup/sock_create and lsm_cgroup/socket_create. */
#include "sock_create.bpf.h"
/* The same for AF_PACKET where no lsm_cgroup program runs: one global program. */
#include "packet_global.bpf.h"

/* Resolver sockets: cgroup/connect_unix (set by the agent), nss-resolve's and nscd's. */
#include "unix.bpf.h"

/* The packet-level backstop: cgroup_skb/egress, on the same maps and decision. */
#include "egress.bpf.h"

char LICENSE[] SEC("license") = "GPL";
