/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The read-only view of the flow history database: filters, the aggregated queries. histdb.c
 * (the queries, no printing) is linked by the CLI and the agent (its "history" and "learn"
 * commands); histargs.c holds the CLI's options and its opening of the file.
 */
#ifndef LSNITCH_CLI_HISTDB_H
#define LSNITCH_CLI_HISTDB_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include <json-c/json.h>

struct ln_error;

extern const char *history_path; /* --history */

/* Which options a command takes (hq_parse). */
#define HQ_TIME (1u << 0)    /* --since, --until */
#define HQ_WHO (1u << 1)     /* --policy, --cgroup, --unit; --exe, --container */
#define HQ_VERDICT (1u << 2) /* --verdict */
#define HQ_DEST (1u << 3)    /* --dest */
#define HQ_TOP (1u << 4)     /* --once, --sort, --limit, --interval */
#define HQ_BY_EXE (1u << 5)  /* --by-exe (learn) */

struct hq {
	int64_t since, until;  /* Unix seconds */
	const char *policy, *cgroup, *unit, *verdict, *dest;
	const char *exe, *container; /* exact path; id or its prefix (12 hex digits suffice) */
	char cgroup_buf[1024]; /* --cgroup, made "/a/b" */
	const char *sort;      /* top: count, last, dest */
	long limit, interval;
	bool once;
	bool by_exe; /* learn: an exe policy per executable */
};

/* One aggregated flow: a flow key's buckets in the window, summed. */
struct hq_flow {
	const char *cgroup, *policy, *addr, *name, *proto, *verdict, *reason, *rule;
	const char *exe, *container; /* "": none (or a flow from before schema 3) */
	int port;
	int64_t count, first, last;
};

typedef void (*hq_flow_fn)(const struct hq_flow *f, void *ud);

/* Verdicts of one (cgroup, policy, verdict) in one slot of a series (NULL strings: none). */
struct hq_point {
	const char *cgroup, *policy, *verdict;
	int64_t slot, count;
};

typedef void (*hq_point_fn)(const struct hq_point *p, void *ud);

/* histargs.c: the options after the command into @q (default: the last 24 h); 0 or -EINVAL. */
int hq_parse(const char *cmd, int argc, char **argv, unsigned int takes, struct hq *q);
/* histargs.c: the database, read-only (never created): 0, or -errno (said). */
int hdb_open(sqlite3 **db);

/* A --cgroup as the agent stores it: "/a/b", whatever slashes it was given with. */
void hq_cgroup_norm(const char *in, char *buf, size_t len);
/* Whether @q's filter makes sense: 0, or -EINVAL with the reason in @err. */
int hq_check(const struct hq *q, struct ln_error *err);
/*
 * Each flow matching @q, busiest first (or by @q->sort), at most @q->limit
 * (0: all): 0, or -EIO (@err). *@lost: verdicts the kernel could not count.
 */
int hq_run(sqlite3 *db, const struct hq *q, hq_flow_fn fn, void *ud, int64_t *lost,
	   struct ln_error *err);
/*
 * The verdicts matching @q per (cgroup, policy, verdict) and per @step seconds
 * (a multiple of 60) from @q->since's minute, slot 0 first: 0, or -EIO (@err).
 */
int hq_series(sqlite3 *db, const struct hq *q, int64_t step, hq_point_fn fn, void *ud,
	      struct ln_error *err);
/* @f as the JSON object `history --json` and the agent's "history" give. */
json_object *hq_flow_json(const struct hq_flow *f);
/* @t as "YYYY-MM-DD HH:MM:SS" UTC into @buf (24 bytes at least). */
const char *hq_time(int64_t t, char *buf, size_t len);
/* The systemd unit a cgroup path is (or is below), or "-". */
const char *hq_unit_of(const char *cgroup, char *buf, size_t len);

#endif /* LSNITCH_CLI_HISTDB_H */
