// SPDX-License-Identifier: GPL-2.0
/* cgroup paths: cleaning cgroup= values; which binding a path falls under (globs, units). */
#include <string.h>

#include "rules_internal.h"

const char *ln_cgroup_path_clean(char *v)
{
	char *out = v, *seg, *w = v;
	size_t n;

	while (*v == '/')
		v++;
	if (!*v)
		return out[0]
			   ? "binding the root cgroup: use the implicit policy (--cgroup) instead"
			   : "empty cgroup path";
	/* copy segment by segment, dropping empty ones ("a//b", trailing '/') */
	while (*v) {
		seg = v;
		n = strcspn(seg, "/");
		v = seg + n;
		while (*v == '/')
			v++;
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return "cgroup path may not contain \".\" or \"..\"";
		if (w != out)
			*w++ = '/';
		memmove(w, seg, n);
		w += n;
	}
	*w = '\0';
	return NULL;
}

bool ln_cgroup_is_glob(const char *pattern)
{
	return strpbrk(pattern, "*?") != NULL;
}

/* One component: '*' matches any run of characters, '?' one; neither crosses '/'. */
bool ln_cgroup_component_match(const char *p, const char *pe, const char *s, const char *se)
{
	const char *star = NULL, *resume = NULL;

	while (s < se) {
		if (p < pe && *p == '*') {
			star = p++;
			resume = s;
		} else if (p < pe && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

/* Next component after the one starting at @s ("" when it was the last). */
static const char *next_component(const char *s)
{
	s += strcspn(s, "/");
	return *s ? s + 1 : s;
}

/*
 * Whether @s matches @p; with @below, whether a path strictly below @s could
 * (what is left of @p once @s runs out can still match more components).
 */
static bool glob_walk(const char *p, const char *s, bool below)
{
	while (*p) {
		size_t plen = strcspn(p, "/"), slen;

		if (plen == 2 && p[0] == '*' && p[1] == '*') {
			/* any number of components, zero included */
			p = next_component(p);
			for (;;) {
				if (glob_walk(p, s, below))
					return true;
				if (!*s)
					return below;
				s = next_component(s);
			}
		}
		if (!*s)
			return below;
		slen = strcspn(s, "/");
		if (!ln_cgroup_component_match(p, p + plen, s, s + slen))
			return false;
		p = next_component(p);
		s = next_component(s);
	}
	return !below && !*s;
}

bool ln_cgroup_glob_match(const char *pattern, const char *path)
{
	return glob_walk(pattern, path, false);
}

bool ln_cgroup_glob_parent(const char *pattern, const char *path)
{
	return glob_walk(pattern, path, true);
}

bool ln_bindings_glob_parent(const struct ln_binding *b, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].cgroup && ln_cgroup_is_glob(b[i].cgroup) &&
		    ln_cgroup_glob_parent(b[i].cgroup, path))
			return true;
	return false;
}

static bool has_component_before_last(const char *path, const char *comp)
{
	size_t n = strlen(comp);

	for (const char *s = path; *s;) {
		size_t len = strcspn(s, "/");

		if (!s[len])
			return false; /* the last one */
		if (len == n && !strncmp(s, comp, n))
			return true;
		s += len + 1;
	}
	return false;
}

bool ln_cgroup_unit_tree_match(const char *unit, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(unit);

	base = base ? base + 1 : path;
	if (strcmp(base, unit))
		return false;
	if (n > 6 && !strcmp(unit + n - 6, ".slice"))
		return true;
	return has_component_before_last(path, "system.slice") ||
	       has_component_before_last(path, "user.slice");
}

static int binding_rank(const struct ln_binding *b)
{
	if (b->unit)
		return 1;
	return ln_cgroup_is_glob(b->cgroup) ? 2 : 0;
}

bool ln_binding_matches(const struct ln_binding *b, const char *path, ln_unit_match_fn unit_match,
			void *ud)
{
	if (b->unit)
		return unit_match ? unit_match(b->unit, path, ud)
				  : ln_cgroup_unit_tree_match(b->unit, path);
	if (ln_cgroup_is_glob(b->cgroup))
		return ln_cgroup_glob_match(b->cgroup, path);
	return !strcmp(b->cgroup, path);
}

long ln_binding_lookup(const struct ln_binding *b, size_t n, const char *path,
		       ln_unit_match_fn unit_match, void *ud)
{
	long best = -1;
	int best_rank = 3;

	for (size_t i = 0; i < n; i++) {
		int rank = binding_rank(&b[i]);

		/* Bindings are in load order: a later one wins only with a better rank. */
		if (rank >= best_rank || !ln_binding_matches(&b[i], path, unit_match, ud))
			continue;
		best = (long)i;
		best_rank = rank;
		if (!rank)
			break;
	}
	return best;
}
