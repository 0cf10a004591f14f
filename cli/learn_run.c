// SPDX-License-Identifier: GPL-2.0
/* lsnitch learn from flows to INI text, for the CLI and the agent alike (learn_run.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "learn_exe.h"
#include "learn_policy.h"
#include "learn_run.h"

/* "policy NAME", "cgroup /PATH" or "unit UNIT": what @q names, for a message. */
static void scope_text(const struct hq *q, char *buf, size_t len)
{
	if (q->policy)
		snprintf(buf, len, "policy %s", q->policy);
	else if (q->cgroup)
		snprintf(buf, len, "cgroup %s", q->cgroup);
	else
		snprintf(buf, len, "unit %s", q->unit ? q->unit : "?");
}

/* Whether what was learned is worth a policy: 0, or -ENOENT/-ENOMEM with @err. */
static int learn_check(const struct hq *q, const struct learn *l, const struct learn_exe *le,
		       struct ln_error *err)
{
	char scope[300], since[32], until[32];

	if (l->oom || le->oom)
		return ln_err(err, -ENOMEM, "learn: out of memory");
	scope_text(q, scope, sizeof(scope));
	/* every flow adds its cgroup: none, no flow matched */
	if (!(q->by_exe ? le->scope.n_cgroups : l->n_cgroups))
		return ln_err(err, -ENOENT,
			      "learn: no flows of %s from %s to %s UTC: nothing to learn "
			      "(is the name right? a longer window?)",
			      scope, hq_time(q->since, since, sizeof(since)),
			      hq_time(q->until, until, sizeof(until)));
	if (q->by_exe && !le->n)
		return ln_err(err, -ENOENT,
			      "learn --by-exe: no flow of %s names an executable's path (%lld "
			      "attempts by executables known only as (DEV:INO)): learn without "
			      "--by-exe for one policy",
			      scope, (long long)le->unnamed);
	return 0;
}

static void learn_write(FILE *f, const struct hq *q, const struct learn *l,
			const struct learn_exe *le, const char *name, const char *source)
{
	if (q->by_exe)
		learn_exe_print(f, q, le, name, source);
	else
		learn_print(f, q, l, name, source);
}

int learn_text_run(sqlite3 *db, const struct hq *q, const char *source, struct learn_text *out,
		   struct ln_error *err)
{
	struct learn_exe le = {};
	struct learn l = {};
	FILE *f = NULL;
	int r;

	*out = (struct learn_text){};
	r = q->by_exe ? hq_run(db, q, learn_exe_flow, &le, NULL, err)
		      : hq_run(db, q, learn_flow, &l, NULL, err);
	r = r < 0 ? r : learn_check(q, &l, &le, err);
	if (r >= 0) {
		learn_name(q, out->name, sizeof(out->name));
		f = open_memstream(&out->text, &out->len);
	}
	if (f) {
		learn_write(f, q, &l, &le, out->name, source);
		out->rules = q->by_exe ? learn_exe_rules(&le) : l.n;
		out->exes = le.n;
		if (fclose(f))
			r = ln_err(err, -ENOMEM, "learn: out of memory");
	} else if (r >= 0) {
		r = ln_err(err, -ENOMEM, "learn: out of memory");
	}
	learn_free(&l);
	learn_exe_free(&le);
	if (r < 0)
		learn_text_free(out);
	return r < 0 ? r : 0;
}

void learn_text_free(struct learn_text *t)
{
	free(t->text);
	t->text = NULL;
	t->len = 0;
}
