// SPDX-License-Identifier: GPL-2.0
/* The DNS proxy over TCP: client connections, length-prefixed, one query at a time. */
#include <arpa/nameser.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "dp_internal.h"

/* ---- TCP clients ---- */

void dp_conn_free(struct dp_conn *c)
{
	if (!c)
		return;
	if (c->busy) {
		c->busy->to.conn = NULL; /* nobody to answer: the upstream just goes */
		dp_upstream_free(c->busy);
	}
	if (c->p) {
		struct dp_share *sh = dp_share_of(c->p, c->policy_id);

		DP_UNLINK(c->p->conns, c);
		c->p->n_conns--;
		c->p->use[c->l->slot].conns--;
		if (sh)
			sh->conns--;
	}
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	dp_close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static int dp_conn_idle(struct dp_conn *c)
{
	int rc = sd_event_source_set_time_relative(c->timer, DP_TCP_IDLE_MS * USEC_PER_MSEC);

	if (rc < 0)
		return rc;
	return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* Queues @msg, length-prefixed, and waits until it is written. */
void dp_conn_send(struct dp_conn *c, const __u8 *msg, size_t len)
{
	__u8 *out = realloc(c->out, DP_TCP_LEN + len);

	if (!out)
		return; /* the client gets nothing and times out */
	c->out = out;
	ns_put16((unsigned int)len, out);
	memcpy(out + DP_TCP_LEN, msg, len);
	c->out_len = DP_TCP_LEN + len;
	c->out_off = 0;
}

/*
 * The next complete query in c->in, if any, handed up to dp_query(): returns 1
 * when one was taken, 0 when more bytes are needed, -EBADMSG to close.
 */
static int dp_conn_take_query(struct dp_conn *c)
{
	struct ln_dns_proxy *p = c->p;
	struct dp_dest to = {.l = c->l, .addr = c->peer, .addr_len = c->peer_len, .conn = c};
	struct ln_dns_query q;
	size_t len;
	int rc;

	if (c->in_len < DP_TCP_LEN)
		return 0;
	len = ns_get16(c->in);
	if (c->in_len < DP_TCP_LEN + len)
		return 0;
	p->stats.queries++;
	p->stats.tcp_queries++;
	sd_event_now(p->event, CLOCK_MONOTONIC, &p->use[c->l->slot].last);
	rc = ln_dns_query_parse(c->in + DP_TCP_LEN, len, &q);
	if (rc < 0 && p->up->unparsed(p, &to, c->in + DP_TCP_LEN, len, rc) < 0)
		return -EBADMSG;
	if (rc == 0)
		p->up->query(p, &to, c->in + DP_TCP_LEN, len, &q);
	c->in_len -= DP_TCP_LEN + len;
	memmove(c->in, c->in + DP_TCP_LEN + len, c->in_len);
	return 1;
}

/* Room for a longer query: most are short, so buffers start small. */
static int dp_conn_grow(struct dp_conn *c)
{
	size_t cap = c->in_cap * 2;
	__u8 *in;

	if (c->in_cap >= DP_TCP_LEN + DP_MSG_MAX)
		return -EBADMSG; /* cannot happen: a whole message is taken before */
	if (cap > DP_TCP_LEN + DP_MSG_MAX)
		cap = DP_TCP_LEN + DP_MSG_MAX;
	in = realloc(c->in, cap);
	if (!in)
		return -ENOMEM;
	c->in = in;
	c->in_cap = cap;
	return 0;
}

/* Waits for @events only. */
static int dp_conn_wait(struct dp_conn *c, uint32_t events)
{
	int rc = sd_event_source_set_io_events(c->io, events);

	return rc < 0 ? rc : sd_event_source_set_enabled(c->io, SD_EVENT_ON);
}

/*
 * Runs the connection: write what is queued, else take the next query, else
 * read. Only ever waits for one thing; returns <0 when the connection ends.
 */
static int dp_conn_step(struct dp_conn *c)
{
	ssize_t n;
	int rc;

	for (;;) {
		if (c->out_off < c->out_len) {
			n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return dp_conn_wait(c, EPOLLOUT);
			if (n < 0)
				return -errno;
			c->out_off += (size_t)n;
			continue;
		}
		if (c->busy)
			return sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
		rc = dp_conn_take_query(c);
		if (rc < 0)
			return rc;
		if (rc > 0)
			continue;
		if (c->in_len == c->in_cap) {
			rc = dp_conn_grow(c);
			if (rc < 0)
				return rc;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return dp_conn_wait(c, EPOLLIN);
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		c->in_len += (size_t)n;
		dp_conn_idle(c);
	}
}

/* The upstream of @c ended (its answer, if any, is queued): go on. */
void dp_conn_resume(struct dp_conn *c)
{
	dp_conn_idle(c);
	if (dp_conn_step(c) < 0)
		dp_conn_free(c);
}

static int dp_conn_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct dp_conn *c = ud;

	if (dp_conn_step(c) < 0)
		dp_conn_free(c);
	return 0;
}

/* Idle, or a reply the client does not read: the connection goes. */
static int dp_conn_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct dp_conn *c = ud;

	if (c->busy)
		return 0; /* the upstream's own timer answers first */
	dp_conn_free(c);
	return 0;
}

static int dp_conn_new(struct ln_dns_proxy *p, struct dp_listener *l, int fd,
		       const struct sockaddr_storage *peer, socklen_t peer_len, __u32 policy_id)
{
	struct dp_conn *c = calloc(1, sizeof(*c));
	struct dp_share *sh = dp_share_of(p, policy_id);
	int rc = -ENOMEM;

	if (!c) {
		close(fd);
		return rc;
	}
	c->p = p;
	c->l = l;
	c->fd = fd;
	c->policy_id = policy_id;
	memcpy(&c->peer, peer, peer_len);
	c->peer_len = peer_len;
	DP_LINK(p->conns, c);
	p->n_conns++;
	p->use[l->slot].conns++;
	if (sh)
		sh->conns++;
	c->in_cap = DP_TCP_IN_START;
	c->in = malloc(c->in_cap);
	if (!c->in)
		goto err_free;
	rc = sd_event_add_io(p->event, &c->io, fd, EPOLLIN, dp_conn_io, c);
	if (rc < 0)
		goto err_free;
	rc = sd_event_add_time_relative(p->event, &c->timer, CLOCK_MONOTONIC,
					DP_TCP_IDLE_MS * USEC_PER_MSEC, DP_TIMER_ACCURACY,
					dp_conn_timeout, c);
	if (rc < 0)
		goto err_free;
	return 0;

err_free:
	dp_conn_free(c);
	return rc;
}

/*
 * Whether a new connection on @l may stay: within DP_MAX_TCP_CLIENTS, and its
 * policy (the slot's) within DP_POLICY_TCP_CLIENTS, so one policy's idle
 * connections cannot keep every other out. *policy_id: the slot's policy.
 */
static bool dp_conn_fits(struct dp_listener *l, __u32 *policy_id)
{
	struct ln_dns_proxy *p = l->p;
	struct ln_dns_slot slot;
	struct dp_share *sh;

	if (p->n_conns >= DP_MAX_TCP_CLIENTS)
		return false;
	/* an unknown slot: its query gets REFUSED, the connection counts as no policy's */
	*policy_id = dp_slot_get(p, l->slot, &slot) < 0 ? 0 : slot.policy_id;
	sh = dp_share_of(p, *policy_id);
	if (sh && sh->conns >= DP_POLICY_TCP_CLIENTS) {
		p->stats.over_share++;
		return false;
	}
	return true;
}

int dp_tcp_listener_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct dp_listener *l = ud;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	__u32 policy_id;
	int cfd, i;

	for (i = 0; i < DP_BATCH; i++) {
		peer_len = sizeof(peer);
		cfd = accept4(fd, (struct sockaddr *)&peer, &peer_len,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		if (!dp_conn_fits(l, &policy_id)) {
			close(cfd);
			continue;
		}
		dp_conn_new(l->p, l, cfd, &peer, peer_len, policy_id);
	}
	return 0;
}
