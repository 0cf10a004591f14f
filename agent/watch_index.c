// SPDX-License-Identifier: GPL-2.0
/*
 * The bound cgroups by path: a hash of every bound path and every ancestor of
 * one, with the binding's index and how many bindings lie below. A container
 * host's thousands of bindings cost the watcher one lookup per event instead
 * of a pass over all of them (what made a burst of new cgroups O(n^2)).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "watch.h"

struct ln_bound_node {
	char *path; /* NULL: a free slot */
	size_t len;
	long idx;     /* the binding at this path, -1: only an ancestor of some */
	size_t below; /* bindings strictly below this path */
};

/* Open addressing, linear probing, at most half full. */
struct ln_bound_index {
	struct ln_bound_node *v;
	size_t n, cap; /* cap: a power of two */
};

static size_t slot_of(const struct ln_bound_index *x, const char *path, size_t len)
{
	size_t i = XXH3_64bits(path, len) & (x->cap - 1);

	while (x->v[i].path && (x->v[i].len != len || memcmp(x->v[i].path, path, len)))
		i = (i + 1) & (x->cap - 1);
	return i;
}

static struct ln_bound_node *node_find(const struct ln_bound_index *x, const char *path,
				       size_t len)
{
	struct ln_bound_node *nd;

	if (!x || !x->cap)
		return NULL;
	nd = &x->v[slot_of(x, path, len)];
	return nd->path ? nd : NULL;
}

long ln_bound_index_find(const struct ln_bound_index *x, const char *path, size_t len)
{
	const struct ln_bound_node *nd = node_find(x, path, len);

	return nd ? nd->idx : -1;
}

size_t ln_bound_index_below(const struct ln_bound_index *x, const char *path)
{
	const struct ln_bound_node *nd = node_find(x, path, strlen(path));

	return nd ? nd->below : 0;
}

/* Room for @more nodes at most half full: 0 or -ENOMEM. */
static int reserve(struct ln_bound_index *x, size_t more)
{
	struct ln_bound_node *old = x->v;
	size_t cap = x->cap ? x->cap : 64, old_cap = x->cap;

	while ((x->n + more) * 2 > cap)
		cap *= 2;
	if (cap == old_cap)
		return 0;
	x->v = calloc(cap, sizeof(*x->v));
	if (!x->v) {
		x->v = old;
		return -ENOMEM;
	}
	x->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].path)
			x->v[slot_of(x, old[i].path, old[i].len)] = old[i];
	free(old);
	return 0;
}

/* Takes the node at slot @i out, moving later ones of its run back (no tombstones). */
static void slot_clear(struct ln_bound_index *x, size_t i)
{
	size_t mask = x->cap - 1, j = i;

	free(x->v[i].path);
	x->v[i].path = NULL;
	x->n--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!x->v[j].path)
			return;
		home = XXH3_64bits(x->v[j].path, x->v[j].len) & mask;
		/* Stays if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		x->v[i] = x->v[j];
		x->v[j].path = NULL;
		i = j;
	}
}

/* The node of @path's first @len bytes, made if missing (room reserved): NULL on ENOMEM. */
static struct ln_bound_node *node_get(struct ln_bound_index *x, const char *path, size_t len)
{
	size_t i = slot_of(x, path, len);
	struct ln_bound_node *nd = &x->v[i];

	if (nd->path)
		return nd;
	nd->path = strndup(path, len);
	if (!nd->path)
		return NULL;
	nd->len = len;
	nd->idx = -1;
	nd->below = 0;
	x->n++;
	return nd;
}

/* Drops @nd's count of one binding below (@dec) and the node once it stands for nothing. */
static void node_put(struct ln_bound_index *x, struct ln_bound_node *nd, size_t dec)
{
	nd->below -= dec;
	if (nd->idx < 0 && !nd->below)
		slot_clear(x, nd - x->v);
}

/* Each proper ancestor of @path ("a" and "a/b" for "a/b/c"), shortest first: its length. */
static size_t next_ancestor(const char *path, size_t from)
{
	const char *s = strchr(path + from + (from > 0), '/');

	return s ? (size_t)(s - path) : 0;
}

int ln_bound_index_add(struct ln_bound_index *x, const char *path, size_t idx)
{
	size_t len = strlen(path), depth = 1, a;
	struct ln_bound_node *nd;

	for (const char *s = path; *s; s++)
		depth += *s == '/';
	if (reserve(x, depth) < 0)
		return -ENOMEM;
	nd = node_get(x, path, len);
	if (!nd)
		return -ENOMEM;
	nd->idx = (long)idx;
	for (a = next_ancestor(path, 0); a; a = next_ancestor(path, a)) {
		nd = node_get(x, path, a);
		if (!nd)
			goto undo;
		nd->below++;
	}
	return 0;
undo:
	/* the ancestors counted so far, and the path itself, as they were */
	for (size_t b = next_ancestor(path, 0); b && b < a; b = next_ancestor(path, b))
		node_put(x, node_find(x, path, b), 1);
	nd = node_find(x, path, len);
	nd->idx = -1;
	node_put(x, nd, 0);
	return -ENOMEM;
}

void ln_bound_index_del(struct ln_bound_index *x, const char *path)
{
	size_t len = strlen(path);
	struct ln_bound_node *nd = node_find(x, path, len);

	if (!nd || nd->idx < 0)
		return;
	nd->idx = -1;
	node_put(x, nd, 0);
	/* no slot of an ancestor moves while it still counts this binding: look each up */
	for (size_t a = next_ancestor(path, 0); a; a = next_ancestor(path, a)) {
		nd = node_find(x, path, a);
		if (nd)
			node_put(x, nd, 1);
	}
}

void ln_bound_index_move(struct ln_bound_index *x, const char *path, size_t idx)
{
	struct ln_bound_node *nd = node_find(x, path, strlen(path));

	if (nd && nd->idx >= 0)
		nd->idx = (long)idx;
}

struct ln_bound_index *ln_bound_index_new(void)
{
	return calloc(1, sizeof(struct ln_bound_index));
}

void ln_bound_index_free(struct ln_bound_index *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->cap; i++)
		free(x->v[i].path);
	free(x->v);
	free(x);
}
