// SPDX-License-Identifier: GPL-2.0
/* The CLI's side of the control socket: connect, one JSON object per line, the error printer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h" /* LN_CONTROL_PATH */
#include "lsnitch.h"

#define LN_MAX_RESPONSE (64 * 1024 * 1024)

const char default_socket_path[] = LN_CONTROL_PATH;
const char *socket_path = default_socket_path;
bool json_output;

void p_err(const char *fmt, ...)
{
	char msg[1024], *safe;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	safe = printable(msg, strlen(msg));
	if (json_output) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", json_object_new_string(safe ? safe : "?"));
		print_json(o);
		json_object_put(o);
	} else {
		fprintf(stderr, "lsnitch: %s\n", safe ? safe : "out of memory");
	}
	free(safe);
}

int conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		p_err("%s: path too long", socket_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		p_err("cannot connect to the agent at %s: %s", socket_path, strerror(e));
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -e;
	}
	return 0;
}

static int send_request(int fd, json_object *req)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), off = 0;

	while (off <= len) {
		const char *p = off < len ? s + off : "\n";
		ssize_t n = send(fd, p, off < len ? len - off : 1, MSG_NOSIGNAL);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			/* the agent hung up: what it said before, if anything, is read next */
			if (e != EPIPE && e != ECONNRESET)
				p_err("sending to the agent: %s", strerror(e));
			return -e;
		}
		off += n;
	}
	return 0;
}

/* The first line in the buffer as a JSON object (NULL: not one, reported). */
static json_object *take_line(struct conn *c, char *nl)
{
	size_t l = nl - c->buf;
	json_object *o;

	*nl = '\0';
	o = json_tokener_parse(c->buf);
	c->len -= l + 1;
	memmove(c->buf, nl + 1, c->len);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		p_err("the agent sent something that is not a JSON object");
		return NULL;
	}
	if (!json_output)
		make_printable(o);
	return o;
}

/* Read more of the agent's answer: 0, or -1 at its end or on error (reported). */
static int fill(struct conn *c)
{
	ssize_t n;

	if (c->len + 4096 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 65536;
		char *p;

		if (c->cap >= LN_MAX_RESPONSE) {
			p_err("the agent's answer is too long");
			return -1;
		}
		p = realloc(c->buf, cap);
		if (!p) {
			p_err("out of memory");
			return -1;
		}
		c->buf = p;
		c->cap = cap;
	}
	do
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		p_err("reading from the agent: %s", strerror(errno));
	else if (n == 0 && c->len)
		p_err("the agent closed the connection mid-answer");
	else if (n == 0)
		p_err("the agent closed the connection without an answer");
	if (n <= 0)
		return -1;
	c->len += n;
	return 0;
}

json_object *conn_read(struct conn *c)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl)
			return take_line(c, nl);
		if (fill(c) < 0)
			return NULL;
	}
}

json_object *conn_ask(struct conn *c, json_object *req)
{
	json_object *o = NULL;
	int r = send_request(c->fd, req);

	if (r == 0 || r == -EPIPE || r == -ECONNRESET)
		o = conn_read(c);
	json_object_put(req);
	return o;
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

json_object *new_request(const char *cmd)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	return o;
}

json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

const char *get_str(json_object *o, const char *key, const char *dflt)
{
	json_object *v = get(o, key);

	return v ? json_object_get_string(v) : dflt;
}

bool is_ok(json_object *o)
{
	json_object *v = get(o, "ok");

	return v && json_object_get_boolean(v);
}

void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}
