// SPDX-License-Identifier: GPL-2.0
/*
 * Who asked a DNS query: the client socket's cookie from sock_diag, then the
 * task the redirect noted under it (bpf/dns_asker.bpf.h). Asked only when an
 * event is reported, so queries pay nothing here.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dns_agent.h"
#include "lsnitch.skel.h"

struct diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

/*
 * The request for the client socket of @b. The kernel's exact lookups take
 * the endpoints in opposite orders: TCP's idiag_src is the socket's own
 * address, UDP's is the peer's ("swapped for historical reasons", udp_diag.c).
 */
static int diag_req_init(struct diag_req *q, const struct ln_dns_block *b)
{
	const struct sockaddr_in *sin = (const void *)b->client;
	const struct sockaddr_in6 *sin6 = (const void *)b->client;
	struct inet_diag_sockid *id = &q->r.id;
	__be32 *own = b->tcp ? id->idiag_src : id->idiag_dst;
	__be32 *peer = b->tcp ? id->idiag_dst : id->idiag_src;
	__be16 *own_port = b->tcp ? &id->idiag_sport : &id->idiag_dport;
	__be16 *peer_port = b->tcp ? &id->idiag_dport : &id->idiag_sport;

	memset(q, 0, sizeof(*q));
	q->nlh.nlmsg_len = sizeof(*q);
	q->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q->nlh.nlmsg_flags = NLM_F_REQUEST;
	q->r.sdiag_family = b->client->sa_family;
	q->r.sdiag_protocol = b->tcp ? IPPROTO_TCP : IPPROTO_UDP;
	q->r.idiag_states = ~0u;
	id->idiag_cookie[0] = id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	*peer_port = htons(b->proxy_port);
	if (b->client->sa_family == AF_INET) {
		own[0] = sin->sin_addr.s_addr;
		*own_port = sin->sin_port;
		peer[0] = htonl(INADDR_LOOPBACK);
	} else if (b->client->sa_family == AF_INET6) {
		memcpy(own, &sin6->sin6_addr, 16);
		*own_port = sin6->sin6_port;
		memcpy(peer, &in6addr_loopback, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

/* The cookie of @b's client socket, in this network namespace. */
static int diag_cookie(const struct ln_dns_block *b, __u64 *cookie)
{
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	} a;
	struct diag_req q;
	const struct inet_diag_msg *msg;
	ssize_t n;
	int fd, rc;

	if (!b->client || diag_req_init(&q, b) < 0)
		return -EAFNOSUPPORT;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	n = send(fd, &q, sizeof(q), 0);
	if (n >= 0)
		n = recv(fd, &a, sizeof(a), 0);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return rc;
	if (!NLMSG_OK(&a.nlh, (size_t)n) || a.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    a.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(*msg)))
		return -ENOENT;
	msg = NLMSG_DATA(&a.nlh);
	*cookie = msg->id.idiag_cookie[0] | (__u64)msg->id.idiag_cookie[1] << 32;
	return 0;
}

int ln_dns_asker_find(struct ln_manager *m, const struct ln_dns_block *b, struct ln_dns_asker *out)
{
	__u64 cookie;
	int rc;

	if (!m->gen || !m->gen->skel)
		return -ENOENT;
	rc = diag_cookie(b, &cookie);
	if (rc < 0)
		return rc;
	if (bpf_map_lookup_elem(bpf_map__fd(m->gen->skel->maps.dns_askers), &cookie, out) < 0)
		return -ENOENT;
	return 0;
}
