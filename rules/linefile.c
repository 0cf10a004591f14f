// SPDX-License-Identifier: GPL-2.0
/* Line-by-line reading of list files, with line numbers, limits and trimming. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

int ln_linefile_open(struct ln_linefile *lf, struct ln_sources *src, const char *path,
		     struct ln_error *err)
{
	int idx, rc;

	memset(lf, 0, sizeof(*lf));
	lf->path = path;
	idx = ln_sources_add(src, path);
	if (idx < 0)
		return ln_err(err, idx, "%s: too many source files (max %u)", path,
			      LN_RULE_MAX_FILES);
	lf->file_idx = idx;
	lf->f = fopen(path, "re");
	if (!lf->f) {
		rc = -errno;
		return ln_err(err, rc, "%s: cannot open: %s", path, strerror(-rc));
	}
	return 0;
}

int ln_linefile_next(struct ln_linefile *lf, char **text, struct ln_error *err)
{
	ssize_t n;

	errno = 0;
	n = getline(&lf->buf, &lf->cap, lf->f);
	if (n < 0) {
		if (errno == ENOMEM || ferror(lf->f))
			return ln_err(err, errno ? -errno : -EIO, "%s:%u: read error: %s", lf->path,
				      lf->line + 1, strerror(errno ? errno : EIO));
		return 0;
	}
	lf->line++;
	if (lf->line > LN_RULE_MAX_LINE)
		return ln_line_err(lf, err, -E2BIG, "too many lines (max %u)", LN_RULE_MAX_LINE);
	if (n > 0 && lf->buf[n - 1] == '\n')
		lf->buf[--n] = '\0';
	if (n > 0 && lf->buf[n - 1] == '\r')
		lf->buf[--n] = '\0';
	if (n > LN_MAX_LINE_LEN)
		return ln_line_err(lf, err, -EINVAL, "line too long (max %d)", LN_MAX_LINE_LEN);
	*text = lf->buf;
	return 1;
}

void ln_linefile_close(struct ln_linefile *lf)
{
	if (!lf)
		return;
	if (lf->f)
		fclose(lf->f);
	free(lf->buf);
	lf->f = NULL;
	lf->buf = NULL;
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

	rc = ln_linefile_open(&lf, src, path, err);
	if (!rc)
		rc = ln_linefile_read(&lf, fn, list, err);
	ln_linefile_close(&lf);
	return rc;
}
