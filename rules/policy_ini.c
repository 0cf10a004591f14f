// SPDX-License-Identifier: GPL-2.0
/*
 * INI policy files (inih) into struct ln_config.
 *
 * Sections and keys:
 *
 *   [policy NAME]        NAME: [A-Za-z0-9_.@-]+, unique across all files.
 *   [policy]             NAME is the file name without ".ini" (units.d/x.service.ini:
 *                        "x.service").
 *     cgroup = PATH      repeatable, at least one: cgroup path relative to the
 *                        cgroup2 root ("system.slice/nginx.service"); a leading and
 *                        trailing '/' are ignored, "." and ".." components and the
 *                        root itself are rejected. Globs ('*', '?', a "**" component;
 *                        ln_cgroup_glob_match()) are kept as written. In a --units
 *                        file a policy without cgroup= lines follows the unit the
 *                        file is named for (ln_policy.unit).
 *     default = allow|deny        verdict when no rule and no list matches (allow).
 *     allow = RULE[, RULE...]     repeatable; comma and/or space separated;
 *     deny = RULE[, RULE...]      RULE as ln_rule_parse(): TARGET[:PORT[-PORT]][/tcp|/udp].
 *     audit = BOOL                report would-be denials, deny nothing (no).
 *     log-allowed = BOOL          also report allowed connections (no).
 *     blocked-hosts = FILE        repeatable: extra host list for this policy only.
 *     blocked-domains = FILE      repeatable: extra domain list for this policy only.
 *     allow-domain = DOMAIN[:PORT[-PORT]][/tcp|/udp][, ...]   repeatable: the domain and
 *     deny-domain = ...           its subdomains, enforced for the addresses DNS answers
 *                                 resolve them to (through the resolver proxy).
 *
 *   [global]             only in the --config file:
 *     blocked-hosts = FILE, blocked-domains = FILE   repeatable, global lists.
 *     audit = BOOL, log-allowed = BOOL               for every policy and the implicit one.
 *     refresh = SECONDS  hostname re-resolve interval, 10..86400 (300).
 *     dns = BOOL         run the resolver proxy and redirect guarded DNS to it (yes).
 *     dns-block = nxdomain|refused|zero   the answer to a blocked name (nxdomain).
 *     dns-port = PORT    first of the proxy's ports, 1024..65000 (10530).
 *     dns-ttl-min = SECONDS, dns-ttl-max = SECONDS   clamp of how long an answer's
 *                        addresses keep their domain verdicts (30, 3600; 1..604800).
 *
 * BOOL: yes|no|true|false|on|off|1|0. Relative FILE paths are taken relative to the
 * INI file's directory. Comments: lines starting with ';' or '#', and ';' or '#' after
 * whitespace in a value. An indented line continues the previous key (inih multiline).
 * Lines are limited to 199 characters (Debian's inih): longer ones are errors.
 * Keys and section words are case-insensitive.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rules_internal.h"

#define REFRESH_MIN 10
#define REFRESH_MAX 86400
#define REFRESH_DEFAULT 300

enum ini_section {
	SEC_NONE,
	SEC_GLOBAL,
	SEC_POLICY,
};

struct ini_state {
	struct ln_config *c;
	const char *path;
	char *dir;  /* for relative list paths */
	char *base; /* file name without ".ini": the name of a bare [policy] */
	FILE *f;
	char *buf;
	size_t cap;
	__u32 file_idx;
	__u32 line;
	bool allow_global;
	enum ini_section sec;
	size_t pol;	     /* index of the current policy */
	bool key_in_section; /* inih continues values only after a key */
	__u32 seen_default, seen_audit, seen_log, seen_refresh; /* lines, per section */
	__u32 seen_dns, seen_dns_block, seen_dns_port, seen_ttl_min, seen_ttl_max;
	size_t n_rules; /* allow/deny entries in the whole config */
	int rc;		/* first error */
	__u32 err_line;
	struct ln_error *err;
};

static int ini_fail(struct ini_state *st, int rc, const char *fmt, ...) LN_PRINTF(3, 4);

static int ini_fail(struct ini_state *st, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (st->rc)
		return st->rc;
	st->rc = rc;
	st->err_line = st->line;
	if (!st->err)
		return rc;
	n = snprintf(st->err->msg, sizeof(st->err->msg), "%s:%u: ", st->path, st->line);
	if (n > 0 && (size_t)n < sizeof(st->err->msg)) {
		va_start(ap, fmt);
		vsnprintf(st->err->msg + n, sizeof(st->err->msg) - n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static __u32 ini_rule_id(const struct ini_state *st)
{
	return LN_RULE_ID(st->file_idx, st->line);
}

static bool is_policy_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.@-", *s))
			return false;
	return true;
}

static int ini_add_policy(struct ini_state *st, const char *name)
{
	struct ln_config *c = st->c;
	struct ln_policy *p;
	int rc;

	if (!is_policy_name(name))
		return ini_fail(st, -EINVAL, "bad policy name \"%s\" (letters, digits, _.@-)",
				name);
	if (c->n_policies >= LN_MAX_POLICIES - 1)
		return ini_fail(st, -E2BIG, "too many policies (max %d)", LN_MAX_POLICIES - 1);
	rc = ln_grow((void **)&c->policies, &c->cap_policies, c->n_policies + 1,
		     sizeof(*c->policies));
	if (rc)
		return ini_fail(st, rc, "out of memory");
	p = &c->policies[c->n_policies];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	if (!p->name)
		return ini_fail(st, -ENOMEM, "out of memory");
	p->id = c->n_policies + 1;
	p->default_verdict = LN_VERDICT_ALLOW;
	p->default_rule_id = ini_rule_id(st);
	p->section_rule_id = ini_rule_id(st);
	st->pol = c->n_policies++;
	return 0;
}

/* "[global]", "[policy]", "[policy NAME]"; @s points at '['. */
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
	st->seen_default = st->seen_audit = st->seen_log = st->seen_refresh = 0;
	st->seen_dns = st->seen_dns_block = st->seen_dns_port = 0;
	st->seen_ttl_min = st->seen_ttl_max = 0;
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
		if (!is_policy_name(st->base))
			return ini_fail(st, -EINVAL,
					"file name \"%s\" is not a policy name: use [policy NAME]",
					st->base);
		return ini_add_policy(st, st->base);
	}
	return ini_fail(st, -EINVAL,
			"unknown section \"[%s%s%s]\" (expected [policy NAME] or "
			"[global])",
			word, *arg ? " " : "", arg);
}

/* inih reader: one whole line per call, counted, checked, section headers handled here. */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	ssize_t n;
	char *s;

	if (st->rc)
		return NULL;
	errno = 0;
	n = getline(&st->buf, &st->cap, st->f);
	if (n < 0) {
		if (ferror(st->f)) {
			st->line++;
			ini_fail(st, errno ? -errno : -EIO, "read error: %s",
				 strerror(errno ? errno : EIO));
		}
		return NULL;
	}
	st->line++;
	if (st->line > LN_RULE_MAX_LINE) {
		ini_fail(st, -E2BIG, "too many lines (max %u)", LN_RULE_MAX_LINE);
		return NULL;
	}
	if (n > 0 && st->buf[n - 1] == '\n')
		st->buf[--n] = '\0';
	if (n > 0 && st->buf[n - 1] == '\r')
		st->buf[--n] = '\0';
	if (n > LN_INI_MAX_LINE || n + 1 > num) {
		ini_fail(st, -EINVAL, "line too long (max %d characters)", LN_INI_MAX_LINE);
		return NULL;
	}
	memcpy(str, st->buf, n + 1);
	s = st->buf;
	if (st->line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	/* inih takes an indented line after a key as a continuation, not a header */
	if (*s == '[' && !(s > st->buf && st->key_in_section)) {
		if (ini_on_section(st, s))
			return NULL;
	}
	return str;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* A key allowed once per section; @seen holds the line that set it. */
static int ini_once(struct ini_state *st, const char *key, __u32 *seen)
{
	if (*seen)
		return ini_fail(st, -EINVAL, "duplicate key \"%s\" (first at line %u)", key, *seen);
	*seen = st->line;
	return 0;
}

static int ini_bool(struct ini_state *st, const char *key, const char *v, __u32 *seen, bool *out)
{
	if (ini_once(st, key, seen))
		return st->rc;
	if (parse_bool(v, out))
		return ini_fail(st, -EINVAL,
				"bad value \"%s\" for %s (yes/no, true/false, on/off, 1/0)", v,
				key);
	return 0;
}

/* Normalizes a cgroup= path in place; NULL with an error set when it is not acceptable. */
static char *ini_cgroup_path(struct ini_state *st, char *v)
{
	char *out = v, *seg, *w = v;
	size_t n;

	while (*v == '/')
		v++;
	if (!*v) {
		ini_fail(st, -EINVAL,
			 out[0] ? "binding the root cgroup: use the implicit policy "
				  "(--cgroup) instead"
				: "empty cgroup path");
		return NULL;
	}
	/* copy segment by segment, dropping empty ones ("a//b", trailing '/') */
	while (*v) {
		seg = v;
		n = strcspn(seg, "/");
		v = seg + n;
		while (*v == '/')
			v++;
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			ini_fail(st, -EINVAL, "cgroup path may not contain \".\" or \"..\"");
			return NULL;
		}
		if (w != out)
			*w++ = '/';
		memmove(w, seg, n);
		w += n;
	}
	*w = '\0';
	return out;
}

static int ini_add_cgroup(struct ini_state *st, struct ln_policy *p, char *v)
{
	char *path = ini_cgroup_path(st, v), **cgs, *copy;
	__u32 *ids;

	if (!path)
		return st->rc;
	cgs = realloc(p->cgroups, (p->n_cgroups + 1) * sizeof(*cgs));
	if (!cgs)
		return ini_fail(st, -ENOMEM, "out of memory");
	p->cgroups = cgs;
	ids = realloc(p->cgroup_ids, (p->n_cgroups + 1) * sizeof(*ids));
	if (!ids)
		return ini_fail(st, -ENOMEM, "out of memory");
	p->cgroup_ids = ids;
	copy = strdup(path);
	if (!copy)
		return ini_fail(st, -ENOMEM, "out of memory");
	p->cgroups[p->n_cgroups] = copy;
	p->cgroup_ids[p->n_cgroups++] = ini_rule_id(st);
	return 0;
}

static int ini_add_rules(struct ini_state *st, struct ln_policy *p, char *v, __u8 verdict)
{
	struct ln_error rerr;
	char *tok, *save;
	int rc;

	for (tok = strtok_r(v, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (st->n_rules >= LN_MAX_RULES)
			return ini_fail(st, -E2BIG, "too many allow/deny rules (max %d)",
					LN_MAX_RULES);
		rc = ln_grow((void **)&p->rules, &p->cap_rules, p->n_rules + 1, sizeof(*p->rules));
		if (rc)
			return ini_fail(st, rc, "out of memory");
		rc = ln_rule_parse(tok, verdict, &p->rules[p->n_rules], &rerr);
		if (rc)
			return ini_fail(st, rc, "%s", rerr.msg);
		p->rules[p->n_rules++].rule_id = ini_rule_id(st);
		st->n_rules++;
	}
	return 0;
}

/* allow-domain= / deny-domain=: a hostname-shaped target ("*." allowed), suffix semantics. */
static int ini_add_domain_rules(struct ini_state *st, struct ln_policy *p, char *v, __u8 verdict)
{
	struct ln_error rerr;
	struct ln_rule *r;
	char *tok, *save;
	int rc;

	for (tok = strtok_r(v, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (st->n_rules >= LN_MAX_RULES)
			return ini_fail(st, -E2BIG, "too many allow/deny rules (max %d)",
					LN_MAX_RULES);
		rc = ln_grow((void **)&p->domain_rules, &p->cap_domain_rules,
			     p->n_domain_rules + 1, sizeof(*p->domain_rules));
		if (rc)
			return ini_fail(st, rc, "out of memory");
		if (!strncmp(tok, "*.", 2))
			tok += 2;
		r = &p->domain_rules[p->n_domain_rules];
		rc = ln_rule_parse(tok, verdict, r, &rerr);
		if (rc)
			return ini_fail(st, rc, "%s", rerr.msg);
		if (r->kind != LN_TARGET_HOSTNAME) {
			ln_rule_free(r);
			return ini_fail(st, -EINVAL, "\"%s\" is not a domain name (use allow/deny "
					"for addresses)", tok);
		}
		r->kind = LN_TARGET_DOMAIN;
		r->rule_id = ini_rule_id(st);
		p->n_domain_rules++;
		st->n_rules++;
	}
	return 0;
}

static int ini_uint(struct ini_state *st, const char *key, const char *v, __u32 *seen,
		    unsigned int lo, unsigned int hi, unsigned int *out)
{
	char *end;
	long n;

	if (ini_once(st, key, seen))
		return st->rc;
	errno = 0;
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < (long)lo || n > (long)hi)
		return ini_fail(st, -EINVAL, "bad value \"%s\" for %s (%u-%u)", v, key, lo, hi);
	*out = n;
	return 0;
}

/* blocked-hosts= / blocked-domains=: list errors name the list's own file:line. */
static int ini_add_list(struct ini_state *st, struct ln_hostlist *hosts,
			struct ln_domainlist *domains, const char *v)
{
	struct ln_error lerr = {""};
	char *full = NULL;
	size_t n;
	int rc;

	if (!*v)
		return ini_fail(st, -EINVAL, "empty file name");
	if (v[0] == '/')
		full = strdup(v);
	else if (asprintf(&full, "%s/%s", st->dir, v) < 0)
		full = NULL;
	if (!full)
		return ini_fail(st, -ENOMEM, "out of memory");
	if (hosts)
		rc = ln_hostlist_parse_file(hosts, &st->c->sources, full, &lerr);
	else
		rc = ln_domainlist_parse_file(domains, &st->c->sources, full, &lerr);
	if (rc) {
		n = strlen(full);
		/* "list: cannot open": say which line named the list */
		if (!strncmp(lerr.msg, full, n) && !strncmp(lerr.msg + n, ": ", 2)) {
			ini_fail(st, rc, "%s", lerr.msg);
		} else if (!st->rc) {
			st->rc = rc;
			st->err_line = st->line;
			if (st->err)
				*st->err = lerr;
		}
	}
	free(full);
	return st->rc;
}

static int ini_policy_key(struct ini_state *st, const char *key, char *v)
{
	struct ln_policy *p = &st->c->policies[st->pol];

	if (!strcasecmp(key, "cgroup"))
		return ini_add_cgroup(st, p, v);
	if (!strcasecmp(key, "allow"))
		return ini_add_rules(st, p, v, LN_VERDICT_ALLOW);
	if (!strcasecmp(key, "deny"))
		return ini_add_rules(st, p, v, LN_VERDICT_DENY);
	if (!strcasecmp(key, "allow-domain"))
		return ini_add_domain_rules(st, p, v, LN_VERDICT_ALLOW);
	if (!strcasecmp(key, "deny-domain"))
		return ini_add_domain_rules(st, p, v, LN_VERDICT_DENY);
	if (!strcasecmp(key, "default")) {
		if (ini_once(st, key, &st->seen_default))
			return st->rc;
		if (!strcasecmp(v, "allow"))
			p->default_verdict = LN_VERDICT_ALLOW;
		else if (!strcasecmp(v, "deny"))
			p->default_verdict = LN_VERDICT_DENY;
		else
			return ini_fail(st, -EINVAL, "bad value \"%s\" for default (allow or deny)",
					v);
		p->default_rule_id = ini_rule_id(st);
		return 0;
	}
	if (!strcasecmp(key, "audit"))
		return ini_bool(st, key, v, &st->seen_audit, &p->audit);
	if (!strcasecmp(key, "log-allowed"))
		return ini_bool(st, key, v, &st->seen_log, &p->log_allowed);
	if (!strcasecmp(key, "blocked-hosts"))
		return ini_add_list(st, &p->hosts, NULL, v);
	if (!strcasecmp(key, "blocked-domains"))
		return ini_add_list(st, NULL, &p->domains, v);
	return ini_fail(st, -EINVAL, "unknown key \"%s\" in [policy %s]", key, p->name);
}

static int ini_global_key(struct ini_state *st, const char *key, char *v)
{
	struct ln_config *c = st->c;
	char *end;
	long sec;

	if (!strcasecmp(key, "blocked-hosts"))
		return ini_add_list(st, &c->hosts, NULL, v);
	if (!strcasecmp(key, "blocked-domains"))
		return ini_add_list(st, NULL, &c->domains, v);
	if (!strcasecmp(key, "audit"))
		return ini_bool(st, key, v, &st->seen_audit, &c->audit);
	if (!strcasecmp(key, "log-allowed"))
		return ini_bool(st, key, v, &st->seen_log, &c->log_allowed);
	if (!strcasecmp(key, "refresh")) {
		if (ini_once(st, key, &st->seen_refresh))
			return st->rc;
		errno = 0;
		sec = strtol(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno || sec < REFRESH_MIN ||
		    sec > REFRESH_MAX)
			return ini_fail(st, -EINVAL,
					"bad value \"%s\" for refresh (seconds, %d-%d)", v,
					REFRESH_MIN, REFRESH_MAX);
		c->refresh_sec = sec;
		return 0;
	}
	if (!strcasecmp(key, "dns"))
		return ini_bool(st, key, v, &st->seen_dns, &c->dns);
	if (!strcasecmp(key, "dns-block")) {
		static const char *const modes[] = { "nxdomain", "refused", "zero" };

		if (ini_once(st, key, &st->seen_dns_block))
			return st->rc;
		for (int i = 0; i < 3; i++)
			if (!strcasecmp(v, modes[i])) {
				c->dns_block = i;
				return 0;
			}
		return ini_fail(st, -EINVAL,
				"bad value \"%s\" for dns-block (nxdomain, refused or zero)", v);
	}
	if (!strcasecmp(key, "dns-port"))
		return ini_uint(st, key, v, &st->seen_dns_port, 1024, 65000, &c->dns_port);
	if (!strcasecmp(key, "dns-ttl-min") || !strcasecmp(key, "dns-ttl-max")) {
		bool min = !strcasecmp(key, "dns-ttl-min");

		c->dns_ttl_rule_id = ini_rule_id(st);
		return ini_uint(st, key, v, min ? &st->seen_ttl_min : &st->seen_ttl_max, 1, 604800,
				min ? &c->dns_ttl_min : &c->dns_ttl_max);
	}
	return ini_fail(st, -EINVAL, "unknown key \"%s\" in [global]", key);
}

/* inih handler: 1 to go on, 0 on error (the message is in st). */
static int ini_on_key(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	char v[LN_INI_MAX_LINE + 1], *hash, *val;

	st->key_in_section = true;
	if (st->rc)
		return 0;
	snprintf(v, sizeof(v), "%s", value);
	/* inih strips "; comment"; take " # comment" too */
	for (hash = strchr(v, '#'); hash; hash = strchr(hash + 1, '#')) {
		if (hash > v && (hash[-1] == ' ' || hash[-1] == '\t')) {
			*hash = '\0';
			break;
		}
	}
	val = ln_trim(v);
	if (st->sec == SEC_GLOBAL)
		ini_global_key(st, name, val);
	else if (st->sec == SEC_POLICY)
		ini_policy_key(st, name, val);
	else
		ini_fail(st, -EINVAL, "key \"%s\" before any section", name);
	return st->rc ? 0 : 1;
}

static int ini_state_init(struct ini_state *st, struct ln_config *c, const char *path,
			  struct ln_error *err)
{
	const char *slash = strrchr(path, '/'), *b = slash ? slash + 1 : path;
	size_t blen = strlen(b), i;
	int idx;

	st->c = c;
	st->path = path;
	st->err = err;
	for (i = 0; i < c->n_policies; i++)
		st->n_rules += c->policies[i].n_rules;
	idx = ln_sources_add(&c->sources, path);
	if (idx < 0)
		return ln_err(err, idx, "%s: too many source files (max %u)", path,
			      LN_RULE_MAX_FILES);
	st->file_idx = idx;
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
	st->f = fopen(path, "re");
	if (!st->f) {
		idx = -errno;
		return ln_err(err, idx, "%s: cannot open: %s", path, strerror(-idx));
	}
	return 0;
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
	if (st.f)
		fclose(st.f);
	free(st.buf);
	free(st.dir);
	free(st.base);
	return rc;
}

static int ini_name_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && !strcmp(d->d_name + n - 4, ".ini");
}

int ln_config_load_dir(struct ln_config *c, const char *dir, struct ln_error *err)
{
	struct dirent **names = NULL;
	struct stat sb;
	char *path;
	int n, i, rc = 0;
	size_t dlen = strlen(dir);
	bool slash = dlen && dir[dlen - 1] == '/';

	n = scandir(dir, &names, ini_name_filter, alphasort);
	if (n < 0) {
		rc = -errno;
		return ln_err(err, rc, "%s: cannot open: %s", dir, strerror(-rc));
	}
	for (i = 0; i < n; i++) {
		if (!rc) {
			if (asprintf(&path, "%s%s%s", dir, slash ? "" : "/", names[i]->d_name) <
			    0) {
				rc = ln_err(err, -ENOMEM, "%s: out of memory", dir);
			} else {
				if (!stat(path, &sb) && S_ISREG(sb.st_mode))
					rc = ln_config_load_ini(c, path, false, err);
				free(path);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int ln_config_add_hosts(struct ln_config *c, const char *path, struct ln_error *err)
{
	return ln_hostlist_parse_file(&c->hosts, &c->sources, path, err);
}

int ln_config_add_domains(struct ln_config *c, const char *path, struct ln_error *err)
{
	return ln_domainlist_parse_file(&c->domains, &c->sources, path, err);
}

void ln_config_init(struct ln_config *c)
{
	memset(c, 0, sizeof(*c));
	c->refresh_sec = REFRESH_DEFAULT;
	c->dns = true;
	c->dns_port = 10530;
	c->dns_ttl_min = 30;
	c->dns_ttl_max = 3600;
}

static void policy_free(struct ln_policy *p)
{
	size_t i;

	free(p->name);
	free(p->unit);
	for (i = 0; i < p->n_cgroups; i++)
		free(p->cgroups[i]);
	free(p->cgroups);
	free(p->cgroup_ids);
	for (i = 0; i < p->n_rules; i++)
		ln_rule_free(&p->rules[i]);
	free(p->rules);
	for (i = 0; i < p->n_domain_rules; i++)
		ln_rule_free(&p->domain_rules[i]);
	free(p->domain_rules);
	ln_hostlist_free(&p->hosts);
	ln_domainlist_free(&p->domains);
}

void ln_config_free(struct ln_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_policies; i++)
		policy_free(&c->policies[i]);
	free(c->policies);
	ln_hostlist_free(&c->hosts);
	ln_domainlist_free(&c->domains);
	ln_sources_free(&c->sources);
	ln_config_init(c);
}

/* "file:line" of @id, for messages naming two places. */
static const char *where(const struct ln_config *c, __u32 id, char *buf, size_t len)
{
	return ln_rule_id_format(&c->sources, id, buf, len);
}

/* "NAME.service.ini", ".scope.ini", ".slice.ini": the unit files --units reads. */
static bool is_unit_file(const char *n)
{
	static const char *const sfx[] = { ".service.ini", ".scope.ini", ".slice.ini" };
	size_t len = strlen(n);

	if (n[0] == '.')
		return false;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(sfx[i]);

		if (len > l && !strcmp(n + len - l, sfx[i]))
			return true;
	}
	return false;
}

static int unit_name_filter(const struct dirent *d)
{
	return is_unit_file(d->d_name);
}

int ln_config_load_units_dir(struct ln_config *c, const char *dir, struct ln_error *err)
{
	struct dirent **names = NULL;
	struct stat sb;
	char *path = NULL;
	int n, i, rc = 0;

	n = scandir(dir, &names, unit_name_filter, alphasort);
	if (n < 0) {
		rc = -errno;
		return ln_err(err, rc, "%s: cannot open: %s", dir, strerror(-rc));
	}
	for (i = 0; i < n; i++) {
		size_t first = c->n_policies, len = strlen(names[i]->d_name);

		if (!rc && asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
			rc = ln_err(err, -ENOMEM, "%s: out of memory", dir);
		else if (!rc && !stat(path, &sb) && S_ISREG(sb.st_mode))
			rc = ln_config_load_ini(c, path, false, err);
		/* A policy here without cgroup= lines follows the unit the file is named for. */
		for (size_t j = first; !rc && j < c->n_policies; j++) {
			struct ln_policy *p = &c->policies[j];

			if (p->n_cgroups)
				continue;
			p->unit = strndup(names[i]->d_name, len - 4);
			if (!p->unit)
				rc = ln_err(err, -ENOMEM, "%s: out of memory", dir);
		}
		free(path);
		path = NULL;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int validate_policy(const struct ln_config *c, size_t i, struct ln_error *err)
{
	const struct ln_policy *p = &c->policies[i], *q;
	char a[LN_ERR_MAX / 2], b[LN_ERR_MAX / 2];
	size_t j, k, m;

	where(c, p->section_rule_id, a, sizeof(a));
	for (j = 0; j < i; j++) {
		q = &c->policies[j];
		if (!strcmp(p->name, q->name))
			return ln_err(err, -EINVAL, "%s: policy \"%s\" is already defined at %s", a,
				      p->name, where(c, q->section_rule_id, b, sizeof(b)));
	}
	if (!p->n_cgroups && !p->unit)
		return ln_err(err, -EINVAL, "%s: policy \"%s\" has no cgroup= line", a, p->name);
	for (j = 0; p->unit && j < i; j++) {
		q = &c->policies[j];
		if (q->unit && !strcmp(p->unit, q->unit))
			return ln_err(err, -EINVAL,
				      "%s: unit \"%s\" already has policy \"%s\" at %s", a,
				      p->unit, q->name, where(c, q->section_rule_id, b, sizeof(b)));
	}
	for (k = 0; k < p->n_cgroups; k++) {
		for (j = 0; j <= i; j++) {
			q = &c->policies[j];
			for (m = 0; m < (j == i ? k : q->n_cgroups); m++) {
				if (strcmp(p->cgroups[k], q->cgroups[m]))
					continue;
				where(c, p->cgroup_ids[k], a, sizeof(a));
				return ln_err(err, -EINVAL,
					      "%s: cgroup \"%s\" is already bound by "
					      "policy \"%s\" at %s",
					      a, p->cgroups[k], q->name,
					      where(c, q->cgroup_ids[m], b, sizeof(b)));
			}
		}
	}
	return 0;
}

int ln_config_validate(const struct ln_config *c, struct ln_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < c->n_policies; i++) {
		rc = validate_policy(c, i, err);
		if (rc)
			return rc;
	}
	if (c->dns_ttl_min > c->dns_ttl_max) {
		char a[LN_ERR_MAX / 2];

		return ln_err(err, -EINVAL, "%s: dns-ttl-min (%u) is above dns-ttl-max (%u)",
			      where(c, c->dns_ttl_rule_id, a, sizeof(a)), c->dns_ttl_min,
			      c->dns_ttl_max);
	}
	return 0;
}
