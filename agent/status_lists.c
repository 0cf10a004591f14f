// SPDX-License-Identifier: GPL-2.0
/* The status of the [list] subscriptions: the copy in force, and lsnitch-update's last word. */
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <json-c/json.h>

#include "agent.h"
#include "control_cmds.h"

static void add_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s ? s : ""));
}

static void add_int(json_object *o, const char *key, long long n)
{
	json_object_object_add(o, key, json_object_new_int64(n));
}

/* What NAME.state says (written by lsnitch-update; the agent only reads it). */
static void list_state(const struct ln_config *c, const struct ln_list_sub *l, json_object *o)
{
	struct ln_list_state s;
	char *path = ln_list_path(c, l, ".state");

	if (path && !ln_list_state_read(path, &s)) {
		add_int(o, "fetched_at", s.fetched_at);
		add_int(o, "checked_at", s.checked_at);
		add_str(o, "last_error", s.error);
	}
	free(path);
}

static json_object *status_list(const struct ln_config *c, const struct ln_list_sub *l)
{
	json_object *o = json_object_new_object();
	char *path = ln_list_path(c, l, "");
	struct stat sb;

	add_str(o, "name", l->name);
	add_str(o, "url", l->url);
	add_str(o, "kind", ln_list_kind_name(l->kind));
	add_str(o, "policy", l->policy ? l->policy : "(global)");
	add_str(o, "file", path);
	json_object_object_add(o, "loaded", json_object_new_boolean(l->loaded));
	add_int(o, "entries", l->entries);
	/* the age of the copy in force: when it was downloaded, not when it was loaded */
	if (l->loaded && path && !stat(path, &sb))
		add_int(o, "age_sec", time(NULL) - sb.st_mtime);
	add_int(o, "refresh_sec", l->refresh_sec);
	list_state(c, l, o);
	free(path);
	return o;
}

json_object *ln_status_lists(const struct ln_config *c)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < c->n_lists; i++)
		json_object_array_add(a, status_list(c, &c->lists[i]));
	return a;
}
