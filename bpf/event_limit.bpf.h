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

/*
 * -1: hold the event back (counted); else how many of its key were held back
 * before it. A global function: the verifier checks it once, not in every hook.
 */
__attribute__((noinline)) int ln_event_admit(__u64 cg, const struct ln_decision *d, __u32 hook)
{
	struct ln_event_key k = { .cgroup_id = cg, .hook = hook };
	struct ln_event_window *w, nw = { .sent = 1 };
	__u64 now = bpf_ktime_get_ns();
	__u32 held;

	if (!d)
		return 0;
	k.rule_id = d->rule_id;
	k.reason = d->reason;
	k.verdict = d->verdict;
	k.audit = d->audit;
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
		return held > 0x7fffffff ? 0x7fffffff : (int)held;
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
