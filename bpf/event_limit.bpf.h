/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Repeats summarised where they are seen (included by lsnitch.bpf.c): per
 * (process, cgroup, rule, reason, verdict, hook), whatever the destination,
 * at most LN_EVENT_BURST events a second reach the ring buffer. The rest are
 * only counted (LN_CNT_EVENTS_LIMITED and the key's own count); the next
 * event of the key that goes through carries that count (ln_event.repeats).
 * A flood of denials from one process thus costs the agent a few events a
 * second, not one per connect().
 */
#ifndef LSNITCH_EVENT_LIMIT_BPF_H
#define LSNITCH_EVENT_LIMIT_BPF_H

/* -1: hold the event back (counted); else how many of its key were held back before it. */
LN_INLINE long ln_event_admit(__u64 cg, const struct ln_decision *d, __u8 hook)
{
	struct ln_event_key k = { .cgroup_id = cg, .rule_id = d->rule_id, .reason = d->reason,
				  .verdict = d->verdict, .hook = hook, .audit = d->audit };
	struct ln_event_window *w, nw = { .sent = 1 };
	__u64 now = bpf_ktime_get_ns();
	__u32 held;

	k.tgid = bpf_get_current_pid_tgid() >> 32;
	w = bpf_map_lookup_elem(&event_limit, &k);
	if (!w) {
		nw.start_ns = now;
		bpf_map_update_elem(&event_limit, &k, &nw, BPF_ANY);
		return 0;
	}
	if (now - w->start_ns >= 1000000000ULL) {
		/* A new second: this event goes out and takes the count along. */
		w->start_ns = now;
		w->sent = 1;
		held = w->held;
		if (held)
			__sync_fetch_and_add(&w->held, -held);
		return held;
	}
	if (w->sent >= LN_EVENT_BURST) {
		__sync_fetch_and_add(&w->held, 1);
		ln_count(LN_CNT_EVENTS_LIMITED);
		return -1;
	}
	w->sent++;
	return 0;
}

#endif /* LSNITCH_EVENT_LIMIT_BPF_H */
