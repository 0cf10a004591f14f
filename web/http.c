// SPDX-License-Identifier: GPL-2.0
/* lsnitch-web's HTTP plumbing: the security headers, answers, static files, request bodies. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"

/* No inline script or style anywhere: every page loads its code from 'self'. */
#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* The webroot's files: nothing else is served, so no path is ever built from a URL. */
static const struct {
	const char *name, *type;
} files[] = {
	{ "login.html", "text/html; charset=utf-8" },
	{ "app.html", "text/html; charset=utf-8" }, /* every page but the login */
	{ "app.css", "text/css; charset=utf-8" },
	{ "app.js", "text/javascript; charset=utf-8" },
	{ "login.js", "text/javascript; charset=utf-8" },
	{ "status.js", "text/javascript; charset=utf-8" },
	{ "live.js", "text/javascript; charset=utf-8" },
	{ "policies.js", "text/javascript; charset=utf-8" },
	{ "chart.js", "text/javascript; charset=utf-8" },
	{ "history.js", "text/javascript; charset=utf-8" },
	{ "learn.js", "text/javascript; charset=utf-8" },
};

enum MHD_Result web_queue(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (web.tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result web_send(struct MHD_Connection *c, unsigned int status, const char *type,
			 const char *body, size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r)
		MHD_add_response_header(r, "Content-Type", type);
	return web_queue(c, status, r);
}

enum MHD_Result web_send_json(struct MHD_Connection *c, unsigned int status, json_object *o)
{
	const char *s;
	enum MHD_Result ret;

	if (!o) {
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error",
				       json_object_new_string("the agent is not reachable"));
		status = MHD_HTTP_BAD_GATEWAY;
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	ret = web_send(c, status, "application/json", s, strlen(s));
	json_object_put(o);
	return ret;
}

/* The whole of webroot/@name (at most 1 MiB), to free; NULL on error. */
static char *file_read(const char *name, size_t *len)
{
	char path[4096], *buf = NULL;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", web.webroot, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (1 << 20))
		buf = malloc(st.st_size + 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = buf ? (size_t)st.st_size : 0;
	return buf;
}

enum MHD_Result web_send_file(struct MHD_Connection *c, const char *name)
{
	struct MHD_Response *r;
	size_t i, len;
	char *buf;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(files[i].name, name))
			break;
	buf = i < sizeof(files) / sizeof(files[0]) ? file_read(name, &len) : NULL;
	if (!buf)
		return web_send(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", files[i].type);
	return web_queue(c, MHD_HTTP_OK, r);
}

/* MHD's entry point: the body collected (up to WEB_BODY_MAX), then the route. */
enum MHD_Result web_access(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *upload,
			   size_t *upload_size, void **con_cls)
{
	struct web_req *r = *con_cls;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->c = c;
		r->url = url;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->len + *upload_size > WEB_BODY_MAX)
			r->too_big = true;
		else
			memcpy(r->body + r->len, upload, *upload_size);
		r->len += r->too_big ? 0 : *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	r->body[r->len] = '\0';
	return web_route(r, method);
}

void web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		   enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}
