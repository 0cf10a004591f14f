// SPDX-License-Identifier: GPL-2.0
/* The table of source files that rule ids point into (id = file index << 22 | line). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

int ln_sources_add(struct ln_sources *s, const char *path)
{
	char *copy;
	size_t i;
	int rc;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->paths[i], path))
			return i + 1;
	if (s->n >= LN_RULE_MAX_FILES)
		return -E2BIG;
	rc = ln_grow((void **)&s->paths, &s->cap, s->n + 1, sizeof(*s->paths));
	if (rc)
		return rc;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	s->paths[s->n++] = copy;
	return s->n;
}

const char *ln_sources_path(const struct ln_sources *s, __u32 file_idx)
{
	if (!s || file_idx == 0 || file_idx > s->n)
		return NULL;
	return s->paths[file_idx - 1];
}

const char *ln_rule_id_format(const struct ln_sources *s, __u32 rule_id, char *buf, size_t len)
{
	const char *path = ln_sources_path(s, LN_RULE_ID_FILE(rule_id));

	if (!rule_id)
		snprintf(buf, len, "-");
	else if (path)
		snprintf(buf, len, "%s:%u", path, LN_RULE_ID_LINE(rule_id));
	else
		snprintf(buf, len, "#%u:%u", LN_RULE_ID_FILE(rule_id), LN_RULE_ID_LINE(rule_id));
	return buf;
}

void ln_sources_free(struct ln_sources *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->paths[i]);
	free(s->paths);
	memset(s, 0, sizeof(*s));
}
