// SPDX-License-Identifier: GPL-2.0
/* What a new child of a cgroup is by its name: the patterns the programs match (cg_children). */
#include <errno.h>
#include <string.h>

#include "rules_internal.h"

static size_t depth_of(const char *path)
{
	size_t d = *path ? 1 : 0;

	for (const char *s = path; *s; s++)
		d += *s == '/';
	return d;
}

/* Component @i of @path ("a/b/c": 0 a, 1 b, 2 c), its length in *@len. */
static const char *component_at(const char *path, size_t i, size_t *len)
{
	for (; i; i--)
		path += strcspn(path, "/") + 1;
	*len = strcspn(path, "/");
	return path;
}

int ln_cg_children_add(struct ln_cg_children *out, const char *pattern, size_t len,
		       __u32 policy_id, __u32 flags)
{
	struct ln_cg_pattern *p;

	if (len >= LN_CG_PATTERN_LEN)
		return -E2BIG;
	for (__u32 i = 0; i < out->n; i++) {
		p = &out->p[i];
		if (p->flags == flags && p->policy_id == policy_id &&
		    !strncmp(p->pattern, pattern, len) && !p->pattern[len])
			return 0;
	}
	if (out->n == LN_CG_PATTERNS)
		return -E2BIG;
	p = &out->p[out->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->pattern, pattern, len);
	p->policy_id = policy_id;
	p->flags = flags;
	return 0;
}

/* A pattern of @len bytes: binding, with @policy_id, or only on the way (no policy). */
static int add(struct ln_cg_children *out, const char *pattern, size_t len, __u32 policy_id,
	       __u32 flags)
{
	return ln_cg_children_add(out, pattern, len, flags & LN_CHILD_BIND ? policy_id : 0, flags);
}

/* An exact path below @parent: its next component, binding or on the way. */
static int add_exact(struct ln_cg_children *out, const struct ln_binding *b, const char *parent)
{
	size_t n = strlen(parent), len;
	const char *rest = b->cgroup;

	if (n) {
		if (strncmp(rest, parent, n) || rest[n] != '/')
			return 0;
		rest += n + 1;
	}
	len = strcspn(rest, "/");
	return add(out, rest, len, b->policy_id, rest[len] ? LN_CHILD_WATCH : LN_CHILD_BIND);
}

/* Index of the first "**" component of @pattern, or its number of components. */
static size_t double_star_at(const char *pattern, size_t k)
{
	size_t len;

	for (size_t i = 0; i < k; i++)
		if (component_at(pattern, i, &len)[0] == '*' && len == 2 &&
		    component_at(pattern, i, &len)[1] == '*')
			return i;
	return k;
}

/*
 * A glob whose first components match @parent: its next one. Past a "**"
 * component, any new child could be bound further down: such children stay
 * pending, as before the programs matched names.
 */
static int add_glob(struct ln_cg_children *out, const struct ln_binding *b, const char *parent)
{
	size_t d = depth_of(parent), k = depth_of(b->cgroup), j = double_star_at(b->cgroup, k);
	size_t plen, slen;
	const char *pc, *sc;
	__u32 flags;

	if (d >= j) {
		if (j == k || !ln_cgroup_glob_parent(b->cgroup, parent))
			return 0;
		return ln_cg_children_add(out, "*", 1, 0, LN_CHILD_PENDING);
	}
	for (size_t i = 0; i < d; i++) {
		pc = component_at(b->cgroup, i, &plen);
		sc = component_at(parent, i, &slen);
		if (!ln_cgroup_component_match(pc, pc + plen, sc, sc + slen))
			return 0;
	}
	pc = component_at(b->cgroup, d, &plen);
	if (j < k) /* a glob ending in a "**" component binds its parent too */
		flags = LN_CHILD_WATCH | (d + 1 == j && j + 1 == k ? LN_CHILD_BIND : 0);
	else
		flags = d + 1 == k ? LN_CHILD_BIND : LN_CHILD_WATCH;
	return add(out, pc, plen, b->policy_id, flags);
}

static int binding_rank(const struct ln_binding *b)
{
	if (b->unit)
		return 1;
	return ln_cgroup_is_glob(b->cgroup) ? 2 : 0;
}

int ln_cg_children_of(const struct ln_binding *b, size_t n, const char *parent,
		      ln_unit_home_fn home, void *ud, struct ln_cg_children *out)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	/* In the order ln_binding_lookup() decides: the first binding pattern wins. */
	for (int rank = 0; rank < 3 && r >= 0; rank++) {
		for (size_t i = 0; i < n && r >= 0; i++) {
			if (binding_rank(&b[i]) != rank)
				continue;
			if (rank == 0)
				r = add_exact(out, &b[i], parent);
			else if (rank == 2)
				r = add_glob(out, &b[i], parent);
			else if (home && home(b[i].unit, parent, ud))
				r = ln_cg_children_add(out, b[i].unit, strlen(b[i].unit),
						       b[i].policy_id, LN_CHILD_BIND);
		}
	}
	return r < 0 ? r : (int)out->n;
}

/* @b's own pattern for a new child of @parent into @one: how many (0: it has none there). */
static int contribution(const struct ln_binding *b, const char *parent, struct ln_cg_children *one)
{
	int r;

	memset(one, 0, sizeof(*one));
	r = binding_rank(b) == 0 ? add_exact(one, b, parent) : add_glob(one, b, parent);
	return r < 0 ? r : (int)one->n;
}

/* Whether @p is pattern @i of @ch, as ln_cg_children_add() tells them apart. */
static bool is_pattern(const struct ln_cg_children *ch, __u32 i, const struct ln_cg_pattern *p)
{
	return i < ch->n && ch->p[i].flags == p->flags && ch->p[i].policy_id == p->policy_id &&
	       !strcmp(ch->p[i].pattern, p->pattern);
}

/* @b's pattern one level below @parent's watching pattern @i (when it is @b's), into @out. */
static int add_grandchild(struct ln_cg_children *out, const struct ln_binding *b,
			  const char *parent, const struct ln_cg_children *ch, __u32 i)
{
	struct ln_cg_children one;
	char path[4096];
	int r, n;

	r = contribution(b, parent, &one);
	if (r <= 0 || !(one.p[0].flags & LN_CHILD_WATCH) || !is_pattern(ch, i, &one.p[0]))
		return r < 0 ? r : 0;
	/* a pattern matches its own text, so it stands for any child it matches */
	n = snprintf(path, sizeof(path), "%s%s%s", parent, *parent ? "/" : "", one.p[0].pattern);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -E2BIG;
	r = contribution(b, path, &one);
	if (r <= 0)
		return r;
	return ln_cg_children_add(out, one.p[0].pattern, strlen(one.p[0].pattern),
				  one.p[0].policy_id, one.p[0].flags);
}

int ln_cg_grandchildren_of(const struct ln_binding *b, size_t n, const char *parent,
			   const struct ln_cg_children *ch, __u32 i, struct ln_cg_children *out)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (i >= ch->n || !(ch->p[i].flags & LN_CHILD_WATCH))
		return 0;
	/* In ln_cg_children_of()'s order, units aside (the caller's to rule out). */
	for (int rank = 0; rank < 3 && r >= 0; rank += 2)
		for (size_t k = 0; k < n && r >= 0; k++)
			if (binding_rank(&b[k]) == rank)
				r = add_grandchild(out, &b[k], parent, ch, i);
	return r < 0 ? r : (int)out->n;
}
