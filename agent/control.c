// SPDX-License-Identifier: GPL-2.0
/* The control socket: listening, clients, line framing, output queues, publishing events. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "agent.h"
#include "control_cmds.h"

struct ln_ctl_client {
	struct ln_control *ctl;
	struct ln_ctl_client *next;
	int fd;
	sd_event_source *src;
	char in[LN_CTL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool subscribed, closing, dead;
	unsigned long long dropped; /* events lost since the last one it got */
};

struct ln_control {
	struct ln_ctl_ctx ctx; /* what the commands see; its counts are kept here */
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	sd_event_source *src;
	struct ln_ctl_client *clients;
};

/* ---- output ---- */

static int client_queue(struct ln_ctl_client *c, const char *s, size_t len)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
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

/* Queue @o as one line and drop the reference. */
static int client_send(struct ln_ctl_client *c, json_object *o)
{
	const char *s;
	int r;

	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	r = client_queue(c, s, strlen(s));
	if (r >= 0)
		r = client_queue(c, "\n", 1);
	json_object_put(o);
	return r;
}

static int client_send_error(struct ln_ctl_client *c, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return client_send(c, o);
}

static void client_flush(struct ln_ctl_client *c)
{
	while (!c->dead && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
			if (errno != EINTR)
				break;
			continue;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
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
	if (c->subscribed)
		ctl->ctx.n_subscribers--;
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Wait for what there is to wait for: input unless closing, room when output is queued. */
static void client_update(struct ln_ctl_client *c)
{
	uint32_t ev = (c->closing ? 0 : EPOLLIN) | (c->out_len > c->out_off ? EPOLLOUT : 0);

	sd_event_source_set_io_events(c->src, ev);
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
	if (r < 0) {
		client_send_error(c, err.msg[0] ? err.msg : strerror(-r));
		return;
	}
	if (client_send(c, reply) < 0)
		c->dead = true;
	if (r == LN_CTL_SUBSCRIBE)
		client_subscribe(c);
}

/* Read what there is; answer every complete line. */
static void client_read(struct ln_ctl_client *c)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (c->in_len == LN_CTL_MAX_REQUEST) {
			client_send_error(c, "request too long (limit 4096 bytes)");
			c->closing = true;
			return;
		}
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
		while (!c->closing && (nl = memchr(c->in, '\n', c->in_len))) {
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

	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing)
		client_read(c);
	client_flush(c);
	/* the backlog drained: tell a subscriber what it lost, even if nothing else comes */
	if (c->subscribed && c->dropped && c->out_len == c->out_off && !c->dead) {
		publish_dropped(c);
		client_flush(c);
	}
	if (c->dead || (c->closing && c->out_len == c->out_off) ||
	    (c->closing && (revents & (EPOLLHUP | EPOLLERR)))) {
		client_free(c);
		return 0;
	}
	client_update(c);
	return 0;
}

/* Only root (or the agent's own user) may talk to the agent, whatever the file mode says. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_control *ctl = userdata;

	for (;;) {
		struct ln_ctl_client *c;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			return 0; /* EAGAIN, or a client gone already */
		if (!peer_allowed(cfd) || ctl->ctx.n_clients >= LN_CTL_MAX_CLIENTS) {
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			return 0;
		}
		c->ctl = ctl;
		c->fd = cfd;
		if (sd_event_add_io(sd_event_source_get_event(s), &c->src, cfd, EPOLLIN, on_client,
				    c) < 0) {
			close(cfd);
			free(c);
			return 0;
		}
		c->next = ctl->clients;
		ctl->clients = c;
		ctl->ctx.n_clients++;
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
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	for (struct ln_ctl_client *c = ctl->clients; c; c = c->next) {
		if (!c->subscribed || c->closing || c->dead)
			continue;
		/* never block, never grow without bound: a slow reader loses events */
		if (c->out_len - c->out_off + len + 1 > LN_CTL_MAX_EVENT_BACKLOG) {
			c->dropped++;
			continue;
		}
		if (c->dropped)
			publish_dropped(c);
		if (client_queue(c, s, len) < 0 || client_queue(c, "\n", 1) < 0) {
			c->dropped++;
			continue;
		}
		client_update(c);
	}
	json_object_put(o);
}

/* ---- the listening socket ---- */

void ln_control_reloaded(struct ln_manager *m, int r, const char *msg)
{
	struct ln_ctl_ctx *ctx = m->control ? &m->control->ctx : NULL;

	if (!ctx)
		return;
	ctx->reload_at = time(NULL);
	ctx->reload_r = r;
	snprintf(ctx->reload_msg, sizeof(ctx->reload_msg), "%s", r < 0 && msg ? msg : "");
	if (r >= 0)
		ctx->loaded_at = ctx->reload_at;
}

/* mkdir -p the parent of @path; directories made here are 0700. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

/* A socket file left by an agent that died is removed; a live one is not ours to take. */
static int remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int control_listen(struct ln_control *ctl, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = make_parent(path);
	if (r < 0)
		return r;
	r = remove_stale(&sa);
	if (r < 0)
		return r;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return -errno;
	/* created 0600: no moment where another user could connect */
	old = umask(0177);
	r = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return -errno;
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0)
		return -errno;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if (listen(ctl->fd, 16) < 0)
		return -errno;
	return 0;
}

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
	r = ctl->path ? control_listen(ctl, path) : -ENOMEM;
	if (r < 0) {
		ln_err(err, r, "%s: %s", path,
		       r == -EADDRINUSE ? "another agent is listening there" : strerror(-r));
		goto fail;
	}
	r = sd_event_add_io(m->event, &ctl->src, ctl->fd, EPOLLIN, on_accept, ctl);
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
