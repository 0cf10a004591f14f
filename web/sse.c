// SPDX-License-Identifier: GPL-2.0
/* GET /api/events: the agent's event subscription relayed as server-sent events. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/lsnitch.h" /* struct conn, conn_read() */
#include "http.h"

#define KEEPALIVE_MS 15000 /* a comment this often: a gone browser is noticed on the write */

struct stream {
	struct conn c;
	char *out; /* what is left to send of the last message */
	size_t len, off;
};

/* The next message for the browser into s->out: an event, or a keepalive comment. */
static int stream_next(struct stream *s)
{
	struct pollfd p = { .fd = s->c.fd, .events = POLLIN };
	json_object *o;
	int n;

	free(s->out);
	s->out = NULL;
	s->len = s->off = 0;
	/* a line already read waits in the buffer: poll would not see it */
	if (!(s->c.len && memchr(s->c.buf, '\n', s->c.len))) {
		do
			n = poll(&p, 1, KEEPALIVE_MS);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if (n == 0) {
			s->out = strdup(": keepalive\n\n");
			s->len = s->out ? strlen(s->out) : 0;
			return s->out ? 0 : -ENOMEM;
		}
	}
	o = conn_read(&s->c);
	if (!o)
		return -EPIPE;
	/* JSON has no raw newline: one "data:" line per event */
	n = asprintf(&s->out, "data: %s\n\n",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (n < 0) {
		s->out = NULL;
		return -ENOMEM;
	}
	s->len = n;
	return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	size_t n;

	if (s->off == s->len && stream_next(s) < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->out + s->off, n);
	s->off += n;
	return n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	conn_close(&s->c);
	free(s->out);
	free(s);
}

/* Subscribe on a connection of its own: 0, or NULL's reason as a JSON answer in *@why. */
static struct stream *stream_open(json_object **why)
{
	struct stream *s = calloc(1, sizeof(*s));
	json_object *o = NULL, *ok = NULL;

	*why = NULL;
	if (!s)
		return NULL;
	s->c = (struct conn)CONN_INIT;
	if (conn_open(&s->c) == 0)
		o = conn_ask(&s->c, new_request("events"));
	json_object_object_get_ex(o, "ok", &ok);
	if (json_object_get_boolean(ok)) {
		json_object_put(o);
		return s;
	}
	*why = o;
	stream_free(s);
	return NULL;
}

enum MHD_Result web_events(struct web_req *r)
{
	struct MHD_Response *resp;
	json_object *why;
	struct stream *s = stream_open(&why);

	if (!s)
		return web_send_json(r->c, MHD_HTTP_BAD_GATEWAY, why);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s,
						 stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return web_queue(r->c, MHD_HTTP_OK, resp);
}
