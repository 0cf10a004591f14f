/* SPDX-License-Identifier: GPL-2.0 */
/* lsnitch-web's parts: options, sessions and login limits, the agent's answers, the routes. */
#ifndef LSNITCH_WEB_H
#define LSNITCH_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <json-c/json.h>

#define WEB_TOKEN_HEX 64 /* 32 random bytes, as hex */

struct web_opts {
	const char *listen;      /* ADDR:PORT, [ADDR6]:PORT */
	const char *control;     /* the agent's control socket */
	const char *secret_file; /* the login secret; made if missing */
	const char *webroot;     /* the static pages */
	const char *tls_cert, *tls_key;
	char secret[WEB_TOKEN_HEX + 1];
	bool tls;
};

extern struct web_opts web; /* set by main() before the server starts, then only read */

/* ---- auth.c: the secret, sessions, CSRF tokens, failed-login limits ---- */

/* @n random bytes as 2*@n hex digits into @hex (2*@n+1 long): 0 or -errno. */
int web_random_hex(char *hex, size_t n);
/* Read the secret from @path, or make it (0640, a random value) if missing: 0 or -errno. */
int web_secret_load(const char *path, char *secret, size_t len, char *err, size_t errlen);
/* Whether @s is the login secret (in time independent of where they differ). */
bool web_secret_is(const char *s);
/* A new session: its cookie value and CSRF token (WEB_TOKEN_HEX + 1 each). 0 or -ENOSPC. */
int web_session_new(char *id, char *csrf);
/* The CSRF token of live session @id into @csrf; false if there is no such session. */
bool web_session_get(const char *id, char *csrf);
void web_session_end(const char *id);
/* Seconds @peer must wait before trying a login again (0: go ahead). */
unsigned int web_login_wait(const struct sockaddr *peer);
/* A login from @peer failed (@ok false) or worked (@ok true: its count starts over). */
void web_login_result(const struct sockaddr *peer, bool ok);

/* ---- agent.c: the control socket ---- */

/* The agent's answer to {"cmd": @cmd} (@req consumed if not NULL); NULL: unreachable. */
json_object *web_agent_ask(const char *cmd, json_object *req);

/* ---- metrics.c ---- */

/* The Prometheus text exposition of the agent's status (@status NULL: the agent is down). */
char *web_metrics(json_object *status);

#endif /* LSNITCH_WEB_H */
