/* SPDX-License-Identifier: GPL-2.0 */
/* The flow history database (SQLite): minute buckets rolled up into hours and days, retention. */
#ifndef LSNITCH_HISTORY_H
#define LSNITCH_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include "rules.h"

#define LN_HISTORY_PATH "/var/lib/lsnitch/history.db"
#define LN_HISTORY_RETENTION_S (30 * 24 * 3600)
#define LN_HISTORY_MINUTES_S (48 * 3600)     /* then hours only */
#define LN_HISTORY_HOURS_S (7 * 24 * 3600)   /* then days only */
#define LN_HISTORY_MAX_BYTES (256ull << 20)
#define LN_HISTORY_SCHEMA 3

struct ln_history;

/* One drained flow, its strings already resolved (they are copied). Times: Unix seconds. */
struct ln_history_row {
	const char *cgroup; /* path below the cgroup2 root, "/..." */
	const char *policy; /* "-" for the implicit policy */
	const char *addr;   /* numeric, IPv4 plain */
	const char *name;   /* the DNS name the address was resolved from, or "" */
	const char *proto;  /* "tcp", "udp", "17", ... */
	const char *verdict; /* "allow", "deny", "would-deny", "dns" */
	const char *reason;
	const char *rule;   /* "file:line" or "-" */
	const char *exe;    /* the executable's path, "(dev:ino)" if not found, "" or NULL: none */
	const char *container; /* the container id the cgroup's name gives, "" or NULL: none */
	unsigned int port;
	uint64_t count;
	int64_t first, last;
};

struct ln_history_limits {
	int64_t retention_s; /* buckets older than this go (a day's worth at a time) */
	/*
	 * Over this, the oldest minutes that are in hours already go, then the
	 * oldest hours that are in days, then the oldest days. 0: no cap.
	 */
	uint64_t max_bytes;
	int64_t minutes_s, hours_s; /* minutes, hours older than this go: 0 = retention_s */
};

/* For status: what the database holds. */
struct ln_history_info {
	uint64_t bytes;  /* in use (pages not free) */
	int64_t oldest;  /* the oldest bucket's start, 0 if none */
	uint64_t lost;   /* verdicts the kernel could not count, over what is kept */
};

/*
 * Open (creating it 0600, and its directory 0700, if missing) and migrate the
 * database at @path. Never logs: -errno and @err on failure.
 */
int ln_history_open(const char *path, const struct ln_history_limits *lim,
		    struct ln_history **out, struct ln_error *err);
void ln_history_close(struct ln_history *h);
/* Add @n rows into their minutes in one transaction (all or none). */
int ln_history_add(struct ln_history *h, const struct ln_history_row *rows, size_t n,
		   struct ln_error *err);
/* Verdicts the kernel could not count (full table) during the minute of @when. */
int ln_history_add_lost(struct ln_history *h, int64_t when, uint64_t lost, struct ln_error *err);
/*
 * history_rollup.c. One step of the roll-ups as of @now: minutes older than
 * LN_HISTORY_SETTLE_S into hours, whole hours into days, each a bounded
 * transaction that also moves the level's mark (a crash loses the step, never
 * half of it). *@more: steps are left (call again soon).
 */
#define LN_HISTORY_SETTLE_S 120
int ln_history_rollup(struct ln_history *h, int64_t now, bool *more, struct ln_error *err);
/* Apply the limits as of @now; *@deleted: buckets removed. */
int ln_history_prune(struct ln_history *h, int64_t now, uint64_t *deleted, struct ln_error *err);
int ln_history_info(struct ln_history *h, struct ln_history_info *out);

#endif /* LSNITCH_HISTORY_H */
