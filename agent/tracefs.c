// SPDX-License-Identifier: GPL-2.0
/* tracefs held for the socket() tracepoint: mounted if missing, unmounted only if ours. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "tracefs.h"

static bool is_tracefs(const char *dir)
{
	struct statfs st;

	return statfs(dir, &st) == 0 && st.f_type == TRACEFS_MAGIC;
}

/* The id of the mount on top at @dir (ids are never reused while it exists). */
static int top_mount_id(const char *dir, __u64 *id)
{
	struct statx stx;

	if (statx(AT_FDCWD, dir, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	*id = stx.stx_mnt_id;
	return 0;
}

int ln_tracefs_hold(struct ln_tracefs *t, const char *dir)
{
	if (t->fd >= 0)
		return 0;
	if (!is_tracefs(dir)) {
		if (mount("tracefs", dir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			return -errno;
		/* A mount we cannot tell apart from a later one is left behind at exit. */
		t->mounted = top_mount_id(dir, &t->mnt_id) == 0;
	}
	t->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return t->fd < 0 ? -errno : 0;
}

int ln_tracefs_release(struct ln_tracefs *t, const char *dir)
{
	bool ours = t->mounted;
	__u64 id;

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->mounted = false;
	if (!ours)
		return 0;
	if (top_mount_id(dir, &id) < 0 || id != t->mnt_id)
		return -ESTALE;
	return umount2(dir, UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
}
