// SPDX-License-Identifier: GPL-2.0
/* blocked_hosts.txt: one IPv4/IPv6 address, CIDR or hostname per line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

static int hostlist_add_name(struct ln_hostlist *l, const char *tok, __u32 rule_id)
{
	size_t n = strlen(tok);
	char *name;
	int rc;

	rc = ln_grow((void **)&l->names, &l->cap_names, l->n_names + 1, sizeof(*l->names));
	if (rc)
		return rc;
	name = strdup(tok);
	if (!name)
		return -ENOMEM;
	if (n && name[n - 1] == '.')
		name[n - 1] = '\0';
	ln_str_lower(name);
	l->names[l->n_names].name = name;
	l->names[l->n_names].rule_id = rule_id;
	l->n_names++;
	return 0;
}

/* One line: 0 (added or nothing to add) or -errno with err set. */
int ln_hostlist_line(void *list, const struct ln_linefile *lf, char *text, struct ln_error *err)
{
	struct ln_hostlist *l = list;
	char *hash = strchr(text, '#'), *tok, *rest;
	int rc;

	if (hash)
		*hash = '\0';
	tok = ln_trim(text);
	if (!*tok)
		return 0;
	rest = tok + strcspn(tok, " \t");
	if (*rest) {
		*rest++ = '\0';
		rest = ln_trim(rest);
		return ln_line_err(lf, err, -EINVAL,
				   "unexpected \"%s\" after \"%s\" (one entry per line)", rest,
				   tok);
	}
	if (l->n + l->n_names >= LN_MAX_LIST_ENTRIES)
		return ln_line_err(lf, err, -E2BIG, "too many entries (max %d)",
				   LN_MAX_LIST_ENTRIES);
	rc = ln_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	if (rc)
		return ln_line_err(lf, err, rc, "out of memory");
	if (!ln_prefix_parse(tok, &l->v[l->n].pfx)) {
		l->v[l->n++].rule_id = ln_linefile_rule_id(lf);
		return 0;
	}
	if (strchr(tok, ':') || strchr(tok, '/'))
		return ln_line_err(lf, err, -EINVAL, "bad address or CIDR \"%s\"", tok);
	if (!ln_hostname_is_valid(tok))
		return ln_line_err(lf, err, -EINVAL, "bad address or hostname \"%s\"", tok);
	rc = hostlist_add_name(l, tok, ln_linefile_rule_id(lf));
	if (rc)
		return ln_line_err(lf, err, rc, "out of memory");
	return 0;
}

int ln_hostlist_parse_file(struct ln_hostlist *l, struct ln_sources *src, const char *path,
			   struct ln_error *err)
{
	return ln_linefile_each(src, path, ln_hostlist_line, l, err);
}

void ln_hostlist_free(struct ln_hostlist *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n_names; i++)
		free(l->names[i].name);
	free(l->names);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
