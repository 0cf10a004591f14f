// SPDX-License-Identifier: GPL-2.0
/*
 * The --cgroup paths: where their links are, and what happens when one goes
 * away. systemd removes a unit's cgroup and makes a new one on every
 * restart, so a unit's own cgroup is attached at its parent, a gate
 * (LN_CG_GATE: nothing below it is guarded), and bound there as a guard
 * (LN_CG_GUARD), by name in the programs (cg_children) until the agent has
 * seen it: the new cgroup is enforced from its first process on, and the
 * links, on the stable parent, never go stale. Any other path is attached
 * at itself; when it goes, its links go too, and it is attached again when
 * it is made again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "agent.h"

bool ln_guard_is_unit_cgroup(const char *path)
{
	size_t n = strlen(path);
	const char *base;

	while (n && path[n - 1] == '/')
		n--;
	base = path;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/')
			base = path + i + 1;
	return (n - (base - path) > 8 && !strncmp(path + n - 8, ".service", 8)) ||
	       (n - (base - path) > 6 && !strncmp(path + n - 6, ".scope", 6));
}

static bool is_cgroup2(const char *path, void *ud)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* @a->path relative to the cgroup2 root into a->rel; -EXDEV: not below it. */
static int guard_rel(struct ln_manager *m, struct ln_attach *a)
{
	size_t n = strlen(m->cg2_root), len = strlen(a->path);
	const char *p = a->path;

	while (len > 1 && p[len - 1] == '/')
		len--;
	if (strncmp(p, m->cg2_root, n) || (p[n] && p[n] != '/'))
		return -EXDEV;
	p += n;
	len -= n;
	while (len && *p == '/') {
		p++;
		len--;
	}
	a->rel = strndup(p, len);
	return a->rel ? 0 : -ENOMEM;
}

/* Whether another --cgroup is @path or above it: its programs already run there. */
static bool under_other_cgroup(const struct ln_manager *m, const char *path)
{
	for (size_t i = 0; i < m->opts.n_cgroups; i++) {
		const char *o = m->opts.cgroups[i];
		size_t n = strlen(o);

		while (n > 1 && o[n - 1] == '/')
			n--;
		if (o != path && !strncmp(path, o, n) && (!path[n] || path[n] == '/'))
			return true;
	}
	return false;
}

/*
 * Where @a's links go: the parent of a unit's cgroup, unless that is the root
 * or lies below another --cgroup (a gate there would switch that one off for
 * the parent's other children).
 */
static int guard_place(struct ln_manager *m, struct ln_attach *a)
{
	char *slash = strrchr(a->rel, '/');

	a->gate = slash && ln_guard_is_unit_cgroup(a->rel) && !under_other_cgroup(m, a->path);
	if (!a->gate) {
		a->at = strdup(a->path);
		return a->at ? 0 : -ENOMEM;
	}
	if (asprintf(&a->at, "%s/%.*s", m->cg2_root, (int)(slash - a->rel), a->rel) < 0) {
		a->at = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_attach - 1; i++)
		a->shared |= !strcmp(m->attach[i].at, a->at);
	return 0;
}

static int guard_open(struct ln_manager *m, struct ln_attach *a, struct ln_error *err)
{
	char hint[4200];
	int r;

	if (!is_cgroup2(a->path, NULL)) {
		ln_cgroup_hint(a->path, m->cg2_root, is_cgroup2, NULL, hint, sizeof(hint));
		return ln_err(err, -ENOTDIR, "--cgroup %s: not a cgroup v2 directory; %s", a->path,
			      hint);
	}
	r = guard_rel(m, a);
	if (r == -EXDEV)
		return ln_err(err, r, "--cgroup %s: not below the cgroup v2 mount %s", a->path,
			      m->cg2_root);
	if (r >= 0)
		r = guard_place(m, a);
	if (r < 0)
		return ln_err(err, r, "out of memory");
	a->present = true;
	if (a->gate)
		ln_note(m, LOG_WARNING, "--cgroup %s is a unit's own cgroup: systemd makes it anew "
			"on every restart; attached at %s, the path bound there. Sturdier: guard the "
			"slice or the root, with the unit's policy in --units", a->path, a->at);
	return 0;
}

int ln_guards_open(struct ln_manager *m, struct ln_error *err)
{
	size_t n = m->opts.n_cgroups ? m->opts.n_cgroups : 1;
	int r;

	m->attach = calloc(n, sizeof(*m->attach));
	if (!m->attach)
		return ln_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct ln_attach *a = &m->attach[m->n_attach++];

		a->path = m->opts.n_cgroups ? m->opts.cgroups[i] : m->cg2_root;
		a->fd = -1;
		r = guard_open(m, a, err);
		if (r < 0)
			return r;
	}
	return 0;
}

bool ln_guards_any_gate(const struct ln_manager *m)
{
	for (size_t i = 0; i < m->n_attach; i++)
		if (m->attach[i].gate)
			return true;
	return false;
}

/* Whether @rel is the parent of a->rel ("" the root). */
static bool is_parent_of(const char *rel, const struct ln_attach *a)
{
	const char *slash = strrchr(a->rel, '/');
	size_t n = slash ? (size_t)(slash - a->rel) : 0;

	return strlen(rel) == n && !strncmp(rel, a->rel, n);
}

static bool unit_match(const char *unit, const char *path, void *ud)
{
	return ln_unit_is_cgroup(ud, unit, path);
}

/* The policy @rel has from the bindings, its own or its nearest ancestor's. */
static __u32 inherited_policy(struct ln_manager *m, struct ln_generation *g, const char *rel)
{
	const struct ln_compiled *cc = &g->cc;
	char path[4096];
	char *slash;
	long i;

	snprintf(path, sizeof(path), "%s", rel);
	while (*path) {
		i = ln_binding_lookup(cc->bindings, cc->n_bindings, path, unit_match, m);
		if (i >= 0)
			return cc->bindings[i].policy_id;
		slash = strrchr(path, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return LN_POLICY_IMPLICIT;
}

bool ln_guard_gate_below(const struct ln_manager *m, const char *rel)
{
	size_t n = strlen(rel);

	for (size_t i = 0; i < m->n_attach; i++) {
		const struct ln_attach *a = &m->attach[i];
		const char *slash = a->gate ? strrchr(a->rel, '/') : NULL;
		const char *child = a->rel + n + !!n;

		/* the gate's parent is "@rel/CHILD" */
		if (slash && !strncmp(a->rel, rel, n) && (!n || a->rel[n] == '/') &&
		    child < slash && !memchr(child, '/', slash - child))
			return true;
	}
	return false;
}

/* Whether @rel lies below the parent of a gate (where only guards are guarded). */
static bool below_a_gate(const struct ln_manager *m, const char *rel)
{
	for (size_t i = 0; i < m->n_attach; i++) {
		const struct ln_attach *a = &m->attach[i];
		const char *slash = strrchr(a->rel, '/');
		size_t n = slash ? (size_t)(slash - a->rel) : 0;

		if (a->gate && !strncmp(rel, a->rel, n) && rel[n] == '/')
			return true;
	}
	return false;
}

void ln_guard_entry(struct ln_manager *m, struct ln_generation *g, const char *rel,
		    struct ln_cgroup_val *v)
{
	for (size_t i = 0; i < m->n_attach; i++) {
		const struct ln_attach *a = &m->attach[i];

		if (!a->gate && (strcmp(rel, a->rel) || !below_a_gate(m, rel)))
			continue;
		if (!strcmp(rel, a->rel)) { /* a guard, or another --cgroup below a gate */
			v->policy_id = inherited_policy(m, g, rel);
			v->flags = (v->flags & ~LN_CG_UNBOUND) | LN_CG_GUARD;
			return;
		}
		if (is_parent_of(rel, a)) {
			v->policy_id = LN_POLICY_NONE;
			v->flags = (v->flags & ~LN_CG_UNBOUND) | LN_CG_GATE | LN_CG_GLOB_PARENT;
		}
	}
}

int ln_guard_children(struct ln_manager *m, struct ln_generation *g, const char *rel,
		      struct ln_cg_children *ch)
{
	int r = 0;

	for (size_t i = 0; i < m->n_attach && r >= 0; i++) {
		const struct ln_attach *a = &m->attach[i];
		const char *base;

		if (!a->gate || !is_parent_of(rel, a))
			continue;
		base = strrchr(a->rel, '/') + 1;
		r = ln_cg_children_add(ch, base, strlen(base), inherited_policy(m, g, a->rel),
				       LN_CHILD_BIND | LN_CHILD_GUARD);
	}
	return r < 0 ? r : (int)ch->n;
}

/* A path attached at itself is back: attach to the new cgroup. */
static void guard_reattach(struct ln_manager *m, struct ln_attach *a)
{
	struct ln_error err = {};
	__u64 id;

	if (ln_pin_attach_one(m, m->gen, a, &id, &err) < 0) {
		ln_note(m, LOG_ERR, "%s; not guarded until it is made again", err.msg);
		ln_pin_detach_one(m, a);
	} else if (ln_packet_roots_fill(m, m->gen, &err) < 0) {
		ln_note(m, LOG_ERR, "%s", err.msg);
	}
}

void ln_guard_event(struct ln_manager *m, const char *rel, bool exists)
{
	for (size_t i = 0; i < m->n_attach; i++) {
		struct ln_attach *a = &m->attach[i];

		if (strcmp(rel, a->rel) || exists == a->present)
			continue;
		a->present = exists;
		if (!exists) {
			a->gone++;
			if (!a->gate)
				ln_pin_detach_one(m, a);
			ln_note(m, LOG_WARNING, "--cgroup %s is gone; watching: %s", a->path,
				a->gate ? "bound again from the first process when it is made again"
					: "attached again when it is made again");
			continue;
		}
		a->back++;
		if (!a->gate)
			guard_reattach(m, a);
		ln_note(m, LOG_NOTICE, "--cgroup %s is back (%u time%s): enforced", a->path, a->back,
			a->back == 1 ? "" : "s");
	}
}

void ln_guards_recheck(struct ln_manager *m)
{
	for (size_t i = 0; i < m->n_attach; i++)
		ln_guard_event(m, m->attach[i].rel, is_cgroup2(m->attach[i].path, NULL));
}
