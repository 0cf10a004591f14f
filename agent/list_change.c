// SPDX-License-Identifier: GPL-2.0
/* Whether a new configuration differs from the one in force only in its lists' contents. */
#include <string.h>

#include "agent.h"
#include "list_slots.h"

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The policies map's values but for their list regions, which live in bl_heads. */
static bool policies_equal(const struct ln_compiled *a, const struct ln_compiled *b)
{
	if (a->n_policies != b->n_policies)
		return false;
	for (size_t i = 0; i < a->n_policies; i++) {
		struct ln_policy_val x = a->policies[i], y = b->policies[i];

		memset(&x.lists, 0, sizeof(x.lists));
		memset(&y.lists, 0, sizeof(y.lists));
		if (memcmp(&x, &y, sizeof(x)))
			return false;
	}
	return true;
}

static bool bindings_equal(const struct ln_compiled *a, const struct ln_compiled *b)
{
	if (a->n_bindings != b->n_bindings || a->n_exes != b->n_exes)
		return false;
	for (size_t i = 0; i < a->n_bindings; i++) {
		const struct ln_binding *x = &a->bindings[i], *y = &b->bindings[i];

		if (x->policy_id != y->policy_id || x->rule_id != y->rule_id ||
		    !str_eq(x->cgroup, y->cgroup) || !str_eq(x->unit, y->unit))
			return false;
	}
	for (size_t i = 0; i < a->n_exes; i++) {
		const struct ln_exe_binding *x = &a->exes[i], *y = &b->exes[i];

		if (x->scope_id != y->scope_id || x->policy_id != y->policy_id ||
		    x->rule_id != y->rule_id || !str_eq(x->path, y->path))
			return false;
	}
	return true;
}

/* What the dns_verdicts map holds comes from the policies' names and domain rules. */
static bool domain_rules_equal(const struct ln_config *a, const struct ln_config *b)
{
	if (a->n_policies != b->n_policies)
		return false;
	for (size_t i = 0; i < a->n_policies; i++) {
		const struct ln_policy *p = &a->policies[i], *q = &b->policies[i];

		if (!str_eq(p->name, q->name) || p->n_domain_rules != q->n_domain_rules)
			return false;
		for (size_t k = 0; k < p->n_domain_rules; k++) {
			const struct ln_rule *x = &p->domain_rules[k], *y = &q->domain_rules[k];

			if (x->verdict != y->verdict || x->proto != y->proto ||
			    x->port_lo != y->port_lo || x->port_hi != y->port_hi ||
			    x->kind != y->kind || x->rule_id != y->rule_id ||
			    !str_eq(x->hostname, y->hostname))
				return false;
		}
	}
	return true;
}

bool ln_lists_only_change(const struct ln_generation *cur, const struct ln_config *cfg,
			  const struct ln_compiled *cc)
{
	const struct ln_compiled *o;

	if (!cur || !cur->skel || !cur->cfg)
		return false;
	o = &cur->cc;
	return policies_equal(o, cc) && bindings_equal(o, cc) && o->n_rules == cc->n_rules &&
	       !memcmp(o->rules, cc->rules, cc->n_rules * sizeof(*cc->rules)) &&
	       o->n_resolver_sockets == cc->n_resolver_sockets &&
	       !memcmp(o->resolver_sockets, cc->resolver_sockets,
		       cc->n_resolver_sockets * sizeof(*cc->resolver_sockets)) &&
	       !memcmp(&o->nat64, &cc->nat64, sizeof(cc->nat64)) &&
	       domain_rules_equal(cur->cfg, cfg);
}
