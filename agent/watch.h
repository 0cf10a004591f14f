/* SPDX-License-Identifier: GPL-2.0 */
/* Internals of the cgroup watcher (watch*.c): the watch descriptor table. */
#ifndef LSNITCH_WATCH_H
#define LSNITCH_WATCH_H

#include <stddef.h>

struct ln_wd {
	int wd;
	char *path; /* relative to the cgroup2 root; "" for the root */
};

/* Sorted by wd (the kernel hands them out increasing). */
struct ln_wd_table {
	struct ln_wd *v;
	size_t n, cap;
};

/* The directory @wd watches, or NULL. */
const char *ln_wd_path(const struct ln_wd_table *w, int wd);
/* @wd watches @path (again, maybe renamed): 0 or -ENOMEM. */
int ln_wd_set(struct ln_wd_table *w, int wd, const char *path);
void ln_wd_del(struct ln_wd_table *w, int wd);
void ln_wd_free(struct ln_wd_table *w);

#endif /* LSNITCH_WATCH_H */
