// SPDX-License-Identifier: GPL-2.0
/* The flow history database: open and migrate, per-minute upserts, retention by age and size. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "history_db.h"

/*
 * Migrations: migrations[i] takes schema version i to i + 1. Flow keys (the
 * strings) are stored once; a bucket is (minute, key) with the counts, so a
 * flow seen every minute costs one small row per minute.
 */
static const char *const migrations[] = {
	"CREATE TABLE flow_keys (id INTEGER PRIMARY KEY, cgroup TEXT NOT NULL,"
	" policy TEXT NOT NULL, addr TEXT NOT NULL, name TEXT NOT NULL, port INTEGER NOT NULL,"
	" proto TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL, rule TEXT NOT NULL,"
	" UNIQUE (cgroup, policy, addr, name, port, proto, verdict, reason, rule));"
	"CREATE TABLE buckets (minute INTEGER NOT NULL, key INTEGER NOT NULL,"
	" count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (minute, key)) WITHOUT ROWID;"
	"CREATE INDEX buckets_by_key ON buckets (key, minute);"
	"CREATE TABLE lost (minute INTEGER PRIMARY KEY, count INTEGER NOT NULL);",
	/*
	 * 2: roll-ups. Hours and days hold what minutes held, summed per key;
	 * levels says which span of time each table answers (history_plan.h).
	 * Nothing is rolled up yet: the agent does it as minutes age. The
	 * minutes' by-key index goes: no query reads them by key, and it was a
	 * third of their size.
	 */
	"CREATE TABLE hours (hour INTEGER NOT NULL, key INTEGER NOT NULL,"
	" count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (hour, key)) WITHOUT ROWID;"
	"CREATE TABLE days (day INTEGER NOT NULL, key INTEGER NOT NULL,"
	" count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (day, key)) WITHOUT ROWID;"
	"CREATE TABLE levels (name TEXT PRIMARY KEY, kept_from INTEGER NOT NULL,"
	" rolled_to INTEGER NOT NULL);"
	"INSERT INTO levels VALUES ('minute', 0, 9223372036854775807), ('hour', 0, 0),"
	" ('day', 0, 0);"
	"DROP INDEX buckets_by_key;",
	/*
	 * 3: the executable and the container are part of a flow's key. The
	 * table is made anew (a UNIQUE constraint cannot be altered), keeping
	 * the ids the buckets refer to; older flows have neither ("").
	 */
	"CREATE TABLE flow_keys3 (id INTEGER PRIMARY KEY, cgroup TEXT NOT NULL,"
	" policy TEXT NOT NULL, addr TEXT NOT NULL, name TEXT NOT NULL, port INTEGER NOT NULL,"
	" proto TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL, rule TEXT NOT NULL,"
	" exe TEXT NOT NULL DEFAULT '', container TEXT NOT NULL DEFAULT '',"
	" UNIQUE (cgroup, policy, addr, name, port, proto, verdict, reason, rule, exe, container));"
	"INSERT INTO flow_keys3 SELECT id, cgroup, policy, addr, name, port, proto, verdict,"
	" reason, rule, '', '' FROM flow_keys;"
	"DROP TABLE flow_keys;"
	"ALTER TABLE flow_keys3 RENAME TO flow_keys;",
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(N_MIGRATIONS == LN_HISTORY_SCHEMA, "a migration per schema version");

static const char key_sql[] =
	"INSERT INTO flow_keys (cgroup, policy, addr, name, port, proto, verdict, reason, rule,"
	" exe, container) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	" ON CONFLICT DO UPDATE SET port = excluded.port RETURNING id";
/* Into one level's table (its name, its start column): the drain's and the roll-up's merge. */
static const char bucket_sql[] =
	"INSERT INTO %s (%s, key, count, first, last) VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT DO UPDATE SET count = count + excluded.count,"
	" first = min(first, excluded.first), last = max(last, excluded.last)";
static const char lost_sql[] =
	"INSERT INTO lost (minute, count) VALUES (?1, ?2)"
	" ON CONFLICT DO UPDATE SET count = count + excluded.count";

int hist_db_err(struct ln_history *h, struct ln_error *err, const char *what)
{
	int code = sqlite3_errcode(h->db);
	int rc = code == SQLITE_FULL ? -ENOSPC : code == SQLITE_READONLY ? -EROFS
		: code == SQLITE_CANTOPEN ? -EACCES : -EIO;

	return ln_err(err, rc, "history: %s: %s", what, sqlite3_errmsg(h->db));
}

int hist_exec(struct ln_history *h, const char *sql, struct ln_error *err)
{
	if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return hist_db_err(h, err, sql);
	return 0;
}

static int user_version(struct ln_history *h, int *v, struct ln_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(h->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return hist_db_err(h, err, "reading the schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : hist_db_err(h, err, "reading the schema version");
}

/* Bring the schema to LN_HISTORY_SCHEMA, one transaction per step; a newer one is refused. */
static int migrate(struct ln_history *h, struct ln_error *err)
{
	char sql[64];
	int v, r;

	r = user_version(h, &v, err);
	if (r < 0)
		return r;
	if (v > LN_HISTORY_SCHEMA)
		return ln_err(err, -EPROTO, "history: schema version %d is newer than this agent's %d",
			      v, LN_HISTORY_SCHEMA);
	for (; v < LN_HISTORY_SCHEMA; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; COMMIT", v + 1);
		r = hist_exec(h, "BEGIN IMMEDIATE", err);
		r = r ?: hist_exec(h, migrations[v], err);
		r = r ?: hist_exec(h, sql, err);
		if (r < 0) {
			sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	return 0;
}

/* The directory (0700) and the file (0600) before SQLite sees them: it would use the umask. */
static int make_file(const char *path, struct ln_error *err)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return ln_err(err, -errno, "history: %s: %s", dir, strerror(errno));
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ln_err(err, -errno, "history: %s: %s", path, strerror(errno));
	fchmod(fd, 0600);
	close(fd);
	return 0;
}

static int prepare(struct ln_history *h, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

static int prepare_all(struct ln_history *h, struct ln_error *err)
{
	char sql[sizeof(bucket_sql) + 32];
	int rc = prepare(h, key_sql, &h->key_stmt) ?: prepare(h, lost_sql, &h->lost_stmt);

	for (int i = 0; !rc && i < LN_HL_N; i++) {
		snprintf(sql, sizeof(sql), bucket_sql, ln_history_levels[i].table,
			 ln_history_levels[i].col);
		rc = prepare(h, sql, &h->bucket_stmt[i]);
	}
	if (rc != SQLITE_OK)
		return hist_db_err(h, err, "preparing statements");
	if (ln_history_spans_read(h->db, h->sp) < 0)
		return hist_db_err(h, err, "reading the levels");
	return 0;
}

int ln_history_open(const char *path, const struct ln_history_limits *lim,
		    struct ln_history **out, struct ln_error *err)
{
	struct ln_history *h;
	int r;

	r = make_file(path, err);
	if (r < 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ln_err(err, -ENOMEM, "out of memory");
	h->lim = *lim;
	/* Finer levels never kept longer than coarser ones: history_plan.h's order. */
	if (!h->lim.hours_s || h->lim.hours_s > h->lim.retention_s)
		h->lim.hours_s = h->lim.retention_s;
	if (!h->lim.minutes_s || h->lim.minutes_s > h->lim.hours_s)
		h->lim.minutes_s = h->lim.hours_s;
	if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = h->db ? hist_db_err(h, err, path) : ln_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(h->db, 1000);
	/* WAL: readers (the CLI) never block the drain; NORMAL: a crash loses at most a drain. */
	r = hist_exec(h, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;"
		    " PRAGMA synchronous = NORMAL", err);
	r = r ?: migrate(h, err);
	r = r ?: prepare_all(h, err);
	if (r < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	ln_history_close(h);
	return r;
}

void ln_history_close(struct ln_history *h)
{
	if (!h)
		return;
	sqlite3_finalize(h->key_stmt);
	for (int i = 0; i < LN_HL_N; i++)
		sqlite3_finalize(h->bucket_stmt[i]);
	sqlite3_finalize(h->lost_stmt);
	sqlite3_close(h->db);
	free(h);
}

/* Runs @st (bound) to its end; with @id, the first column of its row. */
static int step(struct ln_history *h, sqlite3_stmt *st, int64_t *id, struct ln_error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW && id)
		*id = sqlite3_column_int64(st, 0);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : hist_db_err(h, err, "writing");
}

static int add_row(struct ln_history *h, const struct ln_history_row *w, struct ln_error *err)
{
	const char *texts[] = { w->cgroup, w->policy, w->addr, w->name };
	const char *texts2[] = { w->proto, w->verdict, w->reason, w->rule };
	int64_t id = 0;
	int r;

	for (int i = 0; i < 4; i++) {
		sqlite3_bind_text(h->key_stmt, i + 1, texts[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(h->key_stmt, i + 6, texts2[i], -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(h->key_stmt, 5, (int)w->port);
	sqlite3_bind_text(h->key_stmt, 10, w->exe ? w->exe : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(h->key_stmt, 11, w->container ? w->container : "", -1, SQLITE_STATIC);
	r = step(h, h->key_stmt, &id, err);
	if (r < 0)
		return r;
	/*
	 * Its minute, and the hour and day too when those were rolled up already
	 * (a drain after a restart, a clock step): roll-ups stay the sum of minutes.
	 */
	for (int i = 0; r >= 0 && i < LN_HL_N; i++) {
		int64_t span = ln_history_levels[i].span, start = w->last - w->last % span;
		sqlite3_stmt *st = h->bucket_stmt[i];

		if (i && w->last - w->last % ln_history_levels[i - 1].span >= h->sp[i].rolled_to)
			break;
		sqlite3_bind_int64(st, 1, start);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_int64(st, 3, (int64_t)w->count);
		sqlite3_bind_int64(st, 4, w->first);
		sqlite3_bind_int64(st, 5, w->last);
		r = step(h, st, NULL, err);
	}
	return r;
}

int ln_history_add(struct ln_history *h, const struct ln_history_row *rows, size_t n,
		   struct ln_error *err)
{
	int r;

	r = hist_exec(h, "BEGIN IMMEDIATE", err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = add_row(h, &rows[i], err);
	if (r >= 0)
		r = hist_exec(h, "COMMIT", err);
	if (r < 0)
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int ln_history_add_lost(struct ln_history *h, int64_t when, uint64_t lost, struct ln_error *err)
{
	sqlite3_bind_int64(h->lost_stmt, 1, when - when % 60);
	sqlite3_bind_int64(h->lost_stmt, 2, (int64_t)lost);
	return step(h, h->lost_stmt, NULL, err);
}

int64_t hist_query_int(struct ln_history *h, const char *sql, int64_t none)
{
	sqlite3_stmt *st;
	int64_t v = none;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
		return none;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int hist_span_store(struct ln_history *h, int level, const struct ln_history_span *sp,
		    struct ln_error *err)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "UPDATE levels SET kept_from = %lld, rolled_to = %lld"
		 " WHERE name = '%s'", (long long)sp->kept_from, (long long)sp->rolled_to,
		 ln_history_levels[level].name);
	return hist_exec(h, sql, err);
}
