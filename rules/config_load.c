// SPDX-License-Identifier: GPL-2.0
/* Configuration loading: init/free, the rules.d and units.d walks, checks across policies. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

void ln_config_init(struct ln_config *c)
{
	memset(c, 0, sizeof(*c));
	c->refresh_sec = 300;
	c->dns = true;
	c->dns_port = 10530;
	c->dns_ttl_min = 30;
	c->dns_ttl_max = 3600;
	c->dns_cache = true;
	c->dns_servers.system = true;
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
	ln_dns_servers_free(&p->dns_servers);
	ln_policy_exes_free(p);
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
	ln_dns_servers_free(&c->dns_servers);
	ln_resolver_sockets_free(&c->resolver_sockets);
	ln_hostlist_free(&c->doh);
	ln_list_subs_free(c);
	ln_sources_free(&c->sources);
	ln_config_init(c);
}

int ln_config_add_hosts(struct ln_config *c, const char *path, struct ln_error *err)
{
	return ln_hostlist_parse_file(&c->hosts, &c->sources, path, err);
}

int ln_config_add_domains(struct ln_config *c, const char *path, struct ln_error *err)
{
	return ln_domainlist_parse_file(&c->domains, &c->sources, path, err);
}

static bool has_suffix(const char *s, const char *sfx)
{
	size_t n = strlen(s), l = strlen(sfx);

	return n > l && !strcmp(s + n - l, sfx);
}

/* What one directory walk reads, and what it does with each file's policies after loading. */
struct config_dir_walk {
	int (*filter)(const struct dirent *d);
	/* policies [@first, c->n_policies) came from @name */
	int (*loaded)(struct ln_config *c, size_t first, const char *name, struct ln_error *err);
};

/*
 * Loads every entry of @dir that @w accepts, in name order, until one fails: each must be a
 * readable regular file (or a link to one).
 */
static int config_walk(struct ln_config *c, const char *dir, const struct config_dir_walk *w,
		       struct ln_error *err)
{
	struct dirent **names = NULL;
	size_t dlen = strlen(dir), first;
	bool slash = dlen && dir[dlen - 1] == '/';
	char *path;
	int n, i, rc = 0;

	n = scandir(dir, &names, w->filter, alphasort);
	if (n < 0 && errno == ENOTDIR)
		return ln_err(err, -ENOTDIR, "%s: not a directory", dir);
	if (n < 0) {
		rc = -errno;
		return ln_err(err, rc, "%s: cannot open: %s", dir, strerror(-rc));
	}
	for (i = 0; i < n && !rc; i++) {
		if (asprintf(&path, "%s%s%s", dir, slash ? "" : "/", names[i]->d_name) < 0) {
			rc = ln_err(err, -ENOMEM, "%s: out of memory", dir);
			break;
		}
		first = c->n_policies;
		/* an entry that cannot be read (dangling, a loop, a FIFO) is an error */
		rc = ln_config_load_ini(c, path, false, err);
		if (!rc && w->loaded)
			rc = w->loaded(c, first, names[i]->d_name, err);
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int ini_name_filter(const struct dirent *d)
{
	return d->d_name[0] != '.' && has_suffix(d->d_name, ".ini");
}

int ln_config_load_dir(struct ln_config *c, const char *dir, struct ln_error *err)
{
	static const struct config_dir_walk rules_d = {.filter = ini_name_filter};

	return config_walk(c, dir, &rules_d, err);
}

/* "NAME.service.ini", ".scope.ini", ".slice.ini": the unit files --units reads. */
static int unit_name_filter(const struct dirent *d)
{
	static const char *const sfx[] = {".service.ini", ".scope.ini", ".slice.ini"};

	if (d->d_name[0] == '.')
		return false;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (has_suffix(d->d_name, sfx[i]))
			return true;
	return false;
}

/* A policy of a unit file without cgroup= lines follows the unit the file is named for. */
static int unit_file_loaded(struct ln_config *c, size_t first, const char *name,
			    struct ln_error *err)
{
	size_t j;

	for (j = first; j < c->n_policies; j++) {
		struct ln_policy *p = &c->policies[j];

		if (p->n_cgroups)
			continue;
		p->unit = strndup(name, strlen(name) - strlen(".ini"));
		if (!p->unit)
			return ln_err(err, -ENOMEM, "%s: out of memory", name);
	}
	return 0;
}

int ln_config_load_units_dir(struct ln_config *c, const char *dir, struct ln_error *err)
{
	static const struct config_dir_walk units_d = {
	    .filter = unit_name_filter,
	    .loaded = unit_file_loaded,
	};

	return config_walk(c, dir, &units_d, err);
}

/* "file:line" of @id, for messages naming two places. */
static const char *where(const struct ln_config *c, __u32 id, char *buf, size_t len)
{
	return ln_rule_id_format(&c->sources, id, buf, len);
}

/* A cgroup of policy @i bound before (by an earlier policy, or earlier in @i). */
static int validate_cgroups(const struct ln_config *c, size_t i, struct ln_error *err)
{
	const struct ln_policy *p = &c->policies[i], *q;
	char a[LN_ERR_MAX / 2], b[LN_ERR_MAX / 2];
	size_t j, k, m;

	for (k = 0; k < p->n_cgroups && !p->n_exes; k++) {
		for (j = 0; j <= i; j++) {
			q = &c->policies[j];
			if (q->n_exes)
				continue; /* an exe policy binds nothing: it refines */
			for (m = 0; m < (j == i ? k : q->n_cgroups); m++) {
				if (strcmp(p->cgroups[k], q->cgroups[m]))
					continue;
				return ln_err(err, -EINVAL,
					      "%s: cgroup \"%s\" is already bound by "
					      "policy \"%s\" at %s",
					      where(c, p->cgroup_ids[k], a, sizeof(a)),
					      p->cgroups[k], q->name,
					      where(c, q->cgroup_ids[m], b, sizeof(b)));
			}
		}
	}
	return 0;
}

static int validate_policy(const struct ln_config *c, size_t i, struct ln_error *err)
{
	const struct ln_policy *p = &c->policies[i], *q;
	char a[LN_ERR_MAX / 2], b[LN_ERR_MAX / 2];
	size_t j;

	where(c, p->section_rule_id, a, sizeof(a));
	for (j = 0; j < i; j++) {
		q = &c->policies[j];
		if (!strcmp(p->name, q->name))
			return ln_err(err, -EINVAL, "%s: policy \"%s\" is already defined at %s", a,
				      p->name, where(c, q->section_rule_id, b, sizeof(b)));
	}
	if (!p->n_cgroups && !p->unit)
		return ln_err(err, -EINVAL, "%s: policy \"%s\" has no cgroup= line", a, p->name);
	if (p->n_exes)
		return ln_exe_validate(c, i, err);
	for (j = 0; p->unit && j < i; j++) {
		q = &c->policies[j];
		if (q->unit && !q->n_exes && !strcmp(p->unit, q->unit))
			return ln_err(err, -EINVAL,
				      "%s: unit \"%s\" already has policy \"%s\" at %s", a, p->unit,
				      q->name, where(c, q->section_rule_id, b, sizeof(b)));
	}
	return validate_cgroups(c, i, err);
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
