// SPDX-License-Identifier: GPL-2.0
/* Read every file the command line names into one fresh configuration. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "agent.h"

/* A dangling link counts: a list that cannot be read is an error, not absent. */
static bool file_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

int ln_config_from_opts(const struct ln_opts *o, struct ln_config *c, struct ln_error *err)
{
	bool demo = !o->config && !o->rules_dir && !o->units_dir && !o->n_hosts && !o->n_domains;
	int r = 0;

	if (o->config)
		r = ln_config_load_ini(c, o->config, true, err);
	if (r >= 0 && o->rules_dir)
		r = ln_config_load_dir(c, o->rules_dir, err);
	if (r >= 0 && o->units_dir)
		r = ln_config_load_units_dir(c, o->units_dir, err);
	/* last: its [rules NAME] blocks add to policies the files above define */
	if (r >= 0 && o->managed_rules && file_exists(o->managed_rules))
		r = ln_config_load_ini(c, o->managed_rules, false, err);
	for (size_t i = 0; r >= 0 && i < o->n_hosts; i++)
		r = ln_config_add_hosts(c, o->hosts[i], err);
	for (size_t i = 0; r >= 0 && i < o->n_domains; i++)
		r = ln_config_add_domains(c, o->domains[i], err);
	/* Like the seed's demo: with no options, the lists in the current directory. */
	if (r >= 0 && demo && file_exists("blocked_hosts.txt"))
		r = ln_config_add_hosts(c, "blocked_hosts.txt", err);
	if (r >= 0 && demo && file_exists("blocked_domains.txt"))
		r = ln_config_add_domains(c, "blocked_domains.txt", err);
	if (r >= 0)
		r = ln_config_load_lists(c, err);
	if (r < 0)
		return r;
	if (o->audit)
		c->audit = true;
	if (o->log_allowed)
		c->log_allowed = true;
	return ln_config_validate(c, err);
}

bool ln_config_list_missing(const struct ln_config *c, size_t i, char *buf, size_t len)
{
	const struct ln_list_sub *l = &c->lists[i];
	char where[300];

	if (l->loaded)
		return false;
	snprintf(buf, len, "%s: [list %s]: no copy in %s yet (run lsnitch-update), ignoring",
		 ln_rule_id_format(&c->sources, l->rule_id, where, sizeof(where)), l->name,
		 ln_lists_dir(c));
	return true;
}

size_t ln_config_hostnames(const struct ln_config *c)
{
	size_t n = c->hosts.n_names + c->doh.n_names;

	for (size_t i = 0; i < c->n_policies; i++) {
		const struct ln_policy *p = &c->policies[i];

		n += p->hosts.n_names;
		for (size_t j = 0; j < p->n_rules; j++)
			n += p->rules[j].kind == LN_TARGET_HOSTNAME;
	}
	return n;
}

int ln_resolve_getaddrinfo(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL, *ai;
	size_t n = 0;
	int r;

	r = getaddrinfo(name, NULL, &hints, &res);
	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_AGAIN || r == EAI_FAIL)
		return 0;
	if (r)
		return -EIO;
	for (ai = res; ai && n < max; ai = ai->ai_next) {
		struct ln_prefix p = {};
		bool dup = false;

		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ai->ai_addr;

			p.addr[10] = p.addr[11] = 0xff;
			memcpy(&p.addr[12], &sin->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

			memcpy(p.addr, &sin6->sin6_addr, 16);
		} else {
			continue;
		}
		p.len = 128;
		for (size_t i = 0; i < n; i++)
			dup |= memcmp(out[i].addr, p.addr, 16) == 0;
		if (!dup)
			out[n++] = p;
	}
	freeaddrinfo(res);
	return (int)n;
}
