// SPDX-License-Identifier: GPL-2.0
/* Ring buffer consumer: each verdict the kernel reported becomes one record for report.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "names.h"
#include "report.h"

static const char *verdict_name(const struct ln_event *e)
{
	if (e->flags & LN_EVENT_AUDIT)
		return "would-deny";
	return e->verdict == LN_VERDICT_DENY ? "deny" : "allow";
}

static const char *policy_name(const struct ln_generation *g, __u32 id)
{
	if (id == LN_POLICY_IMPLICIT || !g || id > g->cfg->n_policies)
		return "-";
	return g->cfg->policies[id - 1].name;
}

static bool is_v4_mapped(const __u8 *a)
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* The rate limit on repeats (see LN_REPEAT_BURST): one slot per recent key. */
#define LN_REPEAT_SLOTS 1024

struct repeat_slot {
	__u64 key;
	__u64 second;
	unsigned int count;
};

static struct repeat_slot repeat_slots[LN_REPEAT_SLOTS];
static unsigned long long suppressed;
static __u64 kernel_limited; /* LN_CNT_EVENTS_LIMITED at the last report */

/*
 * Events formatted per turn of the loop: the rest wait for the next turn,
 * which comes after the DNS proxy, the control socket and the timers have
 * had theirs (the ring buffer's source has the lowest priority).
 */
#define LN_EVENTS_BUDGET 256
static long budget = -1; /* -1: no limit (ln_events_drain()) */

/* The kernel's key (struct ln_event_key): egress events, budgeted per CPU there, meet it here. */
static __u64 event_key(const struct ln_event *e)
{
	struct ln_event_key k = { .cgroup_id = e->cgroup_id, .tgid = e->tgid,
				  .rule_id = e->rule_id, .reason = e->reason,
				  .verdict = e->verdict, .hook = e->hook,
				  .audit = e->flags & LN_EVENT_AUDIT };
	const __u8 *p = (const __u8 *)&k;
	__u64 h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < sizeof(k); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static bool is_repeat(const struct ln_event *e)
{
	__u64 key = event_key(e), second = e->ts_ns / 1000000000ULL;
	struct repeat_slot *s = &repeat_slots[key % LN_REPEAT_SLOTS];

	if (s->key != key || s->second != second) {
		s->key = key;
		s->second = second;
		s->count = 0;
	}
	if (++s->count <= LN_REPEAT_BURST)
		return false;
	suppressed++;
	return true;
}

static int on_repeat_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ln_record r = LN_RECORD_INIT(LN_RECORD_SUPPRESSED);

	__u64 cnt[LN_CNT_MAX];

	sd_event_source_set_time(s, usec + 1000000);
	if (ln_read_counters(userdata, cnt) >= 0) {
		suppressed += cnt[LN_CNT_EVENTS_LIMITED] - kernel_limited;
		kernel_limited = cnt[LN_CNT_EVENTS_LIMITED];
	}
	if (suppressed) {
		r.count = suppressed;
		ln_report(userdata, &r);
		suppressed = 0;
	}
	return 0;
}

/*
 * The systemd unit a cgroup path belongs to: its deepest component naming a
 * service or scope, else a slice ("-" if none), for LSNITCH_UNIT.
 */
static void unit_of(const char *cg, char *buf, size_t len)
{
	static const char *const kinds[] = { ".service", ".scope", ".slice" };

	snprintf(buf, len, "-");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const char *end = NULL, *p = cg;

		/* the last component ending in this suffix */
		while ((p = strstr(p, kinds[k]))) {
			const char *q = p + strlen(kinds[k]);

			if (*q == '/' || !*q)
				end = q;
			p = q;
		}
		if (end) {
			const char *start = end;

			while (start > cg && start[-1] != '/')
				start--;
			snprintf(buf, len, "%.*s", (int)(end - start), start);
			return;
		}
	}
}

/* The event's address as text, and as "addr:port" / "[addr]:port". */
static void format_dest(const struct ln_event *e, char *addr, size_t alen, char *dest,
			size_t dlen)
{
	ln_addr_format(e->addr, addr, alen);
	if (is_v4_mapped(e->addr))
		snprintf(dest, dlen, "%s:%u", addr, e->port);
	else
		snprintf(dest, dlen, "[%s]:%u", addr, e->port);
}

/* What a verdict is about: the destination, or for a socket-kind refusal the socket. */
struct event_what {
	char addr[64], dest[80];
	char socket[64]; /* "inet/raw/udp", "inet6/dgram/icmpv6", "packet/raw/0x0003" */
	char path[4 * LN_UNIX_PATH_MAX]; /* a unix socket's, made printable */
};

static bool is_sock_event(const struct ln_event *e)
{
	return e->hook == LN_HOOK_SOCK_CREATE || e->hook == LN_HOOK_PACKET_CREATE;
}

/* "family/type/protocol" as socket(2) was called; AF_PACKET's protocol is an ethertype. */
static void format_socket(const struct ln_event *e, char *buf, size_t len)
{
	static const char *const types[] = { [SOCK_STREAM] = "stream", [SOCK_DGRAM] = "dgram",
					     [SOCK_RAW] = "raw", [SOCK_PACKET] = "packet" };
	const char *fam = e->family == AF_INET6 ? "inet6" : "inet";
	const char *proto = ln_proto_name(e->proto);
	char type[16];

	if (e->sock.type < sizeof(types) / sizeof(types[0]) && types[e->sock.type])
		snprintf(type, sizeof(type), "%s", types[e->sock.type]);
	else
		snprintf(type, sizeof(type), "%u", e->sock.type);
	if (e->family == AF_PACKET)
		snprintf(buf, len, "packet/%s/0x%04x", type, ntohs((__u16)e->sock.protocol));
	else if (strcmp(proto, "ip"))
		snprintf(buf, len, "%s/%s/%s", fam, type, proto);
	else
		snprintf(buf, len, "%s/%s/%u", fam, type, e->sock.protocol);
}

static void fill_what(struct ln_manager *m, const struct ln_event *e, struct event_what *w,
		      struct ln_record *r)
{
	if (e->hook == LN_HOOK_CONNECT_UNIX) {
		/* The path by its index in the generation in force (a reload may renumber). */
		const char *path =
			m->gen ? ln_resolver_socket_path(m->gen->cfg, e->un.index) : NULL;

		ln_printable(w->path, sizeof(w->path), path ? path : "?");
		r->proto = "unix";
		r->dest = w->path;
		return;
	}
	if (is_sock_event(e)) {
		format_socket(e, w->socket, sizeof(w->socket));
		r->proto = ln_sock_kind_name(e->sock.kind);
		r->socket = w->socket;
		return;
	}
	format_dest(e, w->addr, sizeof(w->addr), w->dest, sizeof(w->dest));
	r->proto = ln_proto_name(e->proto);
	r->dest = w->dest;
	r->addr = w->addr;
	r->port = e->port;
	r->name = ln_dns_name_of(m, e->policy_id, e->addr);
}

/* comm as the kernel gave it, NUL-terminated, control characters made visible. */
static void format_comm(const struct ln_event *e, char *comm)
{
	memcpy(comm, e->comm, LN_COMM_LEN);
	comm[LN_COMM_LEN] = '\0';
	for (char *p = comm; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			*p = '?';
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct ln_manager *m = ctx;
	const struct ln_event *e = data;
	char rule[600], cg[512], comm[LN_COMM_LEN + 1], unit[256], exe[PATH_MAX], ctr[80];
	struct ln_record r = LN_RECORD_INIT(LN_RECORD_CONNECT);
	struct event_what what;

	if (size < LN_EVENT_SIZE_V1)
		return 0;
	m->events_seen++;
	if (budget > 0)
		budget--;
	if (is_repeat(e))
		return budget ? 0 : -EAGAIN;
	fill_what(m, e, &what, &r);
	if (size >= sizeof(*e) && e->repeats)
		r.repeats = e->repeats;
	if (e->rule_id && m->gen)
		ln_rule_id_format(&m->gen->cfg->sources, e->rule_id, rule, sizeof(rule));
	else
		snprintf(rule, sizeof(rule), "-");
	format_comm(e, comm);
	ln_cgroup_name(m, e->cgroup_id, cg, sizeof(cg));
	unit_of(cg, unit, sizeof(unit));
	r.deny = e->verdict == LN_VERDICT_DENY;
	r.verdict = verdict_name(e);
	r.pid = e->tgid;
	r.tid = e->pid;
	r.comm = comm;
	r.uid = e->uid;
	r.gid = e->gid;
	r.cgroup = cg;
	r.unit = unit;
	r.container = ln_cgroup_container(cg, ctr, sizeof(ctr)) ? ctr : NULL;
	exe[0] = '\0';
	if (m->gen)
		ln_exe_event_path(&m->gen->exe, e->policy_id, e->tgid, exe, sizeof(exe));
	r.exe = exe[0] ? exe : NULL;
	r.cgroup_id = (long long)e->cgroup_id;
	r.policy = policy_name(m->gen, e->policy_id);
	r.rule = rule;
	r.reason = ln_reason_name(e->reason);
	if (e->policy_id == LN_POLICY_IMPLICIT && e->reason == LN_REASON_DEFAULT)
		r.reason = ln_reason_name(LN_REASON_NONE); /* nothing matched, nothing to name */
	r.hook = ln_hook_name(e->hook);
	ln_report(m, &r);
	/* A negative return stops ring_buffer__consume() after this record. */
	return budget ? 0 : -EAGAIN;
}

/* At most LN_EVENTS_BUDGET events; the source is level-triggered: the loop comes back. */
static int on_ringbuf(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_manager *m = userdata;

	budget = LN_EVENTS_BUDGET;
	ring_buffer__consume(m->rb);
	budget = -1;
	return 0;
}

int ln_events_start(struct ln_manager *m)
{
	__u64 cnt[LN_CNT_MAX];
	int r;

	/* A previous agent's count (a takeover) is not ours to report. */
	if (ln_read_counters(m, cnt) >= 0)
		kernel_limited = cnt[LN_CNT_EVENTS_LIMITED];
	m->rb = ring_buffer__new(m->events_fd, handle_event, m, NULL);
	if (!m->rb)
		return -errno;
	r = sd_event_add_io(m->event, &m->rb_source, ring_buffer__epoll_fd(m->rb), EPOLLIN,
			    on_ringbuf, m);
	if (r >= 0)
		r = sd_event_source_set_priority(m->rb_source, SD_EVENT_PRIORITY_IDLE);
	if (r < 0)
		return r;
	r = sd_event_add_time_relative(m->event, &m->repeat_source, CLOCK_MONOTONIC, 1000000,
				       100000, on_repeat_timer, m);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(m->repeat_source, SD_EVENT_ON);
}

/* Format what is queued now, with the generation that produced it. */
void ln_events_drain(struct ln_manager *m)
{
	if (m->rb)
		ring_buffer__consume(m->rb);
}

void ln_events_stop(struct ln_manager *m)
{
	m->rb_source = sd_event_source_disable_unref(m->rb_source);
	m->repeat_source = sd_event_source_disable_unref(m->repeat_source);
	ring_buffer__free(m->rb);
	m->rb = NULL;
}
