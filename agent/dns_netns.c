// SPDX-License-Identifier: GPL-2.0
/* The DNS proxy's sockets per network namespace: listeners on kernel-chosen ports, release. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "dp_internal.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static const struct {
	int family, type;
} dp_kinds[LN_DNS_KINDS] = {
	[LN_DNS_UDP4] = {AF_INET, SOCK_DGRAM},
	[LN_DNS_TCP4] = {AF_INET, SOCK_STREAM},
	[LN_DNS_UDP6] = {AF_INET6, SOCK_DGRAM},
	[LN_DNS_TCP6] = {AF_INET6, SOCK_STREAM},
};

/*
 * A socket made inside @ns: socket() takes the calling thread's netns, so the
 * thread joins @ns for that one call. Everything else (bind, connect) acts on
 * the socket's own netns and happens back home.
 */
int dp_netns_socket(const struct dp_netns *ns, int family, int type)
{
	int fd;

	if (ns->ns_fd >= 0 && setns(ns->ns_fd, CLONE_NEWNET) < 0)
		return -errno;
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = -errno;
	/* never go on inside a container's netns: every later socket would be made there */
	if (ns->ns_fd >= 0 && setns(ns->p->self_ns_fd, CLONE_NEWNET) < 0)
		abort();
	return fd;
}

static void dp_listener_close(struct dp_listener *l)
{
	l->io = sd_event_source_disable_unref(l->io);
	dp_close(l->fd);
	l->fd = -1;
	l->port = 0;
}

/* Binds @l on 127.0.0.1 or [::1] (in its netns), on a port the kernel chooses. */
static int dp_listener_open(struct dp_listener *l, struct ln_error *err)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr *sa = l->family == AF_INET ? (void *)&sin : (void *)&sin6;
	socklen_t len = l->family == AF_INET ? sizeof(sin) : sizeof(sin6);
	const char *what = "cannot create socket";
	int one = 1, rcvbuf = DP_UDP_RCVBUF, rc;

	rc = dp_netns_socket(l->ns, l->family, l->type);
	if (rc < 0)
		goto err_rc;
	l->fd = rc;
	what = "cannot set socket options";
	if (l->family == AF_INET6 &&
	    setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err_errno;
	/* bursts wait here while upstreams are slow: best effort; root may pass rmem_max */
	if (l->type == SOCK_DGRAM &&
	    setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	what = "cannot bind";
	if (bind(l->fd, sa, len) < 0 || getsockname(l->fd, sa, &len) < 0)
		goto err_errno;
	l->port = ntohs(l->family == AF_INET ? sin.sin_port : sin6.sin6_port);
	what = "cannot listen";
	if (l->type == SOCK_STREAM && listen(l->fd, SOMAXCONN) < 0)
		goto err_errno;
	what = "cannot watch socket";
	rc = sd_event_add_io(l->p->event, &l->io, l->fd, EPOLLIN,
			     l->type == SOCK_STREAM ? dp_tcp_listener_io : dp_udp_listener_io, l);
	if (rc < 0)
		goto err_rc;
	return 0;

err_errno:
	rc = -errno;
err_rc:
	dp_listener_close(l);
	return ln_err(err, rc, "DNS proxy: %s/%s: %s: %s",
		      l->family == AF_INET ? "127.0.0.1" : "[::1]",
		      l->type == SOCK_STREAM ? "tcp" : "udp", what, strerror(-rc));
}

/* Whether @rc from opening a ::1 socket means the netns has no IPv6 at all. */
static bool dp_is_no_ipv6(int rc)
{
	return rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL;
}

static void dp_ports_of(const struct dp_listener *l, __u16 *port)
{
	size_t k;

	for (k = 0; k < LN_DNS_KINDS; k++)
		port[k] = l[k].fd >= 0 ? l[k].port : 0;
}

/* Tells the agent the ports of @l[] (@on), or that they go. */
static int dp_publish(struct dp_netns *ns, __u16 slot, const struct dp_listener *l, bool on)
{
	__u16 port[LN_DNS_KINDS];

	dp_ports_of(l, port);
	return ns->p->cfg.ops->ports(ns->p->cfg.ud, ns->cookie, slot, port, on);
}

/* Opens and publishes the sockets of @slot in @ns into @l[LN_DNS_KINDS]. */
static int dp_slot_open(struct dp_netns *ns, __u16 slot, struct dp_listener *l,
			struct ln_error *err)
{
	size_t k;
	int rc = 0;

	for (k = 0; k < LN_DNS_KINDS; k++)
		l[k] = (struct dp_listener){.p = ns->p, .ns = ns, .fd = -1, .slot = slot,
					    .family = dp_kinds[k].family, .type = dp_kinds[k].type};
	for (k = 0; k < LN_DNS_KINDS && rc >= 0; k++) {
		if (l[k].family == AF_INET6 && !ns->has_ipv6)
			continue;
		rc = dp_listener_open(&l[k], err);
		if (rc < 0 && l[k].family == AF_INET6 && dp_is_no_ipv6(rc) && k == LN_DNS_UDP6 &&
		    slot == 0) {
			ns->has_ipv6 = false;
			rc = 0;
		}
	}
	if (rc >= 0) {
		rc = dp_publish(ns, slot, l, true);
		if (rc < 0)
			ln_err(err, rc, "DNS proxy: cannot publish ports: %s", strerror(-rc));
	}
	if (rc < 0) {
		for (k = 0; k < LN_DNS_KINDS; k++)
			dp_listener_close(&l[k]);
	}
	return rc;
}

/* Unpublishes and closes the sockets of @slot in @ns. */
static void dp_slot_close(struct dp_netns *ns, __u16 slot)
{
	struct dp_listener *l = &ns->listeners[(size_t)slot * LN_DNS_KINDS];
	size_t k;

	dp_publish(ns, slot, l, false);
	for (k = 0; k < LN_DNS_KINDS; k++)
		dp_listener_close(&l[k]);
}

int ln_dns_proxy_slot_renew(struct ln_dns_proxy *p, __u16 slot)
{
	struct dp_listener fresh[LN_DNS_KINDS], *l;
	__u16 old[LN_DNS_KINDS];
	struct ln_error err;
	struct dp_netns *ns;
	size_t k;
	int rc;

	/* the slot may change hands after this: ask whose it is again (dp_slot_get()) */
	p->use[slot].known = false;
	for (ns = p->netns; ns; ns = ns->next) {
		l = &ns->listeners[(size_t)slot * LN_DNS_KINDS];
		dp_ports_of(l, old);
		/* the new ports are published first: the agent keeps them when the old go */
		rc = dp_slot_open(ns, slot, fresh, &err);
		if (rc < 0)
			return rc;
		p->cfg.ops->ports(p->cfg.ud, ns->cookie, slot, old, false);
		for (k = 0; k < LN_DNS_KINDS; k++) {
			dp_listener_close(&l[k]);
			l[k] = fresh[k];
			if (l[k].io)
				sd_event_source_set_userdata(l[k].io, &l[k]);
		}
	}
	return 0;
}

/* The netns cookie (what bpf_get_netns_cookie() says) of @ns. */
static int dp_netns_cookie(struct dp_netns *ns, struct ln_error *err)
{
	socklen_t len = sizeof(ns->cookie);
	int fd = dp_netns_socket(ns, AF_INET, SOCK_DGRAM), rc = 0;

	if (fd < 0)
		return ln_err(err, fd, "DNS proxy: socket in netns: %s", strerror(-fd));
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &ns->cookie, &len) < 0)
		rc = ln_err(err, -errno, "DNS proxy: SO_NETNS_COOKIE: %s", strerror(errno));
	close(fd);
	return rc;
}

/* Serves the netns @ns_fd (-1: the agent's own; taken over even on error). */
int dp_netns_open(struct ln_dns_proxy *p, int ns_fd, struct dp_netns **out, struct ln_error *err)
{
	struct dp_netns *ns = calloc(1, sizeof(*ns));
	size_t i, n = (size_t)p->cfg.n_slots * LN_DNS_KINDS;
	struct stat st;
	int rc = -ENOMEM;

	if (!ns) {
		dp_close(ns_fd);
		return ln_err(err, rc, "DNS proxy: out of memory");
	}
	ns->p = p;
	ns->ns_fd = ns_fd;
	ns->has_ipv6 = true;
	DP_LINK(p->netns, ns);
	p->n_netns++;
	ns->listeners = calloc(n, sizeof(*ns->listeners));
	ns->active = calloc(p->cfg.n_slots, sizeof(*ns->active));
	if (!ns->listeners || !ns->active) {
		rc = ln_err(err, rc, "DNS proxy: out of memory");
		goto err_free;
	}
	for (i = 0; i < n; i++)
		ns->listeners[i].fd = -1;
	if (fstat(ns_fd >= 0 ? ns_fd : p->self_ns_fd, &st) < 0) {
		rc = ln_err(err, -errno, "DNS proxy: netns: %s", strerror(errno));
		goto err_free;
	}
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	rc = dp_netns_cookie(ns, err);
	for (i = 0; i < p->cfg.n_slots && rc >= 0; i++)
		rc = dp_slot_open(ns, (__u16)i, &ns->listeners[i * LN_DNS_KINDS], err);
	if (rc < 0)
		goto err_free;
	*out = ns;
	return 0;

err_free:
	dp_netns_free(ns);
	return rc;
}

/* Ends everything of @ns: its clients, their queries, its upstream sockets, its listeners. */
void dp_netns_free(struct dp_netns *ns)
{
	struct ln_dns_proxy *p;
	struct dp_upstream *u, *un;
	struct dp_usock *s, *sn;
	struct dp_conn *c, *cn;
	size_t i;

	if (!ns)
		return;
	p = ns->p;
	for (c = p->conns; c; c = cn) {
		cn = c->next;
		if (c->l->ns == ns)
			dp_conn_free(c);
	}
	for (u = p->upstreams; u; u = un) {
		un = u->next;
		if (u->to.l && u->to.l->ns == ns)
			dp_upstream_free(u);
	}
	for (s = p->usocks; s; s = sn) {
		sn = s->next;
		if (s->ns == ns)
			dp_usock_free(s);
	}
	for (i = 0; ns->listeners && i < p->cfg.n_slots; i++)
		dp_slot_close(ns, (__u16)i);
	DP_UNLINK(p->netns, ns);
	p->n_netns--;
	dp_close(ns->ns_fd);
	free(ns->listeners);
	free(ns->active);
	free(ns);
}

static struct dp_netns *dp_netns_find(const struct ln_dns_proxy *p, __u64 dev, __u64 ino)
{
	struct dp_netns *ns;

	for (ns = p->netns; ns; ns = ns->next)
		if (ns->dev == dev && ns->ino == ino)
			return ns;
	return NULL;
}

/*
 * The netns of process @pid, opened, if its cookie is @cookie (0: any): the
 * fd, or -errno (-ESTALE: another netns, -EEXIST: one served already).
 */
static int dp_netns_probe(struct ln_dns_proxy *p, const char *pid, __u64 cookie)
{
	struct dp_netns probe = {.p = p};
	struct ln_error err;
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%.20s/ns/net", pid);
	probe.ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (probe.ns_fd < 0 || fstat(probe.ns_fd, &st) < 0) {
		dp_close(probe.ns_fd);
		return errno == ENOENT ? -ESRCH : -errno;
	}
	if (dp_netns_find(p, st.st_dev, st.st_ino) || dp_netns_cookie(&probe, &err) < 0 ||
	    (cookie && probe.cookie != cookie)) {
		close(probe.ns_fd);
		return dp_netns_find(p, st.st_dev, st.st_ino) ? -EEXIST : -ESTALE;
	}
	return probe.ns_fd;
}

/* A process in the netns @cookie, any: the one that asked may be gone already. */
static int dp_netns_search(struct ln_dns_proxy *p, __u64 cookie)
{
	struct dirent *e;
	DIR *d = opendir("/proc");
	int fd = -ESRCH;

	if (!d)
		return -errno;
	while (fd < 0 && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			fd = dp_netns_probe(p, e->d_name, cookie);
	closedir(d);
	return fd < 0 ? -ESRCH : fd;
}

int ln_dns_proxy_add_netns(struct ln_dns_proxy *p, int pid, __u64 cookie, __u32 owner,
			   struct ln_error *err)
{
	struct dp_netns *ns;
	char name[16];
	int fd;

	if (cookie && ln_dns_proxy_serves(p, cookie))
		return -EEXIST;
	if (p->n_netns >= LN_DNS_MAX_NETNS)
		return ln_err(err, -ENOSPC, "DNS proxy: %u namespaces served already",
			      LN_DNS_MAX_NETNS);
	snprintf(name, sizeof(name), "%d", pid);
	fd = dp_netns_probe(p, name, cookie);
	if (fd == -EEXIST && !cookie)
		return fd;
	if (fd < 0 && cookie)
		fd = dp_netns_search(p, cookie);
	if (fd < 0)
		return ln_err(err, fd, "DNS proxy: no process in netns %llu any more",
			      (unsigned long long)cookie);
	fd = dp_netns_open(p, fd, &ns, err);
	if (fd >= 0)
		ns->owner = owner;
	return fd;
}

bool ln_dns_proxy_serves(const struct ln_dns_proxy *p, __u64 cookie)
{
	const struct dp_netns *ns;

	for (ns = p->netns; ns; ns = ns->next)
		if (ns->cookie == cookie)
			return true;
	return false;
}

size_t ln_dns_proxy_n_netns(const struct ln_dns_proxy *p)
{
	return p->n_netns;
}

size_t ln_dns_proxy_n_netns_of(const struct ln_dns_proxy *p, __u32 owner)
{
	const struct dp_netns *ns;
	size_t n = 0;

	for (ns = p->netns; ns; ns = ns->next)
		n += ns->ns_fd >= 0 && ns->owner == owner;
	return n;
}

/* Marks in @alive the served netns some process of /proc is in. */
static void dp_netns_mark_alive(const struct ln_dns_proxy *p, bool *alive)
{
	const struct dp_netns *ns;
	struct dirent *e;
	char path[64];
	struct stat st;
	DIR *d = opendir("/proc");
	size_t i;

	if (!d) {
		memset(alive, 1, p->n_netns * sizeof(*alive)); /* cannot tell: keep them all */
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", e->d_name);
		if (stat(path, &st) < 0)
			continue;
		for (ns = p->netns, i = 0; ns; ns = ns->next, i++)
			if (ns->dev == st.st_dev && ns->ino == st.st_ino)
				alive[i] = true;
	}
	closedir(d);
}

size_t ln_dns_proxy_sweep(struct ln_dns_proxy *p)
{
	bool alive[LN_DNS_MAX_NETNS] = {false};
	struct dp_netns *ns, *next;
	size_t i, gone = 0;

	if (p->n_netns <= 1)
		return 0;
	dp_netns_mark_alive(p, alive);
	for (ns = p->netns, i = 0; ns; ns = next, i++) {
		next = ns->next;
		if (ns->ns_fd >= 0 && !alive[i]) {
			dp_netns_free(ns);
			gone++;
		}
	}
	return gone;
}

bool ln_dns_proxy_slot_idle(const struct ln_dns_proxy *p, __u16 slot, uint64_t idle_usec)
{
	const struct dp_slot_use *u = &p->use[slot];
	uint64_t now;

	if (slot >= p->cfg.n_slots || sd_event_now(p->event, CLOCK_MONOTONIC, &now) < 0)
		return false;
	return !u->pending && !u->conns && now - u->last >= idle_usec;
}
