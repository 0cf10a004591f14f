// SPDX-License-Identifier: GPL-2.0
/* dns-servers = lists and the nameservers of a resolv.conf: which resolvers a policy may ask. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_internal.h"

void ln_dns_servers_free(struct ln_dns_servers *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int ln_dns_servers_add(struct ln_dns_servers *s, const struct ln_prefix *p)
{
	struct ln_prefix *v;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].len == p->len && !memcmp(s->v[i].addr, p->addr, LN_ADDR_LEN))
			return 0;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->v[s->n++] = *p;
	return 0;
}

/* "[2001:db8::1]" as written in a list: without the brackets. */
static int dns_server_parse(char *tok, struct ln_prefix *p)
{
	size_t n = strlen(tok);

	if (n > 2 && tok[0] == '[' && tok[n - 1] == ']') {
		tok[n - 1] = '\0';
		tok++;
	}
	return ln_prefix_parse(tok, p);
}

int ln_dns_servers_parse(char *v, struct ln_dns_servers *out, struct ln_error *err)
{
	struct ln_prefix p;
	char *save = NULL, *tok;
	int rc;

	ln_dns_servers_free(out);
	out->system = false;
	for (tok = strtok_r(v, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		if (!strcasecmp(tok, "system")) {
			out->system = true;
			continue;
		}
		if (!strcasecmp(tok, "none"))
			continue;
		if (dns_server_parse(tok, &p) < 0)
			return ln_err(err, -EINVAL,
				      "bad value \"%s\" in dns-servers (an address, "
				      "a CIDR, \"system\" or \"none\")",
				      tok);
		rc = ln_dns_servers_add(out, &p);
		if (rc < 0)
			return ln_err(err, rc, "out of memory");
	}
	return 0;
}

bool ln_dns_servers_has(const struct ln_dns_servers *s, const __u8 addr[LN_ADDR_LEN])
{
	struct ln_prefix a = {.len = 128};

	memcpy(a.addr, addr, LN_ADDR_LEN);
	for (size_t i = 0; i < s->n; i++)
		if (ln_prefix_contains(&s->v[i], &a))
			return true;
	return false;
}

/* One "nameserver ADDR" line of a resolv.conf, as glibc reads it (a zone index dropped). */
static int resolv_line(char *line, struct ln_dns_servers *out)
{
	char *save = NULL, *key = strtok_r(line, " \t\r\n", &save), *addr, *pct;
	struct ln_prefix p;

	if (!key || strcmp(key, "nameserver"))
		return 0;
	addr = strtok_r(NULL, " \t\r\n", &save);
	if (!addr)
		return 0;
	pct = strchr(addr, '%');
	if (pct)
		*pct = '\0';
	if (ln_prefix_parse(addr, &p) < 0 || p.len != 128)
		return 0;
	return ln_dns_servers_add(out, &p);
}

int ln_resolv_conf_read(const char *path, struct ln_dns_servers *out, struct ln_error *err)
{
	char line[1024];
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return ln_err(err, -errno, "%s: %s", path, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f))
		rc = resolv_line(line, out);
	if (!rc && ferror(f))
		rc = ln_err(err, -EIO, "%s: read error", path);
	else if (rc)
		rc = ln_err(err, rc, "%s: out of memory", path);
	fclose(f);
	return rc;
}
