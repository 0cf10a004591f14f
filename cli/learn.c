// SPDX-License-Identifier: GPL-2.0
/* lsnitch learn: an INI policy that allows what the history saw, and nothing else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "lsnitch.h"
#include "histdb.h"
#include "learn_exe.h"
#include "learn_policy.h"

/* The policies as text into @f: by executable (@le) or one (@l). */
static void learn_write(FILE *f, const struct hq *q, const struct learn *l,
			const struct learn_exe *le, const char *name)
{
	if (q->by_exe)
		learn_exe_print(f, q, le, name, history_path);
	else
		learn_print(f, q, l, name, history_path);
}

/* The policy text on stdout, or with --json in an object with its name. */
static int learn_output(const struct hq *q, const struct learn *l, const struct learn_exe *le,
			const char *name)
{
	json_object *o;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!json_output) {
		learn_write(stdout, q, l, le, name);
		return EXIT_OK;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		p_err("learn: out of memory");
		return EXIT_ERR;
	}
	learn_write(f, q, l, le, name);
	fclose(f);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "policy", json_object_new_string(name));
	json_object_object_add(o, "rules", json_object_new_int64(
						   (int64_t)(q->by_exe ? learn_exe_rules(le) : l->n)));
	json_object_object_add(o, "ini", json_object_new_string(text));
	print_json(o);
	json_object_put(o);
	free(text);
	return EXIT_OK;
}

int do_learn(int argc, char **argv)
{
	struct ln_error err = {};
	struct learn_exe le = {};
	struct learn l = {};
	struct hq q = {};
	char name[128];
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
	r = q.by_exe ? hq_run(db, &q, learn_exe_flow, &le, NULL, &err)
		     : hq_run(db, &q, learn_flow, &l, NULL, &err);
	sqlite3_close(db);
	if (r < 0)
		p_err("%s", err.msg);
	if (r >= 0 && (l.oom || le.oom))
		p_err("learn: out of memory");
	learn_name(&q, name, sizeof(name));
	r = r < 0 || l.oom || le.oom ? EXIT_ERR : learn_output(&q, &l, &le, name);
	learn_free(&l);
	learn_exe_free(&le);
	return r;
}
