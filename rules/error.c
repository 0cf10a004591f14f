// SPDX-License-Identifier: GPL-2.0
/* Error messages of the rules library: "file:line: reason" into struct ln_error. */
#include <stdarg.h>
#include <stdio.h>

#include "rules_internal.h"

int ln_err(struct ln_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

int ln_verr_at(struct ln_error *err, int rc, const char *path, __u32 line, const char *fmt,
	       va_list ap)
{
	char reason[LN_ERR_MAX];

	if (!err)
		return rc;
	vsnprintf(reason, sizeof(reason), fmt, ap);
	return ln_err(err, rc, "%s:%u: %s", path, line, reason);
}

int ln_line_err(const struct ln_linefile *lf, struct ln_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = ln_verr_at(err, rc, lf->path, lf->line, fmt, ap);
	va_end(ap);
	return rc;
}
