// SPDX-License-Identifier: GPL-2.0
/* lsnitch-update's record of one list (LISTS_DIR/NAME.state): "key=value" lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules_internal.h"

#define FIELD_STR(key, f)                                                                          \
	{                                                                                          \
		key, offsetof(struct ln_list_state, f), sizeof(((struct ln_list_state *)0)->f)     \
	}
#define FIELD_NUM(key, f)                                                                          \
	{                                                                                          \
		key, offsetof(struct ln_list_state, f), 0                                          \
	}

/* The fields, as the file names them; size 0: a number (long long). */
static const struct state_field {
	const char *key;
	size_t off, size;
} fields[] = {
    FIELD_STR("url", url),
    FIELD_NUM("fetched_at", fetched_at),
    FIELD_NUM("checked_at", checked_at),
    FIELD_NUM("entries", entries),
    FIELD_STR("etag", etag),
    FIELD_STR("last_modified", last_modified),
    FIELD_STR("error", error),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static void state_set(struct ln_list_state *s, const char *key, const char *v)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
		char *at = (char *)s + fields[i].off;

		if (strcmp(key, fields[i].key))
			continue;
		if (fields[i].size)
			snprintf(at, fields[i].size, "%s", v);
		else
			*(long long *)at = strtoll(v, NULL, 10);
	}
}

int ln_list_state_read(const char *path, struct ln_list_state *s)
{
	char line[2048], *eq;
	struct stat sb;
	FILE *f;
	int fd;

	memset(s, 0, sizeof(*s));
	/* the updater's file, read by root too: no link, no FIFO, nothing that blocks */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || !(f = fdopen(fd, "re"))) {
		close(fd);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		state_set(s, line, eq + 1);
	}
	fclose(f);
	return 0;
}

int ln_list_state_write(FILE *f, const struct ln_list_state *s)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
		const char *at = (const char *)s + fields[i].off;

		if (fields[i].size)
			fprintf(f, "%s=%s\n", fields[i].key, at);
		else
			fprintf(f, "%s=%lld\n", fields[i].key, *(const long long *)at);
	}
	return ferror(f) ? -EIO : 0;
}
