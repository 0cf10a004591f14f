// SPDX-License-Identifier: GPL-2.0
/* The DNS proxy upstream: shared UDP sockets, TCP queries, pending-query table and timer. */
#include <arpa/nameser.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "dp_internal.h"

void dp_usock_free(struct dp_usock *s)
{
	if (!s)
		return;
	DP_UNLINK(s->p->usocks, s);
	sd_event_source_disable_unref(s->io);
	dp_close(s->fd);
	free(s);
}

/* Stops @s taking new queries; it goes when its last pending query ends. */
static void dp_usock_retire(struct dp_usock *s)
{
	struct ln_dns_proxy *p = s->p;
	size_t i;

	if (!s->retired) {
		s->retired = true;
		for (i = 0; i < p->cfg.n_slots; i++)
			if (s->ns->active[i] == s)
				s->ns->active[i] = NULL;
	}
	if (!s->n_pending && !s->held)
		dp_usock_free(s);
}

/* Takes @u off the socket it went out on: its id may be used again. */
static void dp_usock_detach(struct dp_upstream *u)
{
	struct dp_usock *s = u->us;
	struct dp_upstream *last;

	if (!s)
		return;
	last = s->pending[--s->n_pending];
	s->pending[u->us_idx] = last;
	last->us_idx = u->us_idx;
	u->us = NULL;
	if (s->retired)
		dp_usock_retire(s);
}

/* Arms the timer for the oldest query's deadline (the timer is idle). */
static int dp_timer_arm(struct ln_dns_proxy *p)
{
	int rc = sd_event_source_set_time(p->timer, p->upstreams->deadline);

	if (rc >= 0)
		rc = sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
	p->timer_armed = rc >= 0;
	return rc;
}

/*
 * The share of @policy_id (open addressing; policy ids are few and reused, so
 * entries stay); NULL when DP_SHARES policies have one already: then only the
 * global limits hold.
 */
struct dp_share *dp_share_of(struct ln_dns_proxy *p, __u32 policy_id)
{
	size_t i, h = (policy_id * 2654435761u) % DP_SHARES;
	struct dp_share *sh;

	for (i = 0; i < DP_SHARES; i++) {
		sh = &p->shares[(h + i) % DP_SHARES];
		if (!sh->used) {
			sh->used = true;
			sh->policy_id = policy_id;
		}
		if (sh->policy_id == policy_id)
			return sh;
	}
	return NULL;
}

/* What @u holds of its policy's share and its slot's use: @d = 1 taken, -1 given back. */
static void dp_pending_count(struct ln_dns_proxy *p, struct dp_upstream *u, int d)
{
	struct dp_share *sh = dp_share_of(p, u->policy_id);

	p->n_upstreams += d;
	if (sh)
		sh->pending += d;
	if (u->to.l)
		p->use[u->to.l->slot].pending += d;
}

/*
 * Links @u last in the deadline-ordered list and arms the timer if it was
 * idle; -EBUSY when its policy has DP_POLICY_PENDING queries out already.
 */
int dp_pending_add(struct ln_dns_proxy *p, struct dp_upstream *u)
{
	struct dp_share *sh = dp_share_of(p, u->policy_id);
	uint64_t now;
	int rc = sd_event_now(p->event, CLOCK_MONOTONIC, &now);

	if (rc < 0)
		return rc;
	if (sh && sh->pending >= DP_POLICY_PENDING) {
		p->stats.over_share++;
		return -EBUSY;
	}
	u->deadline = now + p->cfg.timeout_ms * USEC_PER_MSEC;
	u->p = p;
	u->next = NULL;
	u->prev = p->upstreams_tail;
	if (p->upstreams_tail)
		p->upstreams_tail->next = u;
	else
		p->upstreams = u;
	p->upstreams_tail = u;
	dp_pending_count(p, u, 1);
	return p->timer_armed ? 0 : dp_timer_arm(p);
}

static void dp_pending_del(struct ln_dns_proxy *p, struct dp_upstream *u)
{
	if (u->prev)
		u->prev->next = u->next;
	else
		p->upstreams = u->next;
	if (u->next)
		u->next->prev = u->prev;
	else
		p->upstreams_tail = u->prev;
	dp_pending_count(p, u, -1);
}

void dp_upstream_free(struct dp_upstream *u)
{
	if (!u)
		return;
	if (u->p) {
		dp_pending_del(u->p, u);
		dp_tx_forget(u->p, u);
	}
	if (u->to.conn)
		u->to.conn->busy = NULL;
	dp_usock_detach(u);
	sd_event_source_disable_unref(u->io);
	dp_close(u->fd);
	free(u->buf);
	free(u->ckey);
	free(u);
}

/* Whether @msg answers @u; anything else on its socket is counted and ignored. */
static bool dp_upstream_check(struct dp_upstream *u, const __u8 *msg, size_t len)
{
	int rc = ln_dns_reply_check(msg, len, &u->q, u->up_id);

	if (rc == -EBADMSG)
		u->p->stats.malformed++;
	else if (rc < 0)
		u->p->stats.forged++;
	return rc == 0;
}

/* The query pending on @s with upstream id @id, or NULL. */
static struct dp_upstream *dp_usock_find(const struct dp_usock *s, __u16 id)
{
	unsigned int i;

	for (i = 0; i < s->n_pending; i++)
		if (s->pending[i]->up_id == id)
			return s->pending[i];
	return NULL;
}

/* Whether a query with upstream id @id timed out on @s lately. */
static bool dp_usock_expired(const struct dp_usock *s, __u16 id)
{
	unsigned int n = s->n_expired < DP_USOCK_PENDING ? s->n_expired : DP_USOCK_PENDING;

	for (unsigned int i = 0; i < n; i++)
		if (s->expired[i] == id)
			return true;
	return false;
}

/* An error on @s (ICMP: nobody serves there): every query on it is answered now. */
static void dp_usock_fail(struct dp_usock *s)
{
	bool held = s->held;

	s->held = true;
	dp_usock_retire(s);
	while (s->n_pending)
		s->p->up->fail(s->pending[0]);
	s->held = held;
	dp_usock_retire(s);
}

/*
 * A datagram on @s: relayed only if it answers one of the queries pending
 * there (id, then question); anything else is counted and dropped.
 */
static void dp_usock_reply(struct dp_usock *s, __u8 *msg, size_t len)
{
	struct dp_upstream *u;

	if (len > DP_MSG_MAX || len < LN_DNS_HDR_LEN) {
		s->p->stats.malformed++;
		return;
	}
	u = dp_usock_find(s, ns_get16(msg));
	if (!u && dp_usock_expired(s, ns_get16(msg)))
		s->p->stats.late++;
	else if (!u)
		s->p->stats.forged++;
	else if (dp_upstream_check(u, msg, len))
		s->p->up->answer(u, msg, len);
}

static int dp_usock_io(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct dp_usock *s = ud;
	struct ln_dns_proxy *p = s->p;
	int i, n, taken = 0;

	s->held = true;
	do {
		dp_tx_begin(p);
		n = dp_recv_batch(p, fd);
		if (n < 0 && n != -EAGAIN && n != -EINTR)
			dp_usock_fail(s);
		for (i = 0; i < n; i++)
			dp_usock_reply(s, dp_rx_msg(p, i), p->rx_m[i].msg_len);
		dp_tx_end(p);
		taken += n;
	} while (n == DP_MMSG && taken < DP_BATCH);
	s->held = false;
	if (s->retired)
		dp_usock_retire(s);
	return 0;
}

/* Answers every query past its deadline with SERVFAIL; the list is in deadline order. */
int dp_timer_fire(sd_event_source *src, uint64_t usec, void *ud)
{
	struct ln_dns_proxy *p = ud;

	p->timer_armed = false;
	while (p->upstreams && p->upstreams->deadline <= usec + DP_TIMER_ACCURACY) {
		struct dp_usock *s = p->upstreams->us;

		p->stats.timeouts++;
		if (s)
			s->expired[s->n_expired++ % DP_USOCK_PENDING] = p->upstreams->up_id;
		p->up->fail(p->upstreams);
	}
	if (p->upstreams)
		dp_timer_arm(p); /* on failure the next query tries again */
	return 0;
}

/*
 * A socket connected to the slot's server, made in the netns the query came
 * from (a container's resolver is only reached from there): the kernel picks
 * a random source port.
 */
static int dp_upstream_socket(const struct dp_netns *ns, const struct sockaddr_storage *server,
			      socklen_t server_len, int type)
{
	int fd, mark = (int)ns->p->cfg.sock_mark, rc;

	fd = dp_netns_socket(ns, server->ss_family, type);
	if (fd < 0)
		return fd;
	/* without CAP_NET_ADMIN there is no mark: the BPF side also knows the proxy's cgroup */
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 &&
	    errno != EPERM)
		goto err_close;
	if (connect(fd, (const struct sockaddr *)server, server_len) < 0 && errno != EINPROGRESS)
		goto err_close;
	return fd;

err_close:
	rc = -errno;
	close(fd);
	return rc;
}

/*
 * Upstream sockets. A fresh socket per query costs about ten syscalls, so a
 * UDP socket is shared by the queries of one slot (one server): at most
 * DP_USOCK_PENDING in flight, DP_USOCK_QUERIES in all, new ones only during
 * DP_USOCK_USEC; then a new socket takes over and the old one is closed when
 * its last query ends. What a forger must guess is unchanged: the socket is
 * connected (the kernel drops datagrams from any other address:port), its
 * source port is the kernel's random ephemeral port, and each query has a
 * random 16-bit id, unique among the socket's pending queries, and is
 * accepted only with its own question. A blind forger hits one pending
 * query per (port, id) guess, as with a socket per query. What it costs: a
 * party that learns the port of one query -- only the server itself and the
 * path to it see it -- knows it for the socket's next few queries, where a
 * guess then wins with odds of at most DP_USOCK_PENDING / 65536 per packet,
 * during at most DP_USOCK_USEC plus the timeout; and a port open that long
 * is no easier to find by scanning than that of one query waiting for its
 * timeout. TCP queries keep a connection each.
 */
static bool dp_usock_fits(const struct dp_usock *s, const struct sockaddr_storage *server,
			  socklen_t server_len, uint64_t now)
{
	return s->n_sent < DP_USOCK_QUERIES && s->n_pending < DP_USOCK_PENDING &&
	       now - s->born < DP_USOCK_USEC && s->server_len == server_len &&
	       !memcmp(&s->server, server, server_len);
}

static int dp_usock_open(struct dp_netns *ns, const struct sockaddr_storage *server,
			 socklen_t server_len, uint64_t now, struct dp_usock **out)
{
	struct ln_dns_proxy *p = ns->p;
	struct dp_usock *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM;

	if (!s)
		return rc;
	s->p = p;
	s->ns = ns;
	s->born = now;
	memcpy(&s->server, server, server_len);
	s->server_len = server_len;
	DP_LINK(p->usocks, s);
	s->fd = dp_upstream_socket(ns, &s->server, s->server_len, SOCK_DGRAM);
	if (s->fd < 0) {
		rc = s->fd;
		goto err_free;
	}
	rc = sd_event_add_io(p->event, &s->io, s->fd, EPOLLIN, dp_usock_io, s);
	if (rc < 0)
		goto err_free;
	*out = s;
	return 0;

err_free:
	dp_usock_free(s);
	return rc;
}

/* The socket for a new UDP query on @slot_idx in @ns: the active one if it fits, else a new one. */
static int dp_usock_get(struct dp_netns *ns, __u16 slot_idx,
			const struct sockaddr_storage *server, socklen_t server_len,
			struct dp_usock **out)
{
	struct ln_dns_proxy *p = ns->p;
	struct dp_usock *s = ns->active[slot_idx];
	uint64_t now;
	int rc = sd_event_now(p->event, CLOCK_MONOTONIC, &now);

	if (rc < 0)
		return rc;
	if (s && dp_usock_fits(s, server, server_len, now)) {
		*out = s;
		return 0;
	}
	if (s)
		dp_usock_retire(s);
	rc = dp_usock_open(ns, server, server_len, now, &s);
	if (rc < 0)
		return rc;
	ns->active[slot_idx] = s;
	*out = s;
	return 0;
}

/* A random id from the kernel's generator, taken DP_RND_IDS at a time. */
static int dp_random_id(struct ln_dns_proxy *p, __u16 *id)
{
	if (!p->n_rnd) {
		if (getrandom(p->rnd, sizeof(p->rnd), GRND_NONBLOCK) != sizeof(p->rnd))
			return -EAGAIN;
		p->n_rnd = DP_RND_IDS;
	}
	*id = p->rnd[--p->n_rnd];
	return 0;
}

/* Puts @u on the slot's shared socket with a random id no query pending there has. */
static int dp_usock_attach(struct dp_upstream *u, __u16 slot_idx,
			   const struct sockaddr_storage *server, socklen_t server_len)
{
	struct ln_dns_proxy *p = u->p;
	struct dp_usock *s;
	int rc = dp_usock_get(u->to.l->ns, slot_idx, server, server_len, &s);

	if (rc < 0)
		return rc;
	do {
		rc = dp_random_id(p, &u->up_id);
		if (rc < 0)
			return rc;
	} while (dp_usock_find(s, u->up_id));
	u->us = s;
	u->us_idx = s->n_pending;
	s->pending[s->n_pending++] = u;
	s->n_sent++;
	return 0;
}

/* ---- TCP upstream queries ---- */

/*
 * TCP upstream: connect, write the length-prefixed query, read the reply.
 * u->buf holds the message out, then the reply in.
 */
static int dp_upstream_tcp_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct dp_upstream *u = ud;
	size_t need;
	ssize_t n;

	if ((revents & (EPOLLERR | EPOLLHUP)) && !(revents & EPOLLIN))
		goto fail;
	if (u->len && u->off < u->len && (revents & EPOLLOUT)) {
		n = send(fd, u->buf + u->off, u->len - u->off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			goto fail;
		if (n > 0)
			u->off += (size_t)n;
		if (u->off == u->len) {
			/* all out: read the reply into the same buffer */
			u->len = u->off = 0;
			if (sd_event_source_set_io_events(u->io, EPOLLIN) < 0)
				goto fail;
		}
		return 0;
	}
	if (!(revents & EPOLLIN))
		return 0;
	for (;;) {
		need = u->off < DP_TCP_LEN ? DP_TCP_LEN : DP_TCP_LEN + ns_get16(u->buf);
		if (u->off == need && need > DP_TCP_LEN) {
			if (dp_upstream_check(u, u->buf + DP_TCP_LEN, need - DP_TCP_LEN)) {
				u->p->up->answer(u, u->buf + DP_TCP_LEN, need - DP_TCP_LEN);
				return 0;
			}
			u->off = 0; /* not ours: wait for the next message */
			continue;
		}
		if (u->off == need)
			goto fail; /* a zero-length message */
		n = recv(fd, u->buf + u->off, need - u->off, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			goto fail;
		u->off += (size_t)n;
	}

fail:
	u->p->up->fail(u);
	return 0;
}

/* TCP: a connection of its own, the query queued behind the connect. */
static int dp_upstream_send_tcp(struct dp_upstream *u, const struct sockaddr_storage *server,
				socklen_t server_len, const __u8 *msg, size_t len)
{
	struct ln_dns_proxy *p = u->p;
	int rc = dp_random_id(p, &u->up_id);

	if (rc < 0)
		return rc;
	rc = dp_upstream_socket(u->to.l->ns, server, server_len, SOCK_STREAM);
	if (rc < 0)
		return rc;
	u->fd = rc;
	/* the reply may be as long as a message can be */
	u->buf = malloc(DP_TCP_LEN + DP_MSG_MAX);
	if (!u->buf)
		return -ENOMEM;
	ns_put16((unsigned int)len, u->buf);
	memmove(u->buf + DP_TCP_LEN, msg, len);
	ln_dns_set_id(u->buf + DP_TCP_LEN, len, u->up_id);
	u->len = DP_TCP_LEN + len;
	return sd_event_add_io(p->event, &u->io, u->fd, EPOLLOUT, dp_upstream_tcp_io, u);
}

/* ---- sending ---- */

/*
 * Sends @msg (the client's query @q) to the slot's server with a random id.
 * UDP: on the slot's shared socket, at once; TCP: on a connection of its own.
 * Returns 0 or -errno.
 */
int dp_upstream_send(struct dp_upstream *u, __u16 slot_idx, const struct sockaddr_storage *server,
		     socklen_t server_len, __u8 *msg, size_t len)
{
	int rc;

	if (u->to.conn)
		return dp_upstream_send_tcp(u, server, server_len, msg, len);
	rc = dp_usock_attach(u, slot_idx, server, server_len);
	if (rc < 0)
		return rc;
	ln_dns_set_id(msg, len, u->up_id);
	return dp_tx(u->p, u->us->fd, NULL, msg, len, u);
}
