/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the rules/ unit tests: a scratch directory and input files written into it. */
#ifndef RULES_TEST_UTIL_H
#define RULES_TEST_UTIL_H

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rules.h"

#define TEST_UNUSED __attribute__((unused))

static char test_dir[64];

static TEST_UNUSED int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static TEST_UNUSED int tmpdir_setup(void **state)
{
	(void)state;
	snprintf(test_dir, sizeof(test_dir), "/tmp/lsnitch-rules-XXXXXX");
	return mkdtemp(test_dir) ? 0 : -1;
}

static TEST_UNUSED int tmpdir_teardown(void **state)
{
	(void)state;
	return nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Path of @name in the scratch directory, in one of a few rotating static buffers. */
static TEST_UNUSED const char *tpath(const char *name)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, PATH_MAX, "%.64s/%.256s", test_dir, name);
	return b;
}

/* Writes @text to @name in the scratch directory (creating one level of subdirectory). */
static TEST_UNUSED const char *write_file(const char *name, const char *text)
{
	const char *path = tpath(name);
	char dir[PATH_MAX], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdir(dir, 0755);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Writes @len bytes of @data (NUL bytes included) to @name in the scratch directory. */
static TEST_UNUSED const char *write_bytes(const char *name, const void *data, size_t len)
{
	const char *path = tpath(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A FIFO @name in the scratch directory: no writer, so a blocking open or read would hang. */
static TEST_UNUSED const char *make_fifo(const char *name)
{
	const char *path = tpath(name);

	unlink(path);
	assert_int_equal(mkfifo(path, 0644), 0);
	return path;
}

/*
 * Makes @name @text followed by a hole up to @size bytes (read back as NUL bytes): a reader
 * that stops at the line limit never gets there, one that reads the line whole does.
 */
static TEST_UNUSED const char *write_sparse(const char *name, const char *text, off_t size)
{
	const char *path = write_file(name, text);

	assert_int_equal(truncate(path, size), 0);
	return path;
}

/* "DIR/name:line: reason" for comparing error messages. */
static TEST_UNUSED const char *expect_msg(const char *fmt, ...)
{
	static char buf[2][LN_ERR_MAX * 2];
	static int next;
	char *b = buf[next++ % 2];
	va_list ap;
	int n;

	n = snprintf(b, LN_ERR_MAX, "%s/", test_dir);
	va_start(ap, fmt);
	vsnprintf(b + n, LN_ERR_MAX * 2 - n, fmt, ap);
	va_end(ap);
	return b;
}

static TEST_UNUSED const char *prefix_str(const struct ln_prefix *p)
{
	static char buf[4][64];
	static int next;

	return ln_prefix_format(p, buf[next++ % 4], 64);
}

#endif /* RULES_TEST_UTIL_H */
