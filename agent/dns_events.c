// SPDX-License-Identifier: GPL-2.0
/* The resolver proxy's events: blocked names and refused servers, naming the asker. */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "dns_agent.h"
#include "names.h"
#include "report.h"

static const char *qtype_name(__u16 t, char *buf, size_t len)
{
	switch (t) {
	case 1:
		return "A";
	case 28:
		return "AAAA";
	case 5:
		return "CNAME";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 33:
		return "SRV";
	case 65:
		return "HTTPS";
	default:
		snprintf(buf, len, "TYPE%u", t);
		return buf;
	}
}

/* "127.0.0.1:5353" / "[::1]:5353", "-" if unknown. */
static void format_sockaddr(const struct sockaddr *sa, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	snprintf(buf, len, "-");
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(buf, len, "%s:%u", addr, ntohs(sin->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, len, "[%s]:%u", addr, ntohs(sin6->sin6_port));
	}
}

/* The text a DNS record points to: it lives as long as the record. */
struct dns_event_text {
	char rule[600], client[INET6_ADDRSTRLEN + 8], server[INET6_ADDRSTRLEN + 8], qtype[16];
	char comm[LN_COMM_LEN + 1], cgroup[512], exe[PATH_MAX], container[80];
};

/*
 * pid, comm, uid, gid, cgroup (its container) and executable of the task that
 * asked, when the redirect noted it: the executable as connect events name it.
 */
static void fill_asker(struct ln_manager *m, const struct ln_dns_block *b, struct dns_event_text *t,
		       struct ln_record *r)
{
	struct ln_dns_asker a;

	if (ln_dns_asker_find(m, b, &a) < 0)
		return;
	memcpy(t->comm, a.comm, LN_COMM_LEN);
	t->comm[LN_COMM_LEN] = '\0';
	for (char *p = t->comm; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			*p = '?';
	r->pid = a.tgid;
	r->tid = a.pid;
	r->uid = a.uid;
	r->gid = a.gid;
	r->comm = t->comm;
	r->cgroup_id = (long long)a.cgroup_id;
	r->cgroup = ln_cgroup_name(m, a.cgroup_id, t->cgroup, sizeof(t->cgroup));
	if (ln_cgroup_container(t->cgroup, t->container, sizeof(t->container)))
		r->container = t->container;
	ln_exe_event_path(&m->gen->exe, b->policy_id, a.tgid, t->exe, sizeof(t->exe));
	if (t->exe[0])
		r->exe = t->exe;
}

/* What every proxy event carries: the query, the asker, the policy, the rule. */
static void fill_query(struct ln_manager *m, const struct ln_dns_block *b, __u32 rule_id,
		       struct dns_event_text *t, struct ln_record *r)
{
	const struct ln_config *c = m->gen->cfg;
	__u32 id = b->policy_id;

	ln_rule_id_format(&c->sources, rule_id, t->rule, sizeof(t->rule));
	format_sockaddr(b->client, t->client, sizeof(t->client));
	r->deny = true;
	r->proto = "dns";
	r->name = b->name;
	r->qtype = qtype_name(b->qtype, t->qtype, sizeof(t->qtype));
	r->client = t->client;
	if (b->server) {
		format_sockaddr(b->server, t->server, sizeof(t->server));
		r->server = t->server;
	}
	r->policy = id && id <= c->n_policies ? c->policies[id - 1].name : "-";
	r->rule = t->rule;
	fill_asker(m, b, t, r);
}

/* A listed name the proxy blocked, or (audit) reported and answered. */
void ln_dns_report_blocked(void *ud, const struct ln_dns_block *b)
{
	struct ln_manager *m = ud;
	struct ln_record r = LN_RECORD_INIT(LN_RECORD_DNS);
	struct dns_event_text t;

	fill_query(m, b, b->rule_id, &t, &r);
	r.verdict = b->audit ? "would-deny" : "deny";
	r.reason = ln_reason_name(LN_REASON_DOMAIN_BLOCKLIST);
	ln_report(m, &r);
}

void ln_dns_report_server(struct ln_manager *m, const struct ln_dns_block *b, bool audit)
{
	struct ln_record r = LN_RECORD_INIT(LN_RECORD_DNS);
	struct dns_event_text t;

	fill_query(m, b, b->rule_id, &t, &r);
	r.verdict = audit ? "would-deny" : "deny";
	r.reason = ln_reason_name(LN_REASON_DNS_SERVER);
	ln_report(m, &r);
}
