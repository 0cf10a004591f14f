// SPDX-License-Identifier: GPL-2.0
/* cgroup v2: find the mount, turn paths into ids and ids back into paths. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#ifndef FILEID_KERNFS
#define FILEID_KERNFS 0xfe
#endif

/* The cgroup2 mount point from /proc/self/mountinfo (hybrid mode included). */
int ln_cgroup2_root(char **out)
{
	char *line = NULL, mnt[4096], fstype[64];
	size_t cap = 0;
	FILE *f;
	int r = -ENOENT;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype src superopts */
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		*out = strdup(mnt);
		r = *out ? 0 : -ENOMEM;
		break;
	}
	free(line);
	fclose(f);
	return r;
}

/* On cgroup2 the directory's inode number is the cgroup id. */
int ln_cgroup_id(const char *path, __u64 *id)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

static const char *cgname_lookup(struct ln_manager *m, __u64 id)
{
	for (size_t i = 0; i < m->n_cgnames; i++)
		if (m->cgnames[i].id == id)
			return m->cgnames[i].path;
	return NULL;
}

static void cgname_store(struct ln_manager *m, __u64 id, const char *path)
{
	char *p = strdup(path);

	if (!p)
		return;
	if (m->n_cgnames == m->cap_cgnames) {
		size_t cap = m->cap_cgnames ? m->cap_cgnames * 2 : 64;
		struct ln_cgname *v;

		/* Bounded cache: start over rather than grow without end. */
		if (cap > 4096) {
			ln_cgnames_free(m);
			cap = 64;
		}
		v = realloc(m->cgnames, cap * sizeof(*v));
		if (!v) {
			free(p);
			return;
		}
		m->cgnames = v;
		m->cap_cgnames = cap;
	}
	m->cgnames[m->n_cgnames].id = id;
	m->cgnames[m->n_cgnames].path = p;
	m->n_cgnames++;
}

/*
 * Remember the path of a cgroup the agent binds (@rel relative to the cgroup2
 * root, no leading "/"): a unit that exits at once is gone before its first
 * event is read, and open_by_handle_at() can no longer name it.
 */
void ln_cgroup_remember(struct ln_manager *m, __u64 id, const char *rel)
{
	char path[4096];

	if (cgname_lookup(m, id))
		return;
	snprintf(path, sizeof(path), "/%s", rel);
	cgname_store(m, id, path);
}

/*
 * Path of cgroup @id relative to the cgroup2 root ("/a/b"), via a kernfs file
 * handle; "#<id>" when the cgroup is gone.
 */
const char *ln_cgroup_name(struct ln_manager *m, __u64 id, char *buf, size_t len)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh = { .handle_bytes = sizeof(__u64), .handle_type = FILEID_KERNFS } };
	char proc[64], target[4096];
	const char *cached;
	size_t rootlen;
	ssize_t n;
	int fd;

	cached = cgname_lookup(m, id);
	if (cached) {
		snprintf(buf, len, "%s", cached);
		return buf;
	}
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(m->cg2_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		goto unknown;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		goto unknown;
	target[n] = '\0';
	rootlen = strlen(m->cg2_root);
	if (strncmp(target, m->cg2_root, rootlen) == 0)
		snprintf(buf, len, "%s", target[rootlen] ? target + rootlen : "/");
	else
		snprintf(buf, len, "%s", target);
	cgname_store(m, id, buf);
	return buf;
unknown:
	snprintf(buf, len, "#%llu", (unsigned long long)id);
	return buf;
}

void ln_cgnames_free(struct ln_manager *m)
{
	for (size_t i = 0; i < m->n_cgnames; i++)
		free(m->cgnames[i].path);
	free(m->cgnames);
	m->cgnames = NULL;
	m->n_cgnames = m->cap_cgnames = 0;
}
