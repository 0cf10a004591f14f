// SPDX-License-Identifier: GPL-2.0
/* The container a cgroup path belongs to, from the names container runtimes give cgroups. */
#include <ctype.h>
#include <string.h>

#include "rules.h"

/* Runtimes' scope names: PREFIX<id>.scope (systemd cgroup driver). */
static const char *const scope_prefixes[] = {
	"docker-", "libpod-", "cri-containerd-", "crio-", "containerd-",
};
/* Parents of a bare <id> directory (cgroupfs driver): docker/<id>, kubepods/.../<id>. */
static const char *const id_parents[] = { "docker", "libpod_parent", "lxc.payload" };

/* Whether @s (@n bytes) looks like a runtime's id: 12 to 64 hex digits. */
static bool is_hex_id(const char *s, size_t n)
{
	if (n < 12 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The id in one path component @c (@n bytes) below @parent (@pn bytes), or NULL. */
static const char *component_id(const char *parent, size_t pn, const char *c, size_t n,
				size_t *idn)
{
	const size_t sfx = strlen(".scope");
	size_t i, l;

	for (i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		l = strlen(scope_prefixes[i]);
		if (n > l + sfx && !strncmp(c, scope_prefixes[i], l) &&
		    !strncmp(c + n - sfx, ".scope", sfx) && is_hex_id(c + l, n - l - sfx)) {
			*idn = n - l - sfx;
			return c + l;
		}
	}
	for (i = 0; i < sizeof(id_parents) / sizeof(id_parents[0]); i++) {
		l = strlen(id_parents[i]);
		if (pn == l && !strncmp(parent, id_parents[i], l) && is_hex_id(c, n)) {
			*idn = n;
			return c;
		}
	}
	return NULL;
}

bool ln_cgroup_container(const char *path, char *out, size_t len)
{
	const char *c = path, *parent = "", *id, *end;
	size_t pn = 0, n, idn = 0;
	bool found = false;

	/* The deepest match: a container nested in another names the inner one. */
	while (*c) {
		while (*c == '/')
			c++;
		end = strchr(c, '/');
		n = end ? (size_t)(end - c) : strlen(c);
		if (!n)
			break;
		id = component_id(parent, pn, c, n, &idn);
		if (id && len > idn) {
			memcpy(out, id, idn);
			out[idn] = '\0';
			found = true;
		}
		parent = c;
		pn = n;
		c += n;
	}
	return found;
}
