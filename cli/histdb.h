/* SPDX-License-Identifier: GPL-2.0 */
/* The CLI's read-only view of the flow history database: filters, the aggregated query. */
#ifndef LSNITCH_CLI_HISTDB_H
#define LSNITCH_CLI_HISTDB_H

#include <stdint.h>
#include <sqlite3.h>

extern const char *history_path; /* --history */

/* Which options a command takes (hq_parse). */
#define HQ_TIME (1u << 0)    /* --since, --until */
#define HQ_WHO (1u << 1)     /* --policy, --cgroup, --unit */
#define HQ_VERDICT (1u << 2) /* --verdict */
#define HQ_DEST (1u << 3)    /* --dest */
#define HQ_TOP (1u << 4)     /* --once, --sort, --limit, --interval */

struct hq {
	int64_t since, until;  /* Unix seconds */
	const char *policy, *cgroup, *unit, *verdict, *dest;
	char cgroup_buf[1024]; /* --cgroup, made "/a/b" */
	const char *sort;      /* top: count, last, dest */
	long limit, interval;
	bool once;
};

/* One aggregated flow: a flow key's buckets in the window, summed. */
struct hq_flow {
	const char *cgroup, *policy, *addr, *name, *proto, *verdict, *reason, *rule;
	int port;
	int64_t count, first, last;
};

typedef void (*hq_flow_fn)(const struct hq_flow *f, void *ud);

/* Options after the command into @q (defaults: the last 24 hours): 0, or -EINVAL (said). */
int hq_parse(const char *cmd, int argc, char **argv, unsigned int takes, struct hq *q);
/* The database, read-only (never created): 0, or -errno (said). */
int hdb_open(sqlite3 **db);
/*
 * Each flow matching @q, busiest first (or by @q->sort), at most @q->limit
 * (0: all): 0, or -EIO (said). *@lost: verdicts the kernel could not count.
 */
int hq_run(sqlite3 *db, const struct hq *q, hq_flow_fn fn, void *ud, int64_t *lost);
/* @t as "YYYY-MM-DD HH:MM:SS" UTC into @buf (24 bytes at least). */
const char *hq_time(int64_t t, char *buf, size_t len);
/* The systemd unit a cgroup path is (or is below), or "-". */
const char *hq_unit_of(const char *cgroup, char *buf, size_t len);

#endif /* LSNITCH_CLI_HISTDB_H */
