/* SPDX-License-Identifier: GPL-2.0 */
/* Executables by identity: the path a flow's (device, inode) names, cached and bounded. */
#ifndef LSNITCH_EXE_NAMES_H
#define LSNITCH_EXE_NAMES_H

#include <stddef.h>
#include <linux/types.h>

#include "lsnitch.h"

struct ln_exe_names;
struct ln_exe_table;

struct ln_exe_names *ln_exe_names_new(void);
void ln_exe_names_free(struct ln_exe_names *n);
/*
 * The path of executable @id into @buf (and returned): an exe= line of @t
 * naming it, else /proc/@tgid/exe when that file is still @id, else
 * "(DEV:INO)" (the kernel's device number). "" for a zero @id (none known).
 * Found paths are cached (4096, one per hash slot).
 */
const char *ln_exe_names_get(struct ln_exe_names *n, const struct ln_exe_table *t,
			     const struct ln_exe_id *id, __u32 tgid, char *buf, size_t len);

/* What the kernel said about a new executable: /proc/@tgid/exe's path cached if it is @id. */
void ln_exe_names_learn(struct ln_exe_names *n, const struct ln_exe_id *id, __u32 tgid);

#endif /* LSNITCH_EXE_NAMES_H */
