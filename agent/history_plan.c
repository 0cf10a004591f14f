// SPDX-License-Identifier: GPL-2.0
/* Which bucket tables answer a time range: the coarsest exact one, minutes at the edges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "history_plan.h"

const struct ln_history_level ln_history_levels[LN_HL_N] = {
	[LN_HL_MINUTE] = { "minute", "buckets", "minute", 60 },
	[LN_HL_HOUR] = { "hour", "hours", "hour", 3600 },
	[LN_HL_DAY] = { "day", "days", "day", 86400 },
};

int64_t ln_history_floor(int64_t t, int64_t span)
{
	return (t >= 0 ? t : t - span + 1) / span * span;
}


static int64_t ceil_to(int64_t t, int64_t span)
{
	return ln_history_floor(t + span - 1, span);
}

struct plan {
	const struct ln_history_span *sp;
	struct ln_history_seg *out;
	int n;
};

static void emit(struct plan *p, int level, int64_t lo, int64_t hi)
{
	if (lo < hi && p->n < LN_HISTORY_MAX_SEGS)
		p->out[p->n++] = (struct ln_history_seg){ level, lo, hi };
}

/*
 * [@a, @b) at @level and below. Where the finer level keeps nothing, buckets
 * of this one overlapping the range; then this level's whole buckets inside
 * it (those rolled up already), the rest from the finer level.
 */
static void plan_range(struct plan *p, int level, int64_t a, int64_t b)
{
	int64_t span = ln_history_levels[level].span, fin, lo, hi;

	if (a >= b)
		return;
	if (level == LN_HL_MINUTE) {
		emit(p, level, ln_history_floor(a, span), b);
		return;
	}
	fin = p->sp[level - 1].kept_from;
	if (a < fin) {
		int64_t c = b < fin ? b : fin;

		emit(p, level, ln_history_floor(a, span), c);
		a = c;
	}
	lo = ceil_to(a, span);
	hi = ln_history_floor(b < p->sp[level].rolled_to ? b : p->sp[level].rolled_to, span);
	if (lo >= hi) {
		plan_range(p, level - 1, a, b);
		return;
	}
	emit(p, level, lo, hi);
	plan_range(p, level - 1, a, lo);
	plan_range(p, level - 1, hi, b);
}

int ln_history_plan(const struct ln_history_span sp[LN_HL_N], int64_t since, int64_t until,
		    struct ln_history_seg out[LN_HISTORY_MAX_SEGS])
{
	struct plan p = { sp, out, 0 };

	if (until < INT64_MAX)
		plan_range(&p, LN_HL_N - 1, since, until + 1);
	return p.n;
}

int ln_history_plan_sql(const struct ln_history_seg *segs, int n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	/* Nothing to read still needs a well-formed (empty) answer. */
	if (!n)
		off = snprintf(buf, len, "SELECT key, count, first, last FROM buckets WHERE 0");
	for (int i = 0; i < n && off < len; i++) {
		const struct ln_history_level *l = &ln_history_levels[segs[i].level];

		off += snprintf(buf + off, len - off,
				"%sSELECT key, count, first, last FROM %s WHERE %s >= %lld"
				" AND %s < %lld AND last >= ?1 AND first <= ?2",
				i ? " UNION ALL " : "", l->table, l->col, (long long)segs[i].lo,
				l->col, (long long)segs[i].hi);
	}
	return off < len ? 0 : -ENOSPC;
}

int ln_history_spans_read(sqlite3 *db, struct ln_history_span sp[LN_HL_N])
{
	sqlite3_stmt *st;
	int rc;

	for (int i = 0; i < LN_HL_N; i++)
		sp[i] = (struct ln_history_span){ 0, i == LN_HL_MINUTE ? INT64_MAX : 0 };
	if (sqlite3_prepare_v2(db, "SELECT name, kept_from, rolled_to FROM levels", -1, &st,
			       NULL) != SQLITE_OK)
		return 0; /* schema 1: no roll-ups yet */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		for (int i = 0; name && i < LN_HL_N; i++)
			if (!strcmp(name, ln_history_levels[i].name))
				sp[i] = (struct ln_history_span){ sqlite3_column_int64(st, 1),
								  sqlite3_column_int64(st, 2) };
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}
