/* SPDX-License-Identifier: GPL-2.0 */
/* The verdict cache: a repeated (cgroup, executable, destination, port, protocol) in one probe. */
#ifndef LSNITCH_VERDICT_CACHE_BPF_H
#define LSNITCH_VERDICT_CACHE_BPF_H

/*
 * Per CPU, direct-mapped, a generation's own (a reload starts empty). A slot
 * is valid while the config's generation (cgroup bindings, exe policies'
 * files) and its policy's epoch (domain verdicts recorded for that policy)
 * are those it was decided under, and before the domain verdict it rests on,
 * if any, expires. Not cached: DNS (port 53: the
 * proxy's state decides), pending cgroups, sockets a kernel thread connects,
 * and addresses decided in two forms (NAT64, 6to4: ln_vc_cacheable()).
 *
 * A program may be preempted on its CPU by another running the same hook, so
 * slots are written under a sequence number: odd while a writer is in it
 * (taken with a compare-and-swap: a second writer leaves the slot alone),
 * and a reader that sees it odd or changed treats the slot as a miss.
 */
#define LN_VC_BITS 12
#define LN_VC_SLOTS (1u << LN_VC_BITS)

/*
 * The epochs, one per policy id (modulo LN_VC_EPOCHS: policies that share one
 * are emptied together, which is only slower). The agent bumps a policy's
 * after each write to its dns_verdicts, in the skeleton's mmapped .bss: one
 * policy's DNS answers leave every other policy's verdicts cached. A plain
 * global: read with a load, no helper call.
 */
#define LN_VC_EPOCHS 4096
__u32 ln_vc_epoch[LN_VC_EPOCHS];

LN_INLINE __u32 ln_vc_epoch_of(__u32 policy_id)
{
	return *(volatile __u32 *)&ln_vc_epoch[policy_id & (LN_VC_EPOCHS - 1)];
}

struct ln_vc_slot {
	__u64 seq;
	__u64 cg;
	struct ln_exe_id exe; /* exe policies: two executables of one cgroup may differ */
	__u32 addr[4];
	__u16 port;
	__u8 proto;
	__u8 exe_note; /* ln_exe_note(): the policy is or has exe policies */
	__u32 generation;
	__u32 epoch;
	__u32 policy_id;
	struct ln_decision d;
	__u64 expires_ns; /* 0: never; else the domain verdict's end (bpf_ktime_get_ns()) */
	struct ln_flow_ref flow; /* where this verdict's flow was counted (ln_flow_recount()) */
};
_Static_assert(sizeof(struct ln_vc_slot) == 96, "ln_vc_slot size");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LN_VC_SLOTS);
	__type(key, __u32);
	__type(value, struct ln_vc_slot);
} verdict_cache SEC(".maps");

/* A verdict asked for, and what a miss needs to cache the verdict decided instead. */
struct ln_vc_ref {
	__u64 cg;
	struct ln_exe_id exe; /* the task's (ln_task_exe()), zero: none */
	__u16 port;
	__u8 proto;
	__u8 uncached; /* 1: a kernel thread's socket, never cached */
	__u8 exe_note; /* the socket keeps its executable (ln_exe_note()) */
	__u8 pad[3];
	__u32 idx;
	__u32 generation, epoch;
	__u32 policy_id;
	struct ln_flow_ref flow; /* a hit: the slot's; after ln_flow_count(): where it counted */
};
/*
 * The address (struct ln_words: a global function's pointer argument needs a
 * sized type) and the decision stay the caller's: not copied into the ref, so
 * the hook's stack, with the cgroup walk's below it, stays within 512 bytes.
 */

#define LN_VC_BARRIER() asm volatile("" ::: "memory")

LN_INLINE __u32 ln_vc_index(const struct ln_vc_ref *r, const struct ln_words *a)
{
	__u64 h = (r->cg ^ (r->exe.ino << 20) ^ r->exe.dev) * 0x9e3779b97f4a7c15ULL;

	h ^= (((__u64)a->w[0] << 32) | a->w[1]) * 0xc2b2ae3d27d4eb4fULL;
	h ^= (((__u64)a->w[2] << 32) | a->w[3]) * 0x165667b19e3779f9ULL;
	h ^= ((__u64)r->port << 8 | r->proto);
	h *= 0x9e3779b97f4a7c15ULL;
	return (__u32)(h >> (64 - LN_VC_BITS));
}

LN_INLINE int ln_vc_same(const struct ln_vc_slot *s, const struct ln_vc_ref *r,
			 const struct ln_words *a)
{
	return s->cg == r->cg && s->exe.ino == r->exe.ino && s->exe.dev == r->exe.dev &&
	       s->addr[0] == a->w[0] && s->addr[1] == a->w[1] && s->addr[2] == a->w[2] &&
	       s->addr[3] == a->w[3] && s->port == r->port && s->proto == r->proto &&
	       s->generation == r->generation;
}

/*
 * The cached verdict of @r's (cg, exe, port, proto) and @a under config @cfg
 * into @d, r->policy_id and r->exe_note: 1 on a hit. The stamps are read
 * before anything the decision reads (the agent writes, then bumps), so a
 * verdict decided from older state carries an older stamp: the generation
 * here, the policy's epoch once the policy is known (ln_vc_stamp()). Inline:
 * a call costs the hot path more than the verifier's extra states cost the
 * load; ln_vc_put(), on the miss path only, is a global function.
 */
LN_INLINE int ln_vc_get(const struct ln_config_val *cfg, struct ln_vc_ref *r,
			 const struct ln_words *a, struct ln_decision *d)
{
	struct ln_vc_slot *s;
	__u64 seq, exp;
	__u32 epoch;

	r->generation = *(volatile const __u32 *)&cfg->generation;
	r->idx = ln_vc_index(r, a);
	s = bpf_map_lookup_elem(&verdict_cache, &r->idx);
	if (!s)
		return 0;
	seq = *(volatile __u64 *)&s->seq;
	LN_VC_BARRIER();
	if ((seq & 1) || !ln_vc_same(s, r, a))
		return 0;
	*d = s->d;
	r->policy_id = s->policy_id;
	r->exe_note = s->exe_note;
	r->flow = s->flow;
	epoch = s->epoch;
	exp = s->expires_ns;
	LN_VC_BARRIER();
	if (*(volatile __u64 *)&s->seq != seq || ln_vc_epoch_of(r->policy_id) != epoch)
		return 0;
	return !exp || bpf_ktime_get_ns() < exp;
}

/*
 * Whether @r's verdict may be cached, and until when (*@exp, 0: while the
 * stamps hold). A domain rule's verdict lasts as long as the answer it rests on.
 */
LN_INLINE int ln_vc_cacheable(const struct ln_config_val *cfg, const struct ln_vc_ref *r,
			      const struct ln_words *a, const struct ln_decision *d, __u64 *exp)
{
	struct ln_bl_key dk = { .set = r->policy_id };
	const struct ln_dns_verdict *dv;
	__u32 v4;

	*exp = 0;
	if (r->port == LN_DNS_PORT || r->policy_id == LN_POLICY_PENDING)
		return 0;
	ln_addr_reached((const __u8 *)a->w, dk.addr);
	if (ln_embedded_v4(dk.addr, &cfg->nat64, &v4))
		return 0;
	if (d->reason != LN_REASON_DOMAIN)
		return 1;
	dv = bpf_map_lookup_elem(&dns_verdicts, &dk);
	if (!dv)
		return 0;
	*exp = dv->expires_ns;
	return 1;
}

/* Caches @r's verdict in the slot ln_vc_get() missed, unless another writer holds it. */
__attribute__((noinline)) int ln_vc_put(const struct ln_vc_ref *r, const struct ln_words *a,
					const struct ln_decision *d)
{
	const struct ln_config_val *cfg;
	struct ln_vc_slot *s;
	__u32 zero = 0, idx;
	__u64 seq, exp;

	if (!r || !a || !d)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &zero);
	idx = r->idx;
	s = bpf_map_lookup_elem(&verdict_cache, &idx);
	if (!cfg || !s || !ln_vc_cacheable(cfg, r, a, d, &exp))
		return 0;
	seq = *(volatile __u64 *)&s->seq;
	if ((seq & 1) || __sync_val_compare_and_swap(&s->seq, seq, seq + 1) != seq)
		return 0;
	LN_VC_BARRIER();
	s->cg = r->cg;
	s->exe = r->exe;
	__builtin_memcpy(s->addr, a->w, LN_ADDR_LEN);
	s->port = r->port;
	s->proto = r->proto;
	s->generation = r->generation;
	s->epoch = r->epoch;
	s->policy_id = r->policy_id;
	s->exe_note = r->exe_note;
	s->flow = r->flow;
	s->d = *d;
	s->expires_ns = exp;
	LN_VC_BARRIER();
	*(volatile __u64 *)&s->seq = seq + 2;
	return 0;
}

/*
 * A hit whose flow had to be counted afresh (ln_flow_count() set r->flow):
 * slot r->idx remembers where, if it still holds @r's verdict -- checked
 * after the write, as a writer on this CPU may have refilled it meanwhile
 * (then the new verdict's flow reference is cleared, not someone else's kept).
 */
LN_INLINE void ln_vc_retag(const struct ln_vc_ref *r, const struct ln_words *a)
{
	struct ln_vc_slot *s;
	__u32 idx = r->idx;
	__u64 seq;

	s = bpf_map_lookup_elem(&verdict_cache, &idx);
	if (!s)
		return;
	seq = *(volatile __u64 *)&s->seq;
	if ((seq & 1) || !ln_vc_same(s, r, a))
		return;
	s->flow = r->flow;
	LN_VC_BARRIER();
	if (*(volatile __u64 *)&s->seq != seq)
		s->flow.tag = 0;
}

/* A miss's policy is known: its epoch, read before the decision reads dns_verdicts. */
LN_INLINE void ln_vc_stamp(struct ln_vc_ref *r)
{
	r->epoch = ln_vc_epoch_of(r->policy_id);
	LN_VC_BARRIER();
}

#endif /* LSNITCH_VERDICT_CACHE_BPF_H */
