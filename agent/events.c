// SPDX-License-Identifier: GPL-2.0
/* Ring buffer consumer: one readable line per event on stdout, one journald entry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <syslog.h>
#include <bpf/libbpf.h>
#include <systemd/sd-journal.h>

#include "agent.h"
#include "control.h"

/* journalctl MESSAGE_ID=... lists every denial (and would-be denial). */
#define LN_MSGID_DENY "3f1c8e4a9b2d4c7e8a6f5b0d1e2c3a49"
#define LN_MSGID_ALLOW "7a2b9c4d1e3f4a5b8c6d0e1f2a3b4c5d"

static const char *const reason_names[] = {
	[LN_REASON_NONE] = "none",
	[LN_REASON_RULE] = "rule",
	[LN_REASON_BLOCKLIST] = "blocklist",
	[LN_REASON_DEFAULT] = "default",
	[LN_REASON_DOMAIN] = "domain",
	[LN_REASON_DOMAIN_BLOCKLIST] = "domain-blocklist",
};

static const char *const hook_names[] = {
	[LN_HOOK_CONNECT4] = "connect4",
	[LN_HOOK_CONNECT6] = "connect6",
	[LN_HOOK_SENDMSG4] = "sendmsg4",
	[LN_HOOK_SENDMSG6] = "sendmsg6",
};

#define NAME_OR(tab, i) ((i) < sizeof(tab) / sizeof(tab[0]) && (tab)[i] ? (tab)[i] : "?")

const char *ln_reason_name(__u8 reason)
{
	return NAME_OR(reason_names, reason);
}

static const char *proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "ip";
	}
}

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

/*
 * Repeats are rate-limited: at most LN_REPEAT_BURST lines per second for the
 * same (process, destination, verdict, rule); the rest are counted and
 * summed up once a second, never silently lost.
 */
#define LN_REPEAT_SLOTS 1024
#define LN_REPEAT_BURST 5

struct repeat_slot {
	__u64 key;
	__u64 second;
	unsigned int count;
};

static struct repeat_slot repeat_slots[LN_REPEAT_SLOTS];
static unsigned long long suppressed;

static __u64 event_key(const struct ln_event *e)
{
	/* FNV-1a over the fields that make two events "the same". */
	const __u8 *parts[] = { (const __u8 *)&e->tgid, e->addr, (const __u8 *)&e->port,
				(const __u8 *)&e->rule_id };
	const size_t lens[] = { sizeof(e->tgid), LN_ADDR_LEN, sizeof(e->port),
				sizeof(e->rule_id) };
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < lens[i]; j++)
			h = (h ^ parts[i][j]) * 0x100000001b3ULL;
	h = (h ^ e->verdict ^ (e->proto << 8) ^ ((__u64)e->flags << 16)) * 0x100000001b3ULL;
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
	sd_event_source_set_time(s, usec + 1000000);
	if (suppressed) {
		ln_log(6, "suppressed %llu repeated events (more than %d a second for the same "
			  "process, destination and rule)", suppressed, LN_REPEAT_BURST);
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

static int handle_event(void *ctx, void *data, size_t size)
{
	struct ln_manager *m = ctx;
	const struct ln_event *e = data;
	char addr[64], dest[80], rule[600], cg[512], comm[LN_COMM_LEN + 1], unit[256];
	const char *verdict, *proto, *policy, *reason, *name;

	if (size < sizeof(*e))
		return 0;
	m->events_seen++;
	if (is_repeat(e))
		return 0;
	ln_addr_format(e->addr, addr, sizeof(addr));
	if (is_v4_mapped(e->addr))
		snprintf(dest, sizeof(dest), "%s:%u", addr, e->port);
	else
		snprintf(dest, sizeof(dest), "[%s]:%u", addr, e->port);
	if (e->rule_id && m->gen)
		ln_rule_id_format(&m->gen->cfg->sources, e->rule_id, rule, sizeof(rule));
	else
		snprintf(rule, sizeof(rule), "-");
	memcpy(comm, e->comm, LN_COMM_LEN);
	comm[LN_COMM_LEN] = '\0';
	for (char *p = comm; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			*p = '?';
	ln_cgroup_name(m, e->cgroup_id, cg, sizeof(cg));
	verdict = verdict_name(e);
	proto = proto_name(e->proto);
	policy = policy_name(m->gen, e->policy_id);
	reason = ln_reason_name(e->reason);
	if (e->policy_id == LN_POLICY_IMPLICIT && e->reason == LN_REASON_DEFAULT)
		reason = reason_names[LN_REASON_NONE]; /* nothing matched, nothing to name */

	name = ln_dns_name_of(m, e->addr);
	printf("%s %s %s pid=%u tid=%u comm=%s uid=%u gid=%u cgroup=%s policy=%s rule=%s "
	       "reason=%s hook=%s%s%s\n",
	       verdict, proto, dest, e->tgid, e->pid, comm, e->uid, e->gid, cg, policy, rule,
	       reason, NAME_OR(hook_names, e->hook), name ? " name=" : "", name ? name : "");
	fflush(stdout);
	if (ln_control_has_subscribers(m)) {
		const struct ln_event_field f[] = {
			LN_EV_STR("verdict", verdict), LN_EV_STR("proto", proto),
			LN_EV_STR("dest", dest), LN_EV_STR("addr", addr),
			LN_EV_NUM("port", e->port), LN_EV_NUM("pid", e->tgid),
			LN_EV_NUM("tid", e->pid), LN_EV_STR("comm", comm),
			LN_EV_NUM("uid", e->uid), LN_EV_NUM("gid", e->gid),
			LN_EV_STR("cgroup", cg), LN_EV_STR("policy", policy),
			LN_EV_STR("rule", rule), LN_EV_STR("reason", reason),
			LN_EV_STR("hook", NAME_OR(hook_names, e->hook)), LN_EV_STR("name", name),
		};

		ln_control_publish(m, f, sizeof(f) / sizeof(f[0]));
	}

	unit_of(cg, unit, sizeof(unit));
	sd_journal_send("MESSAGE=%s %s %s comm=%s pid=%u cgroup=%s rule=%s", verdict, proto, dest,
			comm, e->tgid, cg, rule,
			"MESSAGE_ID=%s",
			e->verdict == LN_VERDICT_DENY ? LN_MSGID_DENY : LN_MSGID_ALLOW,
			"PRIORITY=%d", e->verdict == LN_VERDICT_DENY ? LOG_WARNING : LOG_INFO,
			"LSNITCH_VERDICT=%s", verdict, "LSNITCH_PROTO=%s", proto,
			"LSNITCH_DEST_ADDR=%s", addr, "LSNITCH_DEST_PORT=%u", e->port,
			"LSNITCH_PID=%u", e->tgid, "LSNITCH_TID=%u", e->pid,
			"LSNITCH_COMM=%s", comm, "LSNITCH_UID=%u", e->uid, "LSNITCH_GID=%u", e->gid,
			"LSNITCH_CGROUP=%s", cg, "LSNITCH_UNIT=%s", unit, "LSNITCH_CGROUP_ID=%llu",
			(unsigned long long)e->cgroup_id, "LSNITCH_POLICY=%s", policy,
			"LSNITCH_RULE=%s", rule, "LSNITCH_REASON=%s", reason,
			"LSNITCH_HOOK=%s", NAME_OR(hook_names, e->hook),
			"LSNITCH_DNS_NAME=%s", name ? name : "", NULL);
	return 0;
}

static int on_ringbuf(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_manager *m = userdata;

	ring_buffer__consume(m->rb);
	return 0;
}

int ln_events_start(struct ln_manager *m)
{
	int r;

	m->rb = ring_buffer__new(m->events_fd, handle_event, m, NULL);
	if (!m->rb)
		return -errno;
	r = sd_event_add_io(m->event, &m->rb_source, ring_buffer__epoll_fd(m->rb), EPOLLIN,
			    on_ringbuf, m);
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
