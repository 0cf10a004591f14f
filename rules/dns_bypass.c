// SPDX-License-Identifier: GPL-2.0
/*
 * Resolvers that bypass the DNS proxy: the unix sockets glibc asks instead of port 53
 * ([global] resolver-sockets, refused where domain filtering is in force) and encrypted DNS
 * (encrypted-dns = deny: DNS over TLS and the DoH servers of [global] doh-resolvers, as deny
 * rules of the policy, compiled with its own).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ini_internal.h"

#define LN_DOT_PORT 853 /* DNS over TLS (RFC 7858) and over QUIC (RFC 9250) */
#define LN_DOH_PORT 443 /* DNS over HTTPS (RFC 8484), HTTP/2 and HTTP/3 */

const char *const ln_default_resolver_sockets[] = {
    "/run/systemd/resolve/io.systemd.Resolve", /* nss-resolve (systemd-resolved) */
    "/var/run/systemd/resolve/io.systemd.Resolve",
    "/run/nscd/socket", /* nscd, and unscd */
    "/var/run/nscd/socket",
    NULL,
};

static int resolver_socket_add(struct ini_state *st, struct ln_resolver_sockets *rs,
			       const char *path)
{
	size_t n = rs->n + 1;
	char **paths;
	__u32 *ids;

	if (path[0] != '/' || strlen(path) >= LN_UNIX_PATH_MAX)
		return ini_fail(st, -EINVAL,
				"bad resolver socket \"%s\" (an absolute path, at most %d bytes)",
				path, LN_UNIX_PATH_MAX - 1);
	if (rs->n >= LN_MAX_RESOLVER_SOCKETS)
		return ini_fail(st, -E2BIG, "too many resolver sockets (max %d)",
				LN_MAX_RESOLVER_SOCKETS);
	paths = realloc(rs->paths, n * sizeof(*paths));
	if (paths)
		rs->paths = paths;
	ids = paths ? realloc(rs->rule_ids, n * sizeof(*ids)) : NULL;
	if (ids)
		rs->rule_ids = ids;
	if (!paths || !ids || !(rs->paths[rs->n] = strdup(path)))
		return ini_fail(st, -ENOMEM, "out of memory");
	rs->rule_ids[rs->n++] = ini_rule_id(st);
	return 0;
}

/* resolver-sockets = PATH [PATH...] | none: repeatable; given at all, it replaces the default. */
int ini_resolver_sockets(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_resolver_sockets *rs = INI_FIELD(obj, k);
	char *tok, *save;
	int rc = 0;

	rs->set = true;
	if (!strcasecmp(v, "none"))
		return 0;
	for (tok = strtok_r(v, ", \t", &save); tok && !rc; tok = strtok_r(NULL, ", \t", &save))
		rc = resolver_socket_add(st, rs, tok);
	return rc;
}

void ln_resolver_sockets_free(struct ln_resolver_sockets *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->paths[i]);
	free(rs->paths);
	free(rs->rule_ids);
	memset(rs, 0, sizeof(*rs));
}

const char *ln_resolver_socket_path(const struct ln_config *c, __u32 i)
{
	const struct ln_resolver_sockets *rs = &c->resolver_sockets;
	size_t n = 0;

	if (rs->set)
		return i < rs->n ? rs->paths[i] : NULL;
	while (ln_default_resolver_sockets[n])
		n++;
	return i < n ? ln_default_resolver_sockets[i] : NULL;
}

int ln_compile_resolver_sockets(const struct ln_config *c, struct ln_compiled *out,
				struct ln_error *err)
{
	const char *path;
	__u32 i;

	for (i = 0; ln_resolver_socket_path(c, i); i++)
		;
	if (!i)
		return 0;
	out->resolver_sockets = calloc(i, sizeof(*out->resolver_sockets));
	if (!out->resolver_sockets)
		return ln_err(err, -ENOMEM, "out of memory");
	for (i = 0; (path = ln_resolver_socket_path(c, i)); i++) {
		struct ln_unix_kv *kv = &out->resolver_sockets[i];

		/* Shorter than the key (checked when parsed): the rest stays zero. */
		memcpy(kv->k.path, path, strlen(path));
		kv->v.index = i;
		kv->v.rule_id = c->resolver_sockets.set ? c->resolver_sockets.rule_ids[i] : 0;
	}
	out->n_resolver_sockets = i;
	return 0;
}

bool ln_policy_resolver_guard(const struct ln_config *c, const struct ln_policy *p)
{
	if (!c->dns)
		return false; /* no proxy to fall back to: the sockets are the only resolver */
	return c->domains.n || (p && (p->n_domain_rules || p->domains.n));
}

static int doh_rule_add(struct ln_rule **v, size_t *n, size_t *cap, const struct ln_rule *r)
{
	int rc = ln_grow((void **)v, cap, *n + 1, sizeof(**v));

	if (!rc)
		(*v)[(*n)++] = *r;
	return rc;
}

/*
 * The deny rules encrypted-dns = deny adds to policy @p: port 853 anywhere, and port 443 of
 * every doh-resolvers entry (443 only: the same servers' port 53 stays the proxy's). The
 * hostnames point into @c; free only the array. Returns the count or -errno.
 */
long ln_encrypted_dns_rules(const struct ln_config *c, const struct ln_policy *p,
			    struct ln_rule **out)
{
	const struct ln_sock_rule *e =
	    p->encrypted_dns.rule_id ? &p->encrypted_dns : &c->encrypted_dns;
	struct ln_rule r = {.verdict = LN_VERDICT_DENY,
			    .proto = LN_PROTO_ANY,
			    .port_lo = LN_DOT_PORT,
			    .port_hi = LN_DOT_PORT,
			    .kind = LN_TARGET_PREFIX,
			    .rule_id = e->rule_id};
	size_t n = 0, cap = 0, i;
	int rc;

	*out = NULL;
	if (!e->rule_id || e->verdict != LN_VERDICT_DENY)
		return 0;
	rc = doh_rule_add(out, &n, &cap, &r); /* ::/0, the v4-mapped space included */
	r.port_lo = r.port_hi = LN_DOH_PORT;
	for (i = 0; i < c->doh.n && !rc; i++) {
		r.pfx = c->doh.v[i].pfx;
		r.rule_id = c->doh.v[i].rule_id;
		rc = doh_rule_add(out, &n, &cap, &r);
	}
	r.kind = LN_TARGET_HOSTNAME;
	for (i = 0; i < c->doh.n_names && !rc; i++) {
		r.hostname = c->doh.names[i].name;
		r.rule_id = c->doh.names[i].rule_id;
		rc = doh_rule_add(out, &n, &cap, &r);
	}
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	return n;
}

/* encrypted-dns = deny with no doh-resolvers list refuses port 853 only: say so, once. */
void ln_encrypted_dns_warn(const struct ln_config *c, ln_warn_fn warn, void *ud)
{
	char where[LN_ERR_MAX / 2], msg[LN_ERR_MAX];
	__u32 rule_id = 0;

	if (!warn || c->doh.n || c->doh.n_names)
		return;
	if (c->encrypted_dns.rule_id && c->encrypted_dns.verdict == LN_VERDICT_DENY)
		rule_id = c->encrypted_dns.rule_id;
	for (size_t i = 0; i < c->n_policies && !rule_id; i++)
		if (c->policies[i].encrypted_dns.verdict == LN_VERDICT_DENY)
			rule_id = c->policies[i].encrypted_dns.rule_id;
	if (!rule_id)
		return;
	ln_rule_id_format(&c->sources, rule_id, where, sizeof(where));
	snprintf(msg, sizeof(msg),
		 "%s: encrypted-dns = deny, but no doh-resolvers list: only DNS over TLS "
		 "(port 853) is refused",
		 where);
	warn(msg, ud);
}
