// SPDX-License-Identifier: GPL-2.0
/* Line-by-line reading of list and INI files: regular files only, bounded lines, trimming. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules_internal.h"

/*
 * Opens @path only if it is a regular file. O_NONBLOCK: a FIFO or device swapped in for the
 * file must be refused, not block the open (a FIFO without a writer would).
 */
static int open_regular(const char *path, int oflags, FILE **f, struct ln_error *err)
{
	struct stat sb;
	int fd, fl, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | oflags);
	if (fd < 0 || fstat(fd, &sb) < 0)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return ln_err(err, -EINVAL, "%s: not a regular file", path);
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		goto fail;
	*f = fdopen(fd, "re");
	if (*f)
		return 0;
fail:
	rc = -errno;
	if (fd >= 0)
		close(fd);
	return ln_err(err, rc, "%s: cannot open: %s", path, strerror(-rc));
}

int ln_linefile_open(struct ln_linefile *lf, struct ln_sources *src, const char *path, size_t max,
		     struct ln_error *err)
{
	return ln_linefile_open_flags(lf, src, path, max, 0, err);
}

int ln_linefile_open_flags(struct ln_linefile *lf, struct ln_sources *src, const char *path,
			   size_t max, int oflags, struct ln_error *err)
{
	int idx;

	lf->f = NULL;
	lf->path = path;
	lf->line = 0;
	lf->max = max < LN_MAX_LINE_LEN ? max : LN_MAX_LINE_LEN;
	idx = ln_sources_add(src, path);
	if (idx < 0)
		return ln_err(err, idx, "%s: too many source files (max %u)", path,
			      LN_RULE_MAX_FILES);
	lf->file_idx = idx;
	return open_regular(path, oflags, &lf->f, err);
}

/* A failed read is an error, never taken for the end of the file. */
static int read_error(const struct ln_linefile *lf, struct ln_error *err)
{
	int e = errno ? errno : EIO;

	return ln_err(err, -e, "%s: read error: %s", lf->path, strerror(e));
}

int ln_linefile_next(struct ln_linefile *lf, char **text, struct ln_error *err)
{
	size_t n = 0;
	int ch;

	errno = 0;
	ch = getc_unlocked(lf->f);
	if (ch == EOF)
		return ferror(lf->f) ? read_error(lf, err) : 0;
	if (++lf->line > LN_RULE_MAX_LINE)
		return ln_line_err(lf, err, -E2BIG, "too many lines (max %u)", LN_RULE_MAX_LINE);
	for (; ch != EOF && ch != '\n'; ch = getc_unlocked(lf->f)) {
		/* room for one more: a '\r' before the '\n' */
		if (n > lf->max)
			return ln_line_err(lf, err, -EINVAL, "line too long (max %zu)", lf->max);
		if (!ch)
			return ln_line_err(lf, err, -EINVAL, "NUL byte in line");
		lf->buf[n++] = ch;
	}
	if (ch == EOF && ferror(lf->f))
		return read_error(lf, err);
	if (n && lf->buf[n - 1] == '\r')
		n--;
	if (n > lf->max)
		return ln_line_err(lf, err, -EINVAL, "line too long (max %zu)", lf->max);
	lf->buf[n] = '\0';
	*text = lf->buf;
	return 1;
}

void ln_linefile_close(struct ln_linefile *lf)
{
	if (!lf)
		return;
	if (lf->f)
		fclose(lf->f);
	lf->f = NULL;
}

char *ln_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

void ln_cut_comment(char *s)
{
	char *hash;

	for (hash = strchr(s, '#'); hash; hash = strchr(hash + 1, '#')) {
		if (hash > s && (hash[-1] == ' ' || hash[-1] == '\t')) {
			*hash = '\0';
			return;
		}
	}
}

void ln_str_lower(char *s)
{
	for (; *s; s++)
		*s = tolower((unsigned char)*s);
}

int ln_linefile_read(struct ln_linefile *lf, ln_line_fn fn, void *list, struct ln_error *err)
{
	char *text;
	int rc;

	while ((rc = ln_linefile_next(lf, &text, err)) > 0) {
		rc = fn(list, lf, text, err);
		if (rc)
			break;
	}
	return rc;
}

int ln_linefile_each(struct ln_sources *src, const char *path, ln_line_fn fn, void *list,
		     struct ln_error *err)
{
	struct ln_linefile lf;
	int rc;

	rc = ln_linefile_open(&lf, src, path, LN_MAX_LINE_LEN, err);
	if (!rc)
		rc = ln_linefile_read(&lf, fn, list, err);
	ln_linefile_close(&lf);
	return rc;
}
