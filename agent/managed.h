/* SPDX-License-Identifier: GPL-2.0 */
/* The managed rules file: rules added from the control socket, as [rules NAME] blocks. */
#ifndef LSNITCH_MANAGED_H
#define LSNITCH_MANAGED_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

#define LN_MANAGED_RULES "/var/lib/lsnitch/rules.d/web.ini"

/* One rule to add: "allow = DEST:PORT/PROTO" (a name: allow-domain) under [rules POLICY]. */
struct ln_managed_rule {
	const char *policy;
	__u8 verdict;     /* LN_VERDICT_ALLOW or LN_VERDICT_DENY */
	const char *dest; /* an address, a prefix, or a name */
	unsigned int port; /* 0: any */
	const char *proto; /* "tcp", "udp" or "" (any) */
};

/* What the file held before an edit, to put back when the reload refuses the new one. */
struct ln_managed_edit {
	char *old;
	size_t len;
	bool existed;
};

/*
 * Appends @r to @path as a two-line block ("[rules P] ; added TIME", the rule), replacing the
 * file atomically (its directory made if missing). @line: the rule's line. 0 or -errno.
 * Nothing is checked beyond what keeps the INI structure intact: the reload judges the rule.
 */
int ln_managed_add(const char *path, const struct ln_managed_rule *r, struct ln_managed_edit *ed,
		   __u32 *line, struct ln_error *err);
/*
 * Removes the block whose rule is line @line of @path, if that line reads @text and the line
 * before it is a [rules ...] header; -ENOENT otherwise (the file changed since).
 */
int ln_managed_remove(const char *path, __u32 line, const char *text, struct ln_managed_edit *ed,
		      struct ln_error *err);
/* Puts back what @ed saved (removes the file if it was not there). */
int ln_managed_revert(const char *path, const struct ln_managed_edit *ed, struct ln_error *err);
/* Frees @ed's copy; accepts an empty one. */
void ln_managed_edit_free(struct ln_managed_edit *ed);

#endif /* LSNITCH_MANAGED_H */
