/* SPDX-License-Identifier: GPL-2.0 */
/* Flow accounting: every final verdict counted into a bounded table (include/lsnitch_flow.h). */
#ifndef LSNITCH_FLOW_BPF_H
#define LSNITCH_FLOW_BPF_H

#include "lsnitch_flow.h"

/* Off (0) with --history none: the agent sets it before load. */
const volatile __u32 ln_flows_on = 0;

/* Shared across generations and pinned, like the counters. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LN_FLOW_MAX_ENTRIES);
	__type(key, struct ln_flow_key);
	__type(value, struct ln_flow_val);
} flows SEC(".maps");

/*
 * In front of it, per CPU, a direct-mapped cache in two halves: the programs
 * count into half (flow_epoch & 1); the agent flips flow_epoch, then reads and
 * clears the other half.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * LN_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ln_flow_slot);
} flow_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flow_epoch SEC(".maps");

/* Where a flow was last counted on this CPU (ln_flow_recount()); tag 0: nowhere. */
struct ln_flow_ref {
	__u64 tag;
	__u32 slot;
	__u32 pad;
};

/* Verdicts that found the table full: counted here, never waited for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_lost SEC(".maps");

/* Executables the agent was told of (exe_new), until evicted: each (dev, ino) once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LN_EXE_SEEN_MAX);
	__type(key, struct ln_exe_id);
	__type(value, __u8);
} exe_seen SEC(".maps");

/* Shared across generations and pinned: the agent keeps one consumer. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LN_EXE_NEW_RING);
} exe_new SEC(".maps");

/*
 * A flow's executable @exe, at a cache miss: when new, told to the agent
 * with the calling task (include/lsnitch_flow.h). Not marked seen when the
 * ring is full: the next miss tries again. A global function: its frame is
 * not ln_check()'s.
 */
__attribute__((noinline)) int ln_flow_exe_new(const struct ln_exe_id *exe)
{
	struct ln_exe_new *n;
	__u8 one = 1;

	if (!exe || (!exe->dev && !exe->ino) || bpf_map_lookup_elem(&exe_seen, exe))
		return 0;
	n = bpf_ringbuf_reserve(&exe_new, sizeof(*n), 0);
	if (!n)
		return 0;
	n->exe = *exe;
	n->tgid = bpf_get_current_pid_tgid() >> 32;
	n->pad = 0;
	bpf_ringbuf_submit(n, 0);
	bpf_map_update_elem(&exe_seen, exe, &one, BPF_ANY);
	return 0;
}

LN_INLINE void ln_flow_lost(__u64 count)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&flow_lost, &zero);

	if (c)
		*c += count;
}

/*
 * Per CPU, until when (bpf_ktime_get_ns()) the shared table is taken as full:
 * an insert that found it full costs a bucket lock and a walk of every CPU's
 * free list for nothing, and a scan of new destinations would pay that for
 * each. The agent drains the table every interval; a 10 ms backoff loses at
 * most 10 ms of inserts after a drain, each then counted as lost, never twice.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_full SEC(".maps");

#define LN_FLOW_FULL_BACKOFF_NS (10 * 1000 * 1000ULL)

/* Add @count verdicts of @k, first seen @first_ns by @tgid, into the shared table at @now. */
LN_INLINE void ln_flow_table_add(const struct ln_flow_key *k, __u64 count, __u64 first_ns,
				 __u32 tgid, __u64 now)
{
	struct ln_flow_val *v, fresh = { count, first_ns, first_ns, tgid };
	__u32 zero = 0;
	__u64 *full;
	long r;

	v = bpf_map_lookup_elem(&flows, k);
	if (v) {
		__sync_fetch_and_add(&v->count, count);
		return;
	}
	full = bpf_map_lookup_elem(&flow_full, &zero);
	if (full && now < *full) {
		ln_flow_lost(count);
		return;
	}
	/* Not inserted: another CPU was first (count into its entry), or the table is full. */
	r = bpf_map_update_elem(&flows, k, &fresh, BPF_NOEXIST);
	if (r == 0)
		return;
	v = r == -17 /* EEXIST */ ? bpf_map_lookup_elem(&flows, k) : NULL;
	if (v) {
		__sync_fetch_and_add(&v->count, count);
		return;
	}
	if (full)
		*full = now + LN_FLOW_FULL_BACKOFF_NS;
	ln_flow_lost(count);
}

/* Written in place (a cache slot's key): every byte, padding too, as the table hashes them. */
LN_INLINE void ln_flow_key_fill(struct ln_flow_key *k, __u64 cg, __u32 policy_id,
				const __u8 *addr, __u16 port, __u8 proto,
				const struct ln_decision *d, __u8 flags,
				const struct ln_exe_id *exe)
{
	const __u32 *a = (const __u32 *)addr;
	__u32 *w = (__u32 *)k->addr;

	k->cgroup_id = cg;
	k->policy_id = policy_id;
	k->rule_id = d->rule_id;
	w[0] = a[0];
	w[1] = a[1];
	w[2] = a[2];
	w[3] = a[3];
	k->port = port;
	k->proto = proto;
	k->verdict = d->verdict;
	k->reason = d->reason;
	k->flags = flags | (d->audit ? LN_FLOW_AUDIT : 0);
	k->pad[0] = 0;
	k->pad[1] = 0;
	k->exe.dev = exe ? exe->dev : 0;
	k->exe.ino = exe ? exe->ino : 0;
}

/*
 * The key's word from port to the padding, as it lies in memory (the programs
 * are little-endian): port, proto, verdict, reason, flags, two zero bytes.
 */
LN_INLINE __u64 ln_flow_tail(__u16 port, __u8 proto, const struct ln_decision *d, __u8 flags)
{
	__u8 f = flags | (d->audit ? LN_FLOW_AUDIT : 0);

	return port | (__u64)proto << 16 | (__u64)d->verdict << 24 | (__u64)d->reason << 32 |
	       (__u64)f << 40;
}

/*
 * Whether slot @s holds the flow of these values: compared with the key where
 * it lies, none built on the stack (ln_check()'s frame is full).
 */
LN_INLINE int ln_flow_slot_is(const struct ln_flow_slot *s, __u64 cg, __u32 policy_id,
			      const __u8 *addr, __u64 tail, const struct ln_decision *d,
			      const struct ln_exe_id *exe)
{
	const __u32 *a = (const __u32 *)addr, *w = (const __u32 *)s->k.addr;

	return s->count && s->k.cgroup_id == cg && s->k.policy_id == policy_id &&
	       s->k.rule_id == d->rule_id && w[0] == a[0] && w[1] == a[1] && w[2] == a[2] &&
	       w[3] == a[3] && *(const __u64 *)&s->k.port == tail &&
	       s->k.exe.dev == (exe ? exe->dev : 0) && s->k.exe.ino == (exe ? exe->ino : 0);
}

/* The slot of a flow in the half @epoch of this CPU's cache: a multiplicative hash. */
LN_INLINE __u32 ln_flow_slot_of(__u64 cg, __u32 policy_id, const __u8 *addr, __u64 tail,
				const struct ln_exe_id *exe, __u32 epoch)
{
	const __u32 *a = (const __u32 *)addr;
	__u64 h = cg ^ ((((__u64)a[0] << 32) | a[1]) * 0x9e3779b97f4a7c15ULL) ^
		  (((__u64)a[2] << 32) | a[3]) ^ ((tail ^ policy_id) * 0xc2b2ae3d27d4eb4fULL);

	if (exe)
		h ^= exe->ino ^ (exe->dev << 40);
	h *= 0x9e3779b97f4a7c15ULL;
	return (epoch & 1) * LN_FLOW_CACHE_SLOTS + (__u32)(h >> (64 - LN_FLOW_CACHE_BITS));
}

/*
 * Count verdict @d for (@cg, @policy_id, @addr, @port, @proto, @exe); @flags
 * adds LN_FLOW_DNS; @exe NULL: none. A hit in this CPU's direct-mapped cache
 * is a multiply-hash, a compare and an increment (no hashing of the whole key,
 * no atomic, no clock); a miss moves the slot's flow into the shared table
 * (which never waits: a preallocated hash, -E2BIG when full, counted as lost).
 */
LN_INLINE void ln_flow_count(__u64 cg, __u32 policy_id, const __u8 *addr, __u16 port,
			     __u8 proto, const struct ln_decision *d, __u8 flags,
			     const struct ln_exe_id *exe, struct ln_flow_ref *ref)
{
	__u64 tail = ln_flow_tail(port, proto, d, flags);
	struct ln_flow_slot *s;
	__u32 zero = 0, *epoch, idx;
	__u64 now;

	if (!ln_flows_on)
		return;
	epoch = bpf_map_lookup_elem(&flow_epoch, &zero);
	if (!epoch)
		return;
	idx = ln_flow_slot_of(cg, policy_id, addr, tail, exe, *epoch);
	s = bpf_map_lookup_elem(&flow_cache, &idx);
	if (!s)
		return;
	ref->slot = idx & (LN_FLOW_CACHE_SLOTS - 1);
	if (ln_flow_slot_is(s, cg, policy_id, addr, tail, d, exe)) {
		s->count++;
		ref->tag = s->first_ns;
		return;
	}
	now = bpf_ktime_get_ns();
	if (s->count)
		ln_flow_table_add(&s->k, s->count, s->first_ns, s->tgid, now);
	ln_flow_key_fill(&s->k, cg, policy_id, addr, port, proto, d, flags, exe);
	if (exe)
		ln_flow_exe_new(exe);
	s->count = 1;
	s->first_ns = now;
	s->tgid = bpf_get_current_pid_tgid() >> 32;
	ref->tag = s->first_ns;
}

/*
 * A flow counted before (@ref: its slot in either half, and its tag, the
 * slot's first_ns when it was filled for this flow): counted again in this
 * CPU's current half if the slot still holds that fill -- two loads, a
 * compare and an increment, no key hashed or compared. 1 if counted; 0: the
 * half flipped or the slot was refilled since (ln_flow_count() again).
 */
LN_INLINE int ln_flow_recount(const struct ln_flow_ref *ref, __u64 cg)
{
	struct ln_flow_slot *s;
	__u32 key = 0, *epoch;

	if (!ref->tag)
		return 0;
	epoch = bpf_map_lookup_elem(&flow_epoch, &key);
	if (!epoch)
		return 0;
	key = (*epoch & 1) * LN_FLOW_CACHE_SLOTS + (ref->slot & (LN_FLOW_CACHE_SLOTS - 1));
	s = bpf_map_lookup_elem(&flow_cache, &key);
	if (!s || !s->count || s->first_ns != ref->tag || s->k.cgroup_id != cg)
		return 0;
	s->count++;
	return 1;
}

/*
 * The executable @skb's socket remembered at its last connect()/sendmsg()
 * (ln_exe_note(): under a scope with exe policies), or NULL.
 */
LN_INLINE const struct ln_exe_id *ln_flow_skb_exe(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb ? skb->sk : NULL;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	return sk ? bpf_sk_storage_get(&exe_sk, sk, 0, 0) : NULL;
}

/*
 * The egress backstop's drops: straight into the shared table. Egress runs
 * in softirq too, where it may interrupt a connect() on the same CPU halfway
 * through a cache slot. @exe: the socket's remembered executable, or NULL.
 */
LN_INLINE void ln_flow_count_shared(__u64 cg, __u32 policy_id, const __u8 *addr, __u16 port,
				    __u8 proto, const struct ln_decision *d, __u8 flags,
				    const struct ln_exe_id *exe)
{
	struct ln_flow_key k;

	if (!ln_flows_on)
		return;
	ln_flow_key_fill(&k, cg, policy_id, addr, port, proto, d, flags, exe);
	__u64 now = bpf_ktime_get_ns();

	ln_flow_table_add(&k, 1, now, 0, now);
}

#endif /* LSNITCH_FLOW_BPF_H */
