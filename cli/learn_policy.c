// SPDX-License-Identifier: GPL-2.0
/* A policy learned from history flows: rules merged by name or address, printed as INI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histdb.h"
#include "learn_policy.h"

static struct learned *learned_find(struct learn *l, const struct learned *want)
{
	struct learned *r;

	for (size_t i = 0; i < l->n; i++)
		if (l->rules[i].domain == want->domain && l->rules[i].port == want->port &&
		    !strcmp(l->rules[i].target, want->target) &&
		    !strcmp(l->rules[i].proto, want->proto))
			return &l->rules[i];
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;

		r = realloc(l->rules, cap * sizeof(*r));
		if (!r)
			return NULL;
		l->rules = r;
		l->cap = cap;
	}
	r = &l->rules[l->n++];
	*r = *want;
	r->count = 0;
	r->first = want->first;
	r->last = want->last;
	return r;
}

/* @s into the set @v (n entries) unless there; a failure sets l->oom. */
static void add_unique(struct learn *l, char ***v, size_t *n, const char *s)
{
	char **a;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	a = realloc(*v, (*n + 1) * sizeof(*a));
	if (!a || !(a[*n] = strdup(s))) {
		l->oom = true;
		if (a)
			*v = a;
		return;
	}
	*v = a;
	(*n)++;
}

/* Whether flow @f is one to allow: seen allowed or audited, not stopped by a list. */
static bool is_learnable(const struct hq_flow *f)
{
	if (strcmp(f->verdict, "allow") && strcmp(f->verdict, "would-deny"))
		return false;
	return strcmp(f->reason, "blocklist") && strcmp(f->reason, "domain-blocklist") &&
	       strcmp(f->reason, "pending");
}

void learn_cgroup(struct learn *l, const char *cg)
{
	add_unique(l, &l->cgroups, &l->n_cgroups, cg);
}

void learn_flow(const struct hq_flow *f, void *ud)
{
	struct learn *l = ud;
	struct learned want = { .port = f->port, .domain = *f->name != '\0',
				.first = f->first, .last = f->last };
	struct learned *r;

	/* every flow's cgroup: the policy is for the workload, even if nothing was learnable */
	learn_cgroup(l, f->cgroup);
	if (!strcmp(f->verdict, "redirect")) {
		/* DNS through the proxy: under default = deny only listed servers are asked */
		add_unique(l, &l->servers, &l->n_servers, f->addr);
		return;
	}
	if (!is_learnable(f)) {
		l->skipped += f->count;
		return;
	}
	snprintf(want.target, sizeof(want.target), "%s", want.domain ? f->name : f->addr);
	if (!strcmp(f->proto, "tcp") || !strcmp(f->proto, "udp"))
		snprintf(want.proto, sizeof(want.proto), "%s", f->proto);
	r = learned_find(l, &want);
	if (!r) {
		l->oom = true;
		return;
	}
	r->count += f->count;
	r->flows++;
	r->first = f->first < r->first ? f->first : r->first;
	r->last = f->last > r->last ? f->last : r->last;
}

void learn_policy_name(const char *prefix, const char *s, char *buf, size_t len)
{
	const char *base = strrchr(s, '/');
	size_t n;

	snprintf(buf, len, "%s%s", prefix, base && base[1] ? base + 1 : s);
	for (n = 0; buf[n]; n++)
		if (!strchr("_.@-", buf[n]) && !(buf[n] >= 'a' && buf[n] <= 'z') &&
		    !(buf[n] >= 'A' && buf[n] <= 'Z') && !(buf[n] >= '0' && buf[n] <= '9'))
			buf[n] = '-';
}

/* TARGET[:PORT][/PROTO], an IPv6 address in brackets when a port follows. */
static void rule_text(const struct learned *r, char *buf, size_t len)
{
	bool v6 = !r->domain && strchr(r->target, ':');
	char port[16] = "";

	if (r->port)
		snprintf(port, sizeof(port), ":%d", r->port);
	snprintf(buf, len, "%s%s%s%s%s%s", v6 && r->port ? "[" : "", r->target,
		 v6 && r->port ? "]" : "", port, *r->proto ? "/" : "", r->proto);
}

static void print_rule(FILE *f, const struct learned *r)
{
	char first[32], last[32], text[300];

	rule_text(r, text, sizeof(text));
	fprintf(f, "# %lld time%s%s, first %s, last %s UTC\n", (long long)r->count,
		r->count == 1 ? "" : "s", r->domain && r->flows > 1 ? " (several addresses)" : "",
		hq_time(r->first, first, sizeof(first)), hq_time(r->last, last, sizeof(last)));
	fprintf(f, "%s = %s\n", r->domain ? "allow-domain" : "allow", text);
}

void learn_print_header(FILE *f, const struct hq *q, const char *source)
{
	char since[32], until[32];

	fprintf(f, "# Learned by lsnitch learn from %s, %s to %s UTC.\n", source,
		hq_time(q->since, since, sizeof(since)), hq_time(q->until, until, sizeof(until)));
	fprintf(f, "# Review before use: it allows what was seen, nothing else.\n");
}

void learn_print_section(FILE *f, const struct hq *q, const struct learn *l,
			 const struct learn *scope, const char *name)
{
	if (l->skipped)
		fprintf(f, "# Not allowed: %lld attempts a blocklist or a deny stopped.\n",
			(long long)l->skipped);
	fprintf(f, "[policy %s]\n", name);
	if (q->cgroup)
		fprintf(f, "cgroup = %s\n", q->cgroup + 1);
	for (size_t i = 0; !q->cgroup && i < scope->n_cgroups; i++)
		fprintf(f, "cgroup = %s\n", scope->cgroups[i] + (scope->cgroups[i][0] == '/'));
	if (l->exe)
		fprintf(f, "exe = %s\n", l->exe);
	fprintf(f, "default = deny\n");
	if (l->n_servers)
		fprintf(f, "# the DNS servers it asked (through the proxy)\ndns-servers =");
	for (size_t i = 0; i < l->n_servers; i++)
		fprintf(f, "%s %s", i ? "," : "", l->servers[i]);
	if (l->n_servers)
		fprintf(f, "\n");
	for (int domain = 1; domain >= 0; domain--)
		for (size_t i = 0; i < l->n; i++)
			if (l->rules[i].domain == domain)
				print_rule(f, &l->rules[i]);
}

void learn_print(FILE *f, const struct hq *q, const struct learn *l, const char *name,
		 const char *source)
{
	learn_print_header(f, q, source);
	learn_print_section(f, q, l, l, name);
}

void learn_free(struct learn *l)
{
	for (size_t i = 0; i < l->n_cgroups; i++)
		free(l->cgroups[i]);
	free(l->cgroups);
	for (size_t i = 0; i < l->n_servers; i++)
		free(l->servers[i]);
	free(l->servers);
	free(l->rules);
}

void learn_name(const struct hq *q, char *buf, size_t len)
{
	if (q->policy)
		learn_policy_name("", q->policy, buf, len);
	else
		learn_policy_name("learned-", q->cgroup ? q->cgroup : q->unit, buf, len);
}
