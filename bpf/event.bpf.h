/* SPDX-License-Identifier: GPL-2.0 */
/* Event records: reserved in the ring buffer, the task filled in, repeats held back. */
#ifndef LN_EVENT_BPF_H
#define LN_EVENT_BPF_H

/* A ring buffer record of verdict @d, or NULL (counted): the caller says who and where. */
LN_INLINE struct ln_event *ln_event_new(__u64 cg, __u32 policy_id, const struct ln_decision *d,
					__u8 hook)
{
	struct ln_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ln_count(LN_CNT_EVENTS_DROPPED);
		return NULL;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = cg;
	e->policy_id = policy_id;
	e->rule_id = d->rule_id;
	e->verdict = d->verdict;
	e->reason = d->reason;
	e->hook = hook;
	e->flags = d->audit ? LN_EVENT_AUDIT : 0;
	e->repeats = 0;
	e->pad = 0;
	return e;
}

/* The calling task into @e: pid, tid, uid, gid, comm. */
LN_INLINE void ln_event_task(struct ln_event *e)
{
	__u64 id;

	id = bpf_get_current_pid_tgid();
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	id = bpf_get_current_uid_gid();
	e->uid = (__u32)id;
	e->gid = id >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

#include "event_limit.bpf.h"

/* A record of verdict @d by the calling task, or NULL (a repeat held back, or counted). */
LN_INLINE struct ln_event *ln_event_start(__u64 cg, __u32 policy_id, const struct ln_decision *d,
					  __u8 hook)
{
	int held = ln_event_admit(cg, d, hook);
	struct ln_event *e;

	if (held < 0)
		return NULL;
	e = ln_event_new(cg, policy_id, d, hook);
	if (e) {
		ln_event_task(e);
		e->repeats = (__u32)held;
	}
	return e;
}

#endif
