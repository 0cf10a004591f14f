// SPDX-License-Identifier: GPL-2.0
/* The inotify watch descriptors of the cgroup tree and the directories they stand for. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"

static size_t wd_pos(const struct ln_wd_table *w, int wd)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->v[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *ln_wd_path(const struct ln_wd_table *w, int wd)
{
	size_t i = wd_pos(w, wd);

	return i < w->n && w->v[i].wd == wd ? w->v[i].path : NULL;
}

int ln_wd_set(struct ln_wd_table *w, int wd, const char *path)
{
	size_t i = wd_pos(w, wd);
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	if (i < w->n && w->v[i].wd == wd) {
		/* the same directory seen again, maybe renamed; or a wd handed out again */
		if (!w->v[i].path)
			w->dead--;
		free(w->v[i].path);
		w->v[i].path = p;
		return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct ln_wd *v = realloc(w->v, cap * sizeof(*v));

		if (!v) {
			free(p);
			return -ENOMEM;
		}
		w->v = v;
		w->cap = cap;
	}
	memmove(&w->v[i + 1], &w->v[i], (w->n - i) * sizeof(*w->v));
	w->v[i].wd = wd;
	w->v[i].path = p;
	w->n++;
	return 0;
}

/* Drops the gaps ln_wd_del() left, keeping the order. */
static void compact(struct ln_wd_table *w)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].path)
			w->v[k++] = w->v[i];
	w->n = k;
	w->dead = 0;
}

/*
 * A gap rather than a move of every later entry (the oldest containers go
 * first, at the front): squeezed out once gaps are half the table.
 */
void ln_wd_del(struct ln_wd_table *w, int wd)
{
	size_t i = wd_pos(w, wd);

	if (i >= w->n || w->v[i].wd != wd || !w->v[i].path)
		return;
	free(w->v[i].path);
	w->v[i].path = NULL;
	if (++w->dead * 2 > w->n)
		compact(w);
}

void ln_wd_free(struct ln_wd_table *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
	w->v = NULL;
	w->n = w->cap = w->dead = 0;
}
