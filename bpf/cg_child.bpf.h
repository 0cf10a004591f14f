/* SPDX-License-Identifier: GPL-2.0 */
/* A new cgroup the agent has not seen yet, decided by its kernfs name (the cg_children map). */
#ifndef LSNITCH_CG_CHILD_BPF_H
#define LSNITCH_CG_CHILD_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * The few kernel structures the name is read through, relocated against the
 * running kernel's BTF (CO-RE): the cgroup of the calling task or of a
 * packet's socket, its ancestor at a level, that cgroup's kernfs name.
 */
struct kernfs_node {
	const char *name;
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
	int level;
	struct cgroup *ancestors[];
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int flags;
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

struct sock_cgroup_data {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_cgroup_data sk_cgrp_data;
} __attribute__((preserve_access_index));

struct sk_buff {
	struct sock *sk;
} __attribute__((preserve_access_index));

struct bpf_sock_addr_kern {
	struct sock *sk;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/* Walk-internal flag: a cgroup decided by name, so its own children are not seen either. */
#define LN_CG_NEW (1u << 31)
/* Walk-internal: which of its parent's patterns such a cgroup matched, if only one watched. */
#define LN_CG_WATCH_SHIFT 16
#define LN_CG_WATCH_MASK (LN_CG_PATTERNS - 1)
#define LN_CG_MULTI (1u << 30)
#define LN_GLOB_NO_STAR 0xffffu
/* Enough steps for the worst '*' backtracking over the longest name and pattern. */
#define LN_GLOB_STEPS ((LN_CG_NAME_LEN + 1) * LN_CG_PATTERN_LEN + LN_CG_PATTERN_LEN)

/*
 * One glob match in progress: the name, and which pattern of which parent's
 * entry (read from the map at each step: the stack has no room for a copy);
 * then what the patterns matched so far gave (ln_cg_pattern_step()).
 */
struct ln_glob {
	char name[LN_CG_NAME_LEN];
	__u64 parent;
	__u32 idx, p, s, star, resume;
	int result; /* 1 match, 0 none, -1 not decided */
	__u32 flags, policy_id, watching, watched;
	int pending; /* 1: a pattern left the child undecided, or pending */
};

/* cgroup_match.c's component_match(), one step per call (a bpf_loop() callback). */
static long ln_glob_step(__u32 i, void *ctx)
{
	struct ln_glob *g = ctx;
	const struct ln_cg_children *ch = bpf_map_lookup_elem(&cg_children, &g->parent);
	char pc, sc;

	if (!ch) /* removed meanwhile: undecided */
		return 1;
	if (g->s >= LN_CG_NAME_LEN || g->p >= LN_CG_PATTERN_LEN)
		return 1;
	pc = ch->p[g->idx & (LN_CG_PATTERNS - 1)].pattern[g->p];
	sc = g->name[g->s];
	if (g->p == LN_CG_PATTERN_LEN - 1)
		pc = '\0';
	if (!sc) { /* the name is used up: only stars may be left */
		if (pc == '*') {
			g->p++;
			return 0;
		}
		g->result = !pc;
		return 1;
	}
	if (pc == '*') {
		g->star = g->p++;
		g->resume = g->s;
		return 0;
	}
	if (pc && (pc == '?' || pc == sc)) {
		g->p++;
		g->s++;
		return 0;
	}
	if (g->star != LN_GLOB_NO_STAR) {
		g->p = g->star + 1;
		g->s = ++g->resume;
		return 0;
	}
	g->result = 0;
	return 1;
}

/*
 * Pattern @i of g->parent's entry against g->name, what it gives merged into
 * @g. A bpf_loop() callback: the verifier checks one pattern with an unknown
 * index, not each of LN_CG_PATTERNS in turn. 1 (stop): the patterns are used
 * up, or this one leaves the child pending.
 */
static long ln_cg_pattern_step(__u32 i, void *ctx)
{
	struct ln_glob *g = ctx;
	const struct ln_cg_children *ch = bpf_map_lookup_elem(&cg_children, &g->parent);
	const struct ln_cg_pattern *pt;

	if (!ch) { /* removed meanwhile: undecided */
		g->pending = 1;
		return 1;
	}
	if (i >= ch->n)
		return 1;
	pt = &ch->p[i & (LN_CG_PATTERNS - 1)];
	/*
	 * Start at 0 read from the map (ch->pad, always 0), not a constant:
	 * the verifier then checks the callback with unknown indexes once,
	 * rather than once per value it could track.
	 */
	g->idx = i;
	g->p = g->s = ch->pad;
	g->star = g->resume = LN_GLOB_NO_STAR;
	g->result = -1;
	bpf_loop(LN_GLOB_STEPS, ln_glob_step, g, 0);
	if (g->result < 0 || (g->result && (pt->flags & LN_CHILD_PENDING))) {
		g->pending = 1;
		return 1;
	}
	if (!g->result)
		return 0;
	if ((pt->flags & LN_CHILD_BIND) && (g->flags & LN_CG_UNBOUND)) {
		g->flags &= ~LN_CG_UNBOUND;
		g->policy_id = pt->policy_id;
	}
	/*
	 * Which watching patterns it matched, counted with ch->pad (0) added: values
	 * the verifier does not track, so the loop's states do not multiply by them.
	 */
	if (pt->flags & LN_CHILD_WATCH) {
		g->flags |= LN_CG_GLOB_PARENT | LN_CG_NEW;
		g->watching += 1 + ch->pad;
		g->watched += i + ch->pad;
	}
	if (pt->flags & LN_CHILD_GUARD)
		g->flags |= LN_CG_GUARD;
	return 0;
}

/*
 * The entry a new child named g->name of cgroup @parent (or of a new child of
 * it: LN_CG_GRAND_KEY) stands for, into @out: 0, or -1 when it stays pending
 * (no patterns, a '**' glob, no answer).
 */
LN_INLINE int ln_cg_child_match(__u64 parent, struct ln_glob *g, struct ln_cgroup_val *out)
{
	if (!bpf_map_lookup_elem(&cg_children, &parent))
		return -1;
	g->parent = parent;
	g->flags = LN_CG_UNBOUND;
	g->policy_id = g->watching = g->watched = 0;
	g->pending = 0;
	bpf_loop(LN_CG_PATTERNS, ln_cg_pattern_step, g, 0);
	if (g->pending)
		return -1;
	/* its children: by the one watching pattern it matched (LN_CG_GRAND_KEY); more: pending */
	out->policy_id = g->policy_id;
	out->flags = g->flags | (g->watched & LN_CG_WATCH_MASK) << LN_CG_WATCH_SHIFT |
		     ((__u32)(1 - g->watching) >> 31) * LN_CG_MULTI;
	return 0;
}

/*
 * The key of the patterns a new child of @parent (entry flags @above, its
 * parent @grand) is matched against: @parent's own, or for a new @parent the
 * ones its pattern at @grand gives (LN_CG_GRAND_KEY; none deeper); 0: none,
 * pending. A global function: the walk that calls it gains no branch.
 */
__attribute__((noinline)) __u64 ln_cg_children_key(__u32 above, __u64 parent, __u64 grand)
{
	if (!(above & LN_CG_NEW))
		return parent;
	if (above & LN_CG_MULTI)
		return 0;
	return LN_CG_GRAND_KEY(grand, (above >> LN_CG_WATCH_SHIFT) & LN_CG_WATCH_MASK);
}

/* The name of @cg's ancestor at @level into g->name: 0, or -1 (none, or too long to trust). */
LN_INLINE int ln_cg_read_name(struct cgroup *cg, __u32 level, struct ln_glob *g)
{
	const char *name;
	struct cgroup *a;
	long n;

	if (!cg || level >= LN_MAX_CGROUP_DEPTH)
		return -1;
	a = BPF_CORE_READ(cg, ancestors[level]);
	if (!a)
		return -1;
	name = BPF_CORE_READ(a, kn, name);
	n = bpf_probe_read_kernel_str(g->name, sizeof(g->name), name);
	return n > 1 && n < (long)sizeof(g->name) ? 0 : -1;
}

/*
 * The child at @level of cgroup @cg's path (its address, read with
 * bpf_probe_read_kernel() like every pointer after it), a new child of
 * @parent: its entry into @out (see ln_cg_child_match()). One global function
 * for the task's, a packet's socket's and a sock_addr socket's cgroup: the
 * verifier checks the match once per program, not once per kind of cgroup
 * nor in every state of the walk.
 */
__attribute__((noinline)) int ln_cg_child_at(__u64 cg, __u64 parent, __u32 level,
					     struct ln_cgroup_val *out)
{
	struct ln_glob g;

	if (!out || ln_cg_read_name((struct cgroup *)cg, level, &g) < 0)
		return -1;
	return ln_cg_child_match(parent, &g, out);
}

/* The calling task's cgroup, as ln_cg_child_at() takes it. */
LN_INLINE __u64 ln_task_cgroup_addr(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return (__u64)BPF_CORE_READ(task, cgroups, dfl_cgrp);
}

/* The cgroup of @skb's socket (cgroup_skb programs); 0: no socket. */
LN_INLINE __u64 ln_skb_cgroup_addr(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return (__u64)BPF_CORE_READ(kskb, sk, sk_cgrp_data.cgroup);
}

LN_INLINE struct cgroup *ln_sa_cgroup(struct bpf_sock_addr *sa)
{
	struct bpf_sock_addr_kern *k = bpf_cast_to_kern_ctx(sa);
	struct sock *sk = k->sk;

	return sk ? sk->sk_cgrp_data.cgroup : NULL;
}

/*
 * The id of the ancestor at @level of @sa's socket's cgroup; 0: none (as the
 * helpers say). A global function: its reads' temporaries stay off the walk's
 * frame, which the hook and ln_cg_child_at() share the 512-byte stack with.
 */
__attribute__((noinline)) __u64 ln_sa_ancestor_id(struct bpf_sock_addr *sa, __u32 level)
{
	struct cgroup *cg, *a;

	if (!sa)
		return 0;
	cg = ln_sa_cgroup(sa);
	if (!cg || level > (__u32)cg->level || level >= LN_MAX_CGROUP_DEPTH)
		return 0;
	a = BPF_CORE_READ(cg, ancestors[level]);
	return a ? BPF_CORE_READ(a, kn, id) : 0;
}

LN_INLINE __u64 ln_sa_cgroup_id(struct bpf_sock_addr *sa)
{
	struct cgroup *cg = ln_sa_cgroup(sa);

	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

/* The cgroup of @sa's socket, as ln_cg_child_at() takes it; 0: no socket. */
LN_INLINE __u64 ln_sa_cgroup_addr(struct bpf_sock_addr *sa)
{
	struct bpf_sock_addr_kern *k = bpf_cast_to_kern_ctx(sa);

	return (__u64)BPF_CORE_READ(k, sk, sk_cgrp_data.cgroup);
}

#endif /* LSNITCH_CG_CHILD_BPF_H */
