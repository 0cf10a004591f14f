// SPDX-License-Identifier: GPL-2.0
/*
 * Executables by identity: the flow table counts (device, inode) of the
 * task's executable; history shows paths. The exe= lines know theirs; any
 * other is read from /proc/PID/exe of the task the kernel names when it
 * first counts that executable (exe_new, read at once: a short-lived
 * process is still there), or else of the flow's first task at the drain,
 * and kept in a direct-mapped cache (a slot's newcomer replaces it).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exe_names.h"
#include "exe_watch.h"

#define LN_EXE_NAMES_BITS 12
#define LN_EXE_NAMES_SLOTS (1u << LN_EXE_NAMES_BITS) /* as many as the kernel's exe_seen */

struct ln_exe_name {
	struct ln_exe_id id;
	char *path; /* NULL: slot empty */
};

struct ln_exe_names {
	struct ln_exe_name v[LN_EXE_NAMES_SLOTS];
};

struct ln_exe_names *ln_exe_names_new(void)
{
	return calloc(1, sizeof(struct ln_exe_names));
}

void ln_exe_names_free(struct ln_exe_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < LN_EXE_NAMES_SLOTS; i++)
		free(n->v[i].path);
	free(n);
}

static bool same_exe(const struct ln_exe_id *a, const struct ln_exe_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static struct ln_exe_name *slot_of(struct ln_exe_names *n, const struct ln_exe_id *id)
{
	__u64 h = (id->ino ^ (id->dev << 32)) * 0x9e3779b97f4a7c15ULL;

	return &n->v[h >> (64 - LN_EXE_NAMES_BITS)];
}

/* The exe= path of @t whose file is @id, or NULL. */
static const char *configured(const struct ln_exe_table *t, const struct ln_exe_id *id)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->v[i].resolved && same_exe(&t->v[i].id, id))
			return t->v[i].b->path;
	return NULL;
}

/* /proc/@tgid/exe's target into @buf if that file is @id (a reused pid runs another): 0. */
static int from_proc(__u32 tgid, const struct ln_exe_id *id, char *buf, size_t len)
{
	struct ln_exe_id now;
	char link[32];
	ssize_t l;

	if (!tgid || len < 2)
		return -ENOENT;
	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	l = readlink(link, buf, len - 1);
	if (l <= 0)
		return -ENOENT;
	buf[l] = '\0';
	/* The link's file itself (even when deleted since), not what the path names now. */
	if (ln_exe_identity(link, &now) < 0 || !same_exe(&now, id))
		return -ENOENT;
	return 0;
}

/* @path into @id's slot (replacing whatever it held). */
static void remember(struct ln_exe_names *n, const struct ln_exe_id *id, const char *path)
{
	struct ln_exe_name *s = slot_of(n, id);
	char *copy = strdup(path);

	if (!copy)
		return; /* only a cache */
	free(s->path);
	s->path = copy;
	s->id = *id;
}

/* The cached path of @id, or NULL. */
static const char *cached(struct ln_exe_names *n, const struct ln_exe_id *id)
{
	struct ln_exe_name *s = slot_of(n, id);

	return s->path && same_exe(&s->id, id) ? s->path : NULL;
}

void ln_exe_names_learn(struct ln_exe_names *n, const struct ln_exe_id *id, __u32 tgid)
{
	char path[PATH_MAX];

	if (n && !cached(n, id) && !from_proc(tgid, id, path, sizeof(path)))
		remember(n, id, path);
}

const char *ln_exe_names_get(struct ln_exe_names *n, const struct ln_exe_table *t,
			     const struct ln_exe_id *id, __u32 tgid, char *buf, size_t len)
{
	const char *path = n ? cached(n, id) : NULL;

	if (!id->dev && !id->ino) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	if (!path)
		path = configured(t, id);
	if (path) {
		snprintf(buf, len, "%s", path);
	} else if (from_proc(tgid, id, buf, len) < 0) {
		snprintf(buf, len, "(%llu:%llu)", (unsigned long long)id->dev,
			 (unsigned long long)id->ino);
		return buf;
	}
	if (n && !cached(n, id))
		remember(n, id, buf);
	return buf;
}
