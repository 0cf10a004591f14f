// SPDX-License-Identifier: GPL-2.0
/* Error messages of the rules library: "file:line: reason" into struct ln_error, safe to print. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules_internal.h"

/*
 * Length of the character at @s (@n bytes left) if it is printable: valid UTF-8 (shortest
 * form, no surrogate, at most U+10FFFF) and no control character (C0, DEL, C1). 0 if not.
 */
static size_t printable_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	__u32 cp, min;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* U+0080..U+009F: the C1 controls, CSI among them */
	return cp < 0xa0 ? 0 : len;
}

/*
 * Copies @in to @out (@size bytes) with every byte that is not part of a printable character
 * written as \xNN, so no escape sequence or broken UTF-8 reaches a terminal or a log. Cut at
 * a character boundary when @out is full.
 */
void ln_printable(char *out, size_t size, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), o = 0, len;

	while (n) {
		len = printable_len(s, n);
		if (len && o + len < size) {
			memcpy(out + o, s, len);
			o += len;
		} else if (!len && o + 4 < size) {
			snprintf(out + o, 5, "\\x%02x", *s);
			o += 4;
			len = 1;
		} else {
			break;
		}
		s += len;
		n -= len;
	}
	out[o] = '\0';
}

int ln_err(struct ln_error *err, int rc, const char *fmt, ...)
{
	char raw[LN_ERR_MAX];
	va_list ap;

	if (!err)
		return rc;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ln_printable(err->msg, sizeof(err->msg), raw);
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
