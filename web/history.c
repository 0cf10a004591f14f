// SPDX-License-Identifier: GPL-2.0
/*
 * GET /api/history, /api/learn, /api/learn.ini: the agent's "history" and "learn" commands,
 * asked with the query string's known fields only. The web daemon never opens the database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* The query string's fields the agent takes, as strings or as integers. */
static const char *const str_keys[] = {"policy", "cgroup", "unit", "verdict", "dest",
				       "exe",	 "container", "sort", "by", NULL};
static const char *const int_keys[] = {"since", "until", "limit", "step", NULL};
static const char *const bool_keys[] = {"by_exe", NULL}; /* "1" or "0" */

/* The request for @cmd from @r's query string: 0, or -EINVAL for a bad number or flag. */
static int query_request(struct web_req *r, json_object **out)
{
	json_object *req = json_object_new_object();

	for (const char *const *k = str_keys; *k; k++) {
		const char *v = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, *k);

		if (v && *v)
			json_object_object_add(req, *k, json_object_new_string(v));
	}
	for (const char *const *k = int_keys; *k; k++) {
		const char *v = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, *k);
		char *end;
		long long n;

		if (!v || !*v)
			continue;
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || *end) {
			json_object_put(req);
			return -EINVAL;
		}
		json_object_object_add(req, *k, json_object_new_int64(n));
	}
	for (const char *const *k = bool_keys; *k; k++) {
		const char *v = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, *k);

		if (v && *v && strcmp(v, "0") && strcmp(v, "1")) {
			json_object_put(req);
			return -EINVAL;
		}
		if (v && *v)
			json_object_object_add(req, *k, json_object_new_boolean(*v == '1'));
	}
	*out = req;
	return 0;
}

/* The agent's answer to @cmd for @r's query into *@o (NULL: no answer); -EINVAL: a bad query. */
static int ask(struct web_req *r, const char *cmd, json_object **o)
{
	json_object *req;

	*o = NULL;
	if (query_request(r, &req) < 0)
		return -EINVAL;
	*o = web_agent_ask(cmd, req);
	return 0;
}

static enum MHD_Result bad_query(struct web_req *r)
{
	static const char msg[] = "not a number, or a flag other than 0 or 1\n";

	return web_send(r->c, MHD_HTTP_BAD_REQUEST, "text/plain", msg, sizeof(msg) - 1);
}

/* The agent's answer @o (consumed) as JSON: a refusal (its reason in "error") is a 422. */
static enum MHD_Result answer(struct web_req *r, json_object *o)
{
	json_object *ok = NULL;

	json_object_object_get_ex(o, "ok", &ok);
	return web_send_json(
	    r->c, !o || json_object_get_boolean(ok) ? MHD_HTTP_OK : MHD_HTTP_UNPROCESSABLE_CONTENT,
	    o);
}

static enum MHD_Result relay(struct web_req *r, const char *cmd)
{
	json_object *o;

	return ask(r, cmd, &o) < 0 ? bad_query(r) : answer(r, o);
}

enum MHD_Result web_history(struct web_req *r)
{
	return relay(r, "history");
}

enum MHD_Result web_learn(struct web_req *r)
{
	return relay(r, "learn");
}

/* The learned policy's file name from the agent's @name: [A-Za-z0-9_.@-] kept, the rest '-'. */
static void file_name(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s", name && *name ? name : "learned");
	for (size_t i = 0; buf[i]; i++)
		if (!strchr("_.@-", buf[i]) && !(buf[i] >= 'a' && buf[i] <= 'z') &&
		    !(buf[i] >= 'A' && buf[i] <= 'Z') && !(buf[i] >= '0' && buf[i] <= '9'))
			buf[i] = '-';
}

/* The agent's "lines" as one text, each line ended; NULL if out of memory. */
static char *join_lines(json_object *lines, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < json_object_array_length(lines); i++)
		fprintf(f, "%s\n", json_object_get_string(json_object_array_get_idx(lines, i)));
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* GET /api/learn.ini: the learned policy as a file to save, "NAME.ini". */
enum MHD_Result web_learn_ini(struct web_req *r)
{
	json_object *o, *lines = NULL, *name = NULL;
	struct MHD_Response *resp;
	char disp[200], file[128], *text;
	size_t len;

	if (ask(r, "learn", &o) < 0)
		return bad_query(r);
	if (!json_object_object_get_ex(o, "lines", &lines) ||
	    !json_object_is_type(lines, json_type_array))
		return answer(r, o); /* the agent's refusal, or none */
	json_object_object_get_ex(o, "policy", &name);
	file_name(json_object_get_string(name), file, sizeof(file));
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.ini\"", file);
	text = join_lines(lines, &len);
	json_object_put(o);
	resp = text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Content-Disposition", disp);
	return web_queue(r->c, MHD_HTTP_OK, resp);
}
