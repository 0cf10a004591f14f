// SPDX-License-Identifier: GPL-2.0
/* The cgroups a policy is bound to, for status: each path, and the unit and container it is. */
#include <stdio.h>
#include <json-c/json.h>

#include "agent.h"
#include "control_cmds.h"
#include "../cli/histdb.h"

/* One bound cgroup: {"path", "unit", "container"}; unit "-" and no container when it is none. */
static json_object *bound_one(const char *path)
{
	json_object *o = json_object_new_object();
	char unit[256], ctr[80], rooted[1024];

	/* the history's names take paths from the root ("/a/b"); bound paths have no slash */
	snprintf(rooted, sizeof(rooted), "/%s", path);
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "unit",
			       json_object_new_string(hq_unit_of(rooted, unit, sizeof(unit))));
	if (ln_cgroup_container(rooted, ctr, sizeof(ctr)))
		json_object_object_add(o, "container", json_object_new_string(ctr));
	return o;
}

void ln_status_bound(const struct ln_generation *g, __u32 id, struct json_object *o)
{
	json_object *a = json_object_new_array(), *d = json_object_new_array();

	for (size_t i = 0; i < g->n_bound; i++) {
		if (g->bound[i].policy_id != id || (g->bound[i].flags & LN_CG_UNBOUND))
			continue;
		json_object_array_add(a, json_object_new_string(g->bound[i].path));
		json_object_array_add(d, bound_one(g->bound[i].path));
	}
	json_object_object_add(o, "bound", a);
	json_object_object_add(o, "bound_cgroups", d);
}
