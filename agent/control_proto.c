// SPDX-License-Identifier: GPL-2.0
/* Control socket protocol: request parsing and the pure lookups "explain" needs. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <json-c/json.h>

#include "control_proto.h"

static const struct {
	const char *name;
	enum ln_ctl_cmd cmd;
} cmd_names[] = {
	{ "status", LN_CTL_STATUS },
	{ "reload", LN_CTL_RELOAD },
	{ "explain", LN_CTL_EXPLAIN },
	{ "events", LN_CTL_EVENTS },
};

static int fail(struct ln_error *err, const char *fmt, const char *arg)
{
	snprintf(err->msg, sizeof(err->msg), fmt, arg);
	return -EINVAL;
}

/* The string member @key of @o into @buf: 1 if present, 0 if absent, -EINVAL if not a string. */
static int get_string(json_object *o, const char *key, char *buf, size_t len,
		      struct ln_error *err)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return fail(err, "\"%s\" must be a string", key);
	s = json_object_get_string(v);
	if (!*s || strlen(s) >= len)
		return fail(err, "\"%s\" is empty or too long", key);
	memcpy(buf, s, strlen(s) + 1);
	return 1;
}

static int parse_explain(json_object *o, struct ln_ctl_request *req, struct ln_error *err)
{
	struct ln_prefix p;
	char addr[128], proto[8] = "tcp";
	json_object *v;
	int np, nc, na;
	int64_t port;

	np = get_string(o, "policy", req->policy, sizeof(req->policy), err);
	if (np < 0)
		return np;
	nc = get_string(o, "cgroup", req->cgroup, sizeof(req->cgroup), err);
	if (nc < 0)
		return nc;
	if (np + nc != 1)
		return fail(err, "explain: give exactly one of \"policy\" and \"cgroup\"%s", "");
	na = get_string(o, "addr", addr, sizeof(addr), err);
	if (na < 0)
		return na;
	if (!na)
		return fail(err, "explain: \"addr\" is missing%s", "");
	if (ln_prefix_parse(addr, &p) < 0 || p.len != 128)
		return fail(err, "explain: \"%s\" is not an IPv4 or IPv6 address", addr);
	memcpy(req->addr, p.addr, LN_ADDR_LEN);
	if (!json_object_object_get_ex(o, "port", &v) || !json_object_is_type(v, json_type_int))
		return fail(err, "explain: \"port\" must be a number 0-65535%s", "");
	port = json_object_get_int64(v);
	if (port < 0 || port > 65535)
		return fail(err, "explain: \"port\" must be a number 0-65535%s", "");
	req->port = port;
	if (get_string(o, "proto", proto, sizeof(proto), err) < 0)
		return -EINVAL;
	if (!strcmp(proto, "tcp"))
		req->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		req->proto = IPPROTO_UDP;
	else
		return fail(err, "explain: \"proto\" must be \"tcp\" or \"udp\", not \"%s\"",
			    proto);
	return 0;
}

int ln_ctl_parse_request(const char *line, size_t len, struct ln_ctl_request *req,
			 struct ln_error *err)
{
	json_tokener *tok;
	json_object *o, *v;
	const char *cmd;
	int r = -EINVAL;

	memset(req, 0, sizeof(*req));
	if (len > LN_CTL_MAX_REQUEST)
		return fail(err, "request longer than %s bytes", "4096");
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	o = json_tokener_parse_ex(tok, line, len);
	if (!o || json_tokener_get_parse_end(tok) != len) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		fail(err, "not a JSON object: %s",
		     e == json_tokener_continue ? "incomplete" : json_tokener_error_desc(e));
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		fail(err, "not a JSON object%s", "");
		goto out;
	}
	if (!json_object_object_get_ex(o, "cmd", &v) || !json_object_is_type(v, json_type_string)) {
		fail(err, "\"cmd\" is missing%s", "");
		goto out;
	}
	cmd = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (!strcmp(cmd, cmd_names[i].name))
			req->cmd = cmd_names[i].cmd;
	if (!req->cmd) {
		fail(err, "unknown cmd \"%.64s\"", cmd);
		goto out;
	}
	r = req->cmd == LN_CTL_EXPLAIN ? parse_explain(o, req, err) : 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

/* @s without leading and trailing slashes, into @buf (relative to the cgroup2 root). */
static void cgroup_rel(const char *cg2_root, const char *s, char *buf, size_t len)
{
	size_t rl = strlen(cg2_root), n;

	while (rl && cg2_root[rl - 1] == '/')
		rl--;
	if (rl && !strncmp(s, cg2_root, rl) && (s[rl] == '/' || !s[rl]))
		s += rl;
	while (*s == '/')
		s++;
	snprintf(buf, len, "%s", s);
	n = strlen(buf);
	while (n && buf[n - 1] == '/')
		buf[--n] = '\0';
}

static bool policy_names(const struct ln_policy *p, const char *cg)
{
	const char *last = strrchr(cg, '/');
	char pat[4096];

	for (size_t j = 0; j < p->n_cgroups; j++) {
		cgroup_rel("", p->cgroups[j], pat, sizeof(pat));
		if (!strcmp(pat, cg) || !fnmatch(pat, cg, FNM_PATHNAME))
			return true;
	}
	return p->unit && !strcmp(p->unit, last ? last + 1 : cg);
}

__u32 ln_ctl_cgroup_policy(const struct ln_config *c, const char *cg2_root, const char *path,
			   char *matched, size_t len)
{
	char cg[4096];
	size_t n;

	cgroup_rel(cg2_root, path, cg, sizeof(cg));
	if (len)
		matched[0] = '\0';
	/* The longest prefix first: the nearest ancestor-or-self wins. */
	for (n = strlen(cg); n; ) {
		cg[n] = '\0';
		for (size_t i = 0; i < c->n_policies; i++) {
			if (!policy_names(&c->policies[i], cg))
				continue;
			snprintf(matched, len, "%s", cg);
			return c->policies[i].id ? c->policies[i].id : i + 1;
		}
		while (n && cg[n - 1] != '/')
			n--;
		if (n)
			n--; /* drop the slash */
	}
	return LN_POLICY_IMPLICIT;
}

int ln_ctl_source_line(const char *path, unsigned int line, char *buf, size_t len)
{
	char tmp[LN_MAX_LINE_LEN + 2];
	unsigned int n = 0;
	FILE *f;
	int r = -ENOENT;

	if (!path || !line || !len)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(tmp, sizeof(tmp), f)) {
		size_t l = strlen(tmp);
		const char *s = tmp;

		/* a line longer than the buffer is counted once */
		if (l && tmp[l - 1] != '\n' && !feof(f)) {
			int ch;

			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		if (++n != line)
			continue;
		while (l && (tmp[l - 1] == '\n' || tmp[l - 1] == '\r' || tmp[l - 1] == ' ' ||
			     tmp[l - 1] == '\t'))
			tmp[--l] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		snprintf(buf, len, "%s", s);
		r = 0;
		break;
	}
	fclose(f);
	return r;
}
