// SPDX-License-Identifier: GPL-2.0
/*
 * The INI grammar (inih): one policy file into struct ln_config. Walking rules.d and
 * units.d and the checks across files are config_load.c's; lsnitch.ini(5) says what each
 * key means; the values of cgroup=, allow=/deny= and the lists are parsed in ini_values.c.
 *
 * Sections: [policy NAME] (NAME: [A-Za-z0-9_.@-]+), [policy] (named after the file without
 * ".ini"), [rules NAME] (more allow/deny/allow-domain/deny-domain rules for policy NAME,
 * defined earlier in load order: how a second file, such as the agent's managed rules file,
 * adds to a policy), [global] (the --config file only). The keys of each are the tables
 * policy_keys[] and global_keys[] below: name, parser, once-only flag.
 *
 * Values: comments are lines starting with ';' or '#', and ';' or '#' after whitespace in a
 * value; an indented line continues the previous key (inih multiline); lines are limited to
 * 199 characters (Debian's inih), longer ones are errors; keys and section words are
 * case-insensitive; relative FILE paths are taken relative to the INI file's directory.
 * cgroup= paths lose a leading and trailing '/' and empty components; "." and ".."
 * components and the root itself are rejected; globs are kept as written.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ini_internal.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

int ini_fail(struct ini_state *st, int rc, const char *fmt, ...)
{
	va_list ap;

	if (st->rc)
		return st->rc;
	st->rc = rc;
	st->err_line = st->lf.line;
	va_start(ap, fmt);
	ln_verr_at(st->err, rc, st->lf.path, st->lf.line, fmt, ap);
	va_end(ap);
	return rc;
}

/* Letters, digits, "_.@-" and systemd's "\xNN" escapes: every unit name is one. */
bool ini_is_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			s += 3;
			continue;
		}
		if (!isalnum((unsigned char)*s) && !strchr("_.@-", *s))
			return false;
	}
	return true;
}

void *ini_push_named(struct ini_state *st, void **v, size_t *cap, size_t n, size_t size,
		     const char *name)
{
	char **elem;

	if (ln_grow(v, cap, n + 1, size)) {
		ini_fail(st, -ENOMEM, "out of memory");
		return NULL;
	}
	elem = (void *)((char *)*v + n * size);
	memset(elem, 0, size);
	*elem = strdup(name);
	if (!*elem) {
		ini_fail(st, -ENOMEM, "out of memory");
		return NULL;
	}
	return elem;
}

_Static_assert(offsetof(struct ln_policy, name) == 0, "ini_push_named() sets the first member");

static int ini_add_policy(struct ini_state *st, const char *name)
{
	struct ln_config *c = st->c;
	struct ln_policy *p;

	if (!ini_is_name(name))
		return ini_fail(st, -EINVAL, "bad policy name \"%s\" (letters, digits, _.@-, \\xNN)",
				name);
	if (c->n_policies >= LN_MAX_POLICIES - 1)
		return ini_fail(st, -E2BIG, "too many policies (max %d)", LN_MAX_POLICIES - 1);
	p = ini_push_named(st, (void **)&c->policies, &c->cap_policies, c->n_policies,
			   sizeof(*c->policies), name);
	if (!p)
		return st->rc;
	p->id = c->n_policies + 1;
	p->default_verdict = LN_VERDICT_ALLOW;
	p->default_rule_id = ini_rule_id(st);
	p->section_rule_id = ini_rule_id(st);
	st->pol = c->n_policies++;
	return 0;
}

/* [rules NAME]: the rules that follow join policy NAME, which an earlier file defined. */
static int ini_add_to_policy(struct ini_state *st, const char *name)
{
	for (size_t i = 0; i < st->c->n_policies; i++) {
		if (!strcmp(st->c->policies[i].name, name)) {
			st->sec = SEC_RULES;
			st->pol = i;
			return 0;
		}
	}
	return ini_fail(st, -ENOENT,
			"[rules %s]: no policy \"%s\" defined before this line (load order: "
			"--config, --rules, --units, --managed-rules)",
			name, name);
}

/* "[global]", "[policy]", "[policy NAME]", "[rules NAME]"; @s points at '['. */
static int ini_on_section(struct ini_state *st, char *s)
{
	char *end = strchr(s, ']'), *rest, *word, *arg;

	if (!end)
		return ini_fail(st, -EINVAL, "missing ']' in section header");
	*end = '\0';
	rest = ln_trim(end + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return ini_fail(st, -EINVAL, "unexpected \"%s\" after section header", rest);
	word = ln_trim(s + 1);
	arg = word + strcspn(word, " \t");
	if (*arg) {
		*arg++ = '\0';
		arg = ln_trim(arg);
	}
	memset(st->seen, 0, sizeof(st->seen));
	st->key_in_section = false;
	if (!strcasecmp(word, "global") && !*arg) {
		if (!st->allow_global)
			return ini_fail(st, -EINVAL,
					"[global] is only allowed in the --config file");
		st->sec = SEC_GLOBAL;
		return 0;
	}
	if (!strcasecmp(word, "policy")) {
		st->sec = SEC_POLICY;
		if (*arg)
			return ini_add_policy(st, arg);
		if (!ini_is_name(st->base))
			return ini_fail(st, -EINVAL,
					"file name \"%s\" is not a policy name: use [policy NAME]",
					st->base);
		return ini_add_policy(st, st->base);
	}
	if (!strcasecmp(word, "list")) {
		if (!st->allow_global)
			return ini_fail(st, -EINVAL,
					"[list] is only allowed in the --config file");
		st->sec = SEC_LIST;
		return ini_add_list_section(st, arg);
	}
	if (!strcasecmp(word, "rules") && *arg)
		return ini_add_to_policy(st, arg);
	return ini_fail(st, -EINVAL,
			"unknown section \"[%s%s%s]\" (expected [policy NAME], [rules NAME], "
			"[list NAME] or [global])",
			word, *arg ? " " : "", arg);
}

int ini_take_err(struct ini_state *st, int rc, const struct ln_error *e)
{
	if (st->rc)
		return st->rc;
	st->rc = rc;
	st->err_line = st->lf.line;
	if (st->err)
		*st->err = *e;
	return rc;
}

/* inih reader: one whole line per call, counted, checked, section headers handled here. */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	struct ln_error lerr = {""};
	char *text, *s;
	size_t n;
	int rc;

	if (st->rc)
		return NULL;
	rc = ln_linefile_next(&st->lf, &text, &lerr);
	if (rc <= 0) {
		if (rc)
			ini_take_err(st, rc, &lerr);
		return NULL;
	}
	n = strlen(text);
	if (n + 1 > (size_t)num) {
		ini_fail(st, -EINVAL, "line too long (max %d)", num - 1);
		return NULL;
	}
	memcpy(str, text, n + 1);
	s = text;
	if (st->lf.line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	/* inih takes an indented line after a key as a continuation, not a header */
	if (*s == '[' && !(s > text && st->key_in_section)) {
		if (ini_on_section(st, s))
			return NULL;
	}
	return str;
}

/* BOOL: yes|no|true|false|on|off|1|0 into the bool at @k->off. */
static int ini_bool(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	bool *out = INI_FIELD(obj, k);
	size_t i;

	for (i = 0; i < N_ELEMS(yes); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*out = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	return ini_fail(st, -EINVAL, "bad value \"%s\" for %s (yes/no, true/false, on/off, 1/0)", v,
			k->name);
}

/* A decimal number in [@k->lo, @k->hi] into the unsigned int at @k->off. */
static int ini_uint(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	unsigned int *out = INI_FIELD(obj, k);
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < (long)k->lo || n > (long)k->hi)
		return ini_fail(st, -EINVAL, "bad value \"%s\" for %s (%s%s%u-%u)", v, k->name,
				k->unit ? k->unit : "", k->unit ? ", " : "", k->lo, k->hi);
	*out = n;
	return 0;
}

/* dns-ttl-min/max: a number, and the line "min above max" names (the last of the two). */
static int ini_dns_ttl(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_config *c = obj;

	c->dns_ttl_rule_id = ini_rule_id(st);
	return ini_uint(st, k, obj, v);
}

static int ini_dns_block(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	static const char *const modes[] = {"nxdomain", "refused", "zero"};
	struct ln_config *c = obj;

	(void)k;
	for (size_t i = 0; i < N_ELEMS(modes); i++) {
		if (!strcasecmp(v, modes[i])) {
			c->dns_block = i;
			return 0;
		}
	}
	return ini_fail(st, -EINVAL, "bad value \"%s\" for dns-block (nxdomain, refused or zero)",
			v);
}

/* nat64-prefix: an IPv6 prefix of an RFC 6052 length (32, 40, 48, 56, 64 or 96 bits). */
static int ini_nat64(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	static const __u8 lens[] = {32, 40, 48, 56, 64, 96};
	struct ln_prefix *p = INI_FIELD(obj, k);
	struct ln_prefix mapped = {.len = LN_V4_MAPPED_PREFIX};

	mapped.addr[10] = mapped.addr[11] = 0xff;
	if (!ln_prefix_parse(v, p) && !ln_prefix_contains(&mapped, p))
		for (size_t i = 0; i < N_ELEMS(lens); i++)
			if (p->len == lens[i])
				return 0;
	memset(p, 0, sizeof(*p));
	return ini_fail(st, -EINVAL,
			"bad value \"%s\" for nat64-prefix (an IPv6 prefix of 32, 40, 48, 56, 64 "
			"or 96 bits)",
			v);
}

static int ini_default(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_policy *p = obj;

	(void)k;
	if (!strcasecmp(v, "allow"))
		p->default_verdict = LN_VERDICT_ALLOW;
	else if (!strcasecmp(v, "deny"))
		p->default_verdict = LN_VERDICT_DENY;
	else
		return ini_fail(st, -EINVAL, "bad value \"%s\" for default (allow or deny)", v);
	p->default_rule_id = ini_rule_id(st);
	return 0;
}

/*
 * raw-sockets / packet-sockets / icmp-sockets / encrypted-dns: allow or deny into the
 * ln_sock_rule at @k->off.
 */
static int ini_sock_kind(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_sock_rule *out = INI_FIELD(obj, k);

	if (!strcasecmp(v, "allow"))
		out->verdict = LN_VERDICT_ALLOW;
	else if (!strcasecmp(v, "deny"))
		out->verdict = LN_VERDICT_DENY;
	else
		return ini_fail(st, -EINVAL, "bad value \"%s\" for %s (allow or deny)", v, k->name);
	out->rule_id = ini_rule_id(st);
	return 0;
}

#define INI_KEY(key, fn, ...)                                                                      \
	{                                                                                          \
		.name = key, .parse = fn, __VA_ARGS__                                              \
	}
#define POLICY_AT(field) .off = offsetof(struct ln_policy, field)
#define CONFIG_AT(field) .off = offsetof(struct ln_config, field)

/*
 * Keys of a [policy] section: the object is its struct ln_policy. The first RULES_KEYS are
 * also the keys of [rules NAME].
 */
#define RULES_KEYS 4
static const struct ini_key policy_keys[] = {
    INI_KEY("allow", ini_rules, .verdict = LN_VERDICT_ALLOW),
    INI_KEY("deny", ini_rules, .verdict = LN_VERDICT_DENY),
    INI_KEY("allow-domain", ini_domain_rules, .verdict = LN_VERDICT_ALLOW),
    INI_KEY("deny-domain", ini_domain_rules, .verdict = LN_VERDICT_DENY),
    INI_KEY("cgroup", ini_cgroup),
    INI_KEY("exe", ini_exe),
    INI_KEY("default", ini_default, .once = true),
    INI_KEY("audit", ini_bool, .once = true, POLICY_AT(audit)),
    INI_KEY("log-allowed", ini_bool, .once = true, POLICY_AT(log_allowed)),
    INI_KEY("blocked-hosts", ini_hosts, POLICY_AT(hosts)),
    INI_KEY("blocked-domains", ini_domains, POLICY_AT(domains)),
    INI_KEY("raw-sockets", ini_sock_kind, .once = true, POLICY_AT(sock[LN_SOCK_RAW])),
    INI_KEY("packet-sockets", ini_sock_kind, .once = true, POLICY_AT(sock[LN_SOCK_PACKET])),
    INI_KEY("icmp-sockets", ini_sock_kind, .once = true, POLICY_AT(sock[LN_SOCK_ICMP])),
    INI_KEY("dns-servers", ini_dns_servers, .once = true, POLICY_AT(dns_servers)),
    INI_KEY("encrypted-dns", ini_sock_kind, .once = true, POLICY_AT(encrypted_dns)),
};

/* Keys of [global]: the object is the struct ln_config. */
static const struct ini_key global_keys[] = {
    INI_KEY("blocked-hosts", ini_hosts, CONFIG_AT(hosts)),
    INI_KEY("blocked-domains", ini_domains, CONFIG_AT(domains)),
    INI_KEY("audit", ini_bool, .once = true, CONFIG_AT(audit)),
    INI_KEY("log-allowed", ini_bool, .once = true, CONFIG_AT(log_allowed)),
    INI_KEY("refresh", ini_uint, .once = true, CONFIG_AT(refresh_sec), .lo = 10, .hi = 86400,
	    .unit = "seconds"),
    INI_KEY("dns", ini_bool, .once = true, CONFIG_AT(dns)),
    INI_KEY("dns-cache", ini_bool, .once = true, CONFIG_AT(dns_cache)),
    INI_KEY("dns-block", ini_dns_block, .once = true),
    INI_KEY("dns-port", ini_uint, .once = true, CONFIG_AT(dns_port), .lo = 1024, .hi = 65000),
    INI_KEY("dns-ttl-min", ini_dns_ttl, .once = true, CONFIG_AT(dns_ttl_min), .lo = 1,
	    .hi = 604800),
    INI_KEY("dns-ttl-max", ini_dns_ttl, .once = true, CONFIG_AT(dns_ttl_max), .lo = 1,
	    .hi = 604800),
    INI_KEY("nat64-prefix", ini_nat64, .once = true, CONFIG_AT(nat64)),
    INI_KEY("dns-servers", ini_dns_servers, .once = true, CONFIG_AT(dns_servers)),
    INI_KEY("resolver-sockets", ini_resolver_sockets, CONFIG_AT(resolver_sockets)),
    INI_KEY("encrypted-dns", ini_sock_kind, .once = true, CONFIG_AT(encrypted_dns)),
    INI_KEY("doh-resolvers", ini_hosts, CONFIG_AT(doh)),
    INI_KEY("lists-dir", ini_lists_dir, .once = true),
};

_Static_assert(N_ELEMS(policy_keys) <= INI_MAX_KEYS, "st->seen too small");
_Static_assert(N_ELEMS(global_keys) <= INI_MAX_KEYS, "st->seen too small");

/*
 * Finds @key in the section's table @keys and hands @v to its parser; @sect: the section as
 * the error names it ("policy NAME", "rules NAME", "global").
 */
static int ini_key_parse(struct ini_state *st, const struct ini_key *keys, size_t n, void *obj,
			 const char *sect, const char *key, char *v)
{
	const struct ini_key *k;
	size_t i;

	for (i = 0; i < n; i++) {
		k = &keys[i];
		if (strcasecmp(key, k->name))
			continue;
		if (k->once && st->seen[i])
			return ini_fail(st, -EINVAL, "duplicate key \"%s\" (first at line %u)",
					k->name, st->seen[i]);
		if (k->once)
			st->seen[i] = st->lf.line;
		return k->parse(st, k, obj, v);
	}
	return ini_fail(st, -EINVAL, "unknown key \"%s\" in [%s]", key, sect);
}

/* inih handler: 1 to go on, 0 on error (the message is in st). */
static int ini_on_key(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	char v[LN_INI_MAX_LINE + 1], *val;
	char sect[LN_INI_MAX_LINE + 8];
	struct ln_policy *p = NULL;

	(void)section;
	st->key_in_section = true;
	if (st->rc)
		return 0;
	/* inih strips "; comment"; take " # comment" too */
	snprintf(v, sizeof(v), "%s", value);
	ln_cut_comment(v);
	val = ln_trim(v);
	if (st->sec == SEC_POLICY || st->sec == SEC_RULES) {
		p = &st->c->policies[st->pol];
		snprintf(sect, sizeof(sect), "%s %s", st->sec == SEC_RULES ? "rules" : "policy",
			 p->name);
	}
	if (st->sec == SEC_GLOBAL)
		ini_key_parse(st, global_keys, N_ELEMS(global_keys), st->c, "global", name, val);
	else if (p)
		ini_key_parse(st, policy_keys,
			      st->sec == SEC_RULES ? RULES_KEYS : N_ELEMS(policy_keys), p, sect,
			      name, val);
	else if (st->sec == SEC_LIST) {
		snprintf(sect, sizeof(sect), "list %s", st->c->lists[st->list].name);
		ini_key_parse(st, ini_list_keys, ini_n_list_keys, &st->c->lists[st->list], sect,
			      name, val);
	} else
		ini_fail(st, -EINVAL, "key \"%s\" before any section", name);
	return st->rc ? 0 : 1;
}

static int ini_state_init(struct ini_state *st, struct ln_config *c, const char *path,
			  struct ln_error *err)
{
	const char *slash = strrchr(path, '/'), *b = slash ? slash + 1 : path;
	size_t blen = strlen(b), i;

	st->c = c;
	st->err = err;
	for (i = 0; i < c->n_policies; i++)
		st->n_rules += c->policies[i].n_rules;
	if (!slash)
		st->dir = strdup(".");
	else if (slash == path)
		st->dir = strdup("/");
	else
		st->dir = strndup(path, slash - path);
	if (blen > 4 && !strcmp(b + blen - 4, ".ini"))
		blen -= 4;
	st->base = strndup(b, blen);
	if (!st->dir || !st->base)
		return ln_err(err, -ENOMEM, "out of memory");
	return ln_linefile_open(&st->lf, &c->sources, path, LN_INI_MAX_LINE, err);
}

int ln_config_load_ini(struct ln_config *c, const char *path, bool allow_global,
		       struct ln_error *err)
{
	struct ini_state st = {.allow_global = allow_global};
	int rc, ret;

	rc = ini_state_init(&st, c, path, err);
	if (rc)
		goto out;
	ret = ini_parse_stream(ini_read_line, &st, ini_on_key, &st);
	if (ret == -2 && !st.rc) {
		rc = ln_err(err, -ENOMEM, "%s: out of memory", path);
	} else if (ret > 0 && (!st.rc || (__u32)ret < st.err_line)) {
		/* inih's own complaint: a line that is neither a section nor key = value */
		rc = ln_err(err, -EINVAL,
			    "%s:%d: expected \"key = value\", \"[section]\" or a "
			    "comment",
			    path, ret);
	} else {
		rc = st.rc;
	}
out:
	ln_linefile_close(&st.lf);
	free(st.dir);
	free(st.base);
	return rc;
}
