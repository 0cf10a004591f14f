// SPDX-License-Identifier: GPL-2.0
/* The managed rules file (--managed-rules): [rules NAME] blocks added and removed on request. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "managed.h"

/*
 * Characters a field may hold: nothing that would start a comment, a key, a section or a
 * second rule in the INI line it is written into.
 */
static bool is_field(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr(extra, *s))
			return false;
	return true;
}

void ln_managed_edit_free(struct ln_managed_edit *ed)
{
	free(ed->old);
	ed->old = NULL;
}

/* The whole file into @ed->old; a file that is not there is empty. */
static int managed_read(const char *path, struct ln_managed_edit *ed, struct ln_error *err)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0;

	ed->old = NULL;
	ed->len = 0;
	ed->existed = f != NULL;
	if (!f && errno != ENOENT)
		return ln_err(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (!f)
		return (ed->old = strdup("")) ? 0 : ln_err(err, -ENOMEM, "out of memory");
	ed->len = getdelim(&ed->old, &cap, '\0', f);
	if ((ssize_t)ed->len < 0) {
		ed->len = 0;
		if (!ed->old || ferror(f)) {
			fclose(f);
			return ln_err(err, -EIO, "%s: cannot read", path);
		}
		ed->old[0] = '\0';
	}
	fclose(f);
	if (strlen(ed->old) != ed->len)
		return ln_err(err, -EINVAL, "%s: holds a NUL byte", path);
	return 0;
}

/* Makes @dir and its missing parents (0755), as mkdir -p. */
static int mkdir_p(char *dir)
{
	for (char *s = dir + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
}

/* Replace @path with @len bytes of @text: written aside, synced, renamed over it. */
static int managed_write(const char *path, const char *text, size_t len, struct ln_error *err)
{
	char *tmp = NULL, *dir = strdup(path);
	int fd = -1, rc = 0;

	if (!dir || asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		rc = ln_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = mkdir_p(dirname(dir));
	if (rc) {
		ln_err(err, rc, "%s: cannot make its directory: %s", path, strerror(-rc));
		goto out;
	}
	errno = 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) || rename(tmp, path)) {
		rc = ln_err(err, errno ? -errno : -EIO, "%s: cannot write: %s", path,
			    strerror(errno ? errno : EIO));
		unlink(tmp);
	}
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(dir);
	return rc;
}

int ln_managed_add(const char *path, const struct ln_managed_rule *r, struct ln_managed_edit *ed,
		   __u32 *line, struct ln_error *err)
{
	bool name = !strchr(r->dest, ':') && strspn(r->dest, "0123456789./") != strlen(r->dest);
	char stamp[32], port[16] = "", *text = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int rc, n;

	if (!is_field(r->policy, "_.@-"))
		return ln_err(err, -EINVAL, "bad policy name \"%s\"", r->policy);
	if (!is_field(r->dest, ".:/_-"))
		return ln_err(err, -EINVAL, "bad destination \"%s\" (an address, a prefix or a name)",
			      r->dest);
	if (r->proto[0] && strcmp(r->proto, "tcp") && strcmp(r->proto, "udp"))
		return ln_err(err, -EINVAL, "bad protocol \"%s\" (tcp, udp or none)", r->proto);
	if (r->port)
		snprintf(port, sizeof(port), ":%u", r->port);
	rc = managed_read(path, ed, err);
	if (rc)
		return rc;
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
	n = asprintf(&text, "%s%s[rules %s] ; added %s\n%s%s = %s%s%s%s%s%s\n", ed->old,
		     ed->len && ed->old[ed->len - 1] != '\n' ? "\n" : "", r->policy, stamp,
		     r->verdict == LN_VERDICT_ALLOW ? "allow" : "deny", name ? "-domain" : "",
		     strchr(r->dest, ':') ? "[" : "", r->dest, strchr(r->dest, ':') ? "]" : "",
		     port, r->proto[0] ? "/" : "", r->proto);
	if (n < 0)
		return ln_err(err, -ENOMEM, "out of memory");
	*line = 0;
	for (const char *s = text; *s; s++)
		*line += *s == '\n';
	rc = managed_write(path, text, n, err);
	free(text);
	return rc;
}

/* Where line @line (from 1) of @s starts, or NULL past the end. */
static const char *line_at(const char *s, __u32 line)
{
	for (__u32 i = 1; i < line && s; i++) {
		s = strchr(s, '\n');
		s = s ? s + 1 : NULL;
	}
	return s && *s ? s : NULL;
}

int ln_managed_remove(const char *path, __u32 line, const char *text, struct ln_managed_edit *ed,
		      struct ln_error *err)
{
	const char *head, *rule, *end;
	size_t tlen = strlen(text);
	char *out;
	int rc;

	rc = managed_read(path, ed, err);
	if (rc)
		return rc;
	head = line > 1 ? line_at(ed->old, line - 1) : NULL;
	rule = line > 1 ? line_at(ed->old, line) : NULL;
	/* only a block this file's adder wrote, and only the rule the caller saw there */
	if (!head || !rule || strncmp(head, "[rules ", 7) || strncmp(rule, text, tlen) ||
	    (rule[tlen] != '\n' && rule[tlen]))
		return ln_err(err, -ENOENT, "%s:%u: no added rule \"%s\" there (changed since?)",
			      path, line, text);
	end = rule + tlen + (rule[tlen] == '\n');
	out = malloc(ed->len + 1);
	if (!out)
		return ln_err(err, -ENOMEM, "out of memory");
	memcpy(out, ed->old, head - ed->old);
	strcpy(out + (head - ed->old), end);
	rc = managed_write(path, out, strlen(out), err);
	free(out);
	return rc;
}

int ln_managed_revert(const char *path, const struct ln_managed_edit *ed, struct ln_error *err)
{
	if (!ed->existed)
		return unlink(path) && errno != ENOENT ?
			       ln_err(err, -errno, "%s: cannot remove: %s", path, strerror(errno)) :
			       0;
	return managed_write(path, ed->old, ed->len, err);
}
