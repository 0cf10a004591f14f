/* SPDX-License-Identifier: GPL-2.0 */
/* lsnitch-web's HTTP side: responses with the security headers, the routes' handlers. */
#ifndef LSNITCH_WEB_HTTP_H
#define LSNITCH_WEB_HTTP_H

#include <microhttpd.h>

#include "web.h"

#define WEB_BODY_MAX 8192 /* the largest request body taken */

/* One request as the handlers see it: its body and who made it. */
struct web_req {
	struct MHD_Connection *c;
	const char *url;
	char body[WEB_BODY_MAX + 1];
	size_t len;
	bool too_big;
	bool session;                  /* a live session cookie came with it */
	char sid[WEB_TOKEN_HEX + 1];   /* that cookie */
	char csrf[WEB_TOKEN_HEX + 1];  /* that session's CSRF token */
};

/* Queue @r (consumed) with the security headers every answer carries. */
enum MHD_Result web_queue(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
/* Queue @len bytes of @body (copied) as @type. */
enum MHD_Result web_send(struct MHD_Connection *c, unsigned int status, const char *type,
			 const char *body, size_t len);
/* Queue @o (consumed; NULL: the agent did not answer, 502) as JSON. */
enum MHD_Result web_send_json(struct MHD_Connection *c, unsigned int status, json_object *o);
/* Queue the file @name of the webroot (one of a fixed list). */
enum MHD_Result web_send_file(struct MHD_Connection *c, const char *name);

/* routes.c: the one entry point (@r's body complete). */
enum MHD_Result web_route(struct web_req *r, const char *method);

/* sse.c: GET /api/events, the agent's events as server-sent events. */
enum MHD_Result web_events(struct web_req *r);

/* history.c: GET /api/history, /api/learn (JSON) and /api/learn.ini (the policy as a file). */
enum MHD_Result web_history(struct web_req *r);
enum MHD_Result web_learn(struct web_req *r);
enum MHD_Result web_learn_ini(struct web_req *r);

#endif /* LSNITCH_WEB_HTTP_H */
