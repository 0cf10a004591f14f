// SPDX-License-Identifier: GPL-2.0
/*
 * The values of the keys that name what a policy applies to and decides:
 * cgroup=, allow=/deny= and their -domain forms, blocked-hosts=/-domains=.
 * The grammar that calls them, and the key tables, are policy_ini.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini_internal.h"

int ini_push_value(struct ini_state *st, char ***vals, __u32 **ids, size_t *n, const char *v)
{
	char **nv, *copy;
	__u32 *ni;

	nv = realloc(*vals, (*n + 1) * sizeof(*nv));
	if (!nv)
		return ini_fail(st, -ENOMEM, "out of memory");
	*vals = nv;
	ni = realloc(*ids, (*n + 1) * sizeof(*ni));
	if (!ni)
		return ini_fail(st, -ENOMEM, "out of memory");
	*ids = ni;
	copy = strdup(v);
	if (!copy)
		return ini_fail(st, -ENOMEM, "out of memory");
	(*vals)[*n] = copy;
	(*ids)[(*n)++] = ini_rule_id(st);
	return 0;
}

int ini_cgroup(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	const char *why = ln_cgroup_path_clean(v);
	struct ln_policy *p = obj;

	(void)k;
	if (why)
		return ini_fail(st, -EINVAL, "%s", why);
	return ini_push_value(st, &p->cgroups, &p->cgroup_ids, &p->n_cgroups, v);
}

/*
 * One rule of allow= / deny= (into p->rules), or of allow-domain= / deny-domain= (@domain,
 * into p->domain_rules: a hostname-shaped target, "*." allowed, suffix semantics).
 */
static int ini_add_rule(struct ini_state *st, struct ln_policy *p, char *tok, __u8 verdict,
			bool domain)
{
	struct ln_rule **rules = domain ? &p->domain_rules : &p->rules;
	size_t *n = domain ? &p->n_domain_rules : &p->n_rules;
	size_t *cap = domain ? &p->cap_domain_rules : &p->cap_rules;
	struct ln_error rerr;
	struct ln_rule *r;
	int rc;

	if (st->n_rules >= LN_MAX_RULES)
		return ini_fail(st, -E2BIG, "too many allow/deny rules (max %d)", LN_MAX_RULES);
	rc = ln_grow((void **)rules, cap, *n + 1, sizeof(**rules));
	if (rc)
		return ini_fail(st, rc, "out of memory");
	if (domain && !strncmp(tok, "*.", 2))
		tok += 2;
	r = &(*rules)[*n];
	rc = ln_rule_parse(tok, verdict, r, &rerr);
	if (rc)
		return ini_fail(st, rc, "%s", rerr.msg);
	if (domain && r->kind != LN_TARGET_HOSTNAME) {
		ln_rule_free(r);
		return ini_fail(st, -EINVAL,
				"\"%s\" is not a domain name (use allow/deny for addresses)", tok);
	}
	if (domain)
		r->kind = LN_TARGET_DOMAIN;
	r->rule_id = ini_rule_id(st);
	(*n)++;
	st->n_rules++;
	return 0;
}

/* RULE[, RULE...]: comma and/or space separated. */
static int ini_add_rules(struct ini_state *st, struct ln_policy *p, char *v, __u8 verdict,
			 bool domain)
{
	char *tok, *save;
	int rc;

	for (tok = strtok_r(v, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		rc = ini_add_rule(st, p, tok, verdict, domain);
		if (rc)
			return rc;
	}
	return 0;
}

int ini_rules(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	return ini_add_rules(st, obj, v, k->verdict, false);
}

int ini_domain_rules(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	return ini_add_rules(st, obj, v, k->verdict, true);
}

/*
 * blocked-hosts= / blocked-domains=: a list that cannot be opened is this line's error; an
 * error inside the list names the list's own file:line.
 */
static int ini_add_list(struct ini_state *st, char *v, ln_line_fn fn, void *list)
{
	struct ln_error lerr = {""};
	struct ln_linefile lf;
	char *full = NULL;
	int rc;

	if (!*v)
		return ini_fail(st, -EINVAL, "empty file name");
	if (v[0] == '/')
		full = strdup(v);
	else if (asprintf(&full, "%s/%s", st->dir, v) < 0)
		full = NULL;
	if (!full)
		return ini_fail(st, -ENOMEM, "out of memory");
	rc = ln_linefile_open(&lf, &st->c->sources, full, LN_MAX_LINE_LEN, &lerr);
	if (rc)
		ini_fail(st, rc, "%s", lerr.msg);
	else
		rc = ln_linefile_read(&lf, fn, list, &lerr);
	if (rc)
		ini_take_err(st, rc, &lerr);
	ln_linefile_close(&lf);
	free(full);
	return st->rc;
}

int ini_hosts(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	return ini_add_list(st, v, ln_hostlist_line, INI_FIELD(obj, k));
}

int ini_domains(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	return ini_add_list(st, v, ln_domainlist_line, INI_FIELD(obj, k));
}

int ini_dns_servers(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_dns_servers *s = INI_FIELD(obj, k);
	struct ln_error e;
	int rc;

	s->rule_id = ini_rule_id(st);
	rc = ln_dns_servers_parse(v, s, &e);
	return rc < 0 ? ini_fail(st, rc, "%s", e.msg) : 0;
}
