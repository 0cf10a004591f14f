// SPDX-License-Identifier: GPL-2.0
/* Verdicts per (policy, verdict, reason) since the start, from the flows the agent drains. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "verdict_counts.h"

struct vcount {
	char *policy;
	const char *verdict, *reason;
	uint64_t count;
};

struct ln_vcounts {
	struct vcount *v;
	size_t n;
};

static struct vcount *vc_find(struct ln_vcounts *vc, const char *policy, const char *verdict,
			      const char *reason)
{
	for (size_t i = 0; i < vc->n; i++)
		if (!strcmp(vc->v[i].policy, policy) && !strcmp(vc->v[i].verdict, verdict) &&
		    !strcmp(vc->v[i].reason, reason))
			return &vc->v[i];
	return NULL;
}

/* A new entry at the end (the table grows by one: it holds at most LN_VCOUNTS_MAX). */
static struct vcount *vc_new(struct ln_vcounts *vc, const char *policy, const char *verdict,
			     const char *reason)
{
	char *name = strdup(policy);
	struct vcount *v = name ? reallocarray(vc->v, vc->n + 1, sizeof(*v)) : NULL;

	if (!v) {
		free(name);
		return NULL;
	}
	vc->v = v;
	v[vc->n] = (struct vcount){.policy = name, .verdict = verdict, .reason = reason};
	return &v[vc->n++];
}

int ln_vcounts_add(struct ln_vcounts **vcp, const char *policy, const char *verdict,
		   const char *reason, uint64_t n)
{
	struct ln_vcounts *vc = *vcp;
	struct vcount *e;

	if (!vc && !(vc = *vcp = calloc(1, sizeof(*vc))))
		return -ENOMEM;
	e = vc_find(vc, policy, verdict, reason);
	/* bounded: policies come and go over reloads, a name once seen stays */
	if (!e && vc->n >= LN_VCOUNTS_MAX - 1)
		policy = "(other)";
	if (!e)
		e = vc_find(vc, policy, verdict, reason) ?: vc_new(vc, policy, verdict, reason);
	if (!e)
		return -ENOMEM;
	e->count += n;
	return 0;
}

struct json_object *ln_vcounts_json(const struct ln_vcounts *vc)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; vc && i < vc->n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "policy", json_object_new_string(vc->v[i].policy));
		json_object_object_add(o, "verdict", json_object_new_string(vc->v[i].verdict));
		json_object_object_add(o, "reason", json_object_new_string(vc->v[i].reason));
		json_object_object_add(o, "count", json_object_new_uint64(vc->v[i].count));
		json_object_array_add(a, o);
	}
	return a;
}

void ln_vcounts_free(struct ln_vcounts *vc)
{
	if (!vc)
		return;
	for (size_t i = 0; i < vc->n; i++)
		free(vc->v[i].policy);
	free(vc->v);
	free(vc);
}
