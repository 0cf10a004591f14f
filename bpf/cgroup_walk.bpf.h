/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cgroup walk (included by lsnitch.bpf.c): from the root down to a cgroup, the nearest
 * ancestor a policy names, one bpf_loop() step per level; new cgroups decided by name on
 * the way (cg_child.bpf.h).
 */
#ifndef LSNITCH_CGROUP_WALK_BPF_H
#define LSNITCH_CGROUP_WALK_BPF_H

/*
 * A walk up to cgroup @cg in progress (ln_cgroup_walk()): whose cgroup (@skb's
 * socket's, @sa's socket's or, with neither, the calling task's), the last two
 * cgroups passed, the answer so far.
 */
struct ln_walk {
	struct __sk_buff *skb;
	struct bpf_sock_addr *sa;
	__u64 cg, parent, grand;
	__u32 policy_id, above;
	int gated;
};

/*
 * Level @level of the walk, ancestor @id: 1 (stop) at @cg, at the end of the
 * path, or when the cgroup is pending. A cgroup on the way with no entry,
 * below a glob parent, is new: the parent's cg_children patterns decide it by
 * name, or it is pending (LN_POLICY_PENDING); so is a new one's new child,
 * unless the agent left the patterns it would have (LN_CG_GRAND_KEY), and
 * every cgroup deeper. Below a gate, only a guard (a --cgroup path) gives a
 * policy again.
 */
LN_INLINE long ln_walk_level(struct ln_walk *w, __u32 level, __u64 id, struct __sk_buff *skb,
			     struct bpf_sock_addr *sa)
{
	struct ln_cgroup_val *bound, named;
	__u64 key, cg;
	int r;

	if (!id)
		return 1;
	bound = bpf_map_lookup_elem(&cgroup_policy, &id);
	if (!bound && (w->above & LN_CG_GLOB_PARENT)) {
		key = ln_cg_children_key(w->above, w->parent, w->grand);
		cg = skb ? ln_skb_cgroup_addr(skb) : sa ? ln_sa_cgroup_addr(sa) : ln_task_cgroup_addr();
		r = key ? ln_cg_child_at(cg, key, level, &named) : -1;
		if (r < 0) {
			w->policy_id = LN_POLICY_PENDING;
			return 1;
		}
		bound = &named;
	}
	w->above = bound ? bound->flags : 0;
	if (w->above & LN_CG_GUARD)
		w->gated = 0;
	if (bound && !(w->above & LN_CG_UNBOUND) && !w->gated)
		w->policy_id = bound->policy_id;
	if (w->above & LN_CG_GATE)
		w->gated = 1;
	w->grand = w->parent;
	w->parent = id;
	return id == w->cg;
}

/*
 * The walk's steps, one per ancestor level: bpf_loop() callbacks, so the
 * verifier checks one level, not each of LN_MAX_CGROUP_DEPTH in turn.
 */
static long ln_walk_task_cb(__u32 level, void *ctx)
{
	return ln_walk_level(ctx, level, bpf_get_current_ancestor_cgroup_id(level), NULL, NULL);
}

static long ln_walk_skb_cb(__u32 level, void *ctx)
{
	struct ln_walk *w = ctx;

	return ln_walk_level(w, level, bpf_skb_ancestor_cgroup_id(w->skb, level), w->skb, NULL);
}

static long ln_walk_sa_cb(__u32 level, void *ctx)
{
	struct ln_walk *w = ctx;

	return ln_walk_level(w, level, ln_sa_ancestor_id(w->sa, level), NULL, w->sa);
}

/* Nearest ancestor of cgroup @cg that a policy names (0: none), from the cgroup_policy map. */
LN_INLINE __u32 ln_cgroup_walk(__u64 cg, struct __sk_buff *skb, struct bpf_sock_addr *sa)
{
	struct ln_walk w = {.skb = skb, .sa = sa, .cg = cg, .policy_id = LN_POLICY_IMPLICIT};

	if (skb)
		bpf_loop(LN_MAX_CGROUP_DEPTH, ln_walk_skb_cb, &w, 0);
	else if (sa)
		bpf_loop(LN_MAX_CGROUP_DEPTH, ln_walk_sa_cb, &w, 0);
	else
		bpf_loop(LN_MAX_CGROUP_DEPTH, ln_walk_task_cb, &w, 0);
	return w.policy_id;
}

/*
 * The walk for the calling task's cgroup @cg, and for @skb's socket's: global
 * functions, so their stack is not added to that of the decision's calls.
 */
__attribute__((noinline)) __u32 ln_cgroup_walk_task(__u64 cg)
{
	return ln_cgroup_walk(cg, NULL, NULL);
}

__attribute__((noinline)) __u32 ln_cgroup_walk_skb(struct __sk_buff *skb, __u64 cg)
{
	return skb ? ln_cgroup_walk(cg, skb, NULL) : LN_POLICY_PENDING;
}

/* The same for the cgroup of a sock_addr hook's socket (ln_task_exe()). */
__attribute__((noinline)) __u32 ln_cgroup_walk_sa(struct bpf_sock_addr *sa, __u64 cg)
{
	return sa ? ln_cgroup_walk(cg, NULL, sa) : LN_POLICY_PENDING;
}

#endif /* LSNITCH_CGROUP_WALK_BPF_H */
