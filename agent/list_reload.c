// SPDX-License-Identifier: GPL-2.0
/* List-only reloads: the new lists loaded beside the ones in force, the flip, the hand-over. */
#include <errno.h>
#include <stdlib.h>

#include "agent.h"
#include "exe_watch.h"
#include "list_slots.h"
#include "reload_worker.h"

int ln_lists_build(struct ln_generation *cur, struct ln_generation *g, struct ln_error *err)
{
	__u32 slot;
	int r;

	r = ln_list_slot_in_force(cur->skel, &slot);
	if (r < 0)
		return ln_err(err, r, "reading the list slot in force: %s", strerror(-r));
	g->list_slot = !slot;
	r = ln_list_slot_fill(cur->skel, g->list_slot, &g->cc.packed, err);
	if (r < 0)
		return r;
	g->skel = cur->skel;
	g->skel_b = cur->skel_b;
	g->lent_from = cur;
	g->lists_only = true;
	return 0;
}

#define SWAP(a, b)                                                                            \
	do {                                                                                  \
		typeof(a) t_ = (a);                                                           \
		(a) = (b);                                                                    \
		(b) = t_;                                                                     \
	} while (0)

/*
 * @g takes over what @old's programs and maps carry (the config map mapped, the cgroups
 * bound in them, the exe_policy map's table); @old is freed with @g's empty ones.
 */
static void take_over(struct ln_generation *old, struct ln_generation *g)
{
	g->lent_from = NULL;
	old->skel = NULL;
	old->skel_b = NULL;
	SWAP(g->config_mm, old->config_mm);
	SWAP(g->bound, old->bound);
	SWAP(g->n_bound, old->n_bound);
	SWAP(g->cap_bound, old->cap_bound);
	SWAP(g->bound_index, old->bound_index); /* the bindings' paths, indexed (watch_index.c) */
	SWAP(g->exe, old->exe);
	/* the same exe= lines (ln_lists_only_change()), now pointing into @g's */
	for (size_t i = 0; i < g->exe.n; i++)
		g->exe.v[i].b = &g->cc.exes[i];
}

int ln_lists_switch(struct ln_generation *old, struct ln_generation *g, struct ln_error *err)
{
	int r;

	if (g->lent_from != old)
		return ln_err(err, -ESTALE, "the policy in force changed while the lists loaded");
	r = ln_list_slot_flip(old->skel, g->list_slot, err);
	if (r < 0)
		return r;
	/* Verdicts cached from the old lists (bpf/verdict_cache.bpf.h) are stale now. */
	ln_vc_all_changed(old);
	take_over(old, g);
	return 0;
}

/* Freeing the idle slot's maps on the worker's thread: the generation in force stays. */
struct release_job {
	struct ln_manager *m;
	struct ln_generation *g;
	ln_lists_released_fn after;
	struct ln_error err;
	int r;
};

static void release_work(void *arg)
{
	struct release_job *j = arg;

	j->r = ln_list_slot_release(j->g->skel, j->g->list_slot, &j->g->cc.packed, &j->err);
}

static void release_done(void *arg)
{
	struct release_job *j = arg;

	j->after(j->m, j->r, j->err.msg);
	free(j);
}

int ln_lists_release_start(struct ln_manager *m, ln_lists_released_fn after)
{
	struct release_job *j;
	int r;

	/* The worker runs one job at a time: none fills the idle slot meanwhile, none swaps. */
	if (!m->gen || !m->gen->lists_only || m->gen->idle_freed)
		return 0;
	m->gen->idle_freed = true; /* tried once: on failure they stay until the next reload */
	j = calloc(1, sizeof(*j));
	if (j)
		*j = (struct release_job){ .m = m, .g = m->gen, .after = after };
	r = j ? ln_worker_run(m->worker, release_work, release_done, j) : -ENOMEM;
	if (r < 0) {
		free(j);
		after(m, r, strerror(-r));
	}
	return r < 0 ? r : 1;
}
