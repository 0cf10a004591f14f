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

/* A query sent upstream and waiting for its answer. */
struct dp_upstream {
	struct ln_dns_proxy *p;
	struct dp_upstream *prev, *next;
	int fd;
	sd_event_source *io, *timer;
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
	struct dp_upstream *upstreams;
	size_t n_upstreams;
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

static void dp_upstream_free(struct dp_upstream *u)
{
	if (!u)
		return;
	if (u->p) {
		DP_UNLINK(u->p->upstreams, u);
		u->p->n_upstreams--;
	}
	if (u->to.conn)
		u->to.conn->busy = NULL;
	sd_event_source_disable_unref(u->io);
	sd_event_source_disable_unref(u->timer);
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

static int dp_upstream_udp_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct dp_upstream *u = ud;
	struct ln_dns_proxy *p = u->p;
	ssize_t n;
	int i;

	for (i = 0; i < DP_BATCH; i++) {
		n = recv(fd, p->buf, sizeof(p->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			/* ECONNREFUSED & co (ICMP): nobody serves there; answer now */
			dp_upstream_fail(u);
			return 0;
		}
		if ((size_t)n > DP_MSG_MAX) {
			p->stats.malformed++;
			continue;
		}
		if (dp_upstream_check(u, p->buf, (size_t)n)) {
			dp_upstream_answer(u, p->buf, (size_t)n);
			return 0;
		}
	}
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

static int dp_upstream_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct dp_upstream *u = ud;

	u->p->stats.timeouts++;
	dp_upstream_fail(u);
	return 0;
}

/* A socket for one query, connected to the slot's server: the kernel picks a random port. */
static int dp_upstream_socket(const struct ln_dns_proxy *p, const struct ln_dns_slot *slot,
			      int type)
{
	int fd, mark = (int)p->cfg.sock_mark, rc;

	fd = socket(slot->server.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* without CAP_NET_ADMIN there is no mark: the BPF side also knows the proxy's cgroup */
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 &&
	    errno != EPERM)
		goto err_close;
	if (connect(fd, (const struct sockaddr *)&slot->server, slot->server_len) < 0 &&
	    errno != EINPROGRESS)
		goto err_close;
	return fd;

err_close:
	rc = -errno;
	close(fd);
	return rc;
}

/*
 * Sends @msg (the client's query @q) to the slot's server with a fresh random
 * id. UDP: sent at once; TCP: queued behind the connect. Returns 0 or -errno.
 */
static int dp_upstream_send(struct dp_upstream *u, const struct ln_dns_slot *slot,
			    const __u8 *msg, size_t len)
{
	struct ln_dns_proxy *p = u->p;
	bool tcp = u->to.conn != NULL;
	__u8 *out = p->buf;
	int rc;

	if (getrandom(&u->up_id, sizeof(u->up_id), GRND_NONBLOCK) != sizeof(u->up_id))
		return -EAGAIN;
	rc = dp_upstream_socket(p, slot, tcp ? SOCK_STREAM : SOCK_DGRAM);
	if (rc < 0)
		return rc;
	u->fd = rc;
	if (tcp) {
		/* the reply may be as long as a message can be */
		u->buf = malloc(DP_TCP_LEN + DP_MSG_MAX);
		if (!u->buf)
			return -ENOMEM;
		out = u->buf;
		ns_put16((unsigned int)len, out);
		out += DP_TCP_LEN;
	}
	if (out != msg)
		memmove(out, msg, len);
	ln_dns_set_id(out, len, u->up_id);
	if (tcp) {
		u->len = DP_TCP_LEN + len;
		rc = sd_event_add_io(p->event, &u->io, u->fd, EPOLLOUT, dp_upstream_tcp_io, u);
	} else {
		if (send(u->fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			return -errno;
		rc = sd_event_add_io(p->event, &u->io, u->fd, EPOLLIN, dp_upstream_udp_io, u);
	}
	if (rc < 0)
		return rc;
	return sd_event_add_time_relative(p->event, &u->timer, CLOCK_MONOTONIC,
					  p->cfg.timeout_ms * USEC_PER_MSEC, DP_TIMER_ACCURACY,
					  dp_upstream_timeout, u);
}

/* ---- queries from clients ---- */

static struct dp_upstream *dp_upstream_new(struct ln_dns_proxy *p, const struct dp_dest *to,
					   const struct ln_dns_query *q, __u32 policy_id)
{
	struct dp_upstream *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->fd = -1;
	u->q = *q;
	u->policy_id = policy_id;
	u->to = *to;
	return u;
}

/*
 * Handles one parsed client query: unknown slot, blocked name, or forward.
 * For TCP the connection is busy until the returned upstream ends.
 */
static void dp_query(struct ln_dns_proxy *p, const struct dp_dest *to, const __u8 *msg,
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
	u = p->n_upstreams < LN_DNS_MAX_PENDING ? dp_upstream_new(p, to, q, slot.policy_id) : NULL;
	if (!u) {
		dp_reply(p, to, q, LN_DNS_REPLY_SERVFAIL);
		return;
	}
	u->p = p;
	DP_LINK(p->upstreams, u);
	p->n_upstreams++;
	if (u->to.conn)
		u->to.conn->busy = u;
	if (dp_upstream_send(u, &slot, msg, len) < 0) {
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
