// SPDX-License-Identifier: GPL-2.0
/* Domain rules: which allow-domain/deny-domain entries a DNS answer's names match. */
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

bool ln_domain_matches(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (s > n)
		return false;
	if (strcasecmp(name + n - s, suffix))
		return false;
	return s == n || name[n - s - 1] == '.';
}

struct match {
	struct ln_rule_entry e;
	size_t suffix_len;
};

/* Longer suffix, narrower ports, specific proto, deny, then rule id first. */
static int cmp_match(const void *pa, const void *pb)
{
	const struct match *a = pa, *b = pb;
	unsigned int wa = a->e.port_hi - a->e.port_lo, wb = b->e.port_hi - b->e.port_lo;

	if (a->suffix_len != b->suffix_len)
		return a->suffix_len > b->suffix_len ? -1 : 1;
	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (!a->e.proto != !b->e.proto)
		return a->e.proto ? -1 : 1;
	if (a->e.verdict != b->e.verdict)
		return a->e.verdict == LN_VERDICT_DENY ? -1 : 1;
	return a->e.rule_id < b->e.rule_id ? -1 : a->e.rule_id > b->e.rule_id;
}

int ln_domain_rules_match(const struct ln_policy *p, const char *const *names, size_t n_names,
			  struct ln_rule_set *out)
{
	struct match *m;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (!p->n_domain_rules || !n_names)
		return 0;
	m = calloc(p->n_domain_rules, sizeof(*m));
	if (!m)
		return -1;
	for (size_t i = 0; i < p->n_domain_rules; i++) {
		const struct ln_rule *r = &p->domain_rules[i];

		for (size_t j = 0; j < n_names; j++) {
			if (!ln_domain_matches(names[j], r->hostname))
				continue;
			m[n].e.port_lo = r->port_lo;
			m[n].e.port_hi = r->port_hi;
			m[n].e.proto = r->proto;
			m[n].e.verdict = r->verdict;
			m[n].e.rule_id = r->rule_id;
			m[n].suffix_len = strlen(r->hostname);
			n++;
			break;
		}
	}
	qsort(m, n, sizeof(*m), cmp_match);
	if (n > LN_RULES_PER_PREFIX)
		n = LN_RULES_PER_PREFIX;
	for (size_t i = 0; i < n; i++)
		out->e[i] = m[i].e;
	out->count = n;
	free(m);
	return (int)n;
}
