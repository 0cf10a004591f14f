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

/* Verdicts that found the table full: counted here, never waited for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_lost SEC(".maps");

LN_INLINE void ln_flow_lost(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&flow_lost, &zero);

	if (c)
		*c += 1;
}

/*
 * Count verdict @d for (@cg, @policy_id, @addr, @port, @proto); @flags adds
 * LN_FLOW_DNS or LN_FLOW_EGRESS. A hit is one lookup and an atomic add; a
 * miss one insert that never waits (a preallocated hash: -E2BIG when full).
 */
LN_INLINE void ln_flow_count(__u64 cg, __u32 policy_id, const __u8 *addr, __u16 port,
			     __u8 proto, const struct ln_decision *d, __u8 flags)
{
	struct ln_flow_key k = {
		.cgroup_id = cg, .policy_id = policy_id, .rule_id = d->rule_id, .port = port,
		.proto = proto, .verdict = d->verdict, .reason = d->reason,
		.flags = flags | (d->audit ? LN_FLOW_AUDIT : 0),
	};
	struct ln_flow_val *v, fresh;
	__u64 now;

	if (!ln_flows_on)
		return;
	__builtin_memcpy(k.addr, addr, LN_ADDR_LEN);
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&flows, &k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		v->last_ns = now;
		return;
	}
	fresh.count = 1;
	fresh.first_ns = now;
	fresh.last_ns = now;
	/* Not inserted: another CPU was first (count into its entry), or the table is full. */
	if (bpf_map_update_elem(&flows, &k, &fresh, BPF_NOEXIST) == 0)
		return;
	v = bpf_map_lookup_elem(&flows, &k);
	if (v)
		__sync_fetch_and_add(&v->count, 1);
	else
		ln_flow_lost();
}

#endif /* LSNITCH_FLOW_BPF_H */
