/* SPDX-License-Identifier: GPL-2.0 */
/* The history's bucket sizes (minute, hour, day) and which of them answers a time range. */
#ifndef LSNITCH_HISTORY_PLAN_H
#define LSNITCH_HISTORY_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

/* Bucket sizes, finest first; each table is (START, key, count, first, last). */
enum { LN_HL_MINUTE, LN_HL_HOUR, LN_HL_DAY, LN_HL_N };

struct ln_history_level {
	const char *name;  /* its row in the levels table */
	const char *table; /* and its buckets */
	const char *col;   /* a bucket's start, Unix seconds, a multiple of span */
	int64_t span;
};
extern const struct ln_history_level ln_history_levels[LN_HL_N];

/*
 * What a level holds: every verdict the database keeps from kept_from up to
 * rolled_to (minutes: no end). The agent keeps kept_from of a finer level at
 * or after a coarser one's, aligned to the coarser span, and rolled_to of a
 * coarser one at or after the finer kept_from: every moment is in some level.
 */
struct ln_history_span {
	int64_t kept_from, rolled_to;
};

/* @t down to a multiple of @span (a bucket's start). */
int64_t ln_history_floor(int64_t t, int64_t span);

/* Buckets of one level starting in [lo, hi): one part of a query's answer. */
struct ln_history_seg {
	int level;
	int64_t lo, hi;
};
#define LN_HISTORY_MAX_SEGS 16

/*
 * The parts answering [@since, @until] (inclusive, Unix seconds): whole hours
 * and days inside it from their tables, the edges from minutes, so the counts
 * are those of the minutes. Where minutes are gone, an edge is answered to the
 * hour (days: to the day). Returns the number of parts in @out.
 */
int ln_history_plan(const struct ln_history_span sp[LN_HL_N], int64_t since, int64_t until,
		    struct ln_history_seg out[LN_HISTORY_MAX_SEGS]);
/*
 * "SELECT key, count, first, last FROM ... UNION ALL ..." over @segs into
 * @buf, each part also keeping only buckets seen in [?1, ?2]: 0 or -ENOSPC.
 */
int ln_history_plan_sql(const struct ln_history_seg *segs, int n, char *buf, size_t len);
/* The levels of @db into @sp; a database without roll-ups (schema 1): minutes only. */
int ln_history_spans_read(sqlite3 *db, struct ln_history_span sp[LN_HL_N]);

#endif /* LSNITCH_HISTORY_PLAN_H */
