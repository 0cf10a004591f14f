// SPDX-License-Identifier: GPL-2.0
/* lsnitch learn: an INI policy that allows what the history saw, and nothing else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "lsnitch.h"
#include "histdb.h"
#include "learn_run.h"

/* The policy text on stdout, or with --json in an object with its name. */
static int learn_output(const struct learn_text *t)
{
	json_object *o;

	if (!json_output) {
		fwrite(t->text, 1, t->len, stdout);
		return EXIT_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "policy", json_object_new_string(t->name));
	json_object_object_add(o, "rules", json_object_new_int64((int64_t)t->rules));
	json_object_object_add(o, "ini", json_object_new_string_len(t->text, (int)t->len));
	print_json(o);
	json_object_put(o);
	return EXIT_OK;
}

int do_learn(int argc, char **argv)
{
	struct ln_error err = {};
	struct learn_text t;
	struct hq q = {};
	sqlite3 *db;
	int r;

	if (hq_parse("learn", argc, argv, HQ_TIME | HQ_WHO | HQ_BY_EXE, &q) < 0)
		return EXIT_USAGE;
	if (!q.policy && !q.cgroup && !q.unit) {
		p_err("usage: lsnitch learn (--policy NAME | --cgroup PATH | --unit UNIT) "
		      "[--since DURATION] [--by-exe]");
		return EXIT_USAGE;
	}
	if (hdb_open(&db) < 0)
		return EXIT_ERR;
	r = learn_text_run(db, &q, history_path, &t, &err);
	sqlite3_close(db);
	if (r < 0) {
		p_err("%s", err.msg);
		return EXIT_ERR;
	}
	r = learn_output(&t);
	learn_text_free(&t);
	return r;
}
