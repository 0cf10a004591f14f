// SPDX-License-Identifier: GPL-2.0
/*
 * lsnitch-update: downloads the [list NAME] subscriptions of lsnitch.ini into the lists
 * directory, unprivileged (never inside the agent): a conditional GET, bounded in size and
 * time, the download checked by the agent's own parser, then an atomic rename and a reload
 * over the control socket. On any failure the last good copy stays; NAME.state says why.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "lsnitch.h"
#include "../cli/lsnitch.h"

#define DEFAULT_CONFIG "/etc/lsnitch/lsnitch.ini"

struct update_opts {
	const char *config;
	const char *lists_dir; /* --lists-dir: over [global] lists-dir */
	bool force, no_reload;
	struct fetch_limits lim;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: lsnitch-update [OPTIONS]\n"
		   "Downloads the [list NAME] subscriptions of the configuration that are due.\n"
		   "  -c, --config FILE     configuration (default " DEFAULT_CONFIG ")\n"
		   "  -d, --lists-dir DIR   where the copies go (default: [global] lists-dir)\n"
		   "  -f, --force           fetch every list now, due or not\n"
		   "  -m, --max-size BYTES  refuse a larger download (default 67108864)\n"
		   "  -t, --timeout SEC     the whole transfer's limit (default 120)\n"
		   "  -s, --socket PATH     the agent's control socket, to reload it\n"
		   "  -n, --no-reload       do not ask the agent to reload\n"
		   "Exit status: 0 every due list fetched or current, 1 a failure (the last good\n"
		   "copy stays), 2 usage.\n");
}

/* The state's path and the copy's own, and the file a download goes to first. */
struct list_paths {
	char *copy, *state, *tmp;
};

static void paths_free(struct list_paths *p)
{
	free(p->copy);
	free(p->state);
	free(p->tmp);
}

static int paths_make(const struct ln_config *c, const struct ln_list_sub *l, struct list_paths *p)
{
	p->copy = ln_list_path(c, l, "");
	p->state = ln_list_path(c, l, ".state");
	if (asprintf(&p->tmp, "%s/.%s.download", ln_lists_dir(c), l->name) < 0)
		p->tmp = NULL;
	return p->copy && p->state && p->tmp ? 0 : -ENOMEM;
}

/* Written aside then renamed: a reader sees the old state or the new, whole. */
static int state_save(const struct list_paths *p, const struct ln_list_state *st,
		      struct ln_error *err)
{
	char tmp[4200];
	FILE *f;
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", p->state);
	f = fopen(tmp, "we");
	if (!f)
		return ln_err(err, -errno, "%s: %s", tmp, strerror(errno));
	rc = ln_list_state_write(f, st);
	if (fclose(f) || rc || rename(tmp, p->state))
		return ln_err(err, -EIO, "%s: cannot write", p->state);
	return 0;
}

/* The download at p->tmp checked by the agent's parser, then put in place of the copy: 1. */
static int install_copy(const struct ln_list_sub *l, const struct list_paths *p,
			struct ln_list_state *st, struct ln_error *err)
{
	struct ln_error perr;
	long n = ln_list_validate(l->kind, p->tmp, &perr);

	if (n < 0) {
		/* name the line of the download, not the temporary file */
		const char *at = strstr(perr.msg, p->tmp);

		if (at && at[strlen(p->tmp)] == ':')
			return ln_err(err, (int)n, "not a valid %s list: line %s",
				      ln_list_kind_name(l->kind), at + strlen(p->tmp) + 1);
		return ln_err(err, (int)n, "not a valid %s list: %s", ln_list_kind_name(l->kind),
			      perr.msg);
	}
	if (rename(p->tmp, p->copy))
		return ln_err(err, -errno, "%s: %s", p->copy, strerror(errno));
	st->entries = n;
	st->fetched_at = time(NULL);
	return 1;
}

/* Whether list @l is to be fetched now. */
static bool is_due(const struct ln_list_sub *l, const struct list_paths *p,
		   const struct ln_list_state *st, bool force)
{
	if (force || st->error[0] || access(p->copy, F_OK) || strcmp(st->url, l->url))
		return true;
	return time(NULL) - st->checked_at >= (long long)l->refresh_sec;
}

/* 1: a new copy, 0: nothing new, -errno: failed (the old copy stays; recorded). */
static int update_one(const struct ln_list_sub *l, const struct list_paths *p,
		      struct ln_list_state *st, const struct update_opts *o, struct ln_error *err)
{
	bool cond = !access(p->copy, F_OK) && !strcmp(st->url, l->url);
	int rc;

	unlink(p->tmp);
	rc = fetch_list(l->url, p->tmp, cond, st, &o->lim, err);
	if (rc == FETCH_NEW)
		rc = install_copy(l, p, st, err);
	else if (rc == FETCH_NOT_MODIFIED)
		rc = 0;
	else
		rc = rc < 0 ? rc : -EIO;
	unlink(p->tmp);
	snprintf(st->url, sizeof(st->url), "%s", l->url);
	st->checked_at = time(NULL);
	snprintf(st->error, sizeof(st->error), "%s", rc < 0 ? err->msg : "");
	return rc;
}

/* One list, due or not: reported on stdout (done) or stderr (failed). 1 changed, 0, -errno. */
static int update_list(const struct ln_config *c, const struct ln_list_sub *l,
		       const struct update_opts *o)
{
	struct list_paths p = {};
	struct ln_list_state st;
	struct ln_error err = {""};
	int rc;

	rc = paths_make(c, l, &p);
	if (rc) {
		fprintf(stderr, "%s: out of memory\n", l->name);
		goto out;
	}
	ln_list_state_read(p.state, &st);
	if (!is_due(l, &p, &st, o->force)) {
		printf("%s: not due (checked %lld s ago)\n", l->name,
		       (long long)time(NULL) - st.checked_at);
		goto out;
	}
	rc = update_one(l, &p, &st, o, &err);
	if (rc > 0)
		printf("%s: updated, %lld entries\n", l->name, st.entries);
	else if (!rc)
		printf("%s: not modified\n", l->name);
	else
		fprintf(stderr, "%s: FAILED: %s (%s)\n", l->name, err.msg,
			access(p.copy, F_OK) ? "no copy yet" : "the last good copy stays");
	if (state_save(&p, &st, &err) < 0) {
		fprintf(stderr, "%s: %s\n", l->name, err.msg);
		rc = rc < 0 ? rc : -EIO;
	}
out:
	paths_free(&p);
	return rc;
}

/* Asks the agent to reload: 0, or -1 (reported by the connection's error printer). */
static int reload_agent(void)
{
	struct conn c = CONN_INIT;
	json_object *a;
	int rc = -1;

	if (conn_open(&c) < 0)
		return -1;
	a = conn_ask(&c, new_request("reload"));
	if (a && is_ok(a)) {
		printf("agent reloaded\n");
		rc = 0;
	} else if (a) {
		p_err("reload failed: %s", get_str(a, "error", "?"));
	}
	json_object_put(a);
	conn_close(&c);
	return rc;
}

static int parse_opts(int argc, char **argv, struct update_opts *o)
{
	static const struct option lo[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"lists-dir", required_argument, NULL, 'd'},
	    {"force", no_argument, NULL, 'f'},
	    {"max-size", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"socket", required_argument, NULL, 's'},
	    {"no-reload", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:d:fm:t:s:nh", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->lists_dir = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		case 'm':
			o->lim.max_bytes = atoll(optarg);
			break;
		case 't':
			o->lim.timeout_sec = atol(optarg);
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'n':
			o->no_reload = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc || o->lim.max_bytes <= 0 || o->lim.timeout_sec <= 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct update_opts o = {.config = DEFAULT_CONFIG,
				.lim = {.max_bytes = 64LL << 20, .timeout_sec = 120}};
	struct ln_config c;
	struct ln_error err = {""};
	int rc, changed = 0, failed = 0;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	ln_config_init(&c);
	rc = ln_config_load_ini(&c, o.config, true, &err);
	if (!rc && o.lists_dir && !(c.lists_dir = strdup(o.lists_dir)))
		rc = ln_err(&err, -ENOMEM, "out of memory");
	if (!rc && fetch_global_init())
		rc = ln_err(&err, -EIO, "libcurl: cannot initialize");
	for (size_t i = 0; !rc && i < c.n_lists; i++) {
		int r = update_list(&c, &c.lists[i], &o);

		changed |= r > 0;
		failed |= r < 0;
	}
	if (rc)
		fprintf(stderr, "lsnitch-update: %s\n", err.msg);
	else if (changed && !o.no_reload && reload_agent())
		failed = 1;
	ln_config_free(&c);
	return rc || failed ? 1 : 0;
}
