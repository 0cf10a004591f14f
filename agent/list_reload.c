// SPDX-License-Identifier: GPL-2.0
/*
 * List-only reloads: whether a new configuration changed nothing but list contents, the
 * new lists loaded beside the ones in force, and the flip that hands the programs over.
 */
#include <errno.h>
#include <string.h>

#include "agent.h"
#include "exe_watch.h"
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

int ln_lists_build(struct ln_generation *cur, struct ln_generation *g, struct ln_error *err)
{
	__u32 slot;
	int r;

	r = ln_list_slot_in_force(cur->skel, &slot);
	if (r < 0)
		return ln_err(err, r, "reading the list slot in force: %s", strerror(-r));
	g->list_slot = !slot;
	r = ln_list_slot_fill(cur->skel, g->list_slot, &g->cc.packed, err);
	if (r < 0)
		return r;
	g->skel = cur->skel;
	g->lent_from = cur;
	g->lists_only = true;
	return 0;
}

#define SWAP(a, b)                                                                            \
	do {                                                                                  \
		typeof(a) t_ = (a);                                                           \
		(a) = (b);                                                                    \
		(b) = t_;                                                                     \
	} while (0)

/*
 * @g takes over what @old's programs and maps carry (the config map mapped, the cgroups
 * bound in them, the exe_policy map's table); @old is freed with @g's empty ones.
 */
static void take_over(struct ln_generation *old, struct ln_generation *g)
{
	g->lent_from = NULL;
	old->skel = NULL;
	SWAP(g->config_mm, old->config_mm);
	SWAP(g->bound, old->bound);
	SWAP(g->n_bound, old->n_bound);
	SWAP(g->cap_bound, old->cap_bound);
	SWAP(g->exe, old->exe);
	/* the same exe= lines (ln_lists_only_change()), now pointing into @g's */
	for (size_t i = 0; i < g->exe.n; i++)
		g->exe.v[i].b = &g->cc.exes[i];
}

int ln_lists_switch(struct ln_generation *old, struct ln_generation *g, struct ln_error *err)
{
	int r;

	if (g->lent_from != old)
		return ln_err(err, -ESTALE, "the policy in force changed while the lists loaded");
	r = ln_list_slot_flip(old->skel, g->list_slot, err);
	if (r < 0)
		return r;
	/* Verdicts cached from the old lists (bpf/verdict_cache.bpf.h) are stale now. */
	ln_generation_dns_changed(old);
	take_over(old, g);
	return 0;
}
