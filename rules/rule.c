// SPDX-License-Identifier: GPL-2.0
/* One allow/deny value: TARGET[:PORT[-PORT]][/tcp|/udp]. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_internal.h"

#define RULE_MAX_LEN 300

/* 1..65535, digits only; -1 otherwise. */
static int parse_port(const char *s)
{
	int v = ln_parse_decimal(s, 5, 65535);

	return v >= 1 ? v : -1;
}

static int parse_ports(char *s, struct ln_rule *r, struct ln_error *err)
{
	char *dash = strchr(s, '-');
	int lo, hi;

	if (dash)
		*dash = '\0';
	lo = parse_port(s);
	if (lo < 0)
		return ln_err(err, -EINVAL, "bad port \"%s\" (must be 1-65535)", s);
	hi = lo;
	if (dash) {
		hi = parse_port(dash + 1);
		if (hi < 0)
			return ln_err(err, -EINVAL, "bad port \"%s\" (must be 1-65535)", dash + 1);
		if (lo > hi)
			return ln_err(err, -EINVAL, "bad port range \"%d-%d\" (low > high)", lo,
				      hi);
	}
	r->port_lo = lo;
	r->port_hi = hi;
	return 0;
}

static int parse_target(char *s, bool bracketed, struct ln_rule *r, struct ln_error *err)
{
	size_t n;

	if (!bracketed && (!strcmp(s, "*") || !strcasecmp(s, "any"))) {
		memset(&r->pfx, 0, sizeof(r->pfx));
		return 0;
	}
	if (!ln_prefix_parse(s, &r->pfx))
		return 0;
	if (bracketed || strpbrk(s, ":/") || !ln_hostname_is_valid(s))
		return ln_err(err, -EINVAL, "bad address, CIDR or hostname \"%s\"", s);
	r->kind = LN_TARGET_HOSTNAME;
	r->hostname = strdup(s);
	if (!r->hostname)
		return ln_err(err, -ENOMEM, "out of memory");
	ln_str_lower(r->hostname);
	n = strlen(r->hostname);
	if (r->hostname[n - 1] == '.')
		r->hostname[n - 1] = '\0';
	return 0;
}

/* Splits "TARGET[:PORTS]" (TARGET maybe "[v6]") and parses both halves. */
static int parse_target_ports(char *s, struct ln_rule *r, struct ln_error *err)
{
	char *colon = NULL, *end;
	int rc;

	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return ln_err(err, -EINVAL, "missing ']' in \"%s\"", s);
		*end = '\0';
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1])
			return ln_err(err, -EINVAL, "unexpected \"%s\" after ']'", end + 1);
		rc = parse_target(s + 1, true, r, err);
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address: no port possible */
		if (colon)
			*colon = '\0';
		rc = parse_target(s, false, r, err);
	}
	if (rc || !colon)
		return rc;
	return parse_ports(colon + 1, r, err);
}

int ln_rule_parse(const char *s, __u8 verdict, struct ln_rule *r, struct ln_error *err)
{
	char buf[RULE_MAX_LEN + 1], *slash;
	size_t n = strlen(s);
	int rc;

	memset(r, 0, sizeof(*r));
	r->verdict = verdict;
	r->port_hi = 65535;
	if (verdict != LN_VERDICT_ALLOW && verdict != LN_VERDICT_DENY)
		return ln_err(err, -EINVAL, "bad verdict %u", verdict);
	if (n == 0)
		return ln_err(err, -EINVAL, "empty rule");
	if (n > RULE_MAX_LEN)
		return ln_err(err, -EINVAL, "rule too long (max %d characters)", RULE_MAX_LEN);
	memcpy(buf, s, n + 1);
	slash = strrchr(buf, '/');
	if (slash && strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
		if (!strcasecmp(slash + 1, "tcp"))
			r->proto = IPPROTO_TCP;
		else if (!strcasecmp(slash + 1, "udp"))
			r->proto = IPPROTO_UDP;
		else if (strpbrk(slash + 1, "]:"))
			slash = NULL; /* "[v6/len]:port": no protocol */
		else
			return ln_err(err, -EINVAL, "unknown protocol \"%s\" (tcp or udp)",
				      slash + 1);
		if (slash)
			*slash = '\0';
	}
	if (!buf[0])
		return ln_err(err, -EINVAL, "missing target before \"/\"");
	rc = parse_target_ports(buf, r, err);
	if (rc)
		ln_rule_free(r);
	return rc;
}

void ln_rule_free(struct ln_rule *r)
{
	if (!r)
		return;
	free(r->hostname);
	r->hostname = NULL;
}
