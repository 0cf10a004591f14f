/* SPDX-License-Identifier: GPL-2.0 */
/* Exe policies in the agent: exe= paths resolved to (device, inode), kept right as files change. */
#ifndef LSNITCH_EXE_WATCH_H
#define LSNITCH_EXE_WATCH_H

#include <stdbool.h>
#include <linux/types.h>

#include "lsnitch_exe_filter.h"
#include "rules.h"

struct ln_manager;
struct ln_generation;
struct json_object;

/* One exe= line of a generation: the identity its exe_policy entry has, if any. */
struct ln_exe_entry {
	const struct ln_exe_binding *b;
	struct ln_exe_id id;
	bool resolved; /* the file exists: its entry is in the map */
};

/* A generation's exe= lines, its exe_policy map, and the slots in front of it (a copy, its map). */
struct ln_exe_table {
	struct ln_exe_entry *v;
	size_t n;
	int map_fd;
	int filter_fd;
	struct ln_exe_slot *slots;
	__u32 n_slots;
};

/* @path's identity as the kernel has it: i_ino, and s_dev encoded major << 20 | minor. */
int ln_exe_identity(const char *path, struct ln_exe_id *id);
/*
 * How many slots the exe_filter map of @cc's generation has: LN_EXE_SLOTS, or 1 (shared:
 * exe_policy decides every verdict) without exe= lines or with LSNITCH_TEST_EXE_SHARED=1 in
 * the environment (a test's: as if every executable collided with every other).
 */
__u32 ln_exe_slots(const struct ln_compiled *cc);
/*
 * Resolves every exe= line of @cc (stat(), symbolic links followed) into the exe_policy map
 * @map_fd, each entry's slot in @filter_fd written first: 0 or -errno. A path that
 * does not exist is no error: it stays unresolved (the watcher adds it when it appears).
 * Safe off the loop.
 */
int ln_exe_table_build(struct ln_exe_table *t, const struct ln_compiled *cc, int map_fd,
		       int filter_fd, struct ln_error *err);
void ln_exe_table_free(struct ln_exe_table *t);
/* Stat every entry again; a changed identity replaces its map entry. How many changed. */
int ln_exe_table_refresh(struct ln_exe_table *t);
/* The policy for executable @path (any path to it) within scope @scope: explain's choice. */
__u32 ln_exe_table_select(const struct ln_exe_table *t, const struct ln_compiled *cc,
			  __u32 scope, const char *path);
/*
 * The path an event names as its exe: the exe= line of exe policy @policy_id that
 * /proc/@tgid/exe is (or its only one), else that link's target; "" when gone.
 */
void ln_exe_event_path(const struct ln_exe_table *t, __u32 policy_id, __u32 tgid, char *out,
		       size_t len);
/* status: every exe= line, resolved or not. */
struct json_object *ln_exe_status(const struct ln_generation *g);

/*
 * The watcher (on the loop): inotify on the directories of the generation in force's exe=
 * paths (and of their link targets); a file created, moved or deleted there refreshes the
 * table. ln_exe_watch_follow() points it at a new generation (after a switch).
 */
int ln_exe_watch_start(struct ln_manager *m, struct ln_error *err);
void ln_exe_watch_follow(struct ln_manager *m);
void ln_exe_watch_stop(struct ln_manager *m);

#endif /* LSNITCH_EXE_WATCH_H */
