/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the rules/ sources only: error text, list-file lines, arrays. */
#ifndef LSNITCH_RULES_INTERNAL_H
#define LSNITCH_RULES_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "rules.h"

/*
 * Grows *@v (elements of @size) so it holds at least @need; capacity doubles.
 * Returns 0 or -ENOMEM.
 */
int ln_grow(void **v, size_t *cap, size_t need, size_t size);
/* Frees the [list] sections and lists-dir of @c (subscription.c). */
struct ln_config;
void ln_list_subs_free(struct ln_config *c);

/*
 * Digits only (no sign, spaces or "0x"), at most @max_digits (<= 9) of them (prefix.c):
 * the value if it is <= @max, else -1.
 */
int ln_parse_decimal(const char *s, size_t max_digits, int max);

/* One glob component [@p, @pe) against one path component [@s, @se) (cgroup_match.c). */
bool ln_cgroup_component_match(const char *p, const char *pe, const char *s, const char *se);

/*
 * Reads a list or INI file line by line, counting lines and checking limits. The line buffer
 * is fixed: a line is refused as soon as it passes the limit, never read whole first.
 */
struct ln_linefile {
	FILE *f;
	const char *path;
	__u32 file_idx;
	__u32 line;
	size_t max;		       /* longest line accepted, without "\r\n" */
	char buf[LN_MAX_LINE_LEN + 2]; /* the line, one '\r' and a NUL */
};

/*
 * Opens @path, only if it is a regular file, and registers it in @src; lines are at most
 * @max (<= LN_MAX_LINE_LEN) characters. Errors: "path: cannot open: ...",
 * "path: not a regular file", -E2BIG (too many files).
 */
/* ln_linefile_open() with more open(2) flags (O_NOFOLLOW: a file another user may replace). */
int ln_linefile_open_flags(struct ln_linefile *lf, struct ln_sources *src, const char *path,
			   size_t max, int oflags, struct ln_error *err);
int ln_linefile_open(struct ln_linefile *lf, struct ln_sources *src, const char *path, size_t max,
		     struct ln_error *err);
/*
 * Next line, newline stripped, into *@text (writable, valid until the next call).
 * Returns 1, 0 at end of file, or -errno: "file:line: line too long (max N)",
 * "file:line: NUL byte in line", "file:line: too many lines (max N)",
 * "file: read error: ...".
 */
int ln_linefile_next(struct ln_linefile *lf, char **text, struct ln_error *err);
void ln_linefile_close(struct ln_linefile *lf);
/* Open @path and hand each content line to @fn until it fails; 0 or -errno. */
typedef int (*ln_line_fn)(void *list, const struct ln_linefile *lf, char *text,
			  struct ln_error *err);
int ln_linefile_each(struct ln_sources *src, const char *path, ln_line_fn fn, void *list,
		     struct ln_error *err);
/* Hands each line of the open @lf to @fn until it fails: errors name the line in @lf. */
int ln_linefile_read(struct ln_linefile *lf, ln_line_fn fn, void *list, struct ln_error *err);
/* The line parsers of host and domain lists, for ln_linefile_read(). */
int ln_hostlist_line(void *list, const struct ln_linefile *lf, char *text, struct ln_error *err);
int ln_domainlist_line(void *list, const struct ln_linefile *lf, char *text, struct ln_error *err);

static inline __u32 ln_linefile_rule_id(const struct ln_linefile *lf)
{
	return LN_RULE_ID(lf->file_idx, lf->line);
}

/*
 * Cleans a cgroup= value in place: no leading, trailing or doubled '/'. Returns NULL, or why
 * the value is refused (the root, empty, a "." or ".." component).
 */
const char *ln_cgroup_path_clean(char *v);
/* Trims surrounding spaces and tabs in place; returns the start. */
char *ln_trim(char *s);
/* Lower-cases @s in place. */
void ln_str_lower(char *s);
/* Ends @s at the first '#' after a space or tab: a comment after a value. */
void ln_cut_comment(char *s);
/* "path:line: reason": the one place a position is put in front of a reason. */
int ln_verr_at(struct ln_error *err, int rc, const char *path, __u32 line, const char *fmt,
	       va_list ap) LN_PRINTF(5, 0);
/* "path:line: reason" from a linefile position. */
int ln_line_err(const struct ln_linefile *lf, struct ln_error *err, int rc, const char *fmt, ...)
    LN_PRINTF(4, 5);

/* Resolvers that bypass the proxy (dns_bypass.c), for config_load.c and compile.c. */
void ln_resolver_sockets_free(struct ln_resolver_sockets *rs);
/* The resolver_sockets map's entries into @out. */
int ln_compile_resolver_sockets(const struct ln_config *c, struct ln_compiled *out,
				struct ln_error *err);
/* Whether policy @p (NULL: the implicit one) refuses the resolver sockets. */
bool ln_policy_resolver_guard(const struct ln_config *c, const struct ln_policy *p);
long ln_encrypted_dns_rules(const struct ln_config *c, const struct ln_policy *p,
			    struct ln_rule **out);
void ln_encrypted_dns_warn(const struct ln_config *c, ln_warn_fn warn, void *ud);

#endif /* LSNITCH_RULES_INTERNAL_H */
