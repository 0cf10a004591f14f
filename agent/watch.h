/* SPDX-License-Identifier: GPL-2.0 */
/* Internals of the cgroup watcher (watch*.c): the watch descriptor table, the bound index. */
#ifndef LSNITCH_WATCH_H
#define LSNITCH_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"

struct ln_wd {
	int wd;
	char *path; /* relative to the cgroup2 root; "" for the root */
};

/* Sorted by wd (the kernel hands them out increasing); a removed one leaves a gap (path NULL). */
struct ln_wd_table {
	struct ln_wd *v;
	size_t n, cap;
	size_t dead; /* gaps among the n */
};

/* The directory @wd watches, or NULL. */
const char *ln_wd_path(const struct ln_wd_table *w, int wd);
/* @wd watches @path (again, maybe renamed): 0 or -ENOMEM. */
int ln_wd_set(struct ln_wd_table *w, int wd, const char *path);
void ln_wd_del(struct ln_wd_table *w, int wd);
void ln_wd_free(struct ln_wd_table *w);

/* watch_bound.c: what a generation has bound (ln_generation.bound, its map entries) */
struct ln_bound *ln_bound_find(struct ln_generation *g, const char *path, size_t len);
/* Gives @path (cgroup @id) the entry @v: a binding, or a mark (LN_CG_UNBOUND). */
int ln_bound_set(struct ln_manager *m, struct ln_generation *g, struct ln_watch_stats *st,
		 const char *path, __u64 id, struct ln_cgroup_val v);
/* Removes @b, its map entry and its cgroup's patterns; the last entry moves into its place. */
void ln_bound_remove(struct ln_generation *g, struct ln_watch_stats *st, struct ln_bound *b);
/*
 * Marks the entries at and below @top ("" all) stale until ln_bound_set() sees
 * them again; ln_bound_drop_stale() removes those it did not, given what
 * ln_bound_mark_stale() returned (false: only @top's own entry was marked).
 */
bool ln_bound_mark_stale(struct ln_generation *g, const char *top);
void ln_bound_drop_stale(struct ln_generation *g, struct ln_watch_stats *st, const char *top,
			 bool all);

/*
 * The bound cgroups by path (watch_index.c): each binding's index in
 * ln_generation.bound, and how many bindings lie below a path. NULL is empty.
 */
struct ln_bound_index;

struct ln_bound_index *ln_bound_index_new(void);
void ln_bound_index_free(struct ln_bound_index *x);
/* The index of the binding at @path's first @len bytes, or -1. */
long ln_bound_index_find(const struct ln_bound_index *x, const char *path, size_t len);
/* How many bindings lie strictly below @path. */
size_t ln_bound_index_below(const struct ln_bound_index *x, const char *path);
/* A binding at @path (not yet in @x) with index @idx: 0 or -ENOMEM (@x unchanged). */
int ln_bound_index_add(struct ln_bound_index *x, const char *path, size_t idx);
/* The binding at @path is gone. */
void ln_bound_index_del(struct ln_bound_index *x, const char *path);
/* The binding at @path now has index @idx. */
void ln_bound_index_move(struct ln_bound_index *x, const char *path, size_t idx);

#endif /* LSNITCH_WATCH_H */
