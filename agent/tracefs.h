/* SPDX-License-Identifier: GPL-2.0 */
/* tracefs held for the socket() tracepoint: mounted if missing, unmounted only if ours. */
#ifndef LN_TRACEFS_H
#define LN_TRACEFS_H

#include <stdbool.h>
#include <linux/types.h>

/*
 * Zero-initialise, then set fd = -1 (or use LN_TRACEFS_INIT). While held, an O_PATH fd on
 * the mount keeps another holder (a second agent) from unmounting it under us: umount(2)
 * fails with EBUSY while a file on the mount is open.
 */
struct ln_tracefs {
	int fd;	      /* O_PATH on the mount's root, -1 when not held */
	bool mounted; /* this holder mounted it */
	__u64 mnt_id; /* the mount it made (statx STATX_MNT_ID) */
};
#define LN_TRACEFS_INIT                                                                            \
	{                                                                                          \
		.fd = -1                                                                           \
	}

/*
 * Hold tracefs at @dir, mounting it there first unless @dir already is a tracefs (a
 * mount found there is never mounted over). 0 or -errno.
 */
int ln_tracefs_hold(struct ln_tracefs *t, const char *dir);
/*
 * Let go of @dir; unmount it if this holder mounted it and it is still that mount on top.
 * 0 (nothing to do, or unmounted) or -errno, the mount left as it is: -EBUSY when another
 * holder or process uses it, -ESTALE when another mount now covers ours.
 */
int ln_tracefs_release(struct ln_tracefs *t, const char *dir);

#endif
