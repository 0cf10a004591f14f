// SPDX-License-Identifier: GPL-2.0
/* The control socket: its file (made, stale one replaced, 0600, listening) and who may connect. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

/* mkdir -p the parent of @path; directories made here are 0700. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

/* A socket file left by an agent that died is removed; a live one is not ours to take. */
static int remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int ln_ctl_group(const char *name, gid_t *gid)
{
	struct group *g = getgrnam(name);
	char *end;
	unsigned long n;

	if (g) {
		*gid = g->gr_gid;
		return 0;
	}
	n = strtoul(name, &end, 10);
	if (!*name || *end || n >= (gid_t)-1)
		return -ENOENT;
	*gid = n;
	return 0;
}

/*
 * The socket, and a private directory holding it, opened to @group: needs
 * CAP_CHOWN or membership of @group (the unit gives the agent the group).
 */
static int open_to_group(const char *path, gid_t group)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	if (chown(path, -1, group) < 0 || chmod(path, 0660) < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	/* only a directory of the socket's own (0700): never /run or /tmp */
	if (stat(dir, &st) < 0 || (st.st_mode & 07777) != 0700 || st.st_uid != geteuid())
		return 0;
	if (chown(dir, -1, group) < 0 || chmod(dir, 0710) < 0)
		return -errno;
	return 0;
}

int ln_ctl_listen(const char *path, gid_t group, dev_t *dev, ino_t *ino)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = make_parent(path);
	if (r < 0)
		return r;
	r = remove_stale(&sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* created 0600: no moment where another user could connect */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || stat(path, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = group != (gid_t)-1 ? open_to_group(path, group) : 0;
	if (r < 0 || listen(fd, 16) < 0) {
		r = r < 0 ? r : -errno;
		close(fd);
		return r;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return fd;
}

/* Whether the peer on @fd has @group as its group or one of its supplementary groups. */
static bool peer_in_group(int fd, gid_t primary, gid_t group)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (group == (gid_t)-1)
		return false;
	if (primary == group)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false; /* more than 256 groups: only the primary one counts */
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == group)
			return true;
	return false;
}

/*
 * Only root, the agent's own user or a member of --control-group may talk to
 * the agent, whatever the file mode says.
 */
bool ln_ctl_peer_allowed(int fd, gid_t group, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*pid = cred.pid;
	return cred.uid == 0 || cred.uid == geteuid() || peer_in_group(fd, cred.gid, group);
}
