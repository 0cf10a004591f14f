/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DNS proxy's private parts: its state, and what its files call in each other.
 * Calls go one way: dns_proxy.c -> dns_proxy_tcp.c -> dns_proxy_upstream.c; what
 * the lower files hand back up goes through p->up (struct dp_up_ops).
 */
#ifndef LSNITCH_DP_INTERNAL_H
#define LSNITCH_DP_INTERNAL_H

#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dns_proxy.h"

#define USEC_PER_MSEC 1000ULL
#define DP_TIMER_ACCURACY (10 * USEC_PER_MSEC)
#define DP_BATCH 64             /* datagrams (connections) taken per wakeup: others get a turn */
#define DP_MMSG 16              /* datagrams taken per recvmmsg() */
#define DP_MSG_MAX 65535
#define DP_TCP_LEN 2            /* the length prefix of a DNS message over TCP */
#define DP_UDP_RCVBUF (1 << 20)
#define DP_TCP_IN_START 512
#define DP_REPLY_MAX 1024       /* the proxy's own replies: header, question, one record */
#define DP_RND_IDS 256          /* transaction ids taken from getrandom() at once */
#define DP_MAX_PENDING 4096     /* queries upstream at once; beyond: SERVFAIL */
#define DP_MAX_TCP_CLIENTS 512  /* beyond: new connections are closed */
#define DP_TCP_IDLE_MS 10000
/* Fair shares: one policy's part of the above, so it cannot deny DNS to the others. */
#define DP_POLICY_PENDING (DP_MAX_PENDING / 4)
#define DP_POLICY_TCP_CLIENTS (DP_MAX_TCP_CLIENTS / 8)
#define DP_SHARES 1024          /* policies tracked at once (open addressing) */

/*
 * Upstream UDP sockets are shared (see dp_usock_fits() in dns_proxy_upstream.c): each is
 * used for at most DP_USOCK_QUERIES queries, takes new ones for at most
 * DP_USOCK_USEC, and has at most DP_USOCK_PENDING queries in flight.
 */
#define DP_USOCK_QUERIES 128
#define DP_USOCK_USEC (2 * 1000000ULL)
#define DP_USOCK_PENDING 32

struct dp_conn;
struct dp_netns;

/* One listening socket: (netns, slot, kind); its port is the kernel's choice. */
struct dp_listener {
	struct ln_dns_proxy *p;
	struct dp_netns *ns;
	int fd;
	int family, type;
	__u16 slot;
	__u16 port;
	sd_event_source *io;
};

/* A network namespace the proxy serves: a listener per (slot, kind), upstreams from inside. */
struct dp_netns {
	struct ln_dns_proxy *p;
	struct dp_netns *prev, *next;
	__u64 cookie;
	int ns_fd;                     /* -1: the agent's own */
	__u64 dev, ino;                /* its nsfs inode: is any process still in it? */
	struct dp_listener *listeners; /* [slot * LN_DNS_KINDS + kind]; fd -1: none */
	struct dp_usock **active;      /* per slot: the socket taking new UDP queries, or NULL */
	bool has_ipv6;                 /* ::1 sockets too (not in a netns without IPv6) */
	__u32 owner;                   /* the caller's tag (the policy that asked for it) */
};

/* Per slot, over every netns: is it in use (reclaim asks), and whose it is. */
struct dp_slot_use {
	uint64_t last;         /* CLOCK_MONOTONIC usec of the last query */
	unsigned int pending;  /* queries upstream */
	unsigned int conns;    /* TCP client connections */
	bool known;            /* owner holds what ops->slot_lookup() said: see dp_slot_get() */
	struct ln_dns_slot owner;
};

/* A policy's share of the pending table and the TCP clients. */
struct dp_share {
	__u32 policy_id;
	bool used;
	unsigned int pending, conns;
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
	struct dp_netns *ns; /* where it was made: the server is reached from there */
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
	/* ids of the last queries that timed out on it: their late replies are not forged */
	__u16 expired[DP_USOCK_PENDING];
	unsigned int n_expired; /* ever: expired[n % DP_USOCK_PENDING] is the next */
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
	bool reported;         /* its question was listed (audit mode): the answer is not checked */
	struct dp_dest to;
	/* TCP: the message out, then the reply in */
	__u8 *buf;
	size_t len, off;
	/* its key in the answer cache (dp_cache_keep()); NULL: its answer is not kept */
	__u8 *ckey;
	size_t ckey_len;
	__u64 chash;
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
	__u32 policy_id; /* the slot's at accept: its share of the TCP clients */
};

/*
 * What the transport below (dns_proxy_tcp.c, dns_proxy_upstream.c) hands back up
 * to the query path in dns_proxy.c: it calls no name above it.
 */
struct dp_up_ops {
	/* A client's parsed query (dp_query()); @msg is the client's buffer. */
	void (*query)(struct ln_dns_proxy *p, const struct dp_dest *to, __u8 *msg, size_t len,
		      const struct ln_dns_query *q);
	/*
	 * A client's message ln_dns_query_parse() refused with @rc: -EOPNOTSUPP
	 * gets NOTIMP or FORMERR (returns 0), anything else is counted malformed
	 * (returns @rc: a TCP connection is closed).
	 */
	int (*unparsed)(struct ln_dns_proxy *p, const struct dp_dest *to, const __u8 *msg,
			size_t len, int rc);
	/* A reply that answers @u (dp_upstream_check() passed): block, or record and relay. */
	void (*answer)(struct dp_upstream *u, __u8 *msg, size_t len);
	/* @u ends without an answer: SERVFAIL. */
	void (*fail)(struct dp_upstream *u);
};

/* Datagrams waiting for the end of a batch (dns_proxy_tx.c). */
#define DP_TX_MAX DP_MMSG
struct dp_tx {
	bool on;
	unsigned int n;
	int fd[DP_TX_MAX];
	struct dp_upstream *u[DP_TX_MAX]; /* a query upstream: failed if its send fails */
	struct mmsghdr m[DP_TX_MAX];
	struct iovec iov[DP_TX_MAX];
	struct sockaddr_storage addr[DP_TX_MAX];
};

struct ln_dns_proxy {
	sd_event *event;
	const struct dp_up_ops *up;
	struct ln_dns_proxy_config cfg;
	struct dp_netns *netns; /* the agent's own first */
	size_t n_netns;
	int self_ns_fd;         /* the agent's own netns, to come back to */
	struct dp_slot_use *use;
	struct dp_share shares[DP_SHARES];
	bool has_ipv6;
	struct dp_upstream *upstreams, *upstreams_tail; /* oldest first: deadline order */
	size_t n_upstreams;
	sd_event_source *timer; /* one for all upstreams: the oldest one's deadline */
	struct dp_usock *usocks;  /* every upstream UDP socket, retired ones too */
	__u16 rnd[DP_RND_IDS];
	size_t n_rnd;
	bool timer_armed;
	struct dp_conn *conns;
	size_t n_conns;
	struct ln_dns_stats stats;
	/* DP_MMSG datagrams of DP_MSG_MAX + 1 bytes each, read at once (the loop is single-threaded) */
	__u8 *rx;
	struct mmsghdr rx_m[DP_MMSG];
	struct iovec rx_iov[DP_MMSG];
	struct sockaddr_storage rx_addr[DP_MMSG];
	struct dp_tx tx;
	struct ln_dns_answer answer;
	struct dp_cache *cache; /* NULL: answers are not kept (dns-cache = no) */
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

static inline void dp_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Datagram @i of the last dp_recv_batch(). */
static inline __u8 *dp_rx_msg(struct ln_dns_proxy *p, int i)
{
	return p->rx + (size_t)i * (DP_MSG_MAX + 1);
}

/* dns_proxy.c: the query path */
int dp_udp_listener_io(sd_event_source *s, int fd, uint32_t revents, void *ud);
int dp_slot_get(struct ln_dns_proxy *p, __u16 slot, struct ln_dns_slot *out);
int dp_recv_batch(struct ln_dns_proxy *p, int fd);

/*
 * dns_proxy_cache.c: the answer cache. dp_cache_get() writes a kept reply to @q into
 * @msg (the client's buffer: DP_MSG_MAX + 1 bytes) and returns its length (*record: its
 * verdicts are due to be written again, at most once a second per entry), or 0 and
 * keeps @q's key for dp_cache_keep(@u), whose answer dp_cache_put() then keeps, if it
 * may be kept. Keep only replies that passed every check and are relayed as they are.
 */
struct dp_cache;
int dp_cache_start(struct ln_dns_proxy *p, __u32 ttl_max);
void dp_cache_stop(struct ln_dns_proxy *p);
void dp_cache_flush(struct ln_dns_proxy *p);
int dp_cache_get(struct ln_dns_proxy *p, const struct dp_dest *to, const struct ln_dns_slot *slot,
		 __u8 *msg, size_t len, const struct ln_dns_query *q, bool *record);
int dp_cache_keep(struct ln_dns_proxy *p, struct dp_upstream *u);
void dp_cache_put(struct dp_upstream *u, const __u8 *msg, size_t len);

/* dns_proxy_tx.c: sends queued during a batch (@msg must live until dp_tx_end()) */
void dp_tx_begin(struct ln_dns_proxy *p);
int dp_tx_now(int fd, const struct dp_dest *to, const __u8 *msg, size_t len);
int dp_tx(struct ln_dns_proxy *p, int fd, const struct dp_dest *to, const __u8 *msg, size_t len,
	  struct dp_upstream *u);
void dp_tx_send(struct ln_dns_proxy *p);
void dp_tx_end(struct ln_dns_proxy *p);
void dp_tx_forget(struct ln_dns_proxy *p, const struct dp_upstream *u);

/* dns_netns.c: the proxy's sockets per netns (listeners; entering one for upstream sockets) */
int dp_netns_open(struct ln_dns_proxy *p, int ns_fd, struct dp_netns **out, struct ln_error *err);
void dp_netns_free(struct dp_netns *ns);
int dp_netns_socket(const struct dp_netns *ns, int family, int type);

/* dns_proxy_upstream.c: fair shares */
struct dp_share *dp_share_of(struct ln_dns_proxy *p, __u32 policy_id);

/* dns_proxy_tcp.c: TCP clients, length-prefixed */
int dp_tcp_listener_io(sd_event_source *s, int fd, uint32_t revents, void *ud);
void dp_conn_send(struct dp_conn *c, const __u8 *msg, size_t len);
void dp_conn_resume(struct dp_conn *c);
void dp_conn_free(struct dp_conn *c);

/* dns_proxy_upstream.c: upstream sockets (shared UDP, TCP), pending queries, their timer */
int dp_upstream_send(struct dp_upstream *u, __u16 slot_idx, const struct sockaddr_storage *server,
		     socklen_t server_len, __u8 *msg, size_t len);
int dp_pending_add(struct ln_dns_proxy *p, struct dp_upstream *u);
void dp_upstream_free(struct dp_upstream *u);
void dp_usock_free(struct dp_usock *s);
int dp_timer_fire(sd_event_source *src, uint64_t usec, void *ud);

#endif /* LSNITCH_DP_INTERNAL_H */
