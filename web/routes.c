// SPDX-License-Identifier: GPL-2.0
/* lsnitch-web's routes: who may ask what (session, bearer, CSRF), login, and the JSON API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define COOKIE "lsnitch_session"

enum {
	R_PUBLIC = 1 << 0, /* the login page and what it loads: no session needed */
	R_BEARER = 1 << 1, /* Authorization: Bearer <secret> will do instead of a session */
};

struct route {
	const char *method, *path;
	unsigned int flags;
	const char *file; /* a webroot file, or... */
	enum MHD_Result (*fn)(struct web_req *r);
};

static enum MHD_Result send_401(struct web_req *r)
{
	/* a browser is sent on to the login page; no script needed for that */
	static const char body[] =
		"<!DOCTYPE html><meta charset=utf-8><meta http-equiv=refresh content=\"0;url=/login\">"
		"<title>lsnitch</title><p>Log in first: <a href=\"/login\">/login</a></p>\n";

	return web_send(r->c, MHD_HTTP_UNAUTHORIZED, "text/html; charset=utf-8", body,
			sizeof(body) - 1);
}

static bool is_bearer(struct web_req *r)
{
	const char *h = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Authorization");

	return h && !strncmp(h, "Bearer ", 7) && web_secret_is(h + 7);
}

/* The session the request's cookie names, into @r; false if none. */
static bool has_session(struct web_req *r)
{
	const char *id = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, COOKIE);

	if (!id || strlen(id) != WEB_TOKEN_HEX || !web_session_get(id, r->csrf))
		return false;
	memcpy(r->sid, id, WEB_TOKEN_HEX + 1);
	r->session = true;
	return true;
}

/* A POST from a session must carry its CSRF token (a bearer cannot be sent by a browser). */
static bool csrf_ok(struct web_req *r)
{
	const char *t = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "X-CSRF-Token");

	return t && strlen(t) == WEB_TOKEN_HEX && !memcmp(t, r->csrf, WEB_TOKEN_HEX);
}

/* The value of form field @key in the urlencoded @body into @out (decoded); false if absent. */
static bool form_field(const char *body, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);

	for (const char *p = body; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
		size_t n = strcspn(p, "&");

		if (strncmp(p, key, k) || p[k] != '=' || n - k - 1 >= len)
			continue;
		memcpy(out, p + k + 1, n - k - 1);
		out[n - k - 1] = '\0';
		for (char *s = out; *s; s++)
			if (*s == '+')
				*s = ' ';
		MHD_http_unescape(out);
		return true;
	}
	return false;
}

static enum MHD_Result login_ok(struct web_req *r)
{
	char id[WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1], cookie[256];
	struct MHD_Response *resp;

	if (web_session_new(id, csrf) < 0)
		return web_send(r->c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "busy\n", 5);
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", id,
		 web.tls ? "; Secure" : "");
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Set-Cookie", cookie);
	MHD_add_response_header(resp, "Location", "/");
	return web_queue(r->c, MHD_HTTP_SEE_OTHER, resp);
}

static enum MHD_Result do_login(struct web_req *r)
{
	static const char wrong[] = "<!DOCTYPE html><meta charset=utf-8><title>lsnitch</title>"
				    "<p>Wrong secret. <a href=\"/login\">Try again</a></p>\n";
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;
	unsigned int wait = web_login_wait(peer);
	char secret[512];

	if (wait) {
		struct MHD_Response *resp;
		char s[16];

		resp = MHD_create_response_from_buffer(15, (void *)"too many tries\n",
						       MHD_RESPMEM_PERSISTENT);
		snprintf(s, sizeof(s), "%u", wait);
		if (resp)
			MHD_add_response_header(resp, "Retry-After", s);
		return web_queue(r->c, MHD_HTTP_TOO_MANY_REQUESTS, resp);
	}
	if (!r->too_big && form_field(r->body, "secret", secret, sizeof(secret)) &&
	    web_secret_is(secret)) {
		web_login_result(peer, true);
		return login_ok(r);
	}
	web_login_result(peer, false);
	return web_send(r->c, MHD_HTTP_UNAUTHORIZED, "text/html; charset=utf-8", wrong,
			sizeof(wrong) - 1);
}

static enum MHD_Result do_logout(struct web_req *r)
{
	struct MHD_Response *resp;

	web_session_end(r->sid);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Set-Cookie", COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
						   "SameSite=Strict");
	return web_queue(r->c, MHD_HTTP_NO_CONTENT, resp);
}

static enum MHD_Result do_session(struct web_req *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "csrf", json_object_new_string(r->session ? r->csrf : ""));
	return web_send_json(r->c, MHD_HTTP_OK, o);
}

static enum MHD_Result do_status(struct web_req *r)
{
	return web_send_json(r->c, MHD_HTTP_OK, web_agent_ask("status", NULL));
}

static enum MHD_Result do_rules(struct web_req *r)
{
	return web_send_json(r->c, MHD_HTTP_OK, web_agent_ask("rules", NULL));
}

/* The agent's answer to @cmd as is; a refusal (its file:line reason in "error") is a 422. */
static enum MHD_Result agent_change(struct web_req *r, const char *cmd, json_object *req)
{
	json_object *o = web_agent_ask(cmd, req), *ok = NULL;

	json_object_object_get_ex(o, "ok", &ok);
	return web_send_json(r->c, json_object_get_boolean(ok) ? MHD_HTTP_OK :
				   MHD_HTTP_UNPROCESSABLE_CONTENT, o);
}

static enum MHD_Result do_reload(struct web_req *r)
{
	return agent_change(r, "reload", NULL);
}

/*
 * The request body's JSON object with only the fields @keys (strings and numbers) copied: the
 * agent is asked nothing the page did not mean to ask. NULL if the body is no JSON object.
 */
static json_object *body_fields(struct web_req *r, const char *const *keys)
{
	json_object *in = json_tokener_parse(r->body), *out, *v;

	if (!in || !json_object_is_type(in, json_type_object)) {
		json_object_put(in);
		return NULL;
	}
	out = json_object_new_object();
	for (; *keys; keys++)
		if (json_object_object_get_ex(in, *keys, &v) &&
		    (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)))
			json_object_object_add(out, *keys, json_object_get(v));
	json_object_put(in);
	return out;
}

/* POST /api/rule {policy, verdict, dest, port, proto} and /api/rule/undo {line, text}. */
static enum MHD_Result rule_change(struct web_req *r, const char *cmd, const char *const *keys)
{
	json_object *req = body_fields(r, keys);

	if (!req)
		return web_send(r->c, MHD_HTTP_BAD_REQUEST, "text/plain", "a JSON object, please\n",
				22);
	return agent_change(r, cmd, req);
}

static enum MHD_Result do_rule_add(struct web_req *r)
{
	static const char *const keys[] = {"policy", "verdict", "dest", "port", "proto", NULL};

	return rule_change(r, "rule-add", keys);
}

static enum MHD_Result do_rule_undo(struct web_req *r)
{
	static const char *const keys[] = {"line", "text", NULL};

	return rule_change(r, "rule-undo", keys);
}

static enum MHD_Result do_metrics(struct web_req *r)
{
	json_object *st = web_agent_ask("status", NULL);
	char *text = web_metrics(st);
	enum MHD_Result ret;

	json_object_put(st);
	if (!text)
		return MHD_NO;
	ret = web_send(r->c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text,
		       strlen(text));
	free(text);
	return ret;
}

static const struct route routes[] = {
	{ "GET", "/login", R_PUBLIC, "login.html", NULL },
	{ "GET", "/login.js", R_PUBLIC, "login.js", NULL },
	{ "GET", "/app.css", R_PUBLIC, "app.css", NULL },
	{ "POST", "/login", R_PUBLIC, NULL, do_login },
	{ "POST", "/logout", 0, NULL, do_logout },
	{ "GET", "/", 0, "app.html", NULL },
	{ "GET", "/live", 0, "app.html", NULL },
	{ "GET", "/policies", 0, "app.html", NULL },
	{ "GET", "/history", 0, "app.html", NULL },
	{ "GET", "/learn", 0, "app.html", NULL },
	{ "GET", "/app.js", 0, "app.js", NULL },
	{ "GET", "/status.js", 0, "status.js", NULL },
	{ "GET", "/live.js", 0, "live.js", NULL },
	{ "GET", "/policies.js", 0, "policies.js", NULL },
	{ "GET", "/chart.js", 0, "chart.js", NULL },
	{ "GET", "/history.js", 0, "history.js", NULL },
	{ "GET", "/learn.js", 0, "learn.js", NULL },
	{ "GET", "/api/session", 0, NULL, do_session },
	{ "GET", "/api/status", R_BEARER, NULL, do_status },
	{ "GET", "/api/rules", R_BEARER, NULL, do_rules },
	{ "GET", "/api/events", R_BEARER, NULL, web_events },
	{ "GET", "/api/history", R_BEARER, NULL, web_history },
	{ "GET", "/api/learn", R_BEARER, NULL, web_learn },
	{ "GET", "/api/learn.ini", R_BEARER, NULL, web_learn_ini },
	{ "POST", "/api/reload", R_BEARER, NULL, do_reload },
	{ "POST", "/api/rule", R_BEARER, NULL, do_rule_add },
	{ "POST", "/api/rule/undo", R_BEARER, NULL, do_rule_undo },
	{ "GET", "/metrics", R_BEARER, NULL, do_metrics },
};

static const struct route *route_find(const char *path, const char *method, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].path, path))
			continue;
		*path_known = true;
		if (!strcmp(routes[i].method, method) ||
		    (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET")))
			return &routes[i];
	}
	return NULL;
}

enum MHD_Result web_route(struct web_req *r, const char *method)
{
	bool known, bearer = false;
	const struct route *rt = route_find(r->url, method, &known);

	if (rt && (rt->flags & R_PUBLIC))
		return rt->file ? web_send_file(r->c, rt->file) : rt->fn(r);
	/* nothing else, not even whether a path exists, is told without a session */
	if (!has_session(r)) {
		bearer = rt && (rt->flags & R_BEARER) && is_bearer(r);
		if (!bearer)
			return send_401(r);
	}
	if (!rt)
		return web_send(r->c, known ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND,
				"text/plain", "no\n", 3);
	if (!strcmp(method, "POST") && !bearer && !csrf_ok(r))
		return web_send(r->c, MHD_HTTP_FORBIDDEN, "text/plain", "CSRF token missing\n", 19);
	if (r->too_big)
		return web_send(r->c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain", "too big\n", 8);
	return rt->file ? web_send_file(r->c, rt->file) : rt->fn(r);
}
