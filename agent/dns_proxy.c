// SPDX-License-Identifier: GPL-2.0
/* The DNS resolver proxy: UDP and TCP listeners per slot, upstream forwarding, block/record. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns_proxy.h"

_Static_assert((int)LN_DNS_BLOCK_NXDOMAIN == (int)LN_DNS_REPLY_NXDOMAIN &&
		       (int)LN_DNS_BLOCK_REFUSED == (int)LN_DNS_REPLY_REFUSED &&
		       (int)LN_DNS_BLOCK_ZERO == (int)LN_DNS_REPLY_ZERO,
	       "block modes are reply kinds");

#define USEC_PER_MSEC 1000ULL
#define DP_TIMER_ACCURACY (10 * USEC_PER_MSEC)
#define DP_BATCH 64             /* datagrams (connections) taken per wakeup: others get a turn */
#define DP_MSG_MAX 65535
#define DP_TCP_LEN 2            /* the length prefix of a DNS message over TCP */
#define DP_UDP_RCVBUF (1 << 20)
#define DP_TCP_IN_START 512
#define DP_REPLY_MAX 1024       /* the proxy's own replies: header, question, one record */
#define DP_RND_IDS 256          /* transaction ids taken from getrandom() at once */

/*
 * Upstream UDP sockets are shared (see "upstream sockets" below): each is
 * used for at most DP_USOCK_QUERIES queries, takes new ones for at most
 * DP_USOCK_USEC, and has at most DP_USOCK_PENDING queries in flight.
 */
#define DP_USOCK_QUERIES 128
#define DP_USOCK_USEC (2 * 1000000ULL)
#define DP_USOCK_PENDING 32

struct dp_conn;

/* One listening socket: (slot, family, protocol). */
struct dp_listener {
	struct ln_dns_proxy *p;
	int fd;
	int family, type;
	__u16 slot;
	sd_event_source *io;
};

/* Where the answer to a query goes. */
struct dp_dest {
	struct dp_listener *l; /* UDP: sent from the listener the query came to */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct dp_conn *conn; /* TCP: queued on the client's connection */
};

struct dp_upstream;

/* A UDP socket connected to one server, shared by the queries to it (see below). */
struct dp_usock {
	struct ln_dns_proxy *p;
	struct dp_usock *prev, *next;
	int fd;
	sd_event_source *io;
	struct sockaddr_storage server;
	socklen_t server_len;
	unsigned int n_sent;  /* queries sent on it so far */
	uint64_t born;        /* CLOCK_MONOTONIC usec */
	bool retired;         /* takes no new queries; closed when the last one ends */
	bool held;            /* in use up the stack: not freed yet */
	unsigned int n_pending;
	struct dp_upstream *pending[DP_USOCK_PENDING];
};

/* A query sent upstream and waiting for its answer. */
struct dp_upstream {
	struct ln_dns_proxy *p;
	struct dp_upstream *prev, *next; /* p->upstreams, in deadline order */
	uint64_t deadline;               /* CLOCK_MONOTONIC usec */
	struct dp_usock *us;             /* UDP: the socket it went out on */
	unsigned int us_idx;             /* its index in us->pending */
	int fd;                          /* TCP: its own connection */
	sd_event_source *io;
	struct ln_dns_query q; /* the client's query: the client's id */
	__u16 up_id;
	__u32 policy_id;
	struct dp_dest to;
	/* TCP: the message out, then the reply in */
	__u8 *buf;
	size_t len, off;
};

/* A client's TCP connection: one query at a time, in order. */
struct dp_conn {
	struct ln_dns_proxy *p;
	struct dp_conn *prev, *next;
	struct dp_listener *l;
	int fd;
	sd_event_source *io, *timer;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	__u8 *in; /* length-prefixed queries read so far */
	size_t in_len, in_cap;
	__u8 *out; /* the reply being written */
	size_t out_len, out_off;
	struct dp_upstream *busy;
};

struct ln_dns_proxy {
	sd_event *event;
	struct ln_dns_proxy_config cfg;
	struct dp_listener *listeners;
	size_t n_listeners;
	bool has_ipv6;
	struct dp_upstream *upstreams, *upstreams_tail; /* oldest first: deadline order */
	size_t n_upstreams;
	sd_event_source *timer; /* one for all upstreams: the oldest one's deadline */
	struct dp_usock **active; /* per slot: the socket taking new UDP queries, or NULL */
	struct dp_usock *usocks;  /* every upstream UDP socket, retired ones too */
	__u16 rnd[DP_RND_IDS];
	size_t n_rnd;
	bool timer_armed;
	struct dp_conn *conns;
	size_t n_conns;
	struct ln_dns_stats stats;
	__u8 buf[DP_MSG_MAX + 1]; /* one datagram at a time: the loop is single-threaded */
	struct ln_dns_answer answer;
};

/* ---- lists ---- */

#define DP_LINK(head, e)                                                                           \
	do {                                                                                       \
		(e)->prev = NULL;                                                                  \
		(e)->next = (head);                                                                \
		if (head)                                                                          \
			(head)->prev = (e);                                                        \
		(head) = (e);                                                                      \
	} while (0)

#define DP_UNLINK(head, e)                                                                         \
	do {                                                                                       \
		if ((e)->prev)                                                                     \
			(e)->prev->next = (e)->next;                                               \
		else                                                                               \
			(head) = (e)->next;                                                        \
		if ((e)->next)                                                                     \
			(e)->next->prev = (e)->prev;                                               \
	} while (0)

/* Formats @fmt into @err (NULL allowed) and returns @rc. */
static int __attribute__((format(printf, 3, 4))) dp_err(struct ln_error *err, int rc,
							 const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

static void dp_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- delivering answers to clients ---- */

static void dp_conn_send(struct dp_conn *c, const __u8 *msg, size_t len);

static void dp_deliver(const struct dp_dest *to, const __u8 *msg, size_t len)
{
	if (to->conn)
		dp_conn_send(to->conn, msg, len);
	else
		sendto(to->l->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		       (const struct sockaddr *)&to->addr, to->addr_len);
}

/* Answers @q with a reply the proxy makes (block, REFUSED, SERVFAIL). */
static void dp_reply(struct ln_dns_proxy *p, const struct dp_dest *to,
		     const struct ln_dns_query *q, enum ln_dns_reply_kind kind)
{
	__u8 out[DP_REPLY_MAX];
	int n = ln_dns_reply_build(q, kind, out, sizeof(out));

	if (n < 0)
		return;
	if (kind == LN_DNS_REPLY_SERVFAIL)
		p->stats.servfail++;
	dp_deliver(to, out, (size_t)n);
}

/* ---- upstream queries ---- */

static void dp_usock_free(struct dp_usock *s)
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
			if (p->active[i] == s)
				p->active[i] = NULL;
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

static int dp_timer_arm(struct ln_dns_proxy *p);

/* Links @u last in the deadline-ordered list and arms the timer if it was idle. */
static int dp_pending_add(struct ln_dns_proxy *p, struct dp_upstream *u)
{
	uint64_t now;
	int rc = sd_event_now(p->event, CLOCK_MONOTONIC, &now);

	if (rc < 0)
		return rc;
	u->deadline = now + p->cfg.timeout_ms * USEC_PER_MSEC;
	u->p = p;
	u->next = NULL;
	u->prev = p->upstreams_tail;
	if (p->upstreams_tail)
		p->upstreams_tail->next = u;
	else
		p->upstreams = u;
	p->upstreams_tail = u;
	p->n_upstreams++;
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
	p->n_upstreams--;
}

static void dp_upstream_free(struct dp_upstream *u)
{
	if (!u)
		return;
	if (u->p)
		dp_pending_del(u->p, u);
	if (u->to.conn)
		u->to.conn->busy = NULL;
	dp_usock_detach(u);
	sd_event_source_disable_unref(u->io);
	dp_close(u->fd);
	free(u->buf);
	free(u);
}

static void dp_conn_resume(struct dp_conn *c);

/* Ends @u: a TCP client connection goes on with its next query. */
static void dp_upstream_done(struct dp_upstream *u)
{
	struct dp_conn *c = u->to.conn;

	dp_upstream_free(u);
	if (c)
		dp_conn_resume(c);
}

static void dp_upstream_fail(struct dp_upstream *u)
{
	dp_reply(u->p, &u->to, &u->q, LN_DNS_REPLY_SERVFAIL);
	dp_upstream_done(u);
}

/* The first name of the chain that is blocked, with its rule id; NULL if none. */
static const char *dp_chain_blocked(struct ln_dns_proxy *p, __u32 policy_id,
				    const struct ln_dns_answer *a, __u32 *rule_id)
{
	size_t i;

	for (i = 0; i < a->n_names; i++) {
		*rule_id = p->cfg.ops->name_blocked(p->cfg.ud, policy_id, a->names[i]);
		if (*rule_id)
			return a->names[i];
	}
	return NULL;
}

/*
 * A reply that answers our query: block it if any name of its CNAME chain is
 * listed (CNAME cloaking), else record its addresses and only then relay it.
 */
static void dp_upstream_answer(struct dp_upstream *u, __u8 *msg, size_t len)
{
	struct ln_dns_proxy *p = u->p;
	struct ln_dns_answer *a = &p->answer;
	const char *names[LN_DNS_MAX_CHAIN], *blocked;
	__u32 rule_id = 0;
	size_t i;
	int rc;

	rc = ln_dns_answer_parse(msg, len, &u->q, a);
	if (rc < 0) {
		if (rc == -EBADMSG)
			p->stats.malformed++;
		dp_upstream_fail(u);
		return;
	}
	blocked = dp_chain_blocked(p, u->policy_id, a, &rule_id);
	if (blocked) {
		p->stats.blocked++;
		p->cfg.ops->blocked(p->cfg.ud, u->policy_id, blocked, u->q.qtype, rule_id,
				    (const struct sockaddr *)&u->to.addr);
		dp_reply(p, &u->to, &u->q, (enum ln_dns_reply_kind)p->cfg.block_mode);
		dp_upstream_done(u);
		return;
	}
	for (i = 0; i < a->n_names; i++)
		names[i] = a->names[i];
	p->cfg.ops->record(p->cfg.ud, u->policy_id, names, a->n_names, a->addrs, a->n_addrs);
	if (a->truncated)
		p->stats.truncated++;
	p->stats.answered++;
	ln_dns_set_id(msg, len, u->q.id);
	dp_deliver(&u->to, msg, len);
	dp_upstream_done(u);
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

/* An error on @s (ICMP: nobody serves there): every query on it is answered now. */
static void dp_usock_fail(struct dp_usock *s)
{
	bool held = s->held;

	s->held = true;
	dp_usock_retire(s);
	while (s->n_pending)
		dp_upstream_fail(s->pending[0]);
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
	if (!u)
		s->p->stats.forged++;
	else if (dp_upstream_check(u, msg, len))
		dp_upstream_answer(u, msg, len);
}

static int dp_usock_io(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct dp_usock *s = ud;
	struct ln_dns_proxy *p = s->p;
	ssize_t n;
	int i;

	s->held = true;
	for (i = 0; i < DP_BATCH; i++) {
		n = recv(fd, p->buf, sizeof(p->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			dp_usock_fail(s);
			break;
		}
		dp_usock_reply(s, p->buf, (size_t)n);
	}
	s->held = false;
	if (s->retired)
		dp_usock_retire(s);
	return 0;
}

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
				dp_upstream_answer(u, u->buf + DP_TCP_LEN, need - DP_TCP_LEN);
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
	dp_upstream_fail(u);
	return 0;
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

/* Answers every query past its deadline with SERVFAIL; the list is in deadline order. */
static int dp_timer_fire(sd_event_source *src, uint64_t usec, void *ud)
{
	struct ln_dns_proxy *p = ud;

	p->timer_armed = false;
	while (p->upstreams && p->upstreams->deadline <= usec + DP_TIMER_ACCURACY) {
		p->stats.timeouts++;
		dp_upstream_fail(p->upstreams);
	}
	if (p->upstreams)
		dp_timer_arm(p); /* on failure the next query tries again */
	return 0;
}

/* A socket connected to the slot's server: the kernel picks a random source port. */
static int dp_upstream_socket(const struct ln_dns_proxy *p, const struct sockaddr_storage *server,
			      socklen_t server_len, int type)
{
	int fd, mark = (int)p->cfg.sock_mark, rc;

	fd = socket(server->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
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
static bool dp_usock_fits(const struct dp_usock *s, const struct ln_dns_slot *slot, uint64_t now)
{
	return s->n_sent < DP_USOCK_QUERIES && s->n_pending < DP_USOCK_PENDING &&
	       now - s->born < DP_USOCK_USEC && s->server_len == slot->server_len &&
	       !memcmp(&s->server, &slot->server, slot->server_len);
}

static int dp_usock_open(struct ln_dns_proxy *p, const struct ln_dns_slot *slot, uint64_t now,
			 struct dp_usock **out)
{
	struct dp_usock *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM;

	if (!s)
		return rc;
	s->p = p;
	s->born = now;
	memcpy(&s->server, &slot->server, slot->server_len);
	s->server_len = slot->server_len;
	DP_LINK(p->usocks, s);
	s->fd = dp_upstream_socket(p, &s->server, s->server_len, SOCK_DGRAM);
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

/* The socket for a new UDP query on @slot_idx: the active one if it fits, else a new one. */
static int dp_usock_get(struct ln_dns_proxy *p, __u16 slot_idx, const struct ln_dns_slot *slot,
			struct dp_usock **out)
{
	struct dp_usock *s = p->active[slot_idx];
	uint64_t now;
	int rc = sd_event_now(p->event, CLOCK_MONOTONIC, &now);

	if (rc < 0)
		return rc;
	if (s && dp_usock_fits(s, slot, now)) {
		*out = s;
		return 0;
	}
	if (s)
		dp_usock_retire(s);
	rc = dp_usock_open(p, slot, now, &s);
	if (rc < 0)
		return rc;
	p->active[slot_idx] = s;
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
static int dp_usock_attach(struct dp_upstream *u, __u16 slot_idx, const struct ln_dns_slot *slot)
{
	struct ln_dns_proxy *p = u->p;
	struct dp_usock *s;
	int rc = dp_usock_get(p, slot_idx, slot, &s);

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

/* TCP: a connection of its own, the query queued behind the connect. */
static int dp_upstream_send_tcp(struct dp_upstream *u, const struct ln_dns_slot *slot,
				const __u8 *msg, size_t len)
{
	struct ln_dns_proxy *p = u->p;
	int rc = dp_random_id(p, &u->up_id);

	if (rc < 0)
		return rc;
	rc = dp_upstream_socket(p, &slot->server, slot->server_len, SOCK_STREAM);
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

/*
 * Sends @msg (the client's query @q) to the slot's server with a random id.
 * UDP: on the slot's shared socket, at once. Returns 0 or -errno.
 */
static int dp_upstream_send(struct dp_upstream *u, __u16 slot_idx,
			    const struct ln_dns_slot *slot, __u8 *msg, size_t len)
{
	int rc;

	if (u->to.conn)
		return dp_upstream_send_tcp(u, slot, msg, len);
	rc = dp_usock_attach(u, slot_idx, slot);
	if (rc < 0)
		return rc;
	ln_dns_set_id(msg, len, u->up_id);
	if (send(u->us->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

/* ---- queries from clients ---- */

static struct dp_upstream *dp_upstream_new(const struct dp_dest *to, const struct ln_dns_query *q,
					   __u32 policy_id)
{
	struct dp_upstream *u = malloc(sizeof(*u));

	if (!u)
		return NULL;
	u->p = NULL;
	u->us = NULL;
	u->fd = -1;
	u->io = NULL;
	u->q = *q;
	u->policy_id = policy_id;
	u->to = *to;
	u->buf = NULL;
	u->len = u->off = 0;
	return u;
}

/*
 * Handles one parsed client query: unknown slot, blocked name, or forward.
 * For TCP the connection is busy until the returned upstream ends. @msg is
 * the client's buffer: the upstream id is written into it.
 */
static void dp_query(struct ln_dns_proxy *p, const struct dp_dest *to, __u8 *msg,
		     size_t len, const struct ln_dns_query *q)
{
	struct ln_dns_slot slot;
	struct dp_upstream *u;
	__u32 rule_id;

	if (p->cfg.ops->slot_lookup(p->cfg.ud, to->l->slot, &slot) < 0) {
		p->stats.refused++;
		dp_reply(p, to, q, LN_DNS_REPLY_REFUSED);
		return;
	}
	rule_id = p->cfg.ops->name_blocked(p->cfg.ud, slot.policy_id, q->qname);
	if (rule_id) {
		p->stats.blocked++;
		p->cfg.ops->blocked(p->cfg.ud, slot.policy_id, q->qname, q->qtype, rule_id,
				    (const struct sockaddr *)&to->addr);
		dp_reply(p, to, q, (enum ln_dns_reply_kind)p->cfg.block_mode);
		return;
	}
	u = p->n_upstreams < LN_DNS_MAX_PENDING ? dp_upstream_new(to, q, slot.policy_id) : NULL;
	if (!u) {
		dp_reply(p, to, q, LN_DNS_REPLY_SERVFAIL);
		return;
	}
	if (u->to.conn)
		u->to.conn->busy = u;
	if (dp_pending_add(p, u) < 0 || dp_upstream_send(u, to->l->slot, &slot, msg, len) < 0) {
		/* not dp_upstream_fail(): a TCP caller goes on with the connection itself */
		dp_reply(p, to, q, LN_DNS_REPLY_SERVFAIL);
		dp_upstream_free(u);
		return;
	}
	p->stats.forwarded++;
}

static int dp_udp_listener_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct dp_listener *l = ud;
	struct ln_dns_proxy *p = l->p;
	struct dp_dest to = {.l = l};
	struct ln_dns_query q;
	ssize_t n;
	int i;

	for (i = 0; i < DP_BATCH; i++) {
		to.addr_len = sizeof(to.addr);
		n = recvfrom(fd, p->buf, sizeof(p->buf), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&to.addr, &to.addr_len);
		if (n < 0)
			break;
		p->stats.queries++;
		if ((size_t)n > DP_MSG_MAX || ln_dns_query_parse(p->buf, (size_t)n, &q) < 0) {
			p->stats.malformed++;
			continue;
		}
		dp_query(p, &to, p->buf, (size_t)n, &q);
	}
	return 0;
}

/* ---- TCP clients ---- */

static void dp_conn_free(struct dp_conn *c)
{
	if (!c)
		return;
	if (c->busy) {
		c->busy->to.conn = NULL; /* nobody to answer: the upstream just goes */
		dp_upstream_free(c->busy);
	}
	if (c->p) {
		DP_UNLINK(c->p->conns, c);
		c->p->n_conns--;
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
	int rc = sd_event_source_set_time_relative(c->timer, LN_DNS_TCP_IDLE_MS * USEC_PER_MSEC);

	if (rc < 0)
		return rc;
	return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* Queues @msg, length-prefixed, and waits until it is written. */
static void dp_conn_send(struct dp_conn *c, const __u8 *msg, size_t len)
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
 * The next complete query in c->in, if any, handed to dp_query(): returns 1
 * when one was taken, 0 when more bytes are needed, -EBADMSG to close.
 */
static int dp_conn_take_query(struct dp_conn *c)
{
	struct ln_dns_proxy *p = c->p;
	struct dp_dest to = {.l = c->l, .addr = c->peer, .addr_len = c->peer_len, .conn = c};
	struct ln_dns_query q;
	size_t len;

	if (c->in_len < DP_TCP_LEN)
		return 0;
	len = ns_get16(c->in);
	if (c->in_len < DP_TCP_LEN + len)
		return 0;
	p->stats.queries++;
	p->stats.tcp_queries++;
	if (ln_dns_query_parse(c->in + DP_TCP_LEN, len, &q) < 0) {
		p->stats.malformed++;
		return -EBADMSG;
	}
	dp_query(p, &to, c->in + DP_TCP_LEN, len, &q);
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
static void dp_conn_resume(struct dp_conn *c)
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
		       const struct sockaddr_storage *peer, socklen_t peer_len)
{
	struct dp_conn *c = calloc(1, sizeof(*c));
	int rc = -ENOMEM;

	if (!c) {
		close(fd);
		return rc;
	}
	c->p = p;
	c->l = l;
	c->fd = fd;
	memcpy(&c->peer, peer, peer_len);
	c->peer_len = peer_len;
	DP_LINK(p->conns, c);
	p->n_conns++;
	c->in_cap = DP_TCP_IN_START;
	c->in = malloc(c->in_cap);
	if (!c->in)
		goto err_free;
	rc = sd_event_add_io(p->event, &c->io, fd, EPOLLIN, dp_conn_io, c);
	if (rc < 0)
		goto err_free;
	rc = sd_event_add_time_relative(p->event, &c->timer, CLOCK_MONOTONIC,
					LN_DNS_TCP_IDLE_MS * USEC_PER_MSEC, DP_TIMER_ACCURACY,
					dp_conn_timeout, c);
	if (rc < 0)
		goto err_free;
	return 0;

err_free:
	dp_conn_free(c);
	return rc;
}

static int dp_tcp_listener_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct dp_listener *l = ud;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int cfd, i;

	for (i = 0; i < DP_BATCH; i++) {
		peer_len = sizeof(peer);
		cfd = accept4(fd, (struct sockaddr *)&peer, &peer_len,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		if (l->p->n_conns >= LN_DNS_MAX_TCP_CLIENTS) {
			close(cfd);
			continue;
		}
		dp_conn_new(l->p, l, cfd, &peer, peer_len);
	}
	return 0;
}

/* ---- listeners ---- */

static const char *dp_proto_name(int type)
{
	return type == SOCK_STREAM ? "tcp" : "udp";
}

/* Binds one listener on 127.0.0.1 or [::1], port base + slot. */
static int dp_listener_open(struct ln_dns_proxy *p, struct dp_listener *l, struct ln_error *err)
{
	__u16 port = (__u16)(p->cfg.base_port + l->slot);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	const char *what = "cannot create socket";
	int one = 1, rcvbuf = DP_UDP_RCVBUF, rc;

	l->fd = socket(l->family, l->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		goto err_errno;
	what = "cannot set socket options";
	if (l->family == AF_INET6 &&
	    setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err_errno;
	if (l->type == SOCK_STREAM &&
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto err_errno;
	/* bursts wait here while upstreams are slow: best effort; root may pass rmem_max */
	if (l->type == SOCK_DGRAM &&
	    setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	what = "cannot bind";
	if (l->family == AF_INET ? bind(l->fd, (struct sockaddr *)&sin, sizeof(sin))
				 : bind(l->fd, (struct sockaddr *)&sin6, sizeof(sin6)))
		goto err_errno;
	what = "cannot listen";
	if (l->type == SOCK_STREAM && listen(l->fd, SOMAXCONN) < 0)
		goto err_errno;
	rc = sd_event_add_io(p->event, &l->io, l->fd, EPOLLIN,
			     l->type == SOCK_STREAM ? dp_tcp_listener_io : dp_udp_listener_io, l);
	if (rc < 0) {
		what = "cannot watch socket";
		goto err_rc;
	}
	return 0;

err_errno:
	rc = -errno;
err_rc:
	dp_close(l->fd);
	l->fd = -1;
	return dp_err(err, rc, "%s:%u/%s: %s: %s", l->family == AF_INET ? "127.0.0.1" : "[::1]",
		      port, dp_proto_name(l->type), what, strerror(-rc));
}

/* Whether @rc from opening a ::1 socket means the host has no IPv6 at all. */
static bool dp_is_no_ipv6(int rc)
{
	return rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL;
}

static int dp_listeners_open(struct ln_dns_proxy *p, struct ln_error *err)
{
	static const int families[] = {AF_INET, AF_INET6}, types[] = {SOCK_DGRAM, SOCK_STREAM};
	size_t i, f, t;
	int rc;

	p->listeners = calloc((size_t)p->cfg.n_slots * 4, sizeof(*p->listeners));
	if (!p->listeners)
		return dp_err(err, -ENOMEM, "DNS proxy: out of memory");
	p->has_ipv6 = true;
	for (i = 0; i < p->cfg.n_slots; i++) {
		for (f = 0; f < 2; f++) {
			for (t = 0; t < 2; t++) {
				struct dp_listener *l = &p->listeners[p->n_listeners];

				if (families[f] == AF_INET6 && !p->has_ipv6)
					continue;
				*l = (struct dp_listener){.p = p, .fd = -1, .family = families[f],
							  .type = types[t], .slot = (__u16)i};
				p->n_listeners++;
				rc = dp_listener_open(p, l, err);
				if (rc < 0 && families[f] == AF_INET6 && i == 0 && t == 0 &&
				    dp_is_no_ipv6(rc)) {
					p->has_ipv6 = false;
					continue;
				}
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

/* ---- the proxy ---- */

int ln_dns_proxy_start(sd_event *event, const struct ln_dns_proxy_config *cfg,
		       struct ln_dns_proxy **out, struct ln_error *err)
{
	struct ln_dns_proxy *p;
	int rc;

	*out = NULL;
	if (!cfg->ops || !cfg->ops->slot_lookup || !cfg->ops->name_blocked || !cfg->ops->record ||
	    !cfg->ops->blocked || (unsigned int)cfg->block_mode > LN_DNS_BLOCK_ZERO)
		return dp_err(err, -EINVAL, "DNS proxy: incomplete configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return dp_err(err, -ENOMEM, "DNS proxy: out of memory");
	p->event = sd_event_ref(event);
	p->cfg = *cfg;
	if (!p->cfg.base_port)
		p->cfg.base_port = LN_DNS_BASE_PORT;
	if (!p->cfg.n_slots)
		p->cfg.n_slots = LN_DNS_SLOTS;
	if (!p->cfg.timeout_ms)
		p->cfg.timeout_ms = LN_DNS_TIMEOUT_MS;
	if ((unsigned int)p->cfg.base_port + p->cfg.n_slots > 65536) {
		rc = dp_err(err, -EINVAL, "DNS proxy: ports %u + %u slots go past 65535",
			    p->cfg.base_port, p->cfg.n_slots);
		goto err_stop;
	}
	p->active = calloc(p->cfg.n_slots, sizeof(*p->active));
	if (!p->active) {
		rc = dp_err(err, -ENOMEM, "DNS proxy: out of memory");
		goto err_stop;
	}
	/* one timer for every upstream query, armed while any is pending */
	rc = sd_event_add_time(p->event, &p->timer, CLOCK_MONOTONIC, 0, DP_TIMER_ACCURACY,
			       dp_timer_fire, p);
	if (rc >= 0)
		rc = sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
	if (rc < 0) {
		rc = dp_err(err, rc, "DNS proxy: cannot add timer: %s", strerror(-rc));
		goto err_stop;
	}
	rc = dp_listeners_open(p, err);
	if (rc < 0)
		goto err_stop;
	*out = p;
	return 0;

err_stop:
	ln_dns_proxy_stop(p);
	return rc;
}

void ln_dns_proxy_stop(struct ln_dns_proxy *p)
{
	size_t i;

	if (!p)
		return;
	while (p->conns)
		dp_conn_free(p->conns);
	while (p->upstreams)
		dp_upstream_free(p->upstreams);
	while (p->usocks)
		dp_usock_free(p->usocks);
	free(p->active);
	sd_event_source_disable_unref(p->timer);
	for (i = 0; i < p->n_listeners; i++) {
		sd_event_source_disable_unref(p->listeners[i].io);
		dp_close(p->listeners[i].fd);
	}
	free(p->listeners);
	sd_event_unref(p->event);
	free(p);
}

void ln_dns_proxy_stats(const struct ln_dns_proxy *p, struct ln_dns_stats *out)
{
	*out = p->stats;
}

bool ln_dns_proxy_has_ipv6(const struct ln_dns_proxy *p)
{
	return p->has_ipv6;
}
