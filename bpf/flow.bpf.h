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

/* Verdicts that found the table full: counted here, never waited for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_lost SEC(".maps");

LN_INLINE void ln_flow_lost(__u64 count)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&flow_lost, &zero);

	if (c)
		*c += count;
}

/* Add @count verdicts of @k, first seen @first_ns, into the shared table. */
LN_INLINE void ln_flow_table_add(const struct ln_flow_key *k, __u64 count, __u64 first_ns)
{
	struct ln_flow_val *v, fresh = { count, first_ns, first_ns };

	v = bpf_map_lookup_elem(&flows, k);
	if (v) {
		__sync_fetch_and_add(&v->count, count);
		return;
	}
	/* Not inserted: another CPU was first (count into its entry), or the table is full. */
	if (bpf_map_update_elem(&flows, k, &fresh, BPF_NOEXIST) == 0)
		return;
	v = bpf_map_lookup_elem(&flows, k);
	if (v)
		__sync_fetch_and_add(&v->count, count);
	else
		ln_flow_lost(count);
}

LN_INLINE void ln_flow_key_fill(struct ln_flow_key *k, __u64 cg, __u32 policy_id,
				const __u8 *addr, __u16 port, __u8 proto,
				const struct ln_decision *d, __u8 flags)
{
	*k = (struct ln_flow_key){
		.cgroup_id = cg, .policy_id = policy_id, .rule_id = d->rule_id, .port = port,
		.proto = proto, .verdict = d->verdict, .reason = d->reason,
		.flags = flags | (d->audit ? LN_FLOW_AUDIT : 0),
	};
	__builtin_memcpy(k->addr, addr, LN_ADDR_LEN);
}

/* The slot of @k in the half @epoch of this CPU's cache: a multiplicative hash. */
LN_INLINE __u32 ln_flow_slot_of(const __u64 *w, __u32 epoch)
{
	__u64 h = w[0] ^ (w[1] * 0x9e3779b97f4a7c15ULL) ^ w[2] ^ (w[3] * 0xc2b2ae3d27d4eb4fULL) ^
		  w[4];

	h *= 0x9e3779b97f4a7c15ULL;
	return (epoch & 1) * LN_FLOW_CACHE_SLOTS + (__u32)(h >> (64 - LN_FLOW_CACHE_BITS));
}

/*
 * Count verdict @d for (@cg, @policy_id, @addr, @port, @proto); @flags adds
 * LN_FLOW_DNS. A hit in this CPU's direct-mapped cache is a multiply-hash,
 * a compare and an increment (no hashing of the whole key, no atomic, no
 * clock); a miss moves the slot's flow into the shared table (which never
 * waits: a preallocated hash, -E2BIG when full, counted as lost).
 */
LN_INLINE void ln_flow_count(__u64 cg, __u32 policy_id, const __u8 *addr, __u16 port,
			     __u8 proto, const struct ln_decision *d, __u8 flags)
{
	struct ln_flow_slot *s;
	struct ln_flow_key k;
	const __u64 *a, *b;
	__u32 zero = 0, *epoch, idx;

	if (!ln_flows_on)
		return;
	ln_flow_key_fill(&k, cg, policy_id, addr, port, proto, d, flags);
	epoch = bpf_map_lookup_elem(&flow_epoch, &zero);
	if (!epoch)
		return;
	a = (const __u64 *)&k;
	idx = ln_flow_slot_of(a, *epoch);
	s = bpf_map_lookup_elem(&flow_cache, &idx);
	if (!s)
		return;
	b = (const __u64 *)&s->k;
	if (s->count && a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] &&
	    a[4] == b[4]) {
		s->count++;
		return;
	}
	if (s->count)
		ln_flow_table_add(&s->k, s->count, s->first_ns);
	s->k = k;
	s->count = 1;
	s->first_ns = bpf_ktime_get_ns();
}

/*
 * The egress backstop's drops: straight into the shared table. Egress runs
 * in softirq too, where it may interrupt a connect() on the same CPU halfway
 * through a cache slot.
 */
LN_INLINE void ln_flow_count_shared(__u64 cg, __u32 policy_id, const __u8 *addr, __u16 port,
				    __u8 proto, const struct ln_decision *d, __u8 flags)
{
	struct ln_flow_key k;

	if (!ln_flows_on)
		return;
	ln_flow_key_fill(&k, cg, policy_id, addr, port, proto, d, flags);
	ln_flow_table_add(&k, 1, bpf_ktime_get_ns());
}

#endif /* LSNITCH_FLOW_BPF_H */
