// SPDX-License-Identifier: GPL-2.0
/* Compiling a loaded config into BPF map entries (decide.c decides from them without a kernel). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

#define RESOLVE_MAX 64 /* addresses taken from one hostname */

struct compile_ctx {
	const struct ln_config *c;
	ln_resolve_fn resolve;
	void *resolve_ud;
	ln_warn_fn warn;
	void *warn_ud;
	struct ln_compiled *out;
	struct ln_error *err;
	size_t cap_exact, cap_prefix;
};

/* A rule with its address resolved: one per (rule, address). */
struct xrule {
	struct ln_prefix pfx;
	struct ln_rule_entry e;
};

/* Entries of one distinct prefix in the sorted xrule array. */
struct prefix_group {
	struct ln_prefix pfx;
	size_t start, n;
};

/* A rule entry with its prefix length, for sorting a pushed-down set. */
struct set_item {
	struct ln_rule_entry e;
	__u8 len;
};

static int cmp_prefix(const struct ln_prefix *a, const struct ln_prefix *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->addr, b->addr, LN_ADDR_LEN);
}

/* Prefix, then every field but the rule id: equal neighbours are duplicates. */
static int cmp_xrule(const void *pa, const void *pb)
{
	const struct xrule *a = pa, *b = pb;
	int r = cmp_prefix(&a->pfx, &b->pfx);

	if (r)
		return r;
	if (a->e.port_lo != b->e.port_lo)
		return a->e.port_lo < b->e.port_lo ? -1 : 1;
	if (a->e.port_hi != b->e.port_hi)
		return a->e.port_hi < b->e.port_hi ? -1 : 1;
	if (a->e.proto != b->e.proto)
		return a->e.proto < b->e.proto ? -1 : 1;
	if (a->e.verdict != b->e.verdict)
		return a->e.verdict < b->e.verdict ? -1 : 1;
	return a->e.rule_id < b->e.rule_id ? -1 : a->e.rule_id > b->e.rule_id;
}

/* Most specific first: prefix length, port range width, a protocol, deny, rule id. */
static int cmp_set_item(const void *pa, const void *pb)
{
	const struct set_item *a = pa, *b = pb;
	unsigned int wa = a->e.port_hi - a->e.port_lo, wb = b->e.port_hi - b->e.port_lo;
	bool anya = a->e.proto == LN_PROTO_ANY, anyb = b->e.proto == LN_PROTO_ANY;

	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (anya != anyb)
		return anya ? 1 : -1;
	if (a->e.verdict != b->e.verdict)
		return a->e.verdict == LN_VERDICT_DENY ? -1 : 1;
	return a->e.rule_id < b->e.rule_id ? -1 : a->e.rule_id > b->e.rule_id;
}

static int cmp_group(const void *key, const void *elem)
{
	return cmp_prefix(key, &((const struct prefix_group *)elem)->pfx);
}

static void prefix_truncate(const struct ln_prefix *p, __u8 len, struct ln_prefix *out)
{
	unsigned int i;

	*out = *p;
	out->len = len;
	for (i = 0; i < LN_ADDR_LEN; i++) {
		if (i * 8 >= len)
			out->addr[i] = 0;
		else if (i * 8 + 8 > len)
			out->addr[i] &= (__u8)(0xff00 >> (len - i * 8));
	}
}

static void compile_warn(struct compile_ctx *cx, __u32 rule_id, const char *name)
{
	char where[LN_ERR_MAX / 2], msg[LN_ERR_MAX];

	cx->out->n_unresolved++;
	if (!cx->warn)
		return;
	ln_rule_id_format(&cx->c->sources, rule_id, where, sizeof(where));
	snprintf(msg, sizeof(msg), "%s: cannot resolve \"%s\", ignoring", where, name);
	cx->warn(msg, cx->warn_ud);
}

/* Addresses of @name into @out (RESOLVE_MAX); 0 after a warning when there are none. */
static int compile_resolve(struct compile_ctx *cx, const char *name, __u32 rule_id,
			   struct ln_prefix *out)
{
	int n = cx->resolve ? cx->resolve(name, out, RESOLVE_MAX, cx->resolve_ud) : 0;

	if (n <= 0) {
		compile_warn(cx, rule_id, name);
		return 0;
	}
	return n > RESOLVE_MAX ? RESOLVE_MAX : n;
}

/* Rule @r, its hostname resolved, appended to *@v: one xrule per address. */
static int expand_rule(struct compile_ctx *cx, const struct ln_rule *r, struct xrule **v,
		       size_t *cap, size_t *n)
{
	struct ln_prefix addrs[RESOLVE_MAX];
	int k, na, rc;

	if (r->kind == LN_TARGET_HOSTNAME) {
		na = compile_resolve(cx, r->hostname, r->rule_id, addrs);
	} else {
		addrs[0] = r->pfx;
		na = 1;
	}
	rc = ln_grow((void **)v, cap, *n + na, sizeof(**v));
	for (k = 0; k < na && !rc; k++, (*n)++) {
		struct xrule *x = &(*v)[*n];

		memset(x, 0, sizeof(*x));
		x->pfx = addrs[k];
		x->e.port_lo = r->port_lo;
		x->e.port_hi = r->port_hi;
		x->e.proto = r->proto;
		x->e.verdict = r->verdict;
		x->e.rule_id = r->rule_id;
	}
	return rc;
}

/*
 * The policy's rules, and those encrypted-dns = deny adds, with hostnames resolved, sorted,
 * exact duplicates dropped.
 */
static int expand_rules(struct compile_ctx *cx, const struct ln_policy *p, struct xrule **xr,
			size_t *n_xr)
{
	struct xrule *v = NULL;
	struct ln_rule *extra;
	size_t cap = 0, n = 0, i, j, out;
	long n_extra = ln_encrypted_dns_rules(cx->c, p, &extra);
	int rc = n_extra < 0 ? (int)n_extra : 0;

	for (i = 0; i < p->n_rules && !rc; i++)
		rc = expand_rule(cx, &p->rules[i], &v, &cap, &n);
	for (i = 0; i < (size_t)(n_extra > 0 ? n_extra : 0) && !rc; i++)
		rc = expand_rule(cx, &extra[i], &v, &cap, &n);
	free(extra);
	if (rc) {
		free(v);
		return ln_err(cx->err, rc, "out of memory");
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_xrule);
	for (j = 0, out = 0; j < n; j++) {
		if (out && !cmp_prefix(&v[out - 1].pfx, &v[j].pfx) &&
		    v[out - 1].e.port_lo == v[j].e.port_lo &&
		    v[out - 1].e.port_hi == v[j].e.port_hi && v[out - 1].e.proto == v[j].e.proto &&
		    v[out - 1].e.verdict == v[j].e.verdict)
			continue;
		v[out++] = v[j];
	}
	*xr = v;
	*n_xr = out;
	return 0;
}

/* One rules-trie value: @g's own entries and those of every shorter containing prefix. */
static int compile_prefix_set(struct compile_ctx *cx, const struct ln_policy *p,
			      const struct xrule *xr, const struct prefix_group *groups,
			      size_t n_groups, const struct prefix_group *g, const bool *lens,
			      struct ln_rule_kv *kv)
{
	struct set_item items[LN_RULES_PER_PREFIX];
	const struct prefix_group *h;
	struct ln_prefix q;
	size_t n = 0, i;
	__u32 first = xr[g->start].e.rule_id;
	int len;
	char where[LN_ERR_MAX / 2], pfx[64];

	for (i = 1; i < g->n; i++)
		if (xr[g->start + i].e.rule_id < first)
			first = xr[g->start + i].e.rule_id;

	for (len = g->pfx.len; len >= 0; len--) {
		if (!lens[len])
			continue;
		prefix_truncate(&g->pfx, len, &q);
		h = bsearch(&q, groups, n_groups, sizeof(*groups), cmp_group);
		for (i = 0; h && i < h->n; i++) {
			if (n == LN_RULES_PER_PREFIX)
				return ln_err(
				    cx->err, -E2BIG,
				    "%s: more than %d rules overlap %s in "
				    "policy %s",
				    ln_rule_id_format(&cx->c->sources, first, where, sizeof(where)),
				    LN_RULES_PER_PREFIX,
				    ln_prefix_format(&g->pfx, pfx, sizeof(pfx)), p->name);
			items[n].e = xr[h->start + i].e;
			items[n++].len = len;
		}
	}
	qsort(items, n, sizeof(*items), cmp_set_item);
	memset(kv, 0, sizeof(*kv));
	kv->k.prefixlen = 32 + g->pfx.len;
	kv->k.policy_id = p->id;
	memcpy(kv->k.addr, g->pfx.addr, LN_ADDR_LEN);
	kv->v.count = n;
	for (i = 0; i < n; i++)
		kv->v.e[i] = items[i].e;
	return 0;
}

static int compile_policy_rules(struct compile_ctx *cx, const struct ln_policy *p,
				size_t *cap_rules)
{
	struct ln_compiled *out = cx->out;
	struct prefix_group *groups = NULL;
	struct xrule *xr = NULL;
	size_t n_xr = 0, n_groups = 0, i;
	bool lens[129] = {false};
	int rc;

	rc = expand_rules(cx, p, &xr, &n_xr);
	if (rc || !n_xr)
		goto out;
	groups = calloc(n_xr, sizeof(*groups));
	if (!groups) {
		rc = ln_err(cx->err, -ENOMEM, "out of memory");
		goto out;
	}
	/* xrules are sorted by prefix: each run of one prefix is a group */
	for (i = 0; i < n_xr; i++) {
		if (!n_groups || cmp_prefix(&groups[n_groups - 1].pfx, &xr[i].pfx)) {
			groups[n_groups].pfx = xr[i].pfx;
			groups[n_groups++].start = i;
			lens[xr[i].pfx.len] = true;
		}
		groups[n_groups - 1].n++;
	}
	rc = ln_grow((void **)&out->rules, cap_rules, out->n_rules + n_groups, sizeof(*out->rules));
	if (rc) {
		rc = ln_err(cx->err, rc, "out of memory");
		goto out;
	}
	for (i = 0; i < n_groups; i++) {
		rc = compile_prefix_set(cx, p, xr, groups, n_groups, &groups[i], lens,
					&out->rules[out->n_rules]);
		if (rc)
			goto out;
		out->n_rules++;
	}
	out->policies[p->id].flags |= LN_POLICY_HAS_RULES;
out:
	free(groups);
	free(xr);
	return rc;
}

static int bl_add(struct compile_ctx *cx, __u32 set, const struct ln_prefix *pfx, __u32 rule_id)
{
	struct ln_compiled *out = cx->out;
	int rc;

	if (pfx->len == 128) {
		rc = ln_grow((void **)&out->bl_exact, &cx->cap_exact, out->n_bl_exact + 1,
			     sizeof(*out->bl_exact));
		if (rc)
			return ln_err(cx->err, rc, "out of memory");
		out->bl_exact[out->n_bl_exact].k.set = set;
		memcpy(out->bl_exact[out->n_bl_exact].k.addr, pfx->addr, LN_ADDR_LEN);
		out->bl_exact[out->n_bl_exact++].rule_id = rule_id;
		return 0;
	}
	rc = ln_grow((void **)&out->bl_prefix, &cx->cap_prefix, out->n_bl_prefix + 1,
		     sizeof(*out->bl_prefix));
	if (rc)
		return ln_err(cx->err, rc, "out of memory");
	out->bl_prefix[out->n_bl_prefix].k.prefixlen = 32 + pfx->len;
	out->bl_prefix[out->n_bl_prefix].k.set = set;
	memcpy(out->bl_prefix[out->n_bl_prefix].k.addr, pfx->addr, LN_ADDR_LEN);
	out->bl_prefix[out->n_bl_prefix++].rule_id = rule_id;
	return 0;
}

/* A host list into blocklist set @set; returns entries added or -errno. */
static long compile_hostlist(struct compile_ctx *cx, const struct ln_hostlist *l, __u32 set)
{
	struct ln_prefix addrs[RESOLVE_MAX];
	size_t before = cx->out->n_bl_exact + cx->out->n_bl_prefix, i;
	int k, na, rc;

	/* reserve once: most entries are exact addresses */
	rc = ln_grow((void **)&cx->out->bl_exact, &cx->cap_exact, cx->out->n_bl_exact + l->n,
		     sizeof(*cx->out->bl_exact));
	if (rc)
		return ln_err(cx->err, rc, "out of memory");
	for (i = 0; i < l->n; i++) {
		rc = bl_add(cx, set, &l->v[i].pfx, l->v[i].rule_id);
		if (rc)
			return rc;
	}
	for (i = 0; i < l->n_names; i++) {
		na = compile_resolve(cx, l->names[i].name, l->names[i].rule_id, addrs);
		for (k = 0; k < na; k++) {
			rc = bl_add(cx, set, &addrs[k], l->names[i].rule_id);
			if (rc)
				return rc;
		}
	}
	return cx->out->n_bl_exact + cx->out->n_bl_prefix - before;
}

/* By key, then rule id: the first of equal keys is the one to keep. */
/* memcmp() order of two addresses, as two big-endian words: the sort's inner loop. */
static int cmp_addr(const __u8 *a, const __u8 *b)
{
	__u64 x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	for (int i = 0; i < 2; i++)
		if (x[i] != y[i])
			return be64toh(x[i]) < be64toh(y[i]) ? -1 : 1;
	return 0;
}

static int cmp_bl_exact(const void *pa, const void *pb)
{
	const struct ln_bl_kv *a = pa, *b = pb;
	int r;

	if (a->k.set != b->k.set)
		return a->k.set < b->k.set ? -1 : 1;
	r = cmp_addr(a->k.addr, b->k.addr);
	if (r)
		return r;
	return a->rule_id < b->rule_id ? -1 : a->rule_id > b->rule_id;
}

static int cmp_bl_prefix(const void *pa, const void *pb)
{
	const struct ln_bl_lpm_kv *a = pa, *b = pb;
	int r;

	if (a->k.set != b->k.set)
		return a->k.set < b->k.set ? -1 : 1;
	if (a->k.prefixlen != b->k.prefixlen)
		return a->k.prefixlen < b->k.prefixlen ? -1 : 1;
	r = cmp_addr(a->k.addr, b->k.addr);
	if (r)
		return r;
	return a->rule_id < b->rule_id ? -1 : a->rule_id > b->rule_id;
}

/*
 * Sorts and drops repeated keys, keeping the lowest rule id: files are numbered in
 * load order and lines count up, so that is the first occurrence.
 */
/* Sort @n entries of @size by @cmp, keep the first of each run of equal keys (@key_size at 0). */
static size_t dedupe_sorted(void *v, size_t n, size_t size, size_t key_size,
			    int (*cmp)(const void *, const void *))
{
	char *e = v;
	size_t i, kept = 0;

	/* Lists are often sorted already: a pass instead of a sort then. */
	for (i = 1; i < n; i++)
		if (cmp(e + (i - 1) * size, e + i * size) > 0) {
			qsort(v, n, size, cmp);
			break;
		}
	for (i = 0; i < n; i++) {
		if (kept && !memcmp(e + (kept - 1) * size, e + i * size, key_size))
			continue;
		if (kept != i)
			memcpy(e + kept * size, e + i * size, size);
		kept++;
	}
	return kept;
}

static void dedupe_blocklists(struct ln_compiled *out)
{
	out->n_bl_exact = dedupe_sorted(out->bl_exact, out->n_bl_exact, sizeof(*out->bl_exact),
					sizeof(out->bl_exact->k), cmp_bl_exact);
	out->n_bl_prefix = dedupe_sorted(out->bl_prefix, out->n_bl_prefix,
					 sizeof(*out->bl_prefix), sizeof(out->bl_prefix->k),
					 cmp_bl_prefix);
}

static int compile_bindings(struct compile_ctx *cx)
{
	const struct ln_config *c = cx->c;
	struct ln_compiled *out = cx->out;
	size_t i, j, n = 0;

	for (i = 0; i < c->n_policies; i++)
		if (!c->policies[i].n_exes)
			n += c->policies[i].n_cgroups + (c->policies[i].unit != NULL);
	if (!n)
		return 0;
	out->bindings = calloc(n, sizeof(*out->bindings));
	if (!out->bindings)
		return ln_err(cx->err, -ENOMEM, "out of memory");
	/* In load order: between equal matches the first binding wins. */
	for (i = 0; i < c->n_policies; i++) {
		const struct ln_policy *p = &c->policies[i];
		struct ln_binding *b;

		if (p->n_exes)
			continue; /* refines its scope's policy: binds nothing (exe.c) */
		for (j = 0; j < p->n_cgroups; j++) {
			b = &out->bindings[out->n_bindings++];
			b->cgroup = p->cgroups[j];
			b->policy_id = i + 1;
			b->rule_id = p->cgroup_ids[j];
		}
		if (p->unit) {
			b = &out->bindings[out->n_bindings++];
			b->unit = p->unit;
			b->policy_id = i + 1;
			b->rule_id = p->section_rule_id;
		}
	}
	return 0;
}

/* Each socket kind: its key where the policy has one, else the policy's default. */
static void compile_sock_kinds(const struct ln_policy *p, struct ln_policy_val *pv)
{
	for (int k = 0; k < LN_SOCK_KINDS; k++) {
		const struct ln_sock_rule *s = &p->sock[k];
		__u8 v = s->rule_id ? s->verdict : p->default_verdict;

		if (v == LN_VERDICT_ALLOW)
			pv->sock_allow |= 1u << k;
		pv->sock_rule_id[k] = s->rule_id ? s->rule_id : p->default_rule_id;
	}
}

static int compile_policies(struct compile_ctx *cx)
{
	const struct ln_config *c = cx->c;
	struct ln_compiled *out = cx->out;
	size_t i, cap_rules = 0;
	__u32 common =
	    (c->audit ? LN_POLICY_AUDIT : 0) | (c->log_allowed ? LN_POLICY_LOG_ALLOWED : 0);
	long n;
	int rc;

	out->n_policies = c->n_policies + 1;
	out->policies = calloc(out->n_policies, sizeof(*out->policies));
	if (!out->policies)
		return ln_err(cx->err, -ENOMEM, "out of memory");
	out->policies[0].default_verdict = LN_VERDICT_ALLOW;
	out->policies[0].flags = common;
	if (ln_policy_resolver_guard(c, NULL))
		out->policies[0].flags |= LN_POLICY_RESOLVER_GUARD;
	out->policies[0].sock_allow = (1u << LN_SOCK_KINDS) - 1;
	for (i = 0; i < c->n_policies; i++) {
		const struct ln_policy *p = &c->policies[i];
		struct ln_policy_val *pv = &out->policies[i + 1];

		if (p->id != i + 1)
			return ln_err(cx->err, -EINVAL, "policy \"%s\" has id %u, expected %zu",
				      p->name, p->id, i + 1);
		pv->default_verdict = p->default_verdict;
		pv->default_rule_id = p->default_rule_id;
		compile_sock_kinds(p, pv);
		pv->flags = common | (p->audit ? LN_POLICY_AUDIT : 0) |
			    (p->log_allowed ? LN_POLICY_LOG_ALLOWED : 0) |
			    (p->n_domain_rules ? LN_POLICY_HAS_DOMAIN_RULES : 0) |
			    (ln_policy_resolver_guard(c, p) ? LN_POLICY_RESOLVER_GUARD : 0);
		rc = compile_policy_rules(cx, p, &cap_rules);
		if (rc)
			return rc;
		n = compile_hostlist(cx, &p->hosts, p->id);
		if (n < 0)
			return n;
		if (n > 0)
			pv->flags |= LN_POLICY_HAS_LISTS;
	}
	return 0;
}

/* The local NAT64 prefix as the programs compare it: two host-order halves. */
static void compile_nat64(const struct ln_config *c, struct ln_compiled *out)
{
	__u32 a[LN_ADDR_LEN / 4]; /* ln_be64() reads aligned words */

	if (!c->nat64.len)
		return;
	memcpy(a, c->nat64.addr, LN_ADDR_LEN);
	out->nat64.len = c->nat64.len;
	out->nat64.hi = ln_be64((const __u8 *)a);
	out->nat64.lo = ln_be64((const __u8 *)(a + 2));
}

int ln_compile(const struct ln_config *c, ln_resolve_fn resolve, void *resolve_ud, ln_warn_fn warn,
	       void *warn_ud, struct ln_compiled *out, struct ln_error *err)
{
	struct compile_ctx cx = {
	    .c = c,
	    .resolve = resolve,
	    .resolve_ud = resolve_ud,
	    .warn = warn,
	    .warn_ud = warn_ud,
	    .out = out,
	    .err = err,
	};
	long n;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = compile_policies(&cx);
	if (rc)
		goto fail;
	n = compile_hostlist(&cx, &c->hosts, LN_SET_GLOBAL);
	if (n < 0) {
		rc = n;
		goto fail;
	}
	dedupe_blocklists(out);
	rc = ln_pack_blocklists(out, &out->packed);
	if (rc) {
		ln_err(err, rc, "packing the host blocklists: %s", strerror(-rc));
		goto fail;
	}
	for (size_t i = 1; i < out->n_policies && i < out->packed.n_sets; i++) {
		out->policies[i].lists = out->packed.sets[i];
	}
	rc = compile_bindings(&cx);
	if (!rc)
		rc = ln_compile_resolver_sockets(c, out, err);
	if (!rc)
		rc = ln_compile_exes(c, out, err);
	if (rc)
		goto fail;
	compile_nat64(c, out);
	ln_encrypted_dns_warn(c, warn, warn_ud);
	return 0;
fail:
	ln_compiled_free(out);
	return rc;
}

void ln_compiled_free(struct ln_compiled *out)
{
	if (!out)
		return;
	free(out->policies);
	free(out->rules);
	free(out->bl_exact);
	free(out->bl_prefix);
	free(out->bindings);
	free(out->resolver_sockets);
	free(out->exes);
	ln_packed_free(&out->packed);
	memset(out, 0, sizeof(*out));
}
