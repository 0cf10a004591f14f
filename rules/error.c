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

int ln_line_err(const struct ln_linefile *lf, struct ln_error *err, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return rc;
	n = snprintf(err->msg, sizeof(err->msg), "%s:%u: ", lf->path, lf->line);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return rc;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	va_end(ap);
	return rc;
}
