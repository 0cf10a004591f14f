/* SPDX-License-Identifier: GPL-2.0 */
/* The flow history database (SQLite): per-minute buckets, retention, schema migrations. */
#ifndef LSNITCH_HISTORY_H
#define LSNITCH_HISTORY_H

#include <stdint.h>
#include "rules.h"

#define LN_HISTORY_PATH "/var/lib/lsnitch/history.db"
#define LN_HISTORY_RETENTION_S (30 * 24 * 3600)
#define LN_HISTORY_MAX_BYTES (256ull << 20)
#define LN_HISTORY_SCHEMA 1

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
	unsigned int port;
	uint64_t count;
	int64_t first, last;
};

struct ln_history_limits {
	int64_t retention_s; /* buckets older than this go */
	uint64_t max_bytes;  /* then the oldest minutes until the file is below this */
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
/* Apply the limits as of @now; *@deleted: buckets removed. */
int ln_history_prune(struct ln_history *h, int64_t now, uint64_t *deleted, struct ln_error *err);

#endif /* LSNITCH_HISTORY_H */
