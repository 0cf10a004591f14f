// SPDX-License-Identifier: GPL-2.0
/*
 * What a generation has bound: the cgroups its cgroup_policy map holds, by
 * path (watch_index.c), kept in step with the map and the cgroups' patterns
 * in cg_children as the watcher (watch.c) binds, marks and unbinds them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch.skel.h"
#include "watch.h"

struct ln_bound *ln_bound_find(struct ln_generation *g, const char *path, size_t len)
{
	long i = ln_bound_index_find(g->bound_index, path, len);

	return i >= 0 ? &g->bound[i] : NULL;
}

/* Whether @path is @top or below it ("" is above everything). */
static bool is_under(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !n || (!strncmp(path, top, n) && (!path[n] || path[n] == '/'));
}

/*
 * A cgroup's patterns for its new children and their new children go with it.
 * They exist only while its entry has LN_CG_GLOB_PARENT (watch.c writes them
 * only then, and a failed entry takes them back), so only such an entry pays
 * the deletes.
 */
static void children_forget(struct ln_generation *g, __u64 id, __u32 flags)
{
	int fd = bpf_map__fd(g->skel->maps.cg_children);

	if (!(flags & LN_CG_GLOB_PARENT))
		return;
	bpf_map_delete_elem(fd, &id);
	for (__u32 i = 0; i < LN_CG_PATTERNS; i++)
		bpf_map_delete_elem(fd, &(__u64){ LN_CG_GRAND_KEY(id, i) });
}

void ln_bound_remove(struct ln_generation *g, struct ln_watch_stats *st, struct ln_bound *b)
{
	bpf_map_delete_elem(bpf_map__fd(g->skel->maps.cgroup_policy), &b->id);
	children_forget(g, b->id, b->flags);
	if (b->flags & LN_CG_UNBOUND)
		st->seen++;
	else
		st->unbound++;
	ln_bound_index_del(g->bound_index, b->path);
	free(b->path);
	*b = g->bound[--g->n_bound];
	if (b != &g->bound[g->n_bound]) /* the last one moved here */
		ln_bound_index_move(g->bound_index, b->path, b - g->bound);
}

size_t ln_bound_count(const struct ln_generation *g)
{
	size_t n = 0;

	for (size_t i = 0; i < g->n_bound; i++)
		n += !(g->bound[i].flags & LN_CG_UNBOUND);
	return n;
}

/* A new entry's room in @g, and its path copied into *@copy: 0 or -ENOMEM. */
static int bound_room(struct ln_generation *g, const char *path, char **copy)
{
	if (!g->bound_index && !(g->bound_index = ln_bound_index_new()))
		return -ENOMEM;
	if (g->n_bound == g->cap_bound) {
		size_t cap = g->cap_bound ? g->cap_bound * 2 : 16;
		struct ln_bound *nb = realloc(g->bound, cap * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		g->bound = nb;
		g->cap_bound = cap;
	}
	*copy = strdup(path);
	return *copy ? 0 : -ENOMEM;
}

int ln_bound_set(struct ln_manager *m, struct ln_generation *g, struct ln_watch_stats *st,
		 const char *path, __u64 id, struct ln_cgroup_val v)
{
	int fd = bpf_map__fd(g->skel->maps.cgroup_policy);
	struct ln_bound *b = ln_bound_find(g, path, strlen(path));
	char *copy = NULL;
	int r;

	if (b) {
		b->stale = false;
		if (b->id == id && b->policy_id == v.policy_id && b->flags == v.flags)
			return 0;
		if (b->id != id) { /* the same path made again: the old id is gone */
			bpf_map_delete_elem(fd, &b->id);
			children_forget(g, b->id, b->flags);
		}
	} else if ((r = bound_room(g, path, &copy)) < 0) {
		return r;
	}
	if (bpf_map_update_elem(fd, &id, &v, BPF_ANY) < 0) {
		r = -errno;
		goto fail;
	}
	if (!b) {
		if (ln_bound_index_add(g->bound_index, copy, g->n_bound) < 0) {
			bpf_map_delete_elem(fd, &id);
			r = -ENOMEM;
			goto fail;
		}
		b = &g->bound[g->n_bound++];
		b->path = copy;
		b->stale = false;
	}
	b->id = id;
	b->policy_id = v.policy_id;
	b->flags = v.flags;
	if (v.flags & LN_CG_UNBOUND) {
		st->seen++;
	} else {
		st->bound++;
		ln_cgroup_remember(m, id, path);
	}
	return 0;
fail:
	free(copy);
	children_forget(g, id, v.flags); /* what watch.c wrote for it, with no entry saying so */
	if (b)
		ln_bound_remove(g, st, b);
	return r;
}

bool ln_bound_mark_stale(struct ln_generation *g, const char *top)
{
	struct ln_bound *b;

	/*
	 * A cgroup made or removed with nothing bound below it -- every event
	 * but a rescan's: cgroup2 removes only empty cgroups, and a new one's
	 * namesake went before -- can only make its own entry stale.
	 */
	if (*top && !ln_bound_index_below(g->bound_index, top)) {
		b = ln_bound_find(g, top, strlen(top));
		if (b)
			b->stale = true;
		return false;
	}
	for (size_t i = 0; i < g->n_bound; i++)
		g->bound[i].stale = is_under(g->bound[i].path, top);
	return true;
}

void ln_bound_drop_stale(struct ln_generation *g, struct ln_watch_stats *st, const char *top,
			 bool all)
{
	struct ln_bound *b;

	if (!all) {
		b = ln_bound_find(g, top, strlen(top));
		if (b && b->stale)
			ln_bound_remove(g, st, b);
		return;
	}
	for (size_t i = 0; i < g->n_bound;) {
		if (g->bound[i].stale)
			ln_bound_remove(g, st, &g->bound[i]); /* moves the last one here */
		else
			i++;
	}
}
