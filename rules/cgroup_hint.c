// SPDX-License-Identifier: GPL-2.0
/* A --cgroup path that is no cgroup v2 directory: what was likely meant (hybrid hosts). */
#include <stdio.h>
#include <string.h>

#include "rules_internal.h"

#define LN_CGROUP_FS "/sys/fs/cgroup"

/* @path's part below /sys/fs/cgroup (a v1 controller directory skipped), or NULL. */
static const char *below_cgroup_fs(const char *path)
{
	static const char *const skip[] = { "unified/", "systemd/" };
	size_t n = strlen(LN_CGROUP_FS);

	if (strncmp(path, LN_CGROUP_FS "/", n + 1))
		return NULL;
	path += n + 1;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strncmp(path, skip[i], strlen(skip[i])))
			return path + strlen(skip[i]);
	return path;
}

void ln_cgroup_hint(const char *path, const char *cg2_root, ln_is_cgroup2_fn is_cg2, void *ud,
		    char *out, size_t len)
{
	const char *rest = below_cgroup_fs(path);
	char cand[4096];

	if (rest && strcmp(cg2_root, LN_CGROUP_FS) && *rest) {
		snprintf(cand, sizeof(cand), "%s/%s", cg2_root, rest);
		if (strcmp(cand, path) && is_cg2(cand, ud)) {
			snprintf(out, len, "cgroup v2 is mounted at %s (a hybrid host): did you mean "
				 "%s?", cg2_root, cand);
			return;
		}
	}
	snprintf(out, len, "cgroup v2 is mounted at %s", cg2_root);
}
