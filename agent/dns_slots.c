// SPDX-License-Identifier: GPL-2.0
/*
 * The DNS redirect's bookkeeping: the proxy's kernel-chosen ports published in
 * dns_ports, the network namespaces the kernel asks the proxy to serve
 * (dns_requests), idle slots handed back, the slot hash key.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "dns_proxy.h"

/*
 * A slot neither the kernel (redirects) nor the proxy (queries, pending,
 * TCP clients) used for this long goes back to the pool, with new ports.
 */
#define SLOT_IDLE_SEC 10
#define SWEEP_TICKS 5   /* netns with no process left: looked for every 5 s */
#define FAILED_NETNS 16 /* namespaces that could not be served: asked again after 1 s */
/*
 * The same warning about namespaces not served, at most once in 10 s: a flood of them (one
 * user can make thousands) must not flood the log.
 */
#define WARN_EVERY_NS (10 * 1000000000ULL)
#define LN_SERVED_AT_START 0xfffffffeu /* owner tag: running when the agent started */

_Static_assert(LN_DNS_SLOTS * LN_DNS_KINDS * 2 * LN_DNS_MAX_NETNS <= LN_DNS_PORT_ENTRIES,
	       "dns_ports holds both directions of every slot of every netns served");

struct ln_dns_slots {
	__u64 key[2];
	struct ring_buffer *rb;
	sd_event_source *rb_io;
	unsigned int ticks;
	struct {
		__u64 netns, at_ns;
	} failed[FAILED_NETNS];
	unsigned int n_failed;
	__u64 warned_at;       /* the last warning about a namespace not served */
	int warned_rc;         /* and its reason */
	unsigned int unwarned; /* namespaces not served since, not warned about */
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Ports of a previous agent are gone with it: nothing of them may be redirected to. */
static void ports_clear(int fd)
{
	struct ln_dns_port_key k;

	while (bpf_map_get_next_key(fd, NULL, &k) == 0)
		if (bpf_map_delete_elem(fd, &k) < 0)
			break;
}

/*
 * The pid of another agent whose proxy serves these maps (a fresh heartbeat
 * from a live process), or 0. Its ports must not be cleared from under it.
 */
static pid_t other_agent(int state_fd)
{
	struct ln_dns_state st;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(state_fd, &zero, &st) < 0 || !st.n_slots ||
	    (pid_t)st.agent_tgid == getpid() || now_ns() - st.heartbeat_ns > LN_DNS_HEARTBEAT_NS)
		return 0;
	return kill((pid_t)st.agent_tgid, 0) == 0 || errno == EPERM ? (pid_t)st.agent_tgid : 0;
}

int ln_dns_slots_start(struct ln_manager *m, struct ln_error *err)
{
	struct ln_dns_slots *s;
	pid_t other = other_agent(m->dns_state_fd);

	if (other)
		return ln_err(err, -EBUSY, "another agent (pid %d) runs the DNS proxy of these "
			      "pinned maps", (int)other);
	s = calloc(1, sizeof(*s));
	if (!s)
		return ln_err(err, -ENOMEM, "DNS slots: out of memory");
	if (getrandom(s->key, sizeof(s->key), 0) != sizeof(s->key)) {
		free(s);
		return ln_err(err, -EIO, "DNS slot key: getrandom: %s", strerror(errno));
	}
	m->dns_slots = s;
	ports_clear(m->dns_ports_fd);
	return 0;
}

void ln_dns_slots_state(const struct ln_manager *m, struct ln_dns_state *st)
{
	st->policy_slots = LN_DNS_POLICY_SLOTS;
	if (m->dns_slots)
		memcpy(st->hash_key, m->dns_slots->key, sizeof(st->hash_key));
}

static int port_put(int fd, struct ln_dns_port_key *k, __u32 v)
{
	return bpf_map_update_elem(fd, k, &v, BPF_ANY) < 0 ? -errno : 0;
}

int ln_dns_slots_ports(void *ud, __u64 netns, __u16 slot, const __u16 *port, bool on)
{
	struct ln_manager *m = ud;
	struct ln_dns_port_key by_slot = {.netns = netns, .num = slot};
	struct ln_dns_port_key by_port = {.netns = netns, .by_port = 1};
	__u32 cur;
	int rc = 0;

	for (__u16 kind = 0; kind < LN_DNS_KINDS && rc >= 0; kind++) {
		if (!port[kind])
			continue;
		by_slot.kind = by_port.kind = kind;
		by_port.num = port[kind];
		if (on) {
			/* the way back first: a redirect to the port is restored from its start */
			rc = port_put(m->dns_ports_fd, &by_port, slot);
			if (rc >= 0)
				rc = port_put(m->dns_ports_fd, &by_slot, port[kind]);
			continue;
		}
		/* a renewed slot's new port is in place already: only the old one goes */
		if (bpf_map_lookup_elem(m->dns_ports_fd, &by_slot, &cur) == 0 && cur == port[kind])
			bpf_map_delete_elem(m->dns_ports_fd, &by_slot);
		bpf_map_delete_elem(m->dns_ports_fd, &by_port);
	}
	return rc;
}

/*
 * When serving @netns last failed (0: never, as far as the last FAILED_NETNS
 * failures go): within a second it is not tried again, and a failure is
 * reported once.
 */
static __u64 netns_failed_at(const struct ln_dns_slots *s, __u64 netns)
{
	for (unsigned int i = 0; i < s->n_failed && i < FAILED_NETNS; i++)
		if (s->failed[i].netns == netns)
			return s->failed[i].at_ns;
	return 0;
}

static void netns_failed(struct ln_dns_slots *s, __u64 netns, __u64 now)
{
	unsigned int i;

	for (i = 0; i < s->n_failed && i < FAILED_NETNS; i++)
		if (s->failed[i].netns == netns)
			break;
	if (i == s->n_failed || i == FAILED_NETNS)
		i = s->n_failed++ % FAILED_NETNS;
	s->failed[i].netns = netns;
	s->failed[i].at_ns = now;
}

/* Tells that the namespace of @tgid is not served (@rc, @why), unless it was just said. */
static void warn_unserved(struct ln_manager *m, struct ln_dns_slots *s, __u32 tgid, int rc,
			  const char *why, __u64 now)
{
	char more[80] = "";

	if (rc == s->warned_rc && s->warned_at && now - s->warned_at < WARN_EVERY_NS) {
		s->unwarned++;
		return;
	}
	if (s->unwarned)
		snprintf(more, sizeof(more), " (and %u more not served since the last warning)",
			 s->unwarned);
	ln_note(m, LOG_WARNING, "DNS: cannot serve the network namespace of pid %u (its DNS is "
		"refused): %s%s", tgid, why, more);
	s->warned_at = now;
	s->warned_rc = rc;
	s->unwarned = 0;
}

static int on_request(void *ctx, void *data, size_t len)
{
	struct ln_manager *m = ctx;
	struct ln_dns_slots *s = m->dns_slots;
	const struct ln_dns_netns_req *r = data;
	struct ln_error err = {};
	__u64 now = now_ns(), failed_at;
	int rc;

	if (len < sizeof(*r) || !m->dns || ln_dns_proxy_serves(m->dns, r->netns))
		return 0;
	failed_at = netns_failed_at(s, r->netns);
	if (failed_at && now - failed_at < 1000000000ULL)
		return 0;
	/* one policy's processes cannot make namespaces enough to starve the others' */
	if (ln_dns_proxy_n_netns_of(m->dns, r->policy_id) >= LN_DNS_POLICY_NETNS)
		rc = ln_err(&err, -ENOSPC, "its policy has %u namespaces served already",
			    LN_DNS_POLICY_NETNS);
	else
		rc = ln_dns_proxy_add_netns(m->dns, (int)r->tgid, r->netns, r->policy_id, &err);
	if (rc == -EEXIST)
		return 0;
	if (rc < 0) {
		netns_failed(s, r->netns, now);
		if (!failed_at)
			warn_unserved(m, s, r->tgid, rc, err.msg, now);
		return 0;
	}
	ln_note(m, LOG_INFO, "DNS: serving the network namespace of pid %u (%zu served)", r->tgid,
		ln_dns_proxy_n_netns(m->dns));
	return 0;
}

static int on_request_io(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct ln_manager *m = ud;

	ring_buffer__consume(m->dns_slots->rb);
	return 0;
}

/* The manager whose guarded trees serve_running() walks: nftw() takes no user data. */
static struct ln_manager *walking;

/* Serves the netns of every process in cgroup @path (other than the agent's own). */
static int serve_cgroup(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char procs[PATH_MAX];
	struct ln_error err;
	FILE *f;
	int pid;

	if (type != FTW_D || ln_dns_proxy_n_netns(walking->dns) >= LN_DNS_MAX_NETNS)
		return 0;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	f = fopen(procs, "re");
	if (!f)
		return 0;
	while (fscanf(f, "%d", &pid) == 1)
		if (ln_dns_proxy_add_netns(walking->dns, pid, 0, LN_SERVED_AT_START, &err) == 0)
			ln_note(walking, LOG_INFO, "DNS: serving the network namespace of pid %d "
				"(running at start)", pid);
	fclose(f);
	return 0;
}

/*
 * Containers already running when the agent starts (a restart, an upgrade)
 * are served from the start, not after a refused first query each.
 */
static void serve_running(struct ln_manager *m)
{
	walking = m;
	for (size_t i = 0; i < m->n_attach; i++)
		nftw(m->attach[i].path, serve_cgroup, 16, FTW_PHYS | FTW_MOUNT);
	walking = NULL;
}

int ln_dns_slots_listen(struct ln_manager *m, struct ln_error *err)
{
	struct ln_dns_slots *s = m->dns_slots;
	int rc;

	serve_running(m);
	s->rb = ring_buffer__new(m->dns_requests_fd, on_request, m, NULL);
	if (!s->rb)
		return ln_err(err, -errno, "DNS netns requests: %s", strerror(errno));
	rc = sd_event_add_io(m->event, &s->rb_io, ring_buffer__epoll_fd(s->rb), EPOLLIN,
			     on_request_io, m);
	if (rc < 0)
		return ln_err(err, rc, "DNS netns requests: %s", strerror(-rc));
	return 0;
}

void ln_dns_slots_stop(struct ln_manager *m)
{
	struct ln_dns_slots *s = m->dns_slots;

	if (!s)
		return;
	sd_event_source_disable_unref(s->rb_io);
	ring_buffer__free(s->rb);
	free(s);
	m->dns_slots = NULL;
}

/*
 * Hands back slots idle for SLOT_IDLE_SEC, each with new ports first: a
 * client still connected to an old port reaches nobody rather than the
 * slot's next (server, policy).
 */
static void slots_reclaim(struct ln_manager *m)
{
	__u32 keys[LN_DNS_MAX_SLOTS], key, *prev = NULL;
	__u64 now = now_ns();
	struct ln_dns_slot_val v;
	size_t n = 0, i;

	while (n < LN_DNS_MAX_SLOTS && bpf_map_get_next_key(m->dns_slot_owner_fd, prev, &key) == 0) {
		keys[n++] = key;
		prev = &keys[n - 1];
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(m->dns_slot_owner_fd, &keys[i], &v) < 0 ||
		    now - v.last_used_ns < SLOT_IDLE_SEC * 1000000000ULL)
			continue;
		if (keys[i] < LN_DNS_SLOTS &&
		    (!ln_dns_proxy_slot_idle(m->dns, (__u16)keys[i], SLOT_IDLE_SEC * 1000000ULL) ||
		     ln_dns_proxy_slot_renew(m->dns, (__u16)keys[i]) < 0))
			continue;
		bpf_map_delete_elem(m->dns_slot_by_owner_fd, &v.owner);
		bpf_map_delete_elem(m->dns_slot_owner_fd, &keys[i]);
	}
}

void ln_dns_slots_tick(struct ln_manager *m)
{
	size_t gone;

	if (!m->dns || !m->dns_slots)
		return;
	slots_reclaim(m);
	if (++m->dns_slots->ticks % SWEEP_TICKS)
		return;
	gone = ln_dns_proxy_sweep(m->dns);
	if (gone)
		ln_note(m, LOG_INFO, "DNS: %zu network namespaces gone, their sockets closed (%zu served)",
			gone, ln_dns_proxy_n_netns(m->dns));
}
