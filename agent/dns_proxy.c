// SPDX-License-Identifier: GPL-2.0
/* The DNS resolver proxy: start/stop, queries and answers (block, audit, relay). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "dp_internal.h"

_Static_assert((int)LN_DNS_BLOCK_NXDOMAIN == (int)LN_DNS_REPLY_NXDOMAIN &&
		       (int)LN_DNS_BLOCK_REFUSED == (int)LN_DNS_REPLY_REFUSED &&
		       (int)LN_DNS_BLOCK_ZERO == (int)LN_DNS_REPLY_ZERO,
	       "block modes are reply kinds");

/* ---- delivering answers to clients ---- */

/* @msg is the proxy's own (sent now) or in p->rx (@batched: may wait for the batch's end). */
static void dp_deliver(struct ln_dns_proxy *p, const struct dp_dest *to, const __u8 *msg,
		       size_t len, bool batched)
{
	if (to->conn)
		dp_conn_send(to->conn, msg, len);
	else if (batched)
		dp_tx(p, to->l->fd, to, msg, len, NULL);
	else
		dp_tx_now(to->l->fd, to, msg, len);
}

/* Answers @q with a reply the proxy makes (block, REFUSED, SERVFAIL). */
static void dp_reply(struct ln_dns_proxy *p, const struct dp_dest *to, const struct ln_dns_query *q,
		     enum ln_dns_reply_kind kind)
{
	__u8 out[DP_REPLY_MAX];
	int n = ln_dns_reply_build(q, kind, out, sizeof(out));

	if (n < 0)
		return;
	if (kind == LN_DNS_REPLY_SERVFAIL)
		p->stats.servfail++;
	dp_deliver(p, to, out, (size_t)n, false);
}

/* The answer @a's addresses recorded for @policy_id (ops->record) before it is relayed. */
static void dp_record(struct ln_dns_proxy *p, __u32 policy_id, const struct ln_dns_answer *a,
		      const char **names)
{
	for (size_t i = 0; i < a->n_names; i++)
		names[i] = a->names[i];
	p->cfg.ops->record(p->cfg.ud, policy_id, names, a->n_names, a->addrs, a->n_addrs);
}

/*
 * A reply from the answer cache (dp_cache_get() wrote it into @msg): when @record, its
 * addresses are recorded again for the asker's policy (the kept entry is that policy's
 * own), with the TTLs left, so the asker's connects find their verdicts as after a
 * relayed answer.
 */
static void dp_cached_answer(struct ln_dns_proxy *p, const struct dp_dest *to,
			     const struct ln_dns_query *q, __u32 policy_id, __u8 *msg, size_t len,
			     bool record)
{
	const char *names[LN_DNS_MAX_CHAIN];

	if (record) {
		if (ln_dns_answer_parse(msg, len, q, &p->answer) < 0 ||
		    p->answer.n_addrs_dropped) {
			dp_reply(p, to, q, LN_DNS_REPLY_SERVFAIL); /* kept only if it parsed */
			return;
		}
		dp_record(p, policy_id, &p->answer, names);
	}
	p->stats.answered++;
	dp_deliver(p, to, msg, len, true);
}

/* ---- queries from clients ---- */

/* See dp_up_ops.unparsed: other opcodes get NOTIMP, not silence (the client would retry). */
static int dp_unparsed(struct ln_dns_proxy *p, const struct dp_dest *to, const __u8 *msg,
		       size_t len, int rc)
{
	__u8 out[LN_DNS_HDR_LEN];
	int n = rc == -EOPNOTSUPP ? ln_dns_error_build(msg, len, out, sizeof(out)) : rc;

	if (n < 0) {
		p->stats.malformed++;
		return rc;
	}
	p->stats.notimp++;
	dp_deliver(p, to, out, (size_t)n, false);
	return 0;
}

/* Who asked, for the agent: the client socket, and the proxy port it asked on. */
static void dp_block_init(struct ln_dns_proxy *p, struct ln_dns_block *b, const struct dp_dest *to,
			  __u32 policy_id, __u16 qtype)
{
	*b = (struct ln_dns_block){.policy_id = policy_id, .qtype = qtype,
				   .client = (const struct sockaddr *)&to->addr,
				   .proxy_port = to->l->port,
				   .tcp = to->l->type == SOCK_STREAM};
}

/* Whether the agent refuses @q because its policy may not ask the slot's server. */
static bool dp_server_refused(struct ln_dns_proxy *p, const struct dp_dest *to,
			      const struct ln_dns_query *q, const struct ln_dns_slot *slot)
{
	struct ln_dns_block b;

	if (!p->cfg.ops->server_refused)
		return false;
	dp_block_init(p, &b, to, slot->policy_id, q->qtype);
	b.name = q->qname;
	b.server = (const struct sockaddr *)&slot->server;
	return p->cfg.ops->server_refused(p->cfg.ud, &b);
}

/*
 * Looks up @names (the question, or a CNAME chain) for @policy_id and reports
 * the first listed one. Returns whether the query gets the block reply: not
 * when nothing is listed, nor in audit mode, where the listed name is only
 * reported (*reported set) and the query is answered as if it were not.
 */
static bool dp_block_check(struct ln_dns_proxy *p, __u32 policy_id, const char *const *names,
			   size_t n, const struct dp_dest *to, __u16 qtype, bool *reported)
{
	struct ln_dns_block b;
	size_t i;

	dp_block_init(p, &b, to, policy_id, qtype);

	for (i = 0; i < n && !b.rule_id; i++) {
		b.name = names[i];
		b.audit = false;
		b.rule_id = p->cfg.ops->name_blocked(p->cfg.ud, policy_id, b.name, &b.audit);
	}
	if (!b.rule_id)
		return false;
	if (!b.audit)
		p->stats.blocked++;
	p->cfg.ops->blocked(p->cfg.ud, &b);
	*reported = true;
	return !b.audit;
}

static struct dp_upstream *dp_upstream_new(const struct dp_dest *to, const struct ln_dns_query *q,
					   __u32 policy_id, bool reported)
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
	u->reported = reported;
	u->to = *to;
	u->buf = NULL;
	u->len = u->off = 0;
	u->ckey = NULL;
	u->ckey_len = 0;
	return u;
}

/*
 * Which (server, policy) @slot stands for, asked of the agent (a map lookup)
 * once per slot's life, not per query. Safe to keep: the kernel claims a free
 * slot and never changes its owner; only the agent frees one, and only after
 * ln_dns_proxy_slot_renew() gave it new ports, which forgets what is kept here.
 * An unknown slot is asked again each time (the kernel may claim it any time).
 */
int dp_slot_get(struct ln_dns_proxy *p, __u16 slot, struct ln_dns_slot *out)
{
	struct dp_slot_use *u = &p->use[slot];
	int rc;

	if (!u->known) {
		rc = p->cfg.ops->slot_lookup(p->cfg.ud, slot, &u->owner);
		if (rc < 0)
			return rc;
		u->known = true;
	}
	*out = u->owner;
	return 0;
}

/*
 * Handles one parsed client query: unknown slot, blocked name, or forward.
 * For TCP the connection is busy until the returned upstream ends. @msg is
 * the client's buffer: the upstream id is written into it.
 */
static void dp_query(struct ln_dns_proxy *p, const struct dp_dest *to, __u8 *msg, size_t len,
		     const struct ln_dns_query *q)
{
	const char *qname = q->qname;
	struct ln_dns_slot slot;
	struct dp_upstream *u;
	bool reported = false, record;
	int n;

	if (dp_slot_get(p, to->l->slot, &slot) < 0 ||
	    dp_server_refused(p, to, q, &slot)) {
		p->stats.refused++;
		dp_reply(p, to, q, LN_DNS_REPLY_REFUSED);
		return;
	}
	if (dp_block_check(p, slot.policy_id, &qname, 1, to, q->qtype, &reported)) {
		dp_reply(p, to, q, (enum ln_dns_reply_kind)p->cfg.block_mode);
		return;
	}
	n = reported ? 0 : dp_cache_get(p, to, &slot, msg, len, q, &record);
	if (n > 0) {
		dp_cached_answer(p, to, q, slot.policy_id, msg, (size_t)n, record);
		return;
	}
	u = p->n_upstreams < DP_MAX_PENDING ? dp_upstream_new(to, q, slot.policy_id, reported)
					    : NULL;
	if (u && dp_cache_keep(p, u) < 0) {
		dp_upstream_free(u);
		u = NULL;
	}
	if (!u) {
		dp_reply(p, to, q, LN_DNS_REPLY_SERVFAIL);
		return;
	}
	if (u->to.conn)
		u->to.conn->busy = u;
	if (dp_pending_add(p, u) < 0 ||
	    dp_upstream_send(u, to->l->slot, &slot.server, slot.server_len, msg, len) < 0) {
		/* not dp_upstream_fail(): a TCP caller goes on with the connection itself */
		dp_reply(p, to, q, LN_DNS_REPLY_SERVFAIL);
		dp_upstream_free(u);
		return;
	}
	p->stats.forwarded++;
}

/* ---- answers from upstream ---- */

/* Ends @u: a TCP client connection goes on with its next query. */
static void dp_upstream_done(struct dp_upstream *u)
{
	struct dp_conn *c = u->to.conn;

	dp_upstream_free(u);
	if (c)
		dp_conn_resume(c);
}

/* @u ends without an answer: SERVFAIL (dp_up_ops.fail). */
static void dp_upstream_fail(struct dp_upstream *u)
{
	dp_reply(u->p, &u->to, &u->q, LN_DNS_REPLY_SERVFAIL);
	dp_upstream_done(u);
}

/*
 * A reply that answers our query: block it if any name of its CNAME chain is
 * listed (CNAME cloaking), else record its addresses and only then relay it.
 */
static void dp_upstream_answer(struct dp_upstream *u, __u8 *msg, size_t len)
{
	struct ln_dns_proxy *p = u->p;
	struct ln_dns_answer *a = &p->answer;
	const char *names[LN_DNS_MAX_CHAIN];
	int rc;

	rc = ln_dns_answer_parse(msg, len, &u->q, a);
	if (rc < 0) {
		if (rc == -EBADMSG)
			p->stats.malformed++;
		dp_upstream_fail(u);
		return;
	}
	if (a->n_addrs_dropped) {
		/* relayed, the addresses past those recorded would escape deny-domain */
		dp_upstream_fail(u);
		return;
	}
	for (size_t i = 0; i < a->n_names; i++)
		names[i] = a->names[i];
	if (!u->reported && dp_block_check(p, u->policy_id, names, a->n_names, &u->to, u->q.qtype,
					   &u->reported)) {
		dp_reply(p, &u->to, &u->q, (enum ln_dns_reply_kind)p->cfg.block_mode);
		dp_upstream_done(u);
		return;
	}
	dp_record(p, u->policy_id, a, names);
	if (a->truncated)
		p->stats.truncated++;
	p->stats.answered++;
	ln_dns_set_id(msg, len, u->q.id);
	/* kept only now: it passed the checks, its names are recorded, it is relayed whole */
	if (!u->reported)
		dp_cache_put(u, msg, len);
	dp_deliver(p, &u->to, msg, len, true);
	dp_upstream_done(u);
}

/* What the transport below hands back up: see struct dp_up_ops. */
static const struct dp_up_ops dp_up_ops = {
	.query = dp_query,
	.unparsed = dp_unparsed,
	.answer = dp_upstream_answer,
	.fail = dp_upstream_fail,
};

/* ---- UDP clients ---- */

/*
 * Up to DP_MMSG datagrams from @fd in one call, into p->rx (p->rx_m[i].msg_len
 * bytes at dp_rx_msg(p, i), from p->rx_addr[i]): how many, or -errno (-EAGAIN:
 * none waiting). Fewer than DP_MMSG: the queue was empty, no need to ask again.
 */
int dp_recv_batch(struct ln_dns_proxy *p, int fd)
{
	int i, n;

	for (i = 0; i < DP_MMSG; i++) {
		p->rx_iov[i] = (struct iovec){dp_rx_msg(p, i), DP_MSG_MAX + 1};
		p->rx_m[i].msg_hdr = (struct msghdr){.msg_name = &p->rx_addr[i],
						     .msg_namelen = sizeof(p->rx_addr[i]),
						     .msg_iov = &p->rx_iov[i], .msg_iovlen = 1};
	}
	n = recvmmsg(fd, p->rx_m, DP_MMSG, MSG_DONTWAIT, NULL);
	return n < 0 ? -errno : n;
}

/* The client's datagram @i of the last batch on @l: parsed, then handled as a query. */
static void dp_udp_query(struct dp_listener *l, int i)
{
	struct ln_dns_proxy *p = l->p;
	struct dp_dest to = {.l = l, .addr_len = p->rx_m[i].msg_hdr.msg_namelen};
	size_t len = p->rx_m[i].msg_len;
	__u8 *msg = dp_rx_msg(p, i);
	struct ln_dns_query q;
	int rc;

	if (to.addr_len > sizeof(to.addr))
		return;
	memcpy(&to.addr, &p->rx_addr[i], to.addr_len);
	p->stats.queries++;
	rc = len > DP_MSG_MAX ? -EBADMSG : ln_dns_query_parse(msg, len, &q);
	if (rc < 0) {
		dp_unparsed(p, &to, msg, len, rc);
		return;
	}
	dp_query(p, &to, msg, len, &q);
}

int dp_udp_listener_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct dp_listener *l = ud;
	struct ln_dns_proxy *p = l->p;
	int i, n, taken = 0;

	sd_event_now(p->event, CLOCK_MONOTONIC, &p->use[l->slot].last);
	do {
		dp_tx_begin(p);
		n = dp_recv_batch(p, fd);
		for (i = 0; i < n; i++)
			dp_udp_query(l, i);
		dp_tx_end(p);
		taken += n;
	} while (n == DP_MMSG && taken < DP_BATCH);
	return 0;
}

/* ---- the proxy ---- */

int ln_dns_proxy_start(sd_event *event, const struct ln_dns_proxy_config *cfg,
		       struct ln_dns_proxy **out, struct ln_error *err)
{
	struct dp_netns *ns;
	struct ln_dns_proxy *p;
	int rc;

	*out = NULL;
	if (!cfg->ops || !cfg->ops->slot_lookup || !cfg->ops->name_blocked || !cfg->ops->record ||
	    !cfg->ops->blocked || !cfg->ops->ports || cfg->n_slots > LN_DNS_SLOTS ||
	    (unsigned int)cfg->block_mode > LN_DNS_BLOCK_ZERO)
		return ln_err(err, -EINVAL, "DNS proxy: incomplete configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return ln_err(err, -ENOMEM, "DNS proxy: out of memory");
	p->event = sd_event_ref(event);
	p->cfg = *cfg;
	p->up = &dp_up_ops;
	if (!p->cfg.n_slots)
		p->cfg.n_slots = LN_DNS_SLOTS;
	if (!p->cfg.timeout_ms)
		p->cfg.timeout_ms = LN_DNS_TIMEOUT_MS;
	p->self_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	p->use = calloc(p->cfg.n_slots, sizeof(*p->use));
	p->rx = malloc((size_t)DP_MMSG * (DP_MSG_MAX + 1));
	if (!p->use || !p->rx) {
		rc = ln_err(err, -ENOMEM, "DNS proxy: out of memory");
		goto err_stop;
	}
	if (p->self_ns_fd < 0) {
		rc = ln_err(err, -errno, "DNS proxy: %s", strerror(errno));
		goto err_stop;
	}
	/* one timer for every upstream query, armed while any is pending */
	rc = sd_event_add_time(p->event, &p->timer, CLOCK_MONOTONIC, 0, DP_TIMER_ACCURACY,
			       dp_timer_fire, p);
	if (rc >= 0)
		rc = sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
	if (rc < 0) {
		rc = ln_err(err, rc, "DNS proxy: cannot add timer: %s", strerror(-rc));
		goto err_stop;
	}
	rc = dp_netns_open(p, -1, &ns, err);
	if (rc < 0)
		goto err_stop;
	p->has_ipv6 = ns->has_ipv6;
	rc = ln_dns_proxy_set_cache(p, cfg->cache, cfg->cache_ttl_max);
	if (rc < 0) {
		rc = ln_err(err, rc, "DNS proxy: answer cache: %s", strerror(-rc));
		goto err_stop;
	}
	*out = p;
	return 0;

err_stop:
	ln_dns_proxy_stop(p);
	return rc;
}

void ln_dns_proxy_stop(struct ln_dns_proxy *p)
{
	if (!p)
		return;
	while (p->conns)
		dp_conn_free(p->conns);
	while (p->upstreams)
		dp_upstream_free(p->upstreams);
	while (p->usocks)
		dp_usock_free(p->usocks);
	while (p->netns)
		dp_netns_free(p->netns);
	sd_event_source_disable_unref(p->timer);
	dp_cache_stop(p);
	free(p->use);
	free(p->rx);
	if (p->self_ns_fd > 0)
		close(p->self_ns_fd);
	sd_event_unref(p->event);
	free(p);
}

void ln_dns_proxy_stats(const struct ln_dns_proxy *p, struct ln_dns_stats *out)
{
	*out = p->stats;
	out->netns = p->n_netns;
}

int ln_dns_proxy_set_block_mode(struct ln_dns_proxy *p, enum ln_dns_block_mode mode)
{
	if ((unsigned int)mode > LN_DNS_BLOCK_ZERO)
		return -EINVAL;
	p->cfg.block_mode = mode;
	return 0;
}

int ln_dns_proxy_set_cache(struct ln_dns_proxy *p, bool on, __u32 ttl_max)
{
	p->cfg.cache = on;
	if (!on) {
		dp_cache_stop(p);
		return 0;
	}
	return dp_cache_start(p, ttl_max ? ttl_max : 3600);
}

bool ln_dns_proxy_has_ipv6(const struct ln_dns_proxy *p)
{
	return p->has_ipv6;
}
