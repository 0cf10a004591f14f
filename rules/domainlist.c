// SPDX-License-Identifier: GPL-2.0
/*
 * blocked_domains.txt: one domain suffix per line, or the formats people download:
 * hosts ("0.0.0.0 a.com b.com"), adblock ("||a.com^"), "*.a.com", dnsmasq
 * ("address=/a.com/"). Entries are kept as read, duplicates included: the DNS
 * side builds its own lookup structure and dedupes there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_internal.h"

/* Names hosts files map to loopback for the system's sake, not to block them. */
static const char *const hosts_skip[] = {
    "localhost",     "localhost.localdomain", "local",	      "broadcasthost",
    "ip6-localhost", "ip6-loopback",	      "ip6-localnet", "ip6-mcastprefix",
    "ip6-allnodes",  "ip6-allrouters",	      "ip6-allhosts", "0.0.0.0",
};

static bool is_ip_address(const char *s)
{
	__u8 buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool is_hosts_skip(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(hosts_skip) / sizeof(hosts_skip[0]); i++)
		if (!strcasecmp(name, hosts_skip[i]))
			return true;
	return false;
}

/* Normalizes @tok in place (case, one trailing dot, a leading "*.") and appends it. */
static int domain_add(struct ln_domainlist *l, const struct ln_linefile *lf, char *tok,
		      struct ln_error *err)
{
	size_t n;
	char *name;
	int rc;

	ln_str_lower(tok);
	n = strlen(tok);
	if (n && tok[n - 1] == '.')
		tok[--n] = '\0';
	if (!strncmp(tok, "*.", 2))
		tok += 2;
	if (!ln_hostname_is_valid(tok) || tok[strlen(tok) - 1] == '.')
		return ln_line_err(lf, err, -EINVAL, "bad domain name \"%s\"", tok);
	if (l->n >= LN_MAX_LIST_ENTRIES)
		return ln_line_err(lf, err, -E2BIG, "too many entries (max %d)",
				   LN_MAX_LIST_ENTRIES);
	rc = ln_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	if (rc)
		return ln_line_err(lf, err, rc, "out of memory");
	name = strdup(tok);
	if (!name)
		return ln_line_err(lf, err, -ENOMEM, "out of memory");
	l->v[l->n].name = name;
	l->v[l->n].rule_id = ln_linefile_rule_id(lf);
	l->n++;
	return 0;
}

/* "||name^" or "||name^$options" (options ignored). */
static int parse_adblock(struct ln_domainlist *l, const struct ln_linefile *lf, char *s,
			 struct ln_error *err)
{
	char *caret = strchr(s + 2, '^');

	if (!caret || (caret[1] && caret[1] != '$'))
		return ln_line_err(lf, err, -EINVAL,
				   "unsupported adblock rule \"%s\" (only ||name^ blocks a domain)",
				   s);
	*caret = '\0';
	return domain_add(l, lf, s + 2, err);
}

/* "address=/a.com/b.com/ANSWER": ANSWER empty, "#" or an address. */
static int parse_dnsmasq(struct ln_domainlist *l, const struct ln_linefile *lf, char *s,
			 struct ln_error *err)
{
	char *names = s + strlen("address=/"), *answer = strrchr(names, '/'), *name, *save;
	int rc = 0, n = 0;

	if (!answer)
		return ln_line_err(lf, err, -EINVAL, "expected address=/name/[address]");
	*answer++ = '\0';
	if (*answer && strcmp(answer, "#") && !is_ip_address(answer))
		return ln_line_err(lf, err, -EINVAL, "bad address \"%s\" in address=/.../", answer);
	for (name = strtok_r(names, "/", &save); name && !rc; name = strtok_r(NULL, "/", &save)) {
		if (!strcmp(name, "#"))
			return ln_line_err(lf, err, -EINVAL,
					   "address=/#/ (every domain) is not supported");
		rc = domain_add(l, lf, name, err);
		n++;
	}
	if (!rc && !n)
		return ln_line_err(lf, err, -EINVAL, "expected address=/name/[address]");
	return rc;
}

/* "IP name [name...]": hosts file. */
static int parse_hosts(struct ln_domainlist *l, const struct ln_linefile *lf, char *s,
		       struct ln_error *err)
{
	char *tok, *save;
	int rc = 0, n = 0;

	strtok_r(s, " \t", &save);
	for (tok = strtok_r(NULL, " \t", &save); tok && !rc; tok = strtok_r(NULL, " \t", &save)) {
		n++;
		if (!is_hosts_skip(tok))
			rc = domain_add(l, lf, tok, err);
	}
	if (!rc && !n)
		return ln_line_err(lf, err, -EINVAL, "address \"%s\" without a name", s);
	return rc;
}

int ln_domainlist_line(void *list, const struct ln_linefile *lf, char *text, struct ln_error *err)
{
	struct ln_domainlist *l = list;
	char *s = ln_trim(text), *hash, *sp, *eq;
	size_t n;

	if (!*s || *s == '#' || *s == '!')
		return 0;
	n = strlen(s);
	if (!strncasecmp(s, "[adblock", 8) && s[n - 1] == ']')
		return 0;
	/* dnsmasq answers may be '#' ("address=/a.com/#"): only " #" starts a comment */
	ln_cut_comment(s);
	s = ln_trim(s);
	if (!strncmp(s, "address=/", 9))
		return parse_dnsmasq(l, lf, s, err);
	if (!strncmp(s, "server=/", 8))
		return ln_line_err(lf, err, -EINVAL, "server=/.../ forwards, does not block");
	eq = strchr(s, '=');
	if (eq && eq[1] == '/') {
		eq[1] = '\0';
		return ln_line_err(lf, err, -EINVAL,
				   "unsupported dnsmasq option \"%s\" (only address=/name/ blocks)",
				   s);
	}
	if (strstr(s, "##") || strstr(s, "#@#") || strstr(s, "#?#") || strstr(s, "#$#"))
		return ln_line_err(lf, err, -EINVAL,
				   "adblock element hiding rules are not supported");
	hash = strchr(s, '#');
	if (hash) {
		*hash = '\0';
		s = ln_trim(s);
	}
	if (!strncmp(s, "@@", 2))
		return ln_line_err(lf, err, -EINVAL,
				   "adblock exception rules (@@) are not supported");
	if (!strncmp(s, "||", 2))
		return parse_adblock(l, lf, s, err);
	if (*s == '/')
		return ln_line_err(lf, err, -EINVAL,
				   "adblock regular expressions are not supported");
	if (strpbrk(s, "|^$"))
		return ln_line_err(lf, err, -EINVAL,
				   "unsupported adblock rule \"%s\" (only ||name^ blocks a domain)",
				   s);
	sp = s + strcspn(s, " \t");
	if (*sp) {
		*sp = '\0';
		if (!is_ip_address(s))
			return ln_line_err(lf, err, -EINVAL,
					   "expected a domain or \"ADDRESS name...\", found \"%s\" "
					   "first",
					   s);
		*sp = ' ';
		return parse_hosts(l, lf, s, err);
	}
	if (is_ip_address(s))
		return ln_line_err(lf, err, -EINVAL, "address \"%s\" without a name", s);
	return domain_add(l, lf, s, err);
}

int ln_domainlist_parse_file(struct ln_domainlist *l, struct ln_sources *src, const char *path,
			     struct ln_error *err)
{
	return ln_linefile_each(src, path, ln_domainlist_line, l, err);
}

void ln_domainlist_free(struct ln_domainlist *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
