// SPDX-License-Identifier: GPL-2.0
/*
 * The flow history as it ages: minutes rolled up into hours and hours into
 * days, in bounded steps; retention by age per level and by size. Each step
 * is one transaction that also moves its level's marks (the levels table),
 * so a crash leaves the tables and the marks agreeing.
 */
#include <errno.h>
#include <stdio.h>

#include "history_db.h"

/* At most this much of the finer level per step: a few hundred ms at 10k flows a minute. */
static const int64_t rollup_step_s[LN_HL_N] = { 0, 600, 6 * 3600 };

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* A transaction failed: roll it back, take the marks as the database has them. */
static int undo(struct ln_history *h, int r)
{
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	ln_history_spans_read(h->db, h->sp);
	return r;
}

static int span_commit(struct ln_history *h, int level, const struct ln_history_span *sp,
		       struct ln_error *err)
{
	int r = hist_span_store(h, level, sp, err) ?: hist_exec(h, "COMMIT", err);

	if (r < 0)
		return undo(h, r);
	h->sp[level] = *sp;
	return 0;
}

/* The finer level's buckets in [from, to) summed into @level's, and its mark moved to @to. */
static int rollup_range(struct ln_history *h, int level, int64_t from, int64_t to,
			struct ln_error *err)
{
	const struct ln_history_level *src = &ln_history_levels[level - 1];
	const struct ln_history_level *dst = &ln_history_levels[level];
	struct ln_history_span sp = { h->sp[level].kept_from, to };
	char sql[640];
	int r;

	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (%s, key, count, first, last)"
		 " SELECT %s - %s %% %lld, key, sum(count), min(first), max(last) FROM %s"
		 " WHERE %s >= %lld AND %s < %lld GROUP BY 1, 2"
		 " ON CONFLICT DO UPDATE SET count = count + excluded.count,"
		 " first = min(first, excluded.first), last = max(last, excluded.last)",
		 dst->table, dst->col, src->col, src->col, (long long)dst->span, src->table,
		 src->col, (long long)from, src->col, (long long)to);
	r = hist_exec(h, "BEGIN IMMEDIATE", err);
	r = r ?: hist_exec(h, sql, err);
	if (r < 0)
		return undo(h, r);
	return span_commit(h, level, &sp, err);
}

/* One step of @level up to @limit (what the finer level has complete). */
static int rollup_level(struct ln_history *h, int level, int64_t limit, bool *more,
			struct ln_error *err)
{
	const struct ln_history_level *src = &ln_history_levels[level - 1];
	int64_t from = h->sp[level].rolled_to, first, to;
	char sql[200];

	if (from >= limit)
		return 0;
	/* Skip a stretch with nothing in it (a new database, the agent stopped a while). */
	snprintf(sql, sizeof(sql), "SELECT min(%s) FROM %s WHERE %s >= %lld AND %s < %lld",
		 src->col, src->table, src->col, (long long)from, src->col, (long long)limit);
	first = hist_query_int(h, sql, limit);
	if (first > from)
		from = first;
	to = from < limit ? min64(limit, from + rollup_step_s[level]) : limit;
	if (to < limit)
		*more = true;
	return rollup_range(h, level, from, to, err);
}

int ln_history_rollup(struct ln_history *h, int64_t now, bool *more, struct ln_error *err)
{
	int64_t settled = ln_history_floor(now - LN_HISTORY_SETTLE_S, 60);
	int r;

	*more = false;
	r = rollup_level(h, LN_HL_HOUR, settled, more, err);
	if (r < 0)
		return r;
	/* Days from whole hours only. */
	settled = ln_history_floor(h->sp[LN_HL_HOUR].rolled_to, 3600);
	return rollup_level(h, LN_HL_DAY, settled, more, err);
}

/* Bytes in use: pages minus the free list (what incremental vacuum gives back). */
static uint64_t used_bytes(struct ln_history *h)
{
	int64_t pages = hist_query_int(h, "PRAGMA page_count", 0);
	int64_t free_pages = hist_query_int(h, "PRAGMA freelist_count", 0);
	int64_t size = hist_query_int(h, "PRAGMA page_size", 0);

	return pages > 0 && size > 0 ? (uint64_t)(pages - (free_pages > 0 ? free_pages : 0)) * size
				     : 0;
}

/*
 * @level's buckets before @cut go (late ones before its start too), and its
 * kept_from moves up to @cut: in the open transaction.
 */
static int drop_before(struct ln_history *h, int level, int64_t cut, struct ln_error *err)
{
	const struct ln_history_level *l = &ln_history_levels[level];
	struct ln_history_span sp = h->sp[level];
	char sql[160];
	int r;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s < %lld", l->table, l->col,
		 (long long)cut);
	r = hist_exec(h, sql, err);
	if (r < 0)
		return r;
	h->deleted += (uint64_t)sqlite3_changes64(h->db);
	if (cut <= sp.kept_from)
		return 0;
	sp.kept_from = cut;
	r = hist_span_store(h, level, &sp, err);
	if (r >= 0)
		h->sp[level] = sp;
	return r;
}

/*
 * Where each level now starts. A level goes only where the next one holds
 * it, aligned to that one's buckets (history_plan.h); everything goes past
 * the retention, a day at a time.
 */
static void age_cuts(const struct ln_history *h, int64_t now, int64_t cut[LN_HL_N])
{
	const struct ln_history_limits *lim = &h->lim;
	int64_t all = ln_history_floor(now - lim->retention_s, 86400);
	int64_t hours = min64(now - lim->hours_s, h->sp[LN_HL_DAY].rolled_to);

	cut[LN_HL_MINUTE] =
		ln_history_floor(min64(now - lim->minutes_s, h->sp[LN_HL_HOUR].rolled_to), 3600);
	cut[LN_HL_HOUR] = ln_history_floor(min64(hours, cut[LN_HL_MINUTE]), 86400);
	cut[LN_HL_DAY] = all;
	for (int i = 0; i < LN_HL_N; i++)
		if (cut[i] < all)
			cut[i] = all;
}

static int prune_age(struct ln_history *h, int64_t now, struct ln_error *err)
{
	int64_t cut[LN_HL_N];
	char sql[80];
	int r;

	age_cuts(h, now, cut);
	snprintf(sql, sizeof(sql), "DELETE FROM lost WHERE minute < %lld",
		 (long long)cut[LN_HL_DAY]);
	r = hist_exec(h, "BEGIN IMMEDIATE", err);
	for (int i = 0; r >= 0 && i < LN_HL_N; i++)
		r = drop_before(h, i, cut[i], err);
	r = r ?: hist_exec(h, sql, err);
	r = r ?: hist_exec(h, "COMMIT", err);
	return r < 0 ? undo(h, r) : 0;
}

/* How far @level may go for size: kept in the next level, not past the finer one's start. */
static int64_t size_limit(struct ln_history *h, int level)
{
	int64_t lim;

	if (level == LN_HL_DAY)
		return hist_query_int(h, "SELECT max(day) FROM days", 0);
	lim = ln_history_floor(h->sp[level + 1].rolled_to, ln_history_levels[level + 1].span);
	if (level > LN_HL_MINUTE)
		lim = min64(lim, h->sp[level - 1].kept_from);
	return ln_history_floor(lim, ln_history_levels[level + 1].span);
}

/* The oldest tenth of @level's time (up to its limit): 1 dropped, 0 nothing to drop. */
static int drop_tenth(struct ln_history *h, int level, struct ln_error *err)
{
	const struct ln_history_level *l = &ln_history_levels[level];
	int64_t align = level == LN_HL_DAY ? l->span : ln_history_levels[level + 1].span;
	int64_t oldest, newest, cut;
	char sql[96];
	int r;

	snprintf(sql, sizeof(sql), "SELECT min(%s) FROM %s", l->col, l->table);
	oldest = hist_query_int(h, sql, INT64_MAX);
	snprintf(sql, sizeof(sql), "SELECT max(%s) FROM %s", l->col, l->table);
	newest = hist_query_int(h, sql, INT64_MIN);
	if (oldest > newest)
		return 0;
	cut = ln_history_floor(oldest + (newest - oldest) / 10 + align, align);
	cut = min64(cut, size_limit(h, level));
	if (cut <= oldest)
		return 0;
	r = hist_exec(h, "BEGIN IMMEDIATE", err);
	r = r ?: drop_before(h, level, cut, err);
	r = r ?: hist_exec(h, "COMMIT", err);
	return r < 0 ? undo(h, r) : 1;
}

/* Over the cap: minutes (kept in hours) go first, then hours (kept in days), then days. */
static int prune_size(struct ln_history *h, struct ln_error *err)
{
	int r = 1;

	while (r > 0 && h->lim.max_bytes && used_bytes(h) > h->lim.max_bytes) {
		r = 0;
		for (int i = 0; !r && i < LN_HL_N; i++)
			r = drop_tenth(h, i, err);
	}
	return r < 0 ? r : 0;
}

int ln_history_prune(struct ln_history *h, int64_t now, uint64_t *deleted, struct ln_error *err)
{
	int r;

	h->deleted = 0;
	r = prune_age(h, now, err);
	r = r ?: prune_size(h, err);
	*deleted = h->deleted;
	if (r >= 0 && *deleted)
		/* Days first: most keys are there, and the larger tables are not read. */
		r = hist_exec(h, "DELETE FROM flow_keys WHERE id NOT IN (SELECT key FROM days)"
			      " AND id NOT IN (SELECT key FROM hours)"
			      " AND id NOT IN (SELECT key FROM buckets)", err);
	r = r ?: hist_exec(h, "PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE)", err);
	return r;
}

int ln_history_info(struct ln_history *h, struct ln_history_info *out)
{
	char sql[96];

	out->bytes = used_bytes(h);
	out->oldest = 0;
	for (int i = 0; i < LN_HL_N; i++) {
		const struct ln_history_level *l = &ln_history_levels[i];
		int64_t t;

		snprintf(sql, sizeof(sql), "SELECT min(%s) FROM %s", l->col, l->table);
		t = hist_query_int(h, sql, 0);
		if (t && (!out->oldest || t < out->oldest))
			out->oldest = t;
	}
	out->lost = (uint64_t)hist_query_int(h, "SELECT sum(count) FROM lost", 0);
	return 0;
}
