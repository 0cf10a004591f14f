/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the history database: the handle and the helpers history.c and history_rollup.c share. */
#ifndef LSNITCH_HISTORY_DB_H
#define LSNITCH_HISTORY_DB_H

#include <sqlite3.h>

#include "history.h"
#include "history_plan.h"

struct ln_history {
	sqlite3 *db;
	sqlite3_stmt *key_stmt, *lost_stmt;
	sqlite3_stmt *bucket_stmt[LN_HL_N]; /* the upsert into each level's table */
	struct ln_history_limits lim;
	struct ln_history_span sp[LN_HL_N]; /* as in the levels table */
	uint64_t deleted;                    /* buckets, by this ln_history_prune() */
};

/* -errno for SQLite's last error, with @what in @err. */
int hist_db_err(struct ln_history *h, struct ln_error *err, const char *what);
int hist_exec(struct ln_history *h, const char *sql, struct ln_error *err);
/* The first column of @sql's first row, or @none. */
int64_t hist_query_int(struct ln_history *h, const char *sql, int64_t none);
/* Level @level's row in the levels table (and h->sp) from @sp, inside the caller's transaction. */
int hist_span_store(struct ln_history *h, int level, const struct ln_history_span *sp,
		    struct ln_error *err);

#endif /* LSNITCH_HISTORY_DB_H */
