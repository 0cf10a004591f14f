// SPDX-License-Identifier: GPL-2.0
/* The control socket: clients (framing, capped output, idle timeout, slots), publishing events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "agent.h"
#include "control_client.h"

/* An output buffer drained is given back when it grew past this. */
#define CTL_OUT_KEEP (64 * 1024)

static uint64_t control_now(const struct ln_control *ctl)
{
	uint64_t now = 0;

	sd_event_now(ctl->ctx.m->event, CLOCK_MONOTONIC, &now);
	return now;
}

static size_t client_pending(const struct ln_ctl_client *c)
{
	return c->out_len - c->out_off;
}

static bool client_over_cap(const struct ln_ctl_client *c)
{
	return client_pending(c) >= LN_CTL_MAX_OUTPUT;
}

/* ---- output ---- */

static int client_queue(struct ln_ctl_client *c, const char *s, size_t len)
{
	/* nothing pending means out_off == out_len == 0 (client_flush() sees to it) */
	if (!client_pending(c))
		c->active = control_now(c->ctl); /* the wait for the reader starts now */
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	return 0;
}

static int queue_piece(void *ud, const char *s, size_t len)
{
	return client_queue(ud, s, len);
}

/* Queue the JSON text @s as one line, UTF-8 whatever its strings hold. All or nothing. */
static int client_queue_json(struct ln_ctl_client *c, const char *s, size_t len)
{
	size_t undo = c->out_len;

	if (ln_json_utf8_write(s, len, queue_piece, c) < 0 || client_queue(c, "\n", 1) < 0) {
		c->out_len = undo;
		return -ENOMEM;
	}
	return 0;
}

static const char *json_text(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Queue @o as one line and drop the reference. */
int ln_ctl_client_send(struct ln_ctl_client *c, json_object *o)
{
	const char *s;
	int r;

	if (!o)
		return -ENOMEM;
	s = json_text(o);
	r = client_queue_json(c, s, strlen(s));
	json_object_put(o);
	return r;
}

json_object *ln_ctl_error_object(const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

static void client_flush(struct ln_ctl_client *c)
{
	while (!c->dead && client_pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, client_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
			if (errno != EINTR)
				break;
			continue;
		}
		c->out_off += n;
		c->active = control_now(c->ctl);
	}
	if (client_pending(c))
		return;
	c->out_off = c->out_len = 0;
	if (c->out_cap > CTL_OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
}

static void client_free(struct ln_ctl_client *c)
{
	struct ln_control *ctl = c->ctl;
	struct ln_ctl_client **pp;

	for (pp = &ctl->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ctl->ctx.n_clients--;
	ln_ctl_pending_forget(&ctl->ctx, c);
	if (c->subscribed)
		ctl->ctx.n_subscribers--;
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	free(c->out);
	free(c);
}

/* ---- idle clients ---- */

/*
 * A last {"ok":false,"error":@msg} line for a client about to be closed, if
 * its socket takes it; in one piece, so that it is read in one.
 */
static void say_goodbye(int fd, const char *msg)
{
	json_object *o = ln_ctl_error_object(msg);
	struct iovec iov[2] = { { .iov_base = (char *)json_text(o) }, { "\n", 1 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	iov[0].iov_len = strlen(iov[0].iov_base);
	sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	json_object_put(o);
}

static uint64_t client_deadline(const struct ln_ctl_client *c)
{
	if (c->reloading)
		return 0; /* a long reload is not an idle client */
	return ln_ctl_deadline(c->subscribed, client_pending(c), c->active);
}

/* Make the timer fire by @at (0: no deadline). */
static void control_arm(struct ln_control *ctl, uint64_t at)
{
	uint64_t cur;

	if (!at)
		return;
	if (sd_event_source_get_enabled(ctl->timer, NULL) > 0 &&
	    sd_event_source_get_time(ctl->timer, &cur) >= 0 && cur <= at)
		return;
	sd_event_source_set_time(ctl->timer, at);
	sd_event_source_set_enabled(ctl->timer, SD_EVENT_ONESHOT);
}

/* Close every client past its deadline; wake again for the next one. */
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ln_control *ctl = userdata;
	uint64_t now = control_now(ctl);
	struct ln_ctl_client *c, *next;

	for (c = ctl->clients; c; c = next) {
		uint64_t at = client_deadline(c);

		next = c->next;
		if (at && at <= now && !client_pending(c))
			say_goodbye(c->fd, "closed: the connection was idle");
		if (at && at <= now)
			client_free(c);
		else
			control_arm(ctl, at);
	}
	return 0;
}

/*
 * Wait for what there is to wait for: input unless closing or the output is
 * over the cap, room when output is queued; and the deadline.
 */
static void client_update(struct ln_ctl_client *c)
{
	bool in = !c->closing && !c->reloading && !client_over_cap(c) &&
		  c->in_len < LN_CTL_MAX_REQUEST;
	uint32_t ev = (in ? EPOLLIN : 0) | (client_pending(c) ? EPOLLOUT : 0);

	sd_event_source_set_io_events(c->src, ev);
	control_arm(c->ctl, client_deadline(c));
}

/* ---- requests ---- */

static void client_subscribe(struct ln_ctl_client *c)
{
	if (!c->subscribed)
		c->ctl->ctx.n_subscribers++;
	c->subscribed = true;
}

static void client_request(struct ln_ctl_client *c, const char *line, size_t len)
{
	struct ln_error err = {};
	json_object *reply;
	int r;

	if (c->subscribed)
		return; /* a subscriber only listens */
	r = ln_ctl_command(&c->ctl->ctx, line, len, &reply, &err);
	if (r == LN_CTL_PENDING) {
		ln_ctl_pending_wait(c);
		return;
	}
	if (r < 0)
		reply = ln_ctl_error_object(err.msg[0] ? err.msg : strerror(-r));
	if (ln_ctl_client_send(c, reply) < 0)
		c->dead = true;
	if (r == LN_CTL_SUBSCRIBE)
		client_subscribe(c);
}

/*
 * Answer the complete lines received while the output stays under the cap:
 * the rest wait, unread, for the client to take its answers.
 */
static void client_serve(struct ln_ctl_client *c)
{
	char *nl;

	while (!c->closing && !c->dead && !c->reloading && !client_over_cap(c) &&
	       (nl = memchr(c->in, '\n', c->in_len))) {
		size_t len = nl - c->in;

		if (len && c->in[len - 1] == '\r')
			len--;
		if (len)
			client_request(c, c->in, len);
		c->in_len -= nl + 1 - c->in;
		memmove(c->in, nl + 1, c->in_len);
	}
	if (c->subscribed)
		c->in_len = 0; /* whatever a subscriber says is ignored */
	if (c->in_len == LN_CTL_MAX_REQUEST && !c->closing && !memchr(c->in, '\n', c->in_len)) {
		if (ln_ctl_client_send(c, ln_ctl_error_object("request too long (limit 4096 bytes)")) < 0)
			c->dead = true;
		c->closing = true;
	}
}

/* Read what there is, a bounded number of times (the loop serves others too). */
static void client_read(struct ln_ctl_client *c)
{
	for (int i = 0; i < 16; i++) {
		ssize_t n;

		if (c->closing || c->dead || client_over_cap(c) || c->in_len == LN_CTL_MAX_REQUEST)
			return;
		n = recv(c->fd, c->in + c->in_len, LN_CTL_MAX_REQUEST - c->in_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = true;
			return;
		}
		if (n == 0) {
			c->closing = true; /* answer what came, then close */
			return;
		}
		c->in_len += n;
		c->active = control_now(c->ctl);
		client_serve(c);
	}
}

static void publish_dropped(struct ln_ctl_client *c)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "{\"type\":\"dropped\",\"count\":%llu}\n", c->dropped);
	if (client_queue(c, buf, strlen(buf)) == 0)
		c->dropped = 0;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_ctl_client *c = userdata;

	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(c);
	client_flush(c);
	/* requests that waited for the output to drain */
	client_serve(c);
	client_flush(c);
	/* the backlog drained: tell a subscriber what it lost, even if nothing else comes */
	if (c->subscribed && c->dropped && !client_pending(c) && !c->dead) {
		publish_dropped(c);
		client_flush(c);
	}
	if (c->dead || (c->closing && !client_pending(c)) ||
	    (c->closing && (revents & (EPOLLHUP | EPOLLERR)))) {
		client_free(c);
		return 0;
	}
	client_update(c);
	return 0;
}

/* Whether a connection of process @pid may come in; if not, it is told why and closed. */
static bool control_admit(struct ln_control *ctl, int fd, pid_t pid)
{
	struct ln_error err = {};
	size_t n_peer = 0;

	for (struct ln_ctl_client *c = ctl->clients; c; c = c->next)
		n_peer += c->pid == pid;
	if (ln_ctl_admit(ctl->ctx.n_clients, n_peer, &err) == 0)
		return true;
	say_goodbye(fd, err.msg);
	close(fd);
	return false;
}

static int client_new(struct ln_control *ctl, sd_event *e, int fd, pid_t pid)
{
	struct ln_ctl_client *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->pid = pid;
	c->active = control_now(ctl);
	if (sd_event_add_io(e, &c->src, fd, EPOLLIN, on_client, c) < 0) {
		close(fd);
		free(c);
		return -ENOMEM;
	}
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->ctx.n_clients++;
	control_arm(ctl, client_deadline(c));
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_control *ctl = userdata;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		pid_t pid = 0;

		if (cfd < 0)
			return 0; /* EAGAIN, or a client gone already */
		if (!ln_ctl_peer_allowed(cfd, ctl->group, &pid)) {
			close(cfd);
			continue;
		}
		if (!control_admit(ctl, cfd, pid))
			continue;
		if (client_new(ctl, sd_event_source_get_event(s), cfd, pid) < 0)
			return 0;
	}
}

/* ---- events ---- */

bool ln_control_has_subscribers(const struct ln_manager *m)
{
	return m->control && m->control->ctx.n_subscribers;
}

static json_object *event_object(const struct ln_event_field *f, size_t n)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("event"));
	for (size_t i = 0; i < n; i++) {
		if (f[i].is_num)
			json_object_object_add(o, f[i].key, json_object_new_uint64(f[i].num));
		else if (f[i].str)
			json_object_object_add(o, f[i].key, json_object_new_string(f[i].str));
	}
	return o;
}

void ln_control_publish(struct ln_manager *m, const struct ln_event_field *f, size_t n)
{
	struct ln_control *ctl = m->control;
	json_object *o;
	const char *s;
	size_t len;

	if (!ctl || !ctl->ctx.n_subscribers)
		return;
	o = event_object(f, n);
	if (!o)
		return;
	s = json_text(o);
	len = strlen(s);
	for (struct ln_ctl_client *c = ctl->clients; c; c = c->next) {
		if (!c->subscribed || c->closing || c->dead)
			continue;
		/* never block, never grow without bound: a slow reader loses events */
		if (client_pending(c) + len + 1 > LN_CTL_MAX_OUTPUT) {
			c->dropped++;
			continue;
		}
		if (c->dropped)
			publish_dropped(c);
		if (client_queue_json(c, s, len) < 0) {
			c->dropped++;
			continue;
		}
		client_update(c);
	}
	json_object_put(o);
}

/* After an answer that kept @c waiting: send it, serve what @c sent meanwhile, or free it. */
void ln_ctl_client_resume(struct ln_ctl_client *c)
{
	client_flush(c);
	client_serve(c);
	client_flush(c);
	if (c->dead || (c->closing && !client_pending(c)))
		client_free(c);
	else
		client_update(c);
}

/* ---- the listening socket ---- */

int ln_control_start(struct ln_manager *m, const char *path, const struct ln_control_ops *ops,
		     void *ud, struct ln_error *err)
{
	struct ln_control *ctl;
	int r;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return ln_err(err, -ENOMEM, "%s: out of memory", path);
	ctl->ctx.m = m;
	ctl->ctx.ops = ops;
	ctl->ctx.ud = ud;
	ctl->fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &ctl->ctx.started);
	ctl->ctx.loaded_at = time(NULL);
	m->control = ctl;
	ctl->path = strdup(path);
	ctl->group = (gid_t)-1;
	if (m->opts.control_group && ln_ctl_group(m->opts.control_group, &ctl->group) < 0) {
		r = ln_err(err, -ENOENT, "--control-group %s: no such group",
			   m->opts.control_group);
		goto fail;
	}
	r = ctl->path ? ln_ctl_listen(path, ctl->group, &ctl->dev, &ctl->ino) : -ENOMEM;
	if (r < 0) {
		ln_err(err, r, "%s: %s", path,
		       r == -EADDRINUSE ? "another agent is listening there" : strerror(-r));
		goto fail;
	}
	ctl->fd = r;
	r = sd_event_add_io(m->event, &ctl->src, ctl->fd, EPOLLIN, on_accept, ctl);
	if (r >= 0)
		r = sd_event_add_time(m->event, &ctl->timer, CLOCK_MONOTONIC, 0, 100 * 1000,
				      on_timer, ctl);
	if (r >= 0)
		r = sd_event_source_set_enabled(ctl->timer, SD_EVENT_OFF);
	if (r < 0) {
		ln_err(err, r, "%s: %s", path, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	ln_control_stop(m);
	return r;
}

void ln_control_stop(struct ln_manager *m)
{
	struct ln_control *ctl = m->control;
	struct stat st;

	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	ctl->src = sd_event_source_disable_unref(ctl->src);
	ctl->timer = sd_event_source_disable_unref(ctl->timer);
	/* unlink only the file we made: a newer agent may have replaced it */
	if (ctl->path && stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		unlink(ctl->path);
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	m->control = NULL;
}
