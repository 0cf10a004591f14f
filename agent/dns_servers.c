// SPDX-License-Identifier: GPL-2.0
/*
 * Which resolvers a policy may ask: its dns-servers = list ([global]'s when it
 * has none; "system" is /etc/resolv.conf's nameservers, read at each load).
 * A query to another server goes out only if the policy would let the process
 * reach that server itself (ln_decide: an allow rule, or default = allow
 * without a deny); else the proxy answers REFUSED and forwards nothing.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dns_agent.h"

#define RESOLV_CONF "/etc/resolv.conf"
/* systemd-resolved's own upstreams, for programs that read them instead of its stub */
#define RESOLVED_UPSTREAMS "/run/systemd/resolve/resolv.conf"

static int add_text(struct ln_dns_servers *s, const char *addr)
{
	struct ln_prefix p;

	return ln_prefix_parse(addr, &p) ?: ln_dns_servers_add(s, &p);
}

/* The system's resolvers, as glibc finds them: none listed means the local host's. */
static int system_servers(struct ln_manager *m, struct ln_dns_servers *out)
{
	struct ln_prefix stub;
	struct ln_error e;
	int rc;

	rc = ln_resolv_conf_read(RESOLV_CONF, out, &e);
	if (rc < 0 && rc != -ENOENT)
		ln_note(m, LOG_WARNING, "dns-servers = system: %s, ignoring", e.msg);
	if (!out->n) {
		rc = add_text(out, "127.0.0.1") ?: add_text(out, "::1");
		if (rc < 0)
			return rc;
	}
	ln_prefix_parse("127.0.0.53", &stub);
	if (ln_dns_servers_has(out, stub.addr))
		ln_resolv_conf_read(RESOLVED_UPSTREAMS, out, &e); /* absent: only the stub */
	return 0;
}

/* @out: @src's entries, the system's in place of "system". */
static int effective(const struct ln_dns_servers *src, const struct ln_dns_servers *sys,
		     struct ln_dns_servers *out)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < src->n; i++)
		rc = ln_dns_servers_add(out, &src->v[i]);
	for (size_t i = 0; !rc && src->system && i < sys->n; i++)
		rc = ln_dns_servers_add(out, &sys->v[i]);
	out->rule_id = src->rule_id;
	return rc;
}

int ln_dns_servers_prepare(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	const struct ln_config *c = g->cfg;
	struct ln_dns_servers sys = {0};
	size_t n = c->n_policies + 1;
	int rc;

	g->dns_servers = calloc(n, sizeof(*g->dns_servers));
	rc = g->dns_servers ? system_servers(m, &sys) : -ENOMEM;
	if (rc == 0)
		g->n_dns_servers = n;
	for (size_t id = 0; rc == 0 && id < n; id++) {
		const struct ln_policy *p = id ? &c->policies[id - 1] : NULL;
		const struct ln_dns_servers *src =
		    p && p->dns_servers.rule_id ? &p->dns_servers : &c->dns_servers;

		rc = effective(src, &sys, &g->dns_servers[id]);
		/* no list written anywhere: the line that refuses is the default = one */
		if (!g->dns_servers[id].rule_id && p)
			g->dns_servers[id].rule_id = p->default_rule_id;
	}
	ln_dns_servers_free(&sys);
	if (rc < 0)
		return ln_err(err, rc, "dns-servers: %s", strerror(-rc));
	return 0;
}

void ln_dns_servers_release(struct ln_generation *g)
{
	for (size_t i = 0; i < g->n_dns_servers; i++)
		ln_dns_servers_free(&g->dns_servers[i]);
	free(g->dns_servers);
	g->dns_servers = NULL;
	g->n_dns_servers = 0;
}

/* @sa's address, v4 mapped, and its port. */
static __u16 server_addr(const struct sockaddr *sa, __u8 addr[LN_ADDR_LEN])
{
	memset(addr, 0, LN_ADDR_LEN);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &sin->sin_addr, 4);
		return ntohs(sin->sin_port);
	}
	memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, LN_ADDR_LEN);
	return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
}

bool ln_dns_server_refused(void *ud, const struct ln_dns_block *b)
{
	struct ln_manager *m = ud;
	const struct ln_generation *g = m->gen;
	const struct ln_dns_servers *s;
	struct ln_dns_block r = *b;
	struct ln_decision d;
	__u8 addr[LN_ADDR_LEN];
	__u16 port;

	if (!b->server || b->policy_id >= g->n_dns_servers)
		return false;
	s = &g->dns_servers[b->policy_id];
	port = server_addr(b->server, addr);
	if (ln_dns_servers_has(s, addr))
		return false;
	ln_explain_decide(g, b->policy_id, addr, port, b->tcp ? IPPROTO_TCP : IPPROTO_UDP, &d);
	if (d.verdict == LN_VERDICT_ALLOW)
		return false;
	/* a rule or list entry that denies the server itself is named, else the list's line */
	r.rule_id = d.rule_id && d.reason != LN_REASON_DEFAULT ? d.rule_id : s->rule_id;
	ln_dns_report_server(m, &r, d.audit);
	return !d.audit;
}
