// SPDX-License-Identifier: GPL-2.0
/*
 * Exe policies: exe= lines, the scope each refines, and what the kernel gets of them.
 *
 * A policy with exe= lines binds no cgroup of its own: it refines the policy of its scope,
 * the one policy without exe= that binds exactly the same cgroup= values (or follows the
 * same unit). Inside that scope a process whose executable is one of the exe= files takes
 * the exe policy; every other process the scope's. The kernel keys the choice by the
 * scope's policy id (bpf/exe.bpf.h), so an exe policy must name every cgroup of its scope.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ini_internal.h"

/* exe = /absolute/path: one executable per line, as written (the agent resolves it). */
int ini_exe(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_policy *p = obj;

	(void)k;
	if (v[0] != '/')
		return ini_fail(st, -EINVAL, "exe \"%s\" is not an absolute path", v);
	if (strpbrk(v, "*?["))
		return ini_fail(st, -EINVAL,
				"exe \"%s\": globs are not supported, name each executable", v);
	return ini_push_value(st, &p->exes, &p->exe_ids, &p->n_exes, v);
}

void ln_policy_exes_free(struct ln_policy *p)
{
	for (size_t i = 0; i < p->n_exes; i++)
		free(p->exes[i]);
	free(p->exes);
	free(p->exe_ids);
}

static bool has_cgroup(const struct ln_policy *p, const char *cg)
{
	for (size_t i = 0; i < p->n_cgroups; i++)
		if (!strcmp(p->cgroups[i], cg))
			return true;
	return false;
}

/* Whether @q binds exactly what exe policy @p names. */
static bool same_scope(const struct ln_policy *p, const struct ln_policy *q)
{
	size_t i;

	if (p->unit || q->unit)
		return p->unit && q->unit && !p->n_cgroups && !q->n_cgroups &&
		       !strcmp(p->unit, q->unit);
	for (i = 0; i < p->n_cgroups; i++)
		if (!has_cgroup(q, p->cgroups[i]))
			return false;
	for (i = 0; i < q->n_cgroups; i++)
		if (!has_cgroup(p, q->cgroups[i]))
			return false;
	return true;
}

long ln_exe_scope(const struct ln_config *c, const struct ln_policy *p)
{
	for (size_t j = 0; j < c->n_policies; j++) {
		const struct ln_policy *q = &c->policies[j];

		if (!q->n_exes && same_scope(p, q))
			return (long)j;
	}
	return -1;
}

/* Why exe policy @p has no scope: the cgroup no policy binds, or the scope it differs from. */
static int scope_missing(const struct ln_config *c, const struct ln_policy *p,
			 struct ln_error *err)
{
	char a[LN_ERR_MAX / 2];

	for (size_t j = 0; j < c->n_policies; j++) {
		const struct ln_policy *q = &c->policies[j];

		if (q->n_exes || !p->n_cgroups || !has_cgroup(q, p->cgroups[0]))
			continue;
		ln_rule_id_format(&c->sources, p->section_rule_id, a, sizeof(a));
		return ln_err(err, -EINVAL,
			      "%s: exe policy \"%s\" must name the same cgroups as policy \"%s\", "
			      "the scope it refines",
			      a, p->name, q->name);
	}
	ln_rule_id_format(&c->sources, p->n_cgroups ? p->cgroup_ids[0] : p->section_rule_id, a,
			  sizeof(a));
	return ln_err(err, -EINVAL,
		      "%s: exe policy \"%s\": no policy without exe= binds %s \"%s\" (an exe "
		      "policy refines the policy of its scope: add one)",
		      a, p->name, p->n_cgroups ? "cgroup" : "unit",
		      p->n_cgroups ? p->cgroups[0] : p->unit);
}

int ln_exe_validate(const struct ln_config *c, size_t i, struct ln_error *err)
{
	const struct ln_policy *p = &c->policies[i];
	char a[LN_ERR_MAX / 2], b[LN_ERR_MAX / 2];
	long scope = ln_exe_scope(c, p);

	if (scope < 0)
		return scope_missing(c, p, err);
	for (size_t j = 0; j <= i; j++) {
		const struct ln_policy *q = &c->policies[j];

		if (!q->n_exes || ln_exe_scope(c, q) != scope)
			continue;
		for (size_t k = 0; k < p->n_exes; k++) {
			for (size_t m = 0; m < (j == i ? k : q->n_exes); m++) {
				if (strcmp(p->exes[k], q->exes[m]))
					continue;
				ln_rule_id_format(&c->sources, p->exe_ids[k], a, sizeof(a));
				ln_rule_id_format(&c->sources, q->exe_ids[m], b, sizeof(b));
				return ln_err(err, -EINVAL,
					      "%s: exe \"%s\" already has policy \"%s\" in this "
					      "scope at %s",
					      a, p->exes[k], q->name, b);
			}
		}
	}
	return 0;
}

int ln_compile_exes(const struct ln_config *c, struct ln_compiled *out, struct ln_error *err)
{
	size_t i, k, n = 0;

	for (i = 0; i < c->n_policies; i++)
		n += c->policies[i].n_exes;
	if (!n)
		return 0;
	out->exes = calloc(n, sizeof(*out->exes));
	if (!out->exes)
		return ln_err(err, -ENOMEM, "out of memory");
	for (i = 0; i < c->n_policies; i++) {
		const struct ln_policy *p = &c->policies[i];
		long scope = p->n_exes ? ln_exe_scope(c, p) : -1;

		if (scope < 0)
			continue; /* not an exe policy (ln_exe_validate() checked the others) */
		out->policies[scope + 1].flags |= LN_POLICY_HAS_EXE;
		out->policies[i + 1].flags |= LN_POLICY_IS_EXE;
		for (k = 0; k < p->n_exes; k++) {
			struct ln_exe_binding *e = &out->exes[out->n_exes++];

			e->path = p->exes[k];
			e->scope_id = scope + 1;
			e->policy_id = i + 1;
			e->rule_id = p->exe_ids[k];
		}
	}
	return 0;
}

__u32 ln_exe_select(const struct ln_compiled *cc, __u32 scope, const char *path)
{
	for (size_t i = 0; path && i < cc->n_exes; i++)
		if (cc->exes[i].scope_id == scope && !strcmp(cc->exes[i].path, path))
			return cc->exes[i].policy_id;
	return scope;
}
