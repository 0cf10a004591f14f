// SPDX-License-Identifier: GPL-2.0
/* The flow history in status: the database, its size and age, what was lost, its last error. */
#include <stdio.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "agent.h"
#include "control_cmds.h"
#include "flows.h"

static void add_int(json_object *o, const char *key, long long n)
{
	json_object_object_add(o, key, json_object_new_int64(n));
}

/* The file and its write-ahead log: what the disk holds now. */
static long long file_bytes(const char *path)
{
	char wal[4096];
	struct stat sb;
	long long n = 0;

	if (!stat(path, &sb))
		n += sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (!stat(wal, &sb))
		n += sb.st_size;
	return n;
}

json_object *ln_status_history(struct ln_manager *m)
{
	json_object *o = json_object_new_object();
	struct ln_flows_status st;

	ln_flows_status(m, &st);
	json_object_object_add(o, "path", json_object_new_string(st.path));
	json_object_object_add(o, "enabled", json_object_new_boolean(st.enabled));
	json_object_object_add(o, "open", json_object_new_boolean(st.open));
	add_int(o, "lost", (long long)st.lost);
	if (st.open) {
		add_int(o, "bytes", (long long)st.info.bytes);
		add_int(o, "file_bytes", file_bytes(st.path));
		add_int(o, "max_bytes", (long long)LN_HISTORY_MAX_BYTES);
		add_int(o, "oldest", st.info.oldest);
		add_int(o, "lost_kept", (long long)st.info.lost);
	}
	json_object_object_add(o, "last_error",
			       json_object_new_string(st.last_error ? st.last_error : ""));
	if (st.last_error_at)
		add_int(o, "last_error_at", st.last_error_at);
	return o;
}
