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

#include "history.h"

struct ln_history {
	sqlite3 *db;
	sqlite3_stmt *key_stmt, *bucket_stmt, *lost_stmt;
	struct ln_history_limits lim;
};

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
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(N_MIGRATIONS == LN_HISTORY_SCHEMA, "a migration per schema version");

static const char key_sql[] =
	"INSERT INTO flow_keys (cgroup, policy, addr, name, port, proto, verdict, reason, rule)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	" ON CONFLICT DO UPDATE SET port = excluded.port RETURNING id";
static const char bucket_sql[] =
	"INSERT INTO buckets (minute, key, count, first, last) VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT DO UPDATE SET count = count + excluded.count,"
	" first = min(first, excluded.first), last = max(last, excluded.last)";
static const char lost_sql[] =
	"INSERT INTO lost (minute, count) VALUES (?1, ?2)"
	" ON CONFLICT DO UPDATE SET count = count + excluded.count";

static int db_err(struct ln_history *h, struct ln_error *err, const char *what)
{
	int code = sqlite3_errcode(h->db);
	int rc = code == SQLITE_FULL ? -ENOSPC : code == SQLITE_READONLY ? -EROFS
		: code == SQLITE_CANTOPEN ? -EACCES : -EIO;

	return ln_err(err, rc, "history: %s: %s", what, sqlite3_errmsg(h->db));
}

static int exec(struct ln_history *h, const char *sql, struct ln_error *err)
{
	if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(h, err, sql);
	return 0;
}

static int user_version(struct ln_history *h, int *v, struct ln_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(h->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_err(h, err, "reading the schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_err(h, err, "reading the schema version");
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
		r = exec(h, "BEGIN IMMEDIATE", err);
		r = r ?: exec(h, migrations[v], err);
		r = r ?: exec(h, sql, err);
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

static int prepare_all(struct ln_history *h, struct ln_error *err)
{
	if (sqlite3_prepare_v3(h->db, key_sql, -1, SQLITE_PREPARE_PERSISTENT, &h->key_stmt,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(h->db, bucket_sql, -1, SQLITE_PREPARE_PERSISTENT, &h->bucket_stmt,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(h->db, lost_sql, -1, SQLITE_PREPARE_PERSISTENT, &h->lost_stmt,
			       NULL) != SQLITE_OK)
		return db_err(h, err, "preparing statements");
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
	if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = h->db ? db_err(h, err, path) : ln_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(h->db, 1000);
	/* WAL: readers (the CLI) never block the drain; NORMAL: a crash loses at most a drain. */
	r = exec(h, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;"
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
	sqlite3_finalize(h->bucket_stmt);
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
	return rc == SQLITE_DONE ? 0 : db_err(h, err, "writing");
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
	r = step(h, h->key_stmt, &id, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(h->bucket_stmt, 1, w->last - w->last % 60);
	sqlite3_bind_int64(h->bucket_stmt, 2, id);
	sqlite3_bind_int64(h->bucket_stmt, 3, (int64_t)w->count);
	sqlite3_bind_int64(h->bucket_stmt, 4, w->first);
	sqlite3_bind_int64(h->bucket_stmt, 5, w->last);
	return step(h, h->bucket_stmt, NULL, err);
}

int ln_history_add(struct ln_history *h, const struct ln_history_row *rows, size_t n,
		   struct ln_error *err)
{
	int r;

	r = exec(h, "BEGIN IMMEDIATE", err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = add_row(h, &rows[i], err);
	if (r >= 0)
		r = exec(h, "COMMIT", err);
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

static int64_t query_int(struct ln_history *h, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Bytes in use: pages minus the free list (what incremental vacuum gives back). */
static uint64_t used_bytes(struct ln_history *h)
{
	int64_t pages = query_int(h, "PRAGMA page_count");
	int64_t free_pages = query_int(h, "PRAGMA freelist_count");
	int64_t size = query_int(h, "PRAGMA page_size");

	return pages > 0 && size > 0 ? (uint64_t)(pages - (free_pages > 0 ? free_pages : 0)) * size
				     : 0;
}

static int delete_before(struct ln_history *h, int64_t minute, struct ln_error *err)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "DELETE FROM buckets WHERE minute < %lld; DELETE FROM lost WHERE minute < %lld",
		 (long long)minute, (long long)minute);
	return exec(h, sql, err);
}

int ln_history_prune(struct ln_history *h, int64_t now, uint64_t *deleted, struct ln_error *err)
{
	int64_t before = sqlite3_total_changes64(h->db), oldest;
	int r;

	r = delete_before(h, now - h->lim.retention_s, err);
	/* Over the cap: drop the oldest tenth of what is left, until under it. */
	while (r >= 0 && h->lim.max_bytes && used_bytes(h) > h->lim.max_bytes) {
		int64_t newest = query_int(h, "SELECT max(minute) FROM buckets");

		oldest = query_int(h, "SELECT min(minute) FROM buckets");
		if (oldest < 0 || newest <= oldest)
			break;
		r = delete_before(h, oldest + (newest - oldest) / 10 + 60, err);
	}
	*deleted = (uint64_t)(sqlite3_total_changes64(h->db) - before);
	r = r ?: exec(h, "DELETE FROM flow_keys WHERE id NOT IN (SELECT key FROM buckets)", err);
	r = r ?: exec(h, "PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE)", err);
	return r;
}
