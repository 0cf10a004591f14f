// SPDX-License-Identifier: GPL-2.0
/* Control socket protocol: the command dispatch, request parsing, the pure lookups. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <json-c/json.h>

#include "control_proto.h"

/* The string member @key of @o into @buf: 1 if present, 0 if absent, -EINVAL if not a string. */
static int get_string(json_object *o, const char *key, char *buf, size_t len,
		      struct ln_error *err)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return ln_err(err, -EINVAL, "\"%s\" must be a string", key);
	s = json_object_get_string(v);
	if (!*s || strlen(s) >= len)
		return ln_err(err, -EINVAL, "\"%s\" is empty or too long", key);
	memcpy(buf, s, strlen(s) + 1);
	return 1;
}

static int parse_port_proto(json_object *o, struct ln_ctl_explain *ex, struct ln_error *err)
{
	char proto[8] = "tcp";
	json_object *v;
	int64_t port;

	if (!json_object_object_get_ex(o, "port", &v) || !json_object_is_type(v, json_type_int))
		return ln_err(err, -EINVAL, "explain: \"port\" must be a number 0-65535");
	port = json_object_get_int64(v);
	if (port < 0 || port > 65535)
		return ln_err(err, -EINVAL, "explain: \"port\" must be a number 0-65535");
	ex->port = port;
	if (get_string(o, "proto", proto, sizeof(proto), err) < 0)
		return -EINVAL;
	if (!strcmp(proto, "tcp"))
		ex->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		ex->proto = IPPROTO_UDP;
	else
		return ln_err(err, -EINVAL,
			      "explain: \"proto\" must be \"tcp\" or \"udp\", not \"%s\"", proto);
	return 0;
}

int ln_ctl_parse_explain(json_object *o, struct ln_ctl_explain *ex, struct ln_error *err)
{
	struct ln_prefix p;
	char addr[128];
	int np, nc, na;

	memset(ex, 0, sizeof(*ex));
	np = get_string(o, "policy", ex->policy, sizeof(ex->policy), err);
	if (np < 0)
		return np;
	nc = get_string(o, "cgroup", ex->cgroup, sizeof(ex->cgroup), err);
	if (nc < 0)
		return nc;
	if (np + nc != 1)
		return ln_err(err, -EINVAL,
			      "explain: give exactly one of \"policy\" and \"cgroup\"");
	if (get_string(o, "exe", ex->exe, sizeof(ex->exe), err) < 0)
		return -EINVAL;
	na = get_string(o, "addr", addr, sizeof(addr), err);
	if (na < 0)
		return na;
	if (!na)
		return ln_err(err, -EINVAL, "explain: \"addr\" is missing");
	if (ln_prefix_parse(addr, &p) < 0 || p.len != 128)
		return ln_err(err, -EINVAL, "explain: \"%s\" is not an IPv4 or IPv6 address", addr);
	memcpy(ex->addr, p.addr, LN_ADDR_LEN);
	return parse_port_proto(o, ex, err);
}

/* Whether @line has the escape \u0000, at which json-c would cut a key short. */
static bool has_nul_escape(const char *line, size_t len)
{
	/* a backslash outside a string is a syntax error already: no need to track quotes */
	for (size_t i = 0; i + 1 < len; i++) {
		if (line[i] != '\\')
			continue;
		if (line[i + 1] == 'u' && i + 6 <= len && !memcmp(line + i + 2, "0000", 4))
			return true;
		i++; /* the escaped character, which may be a backslash */
	}
	return false;
}

static bool is_utf8(const char *s, size_t len)
{
	for (size_t i = 0, n; i < len; i += n)
		if (!(n = ln_utf8_char_len(s + i, len - i)))
			return false;
	return true;
}

int ln_json_utf8_write(const char *s, size_t len, int (*put)(void *ud, const char *s, size_t len),
		       void *ud)
{
	while (len) {
		size_t n = 0, k;
		char esc[8];
		int r;

		while (n < len && (k = ln_utf8_char_len(s + n, len - n)))
			n += k;
		r = n ? put(ud, s, n) : 0;
		if (r < 0 || n == len)
			return r;
		/* "\\xff" in the JSON text: the string reads \xff */
		snprintf(esc, sizeof(esc), "\\\\x%02x", (unsigned char)s[n]);
		r = put(ud, esc, strlen(esc));
		if (r < 0)
			return r;
		s += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* Why the JSON text @line, of which json-c took an object from the first @end bytes, is bad. */
static int check_text(const char *line, size_t len, size_t end, struct ln_error *err)
{
	if (end != len)
		return ln_err(err, -EINVAL, "trailing characters after the JSON object");
	if (!is_utf8(line, len))
		return ln_err(err, -EINVAL, "the request is not valid UTF-8");
	if (has_nul_escape(line, len))
		return ln_err(err, -EINVAL, "a string contains NUL (\\u0000): not allowed");
	return 0;
}

/* The request line as a JSON object into *@out: 0 or -errno with the reason in @err. */
static int parse_object(const char *line, size_t len, json_object **out, struct ln_error *err)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;
	int r = 0;

	if (!tok)
		return ln_err(err, -ENOMEM, "out of memory");
	o = json_tokener_parse_ex(tok, line, len);
	if (!o) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		r = ln_err(err, -EINVAL, "not a JSON object: %s",
			   e == json_tokener_continue ? "incomplete" : json_tokener_error_desc(e));
	} else if (!json_object_is_type(o, json_type_object)) {
		r = ln_err(err, -EINVAL, "not a JSON object");
	} else {
		r = check_text(line, len, json_tokener_get_parse_end(tok), err);
	}
	json_tokener_free(tok);
	if (r < 0)
		json_object_put(o);
	else
		*out = o;
	return r;
}

int ln_ctl_dispatch(const struct ln_ctl_cmd *cmds, size_t n, struct ln_ctl_ctx *ctx,
		    const char *line, size_t len, json_object **reply, struct ln_error *err)
{
	json_object *o = NULL, *v;
	const char *cmd;
	size_t i;
	int r;

	*reply = NULL;
	if (len > LN_CTL_MAX_REQUEST)
		return ln_err(err, -EINVAL, "request longer than %d bytes", LN_CTL_MAX_REQUEST);
	if (memchr(line, '\0', len))
		return ln_err(err, -EINVAL, "a NUL byte in the request: not allowed");
	r = parse_object(line, len, &o, err);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(o, "cmd", &v) || !json_object_is_type(v, json_type_string)) {
		r = ln_err(err, -EINVAL, "\"cmd\" is missing");
		goto out;
	}
	cmd = json_object_get_string(v);
	for (i = 0; i < n && strcmp(cmd, cmds[i].name); i++)
		;
	if (i == n)
		r = ln_err(err, -EINVAL, "unknown cmd \"%.64s\"", cmd);
	else
		r = cmds[i].run(ctx, o, reply, err);
out:
	json_object_put(o);
	return r;
}

int ln_ctl_admit(size_t n_clients, size_t n_peer, struct ln_error *err)
{
	if (n_clients >= LN_CTL_MAX_CLIENTS)
		return ln_err(err, -EBUSY, "too many connections (limit %d)", LN_CTL_MAX_CLIENTS);
	if (n_peer >= LN_CTL_MAX_PER_PEER)
		return ln_err(err, -EBUSY, "too many connections from this process (limit %d)",
			      LN_CTL_MAX_PER_PEER);
	if (n_peer && n_clients >= LN_CTL_MAX_CLIENTS - LN_CTL_RESERVED)
		return ln_err(err, -EBUSY,
			      "too many connections: the last %d are kept for other processes",
			      LN_CTL_RESERVED);
	return 0;
}

__u64 ln_ctl_deadline(bool subscribed, size_t pending, __u64 active)
{
	if (!subscribed)
		return active + LN_CTL_IDLE_SEC * 1000000ULL;
	if (pending)
		return active + LN_CTL_STALL_SEC * 1000000ULL;
	return 0;
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

__u32 ln_ctl_cgroup_policy(const struct ln_binding *b, size_t n_bindings, const char *cg2_root,
			   const char *path, ln_unit_match_fn unit_match, void *ud, char *matched,
			   size_t len)
{
	char cg[4096];
	size_t n;

	cgroup_rel(cg2_root, path, cg, sizeof(cg));
	if (len)
		matched[0] = '\0';
	/* The longest prefix first: the nearest ancestor-or-self wins, as in the kernel. */
	for (n = strlen(cg); n;) {
		long i;

		cg[n] = '\0';
		i = ln_binding_lookup(b, n_bindings, cg, unit_match, ud);
		if (i >= 0) {
			snprintf(matched, len, "%s", cg);
			return b[i].policy_id;
		}
		while (n && cg[n - 1] != '/')
			n--;
		if (n)
			n--; /* drop the slash */
	}
	return LN_POLICY_IMPLICIT;
}

/* Whether @path lies at or below @dir (both relative to the root, normalized; "" is the root). */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !n || (!strncmp(path, dir, n) && (path[n] == '/' || !path[n]));
}

/* A cgroup= value's leading components without '*' or '?' (all of it if no glob). */
static void glob_fixed_part(const char *pattern, char *buf, size_t len)
{
	size_t n;

	cgroup_rel("", pattern, buf, len);
	n = strcspn(buf, "*?");
	if (!buf[n])
		return;
	while (n && buf[n - 1] != '/')
		n--;
	buf[n ? n - 1 : 0] = '\0';
}

bool ln_ctl_cgroup_guarded(const char *cg2_root, char *const *attach, size_t n_attach,
			   const char *path)
{
	char at[4096], cg[4096];

	cgroup_rel(cg2_root, path, cg, sizeof(cg));
	for (size_t i = 0; i < n_attach; i++) {
		cgroup_rel(cg2_root, attach[i], at, sizeof(at));
		if (path_within(cg, at))
			return true;
	}
	return false;
}

bool ln_policy_guarded(const struct ln_policy *p, const char *cg2_root, char *const *attach,
		       size_t n_attach)
{
	char at[4096], cg[4096];

	for (size_t i = 0; i < n_attach; i++) {
		if (p->unit)
			return true;
		cgroup_rel(cg2_root, attach[i], at, sizeof(at));
		for (size_t j = 0; j < p->n_cgroups; j++) {
			glob_fixed_part(p->cgroups[j], cg, sizeof(cg));
			if (path_within(cg, at) || path_within(at, cg))
				return true;
		}
	}
	return false;
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
