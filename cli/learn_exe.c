// SPDX-License-Identifier: GPL-2.0
/* lsnitch learn --by-exe: one exe policy per executable the flows name, beside their scope's. */
#include <stdlib.h>
#include <string.h>

#include "learn_exe.h"

/* The policy flows of executable @exe go to: an exe policy for a path, else the scope's. */
static struct learn *learn_of(struct learn_exe *le, const char *exe)
{
	struct learn *v;

	if (exe[0] != '/')
		return &le->scope;
	for (size_t i = 0; i < le->n; i++)
		if (!strcmp(le->exes[i].exe, exe))
			return &le->exes[i];
	v = realloc(le->exes, (le->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	le->exes = v;
	v = &le->exes[le->n];
	*v = (struct learn){ .exe = strdup(exe) };
	if (!v->exe)
		return NULL;
	le->n++;
	return v;
}

void learn_exe_flow(const struct hq_flow *f, void *ud)
{
	struct learn_exe *le = ud;
	struct learn *l = learn_of(le, f->exe);

	if (!l) {
		le->oom = true;
		return;
	}
	if (f->exe[0] == '(')
		le->unnamed += f->count;
	learn_flow(f, l);
	/* an exe policy names every cgroup of its scope (rules/exe.c) */
	if (l != &le->scope)
		learn_cgroup(&le->scope, f->cgroup);
	le->oom |= l->oom || le->scope.oom;
}

/* "@name-BASENAME", with -2, -3... when another executable had the same base name. */
static void exe_policy_name(const struct learn_exe *le, size_t i, const char *name, char *buf,
			    size_t len)
{
	const char *base = strrchr(le->exes[i].exe, '/') + 1;
	char prefix[160];
	int same = 0;

	snprintf(prefix, sizeof(prefix), "%s-", name);
	for (size_t j = 0; j < i; j++)
		same += !strcmp(strrchr(le->exes[j].exe, '/') + 1, base);
	learn_policy_name(prefix, base, buf, len);
	if (same)
		snprintf(buf + strlen(buf), len - strlen(buf), "-%d", same + 1);
}

void learn_exe_print(FILE *f, const struct hq *q, const struct learn_exe *le, const char *name,
		     const char *source)
{
	char ename[256];

	learn_print_header(f, q, source);
	fprintf(f, "# By executable: the processes of the scope that no exe policy below names.\n");
	/* exe = takes a path: an identity with none would be a policy that never resolves */
	if (le->unnamed)
		fprintf(f,
			"# No exe policy for %lld attempts by executables known only as (DEV:INO)\n"
			"# (they exited before the agent read /proc/PID/exe): learned into this one.\n",
			(long long)le->unnamed);
	learn_print_section(f, q, &le->scope, &le->scope, name);
	for (size_t i = 0; i < le->n; i++) {
		exe_policy_name(le, i, name, ename, sizeof(ename));
		fprintf(f, "\n");
		learn_print_section(f, q, &le->exes[i], &le->scope, ename);
	}
}

size_t learn_exe_rules(const struct learn_exe *le)
{
	size_t n = le->scope.n;

	for (size_t i = 0; i < le->n; i++)
		n += le->exes[i].n;
	return n;
}

void learn_exe_free(struct learn_exe *le)
{
	learn_free(&le->scope);
	for (size_t i = 0; i < le->n; i++) {
		free((char *)le->exes[i].exe);
		learn_free(&le->exes[i]);
	}
	free(le->exes);
}
