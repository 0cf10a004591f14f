// SPDX-License-Identifier: GPL-2.0
/* List subscriptions: [list NAME] sections, their downloaded copies, lsnitch-update's state. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <strings.h>
#include <sys/stat.h>

#include "ini_internal.h"

#define LIST_REFRESH_MIN 60
#define LIST_REFRESH_MAX (30 * 86400)

_Static_assert(offsetof(struct ln_list_sub, name) == 0, "ini_push_named() sets the first member");

int ini_add_list_section(struct ini_state *st, const char *name)
{
	struct ln_config *c = st->c;
	struct ln_list_sub *l;

	if (!ini_is_name(name) || name[0] == '.')
		return ini_fail(st, -EINVAL,
				"bad list name \"%s\" (letters, digits, _.@-, not starting with .)",
				name);
	for (size_t i = 0; i < c->n_lists; i++)
		if (!strcmp(c->lists[i].name, name))
			return ini_fail(st, -EINVAL, "list \"%s\" is already defined", name);
	l = ini_push_named(st, (void **)&c->lists, &c->cap_lists, c->n_lists, sizeof(*c->lists),
			   name);
	if (!l)
		return st->rc;
	l->refresh_sec = LN_LIST_REFRESH_DEFAULT;
	l->rule_id = ini_rule_id(st);
	st->list = c->n_lists++;
	return 0;
}

static int ini_list_url(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_list_sub *l = obj;

	if (strncasecmp(v, "http://", 7) && strncasecmp(v, "https://", 8))
		return ini_fail(st, -EINVAL, "bad url \"%s\" (http:// or https://)", v);
	for (const char *s = v; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return ini_fail(st, -EINVAL, "bad url \"%s\" (a space in it)", v);
	l->url = strdup(v);
	return l->url ? 0 : ini_fail(st, -ENOMEM, "out of memory");
}

static const char *const kind_names[] = {[LN_LIST_HOSTS] = "hosts", [LN_LIST_DOMAINS] = "domains"};

static int ini_list_kind(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_list_sub *l = obj;

	for (l->kind = LN_LIST_HOSTS; l->kind <= LN_LIST_DOMAINS; l->kind++)
		if (!strcasecmp(v, kind_names[l->kind]))
			return 0;
	l->kind = 0;
	return ini_fail(st, -EINVAL, "bad value \"%s\" for kind (hosts or domains)", v);
}

/* refresh = N[s|m|h|d] (no unit: seconds), between a minute and 30 days. */
static int ini_list_refresh(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	static const char units[] = "smhd";
	static const unsigned long mult[] = {1, 60, 3600, 86400};
	struct ln_list_sub *l = obj;
	unsigned long n, m = 1;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*end && !end[1] && strchr(units, tolower((unsigned char)*end)))
		m = mult[strchr(units, tolower((unsigned char)*end)) - units];
	else if (*end)
		n = 0;
	if (!isdigit((unsigned char)*v) || errno || n > LIST_REFRESH_MAX ||
	    n * m < LIST_REFRESH_MIN || n * m > LIST_REFRESH_MAX)
		return ini_fail(st, -EINVAL,
				"bad value \"%s\" for refresh (N, Ns, Nm, Nh or Nd: 1m to 30d)", v);
	l->refresh_sec = n * m;
	return 0;
}

static int ini_list_policy(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_list_sub *l = obj;

	if (!ini_is_name(v))
		return ini_fail(st, -EINVAL, "bad policy name \"%s\"", v);
	l->policy = strdup(v);
	l->policy_rule_id = ini_rule_id(st);
	return l->policy ? 0 : ini_fail(st, -ENOMEM, "out of memory");
}

int ini_lists_dir(struct ini_state *st, const struct ini_key *k, void *obj, char *v)
{
	struct ln_config *c = obj;

	if (v[0] != '/')
		return ini_fail(st, -EINVAL, "lists-dir \"%s\" is not an absolute path", v);
	c->lists_dir = strdup(v);
	return c->lists_dir ? 0 : ini_fail(st, -ENOMEM, "out of memory");
}

const struct ini_key ini_list_keys[] = {
    {.name = "url", .parse = ini_list_url, .once = true},
    {.name = "kind", .parse = ini_list_kind, .once = true},
    {.name = "refresh", .parse = ini_list_refresh, .once = true},
    {.name = "policy", .parse = ini_list_policy, .once = true},
};
const size_t ini_n_list_keys = sizeof(ini_list_keys) / sizeof(ini_list_keys[0]);

const char *ln_lists_dir(const struct ln_config *c)
{
	return c->lists_dir ? c->lists_dir : LN_LISTS_DIR;
}

char *ln_list_path(const struct ln_config *c, const struct ln_list_sub *l, const char *sfx)
{
	char *p;

	return asprintf(&p, "%s/%s%s", ln_lists_dir(c), l->name, sfx) < 0 ? NULL : p;
}

const char *ln_list_kind_name(int kind)
{
	return kind == LN_LIST_HOSTS ? kind_names[LN_LIST_HOSTS] : kind_names[LN_LIST_DOMAINS];
}

static size_t hostlist_count(const struct ln_hostlist *h)
{
	return h->n + h->n_names;
}

/*
 * The copy at @path into @hosts or @domains (by @l->kind): its entries counted. Not through a
 * symbolic link: the directory is the unprivileged updater's, the reader may be root.
 */
static int list_read(struct ln_config *c, struct ln_list_sub *l, const char *path,
		     struct ln_hostlist *hosts, struct ln_domainlist *domains, struct ln_error *err)
{
	bool is_hosts = l->kind == LN_LIST_HOSTS;
	size_t before = is_hosts ? hostlist_count(hosts) : domains->n;
	struct ln_linefile lf;
	int rc;

	rc = ln_linefile_open_flags(&lf, &c->sources, path, LN_MAX_LINE_LEN, O_NOFOLLOW, err);
	if (!rc && is_hosts)
		rc = ln_linefile_read(&lf, ln_hostlist_line, hosts, err);
	else if (!rc)
		rc = ln_linefile_read(&lf, ln_domainlist_line, domains, err);
	ln_linefile_close(&lf);
	l->entries = (is_hosts ? hostlist_count(hosts) : domains->n) - before;
	l->loaded = rc >= 0;
	return rc < 0 ? rc : 0;
}

/* Where list @l goes: the policy it names, or [global]'s lists. */
static int list_target(struct ln_config *c, struct ln_list_sub *l, struct ln_hostlist **h,
		       struct ln_domainlist **d, struct ln_error *err)
{
	char where[LN_ERR_MAX / 2];

	*h = &c->hosts;
	*d = &c->domains;
	if (!l->url || !l->kind)
		return ln_err(err, -EINVAL, "%s: [list %s] needs url = and kind =",
			      ln_rule_id_format(&c->sources, l->rule_id, where, sizeof(where)),
			      l->name);
	if (!l->policy)
		return 0;
	for (size_t i = 0; i < c->n_policies; i++) {
		if (strcmp(c->policies[i].name, l->policy))
			continue;
		*h = &c->policies[i].hosts;
		*d = &c->policies[i].domains;
		return 0;
	}
	return ln_err(err, -EINVAL, "%s: no policy \"%s\" for [list %s]",
		      ln_rule_id_format(&c->sources, l->policy_rule_id, where, sizeof(where)),
		      l->policy, l->name);
}

int ln_config_load_lists(struct ln_config *c, struct ln_error *err)
{
	struct ln_domainlist *d;
	struct ln_hostlist *h;
	struct stat sb;
	char *path;
	int rc = 0;

	for (size_t i = 0; i < c->n_lists && !rc; i++) {
		struct ln_list_sub *l = &c->lists[i];

		rc = list_target(c, l, &h, &d, err);
		if (rc)
			break;
		path = ln_list_path(c, l, "");
		if (!path)
			return ln_err(err, -ENOMEM, "out of memory");
		/* never downloaded (yet): the caller warns; a dangling link is an error */
		if (lstat(path, &sb) == 0 || errno != ENOENT)
			rc = list_read(c, l, path, h, d, err);
		free(path);
	}
	return rc;
}

long ln_list_validate(int kind, const char *path, struct ln_error *err)
{
	struct ln_config c;
	struct ln_list_sub l = {.kind = kind};
	long rc;

	ln_config_init(&c);
	rc = list_read(&c, &l, path, &c.hosts, &c.domains, err);
	if (!rc && !l.entries)
		rc = ln_err(err, -ENODATA, "%s: no entries", path);
	if (!rc)
		rc = l.entries;
	ln_config_free(&c);
	return rc;
}

void ln_list_subs_free(struct ln_config *c)
{
	for (size_t i = 0; i < c->n_lists; i++) {
		free(c->lists[i].name);
		free(c->lists[i].url);
		free(c->lists[i].policy);
	}
	free(c->lists);
	free(c->lists_dir);
}
