// SPDX-License-Identifier: GPL-2.0
/* lsnitch: the operator's CLI over the agent's control socket (status, reload, explain, events). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lsnitch.h"
#include "histdb.h"
#include "history.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lsnitch [--socket PATH] [--json] COMMAND\n"
		"Talk to a running lsnitch-agent over its control socket.\n\n"
		"Commands:\n"
		"  status                       version, cgroups, policies, counters, DNS\n"
		"  reload                       re-read every file; on error the policy in\n"
		"                               force stays and the error is printed\n"
		"  explain --policy NAME ADDR|HOST PORT [tcp|udp]\n"
		"  explain --cgroup PATH ADDR|HOST PORT [tcp|udp]\n"
		"                               what the policy would decide, and why\n"
		"                               (for a HOST: for each of its addresses)\n"
		"  events                       follow every event the agent reports\n"
		"  history [--since DUR] [--until DUR] [--policy NAME|--cgroup PATH|--unit UNIT]\n"
		"          [--exe PATH] [--container ID]\n"
		"          [--verdict allow|deny|would-deny|redirect] [--dest ADDR|NAME]\n"
		"                               flows seen, aggregated (default: the last day)\n"
		"  learn (--policy NAME|--cgroup PATH|--unit UNIT) [--since DUR] [--by-exe]\n"
		"                               print a policy that allows what was seen\n"
		"                               (--by-exe: an exe policy per executable)\n"
		"  top [--once] [--sort count|last|dest] [--limit N] [--interval S] [filters]\n"
		"                               the busiest flows of the last minute, refreshing\n"
		"  help                         this help\n\n"
		"Options:\n"
		"  -s, --socket PATH   control socket (default %s)\n"
		"  -j, --json          print the agent's JSON, one object per line\n"
		"  -H, --history PATH  flow history database, read-only (default %s)\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version\n\n"
		"Exit status: 0 success (explain: allowed), 1 error (agent unreachable,\n"
		"reload failed, a HOST that does not resolve, ...), 2 bad usage,\n"
		"3 explain: denied (for a HOST: any of its addresses).\n",
		default_socket_path, LN_HISTORY_PATH);
}

/*
 * One request, one answer: prints it (raw with --json, through @show
 * otherwise). Returns the exit status.
 */
static int run_simple(json_object *req, void (*show)(json_object *))
{
	struct conn c = CONN_INIT;
	json_object *o = NULL;
	int r = EXIT_ERR;

	if (conn_open(&c) < 0) {
		json_object_put(req);
		return EXIT_ERR;
	}
	o = conn_ask(&c, req);
	if (!o)
		goto out;
	if (!is_ok(o)) {
		p_err("%s", get_str(o, "error", "the agent refused the request"));
		goto out;
	}
	if (json_output)
		print_json(o);
	else
		show(o);
	r = EXIT_OK;
out:
	json_object_put(o);
	conn_close(&c);
	return r;
}

/* The commands without arguments: whether there are none (else reported). */
static bool no_args(const char *cmd, int argc, char **argv)
{
	if (argc)
		p_err("%s: unexpected argument \"%s\"", cmd, argv[0]);
	return !argc;
}

/* ---- status ---- */

static void show_time(const char *what, int64_t t)
{
	char buf[64];
	time_t tt = t;
	struct tm tm;

	if (localtime_r(&tt, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		printf("%s%s", what, buf);
}

/*
 * The cgroups a policy is bound to right now (a glob's matches, a unit's cgroup), each
 * with its unit and container when it is one.
 */
static void show_bound(json_object *a, json_object *d)
{
	size_t n = a ? json_object_array_length(a) : 0;

	if (!a)
		return; /* an agent that does not say */
	for (size_t i = 0; i < n; i++) {
		json_object *c = d ? json_object_array_get_idx(d, i) : NULL;

		printf("      bound %s", json_object_get_string(json_object_array_get_idx(a, i)));
		if (c && strcmp(get_str(c, "unit", "-"), "-"))
			printf(" (unit %s)", get_str(c, "unit", "-"));
		if (c && get(c, "container"))
			printf(" (container %s)", get_str(c, "container", ""));
		printf("\n");
	}
	if (!n)
		printf("      bound to no cgroup right now\n");
}

static void show_policy(json_object *p)
{
	json_object *cgs = get(p, "cgroups");
	size_t n = cgs ? json_object_array_length(cgs) : 0;

	printf("  %s (id %s): default %s%s, %s rules, %s domain rules, %s\n",
	       get_str(p, "name", "?"), get_str(p, "id", "?"), get_str(p, "default", "?"),
	       json_object_get_boolean(get(p, "audit")) ? ", audit" : "",
	       get_str(p, "rules", "0"), get_str(p, "domain_rules", "0"), get_str(p, "file", "-"));
	for (size_t i = 0; i < n; i++)
		printf("      cgroup %s\n",
		       json_object_get_string(json_object_array_get_idx(cgs, i)));
	if (get(p, "unit"))
		printf("      unit %s\n", get_str(p, "unit", ""));
	show_bound(get(p, "bound"), get(p, "bound_cgroups"));
	if (get(p, "guarded") && !json_object_get_boolean(get(p, "guarded")))
		printf("      not guarded: none of its cgroups lies under a guarded cgroup\n");
}

static void show_kv(const char *title, json_object *o)
{
	const char *sep = " ";

	if (!o)
		return;
	printf("%s:", title);
	json_object_object_foreach(o, k, v) {
		printf("%s%s %s", sep, k, json_object_get_string(v));
		sep = ", ";
	}
	printf("\n");
}

/* A --cgroup path, and what it is doing when that is news: gone, attached elsewhere, back. */
static void show_cgroup(const char *path, json_object *state)
{
	size_t n = state ? json_object_array_length(state) : 0;

	printf("  %s", path);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(state, i);
		const char *at = get_str(c, "attached_at", "");

		if (strcmp(get_str(c, "path", ""), path))
			continue;
		if (!json_object_get_boolean(get(c, "present")))
			printf(" (GONE: watching for it)");
		if (strcmp(at, path))
			printf(" (attached at %s)", at);
		if (json_object_get_int64(get(c, "gone")))
			printf(" (gone %s times, back %s)", get_str(c, "gone", "0"),
			       get_str(c, "back", "0"));
		break;
	}
	printf("\n");
}

/* The [list] subscriptions: source, age of the copy in force, entries, the last error. */
static void show_lists(json_object *a)
{
	size_t n = a ? json_object_array_length(a) : 0;

	if (n)
		printf("lists: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(a, i);
		const char *e = get_str(l, "last_error", "");

		printf("  %s (%s, %s): %s\n", get_str(l, "name", "?"), get_str(l, "kind", "?"),
		       get_str(l, "policy", "?"), get_str(l, "url", "?"));
		if (json_object_get_boolean(get(l, "loaded")))
			printf("      %s entries, copy %s s old\n", get_str(l, "entries", "0"),
			       get_str(l, "age_sec", "?"));
		else
			printf("      no copy downloaded yet: not in force\n");
		if (*e)
			printf("      last update FAILED: %s\n", e);
	}
}

/* The flow history: the database, how much and how far back it holds, its trouble. */
static void show_history(json_object *h)
{
	const char *e = get_str(h, "last_error", "");

	if (!h)
		return;
	if (!json_object_get_boolean(get(h, "enabled"))) {
		printf("history: off (--history none)\n");
		return;
	}
	printf("history: %s", get_str(h, "path", "?"));
	if (json_object_get_boolean(get(h, "open"))) {
		printf(", %.1f MiB in use of %.0f MiB",
		       json_object_get_int64(get(h, "bytes")) / 1048576.0,
		       json_object_get_int64(get(h, "max_bytes")) / 1048576.0);
		if (json_object_get_int64(get(h, "oldest")))
			show_time(", since ", json_object_get_int64(get(h, "oldest")));
	} else {
		printf(" (NOT OPEN: no history is written)");
	}
	printf("\n");
	if (json_object_get_int64(get(h, "lost")))
		printf("      %s verdicts not counted: the kernel's flow table was full\n",
		       get_str(h, "lost", "0"));
	if (*e)
		printf("      last error: %s\n", e);
}

/* Exe policies' executables: which policy, and those not there (not in force). */
static void show_exes(json_object *a)
{
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		bool there = json_object_get_boolean(get(e, "resolved"));

		printf("%s  %s: policy %s in %s%s\n", i ? "" : "executables:\n",
		       get_str(e, "path", "?"), get_str(e, "policy", "?"), get_str(e, "scope", "?"),
		       there ? "" : " (UNRESOLVED: no such file)");
	}
}

static void show_status(json_object *o)
{
	json_object *a = get(o, "cgroups"), *g = get(o, "generation"), *rl = get(o, "last_reload");
	size_t n = a ? json_object_array_length(a) : 0;

	printf("lsnitch-agent %s, pid %s, up %s s\n", get_str(o, "version", "?"),
	       get_str(o, "pid", "?"), get_str(o, "uptime_sec", "?"));
	if (g) {
		show_time("policy loaded ", json_object_get_int64(get(g, "loaded_at")));
		printf(" (built in %.1f ms%s, %s cgroup bindings)\n",
		       json_object_get_double(get(g, "load_ms")),
		       strcmp(get_str(g, "kind", ""), "lists") ? "" : ", lists only: programs kept",
		       get_str(g, "bound", "0"));
	}
	if (rl) {
		show_time("last reload ", json_object_get_int64(get(rl, "at")));
		if (json_object_get_boolean(get(rl, "ok")))
			printf(": ok\n");
		else
			printf(": FAILED: %s\n", get_str(rl, "error", "?"));
	}
	printf("guarded cgroups:\n");
	for (size_t i = 0; i < n; i++)
		show_cgroup(json_object_get_string(json_object_array_get_idx(a, i)),
			    get(o, "cgroup_state"));
	if (get(o, "packet_sockets"))
		printf("packet-sockets = deny enforced by: %s\n", get_str(o, "packet_sockets", "?"));
	a = get(o, "policies");
	n = a ? json_object_array_length(a) : 0;
	printf("policies: %zu\n", n);
	for (size_t i = 0; i < n; i++)
		show_policy(json_object_array_get_idx(a, i));
	show_lists(get(o, "lists"));
	show_exes(get(o, "exes"));
	show_kv("counters", get(o, "counters"));
	show_kv("dns proxy", get(o, "dns"));
	show_history(get(o, "history"));
}

static int do_status(int argc, char **argv)
{
	if (!no_args("status", argc, argv))
		return EXIT_USAGE;
	return run_simple(new_request("status"), show_status);
}

/* ---- reload ---- */

static void show_reload(json_object *o)
{
	printf("reloaded\n");
	if (json_object_object_get_ex(o, "warning", NULL))
		printf("warning: %s\n", get_str(o, "warning", ""));
}

static int do_reload(int argc, char **argv)
{
	if (!no_args("reload", argc, argv))
		return EXIT_USAGE;
	return run_simple(new_request("reload"), show_reload);
}

/* ---- events ---- */

/* The agent's own line: "VERDICT PROTO DEST key=value...". */
/* The agent formats each event once: its "message" is the line it writes to stdout. */
static void show_event(json_object *o)
{
	if (json_object_object_get_ex(o, "message", NULL))
		printf("%s\n", get_str(o, "message", ""));
	else
		print_json(o);
}

static int do_events(int argc, char **argv)
{
	struct conn c = CONN_INIT;
	json_object *o = NULL;

	if (!no_args("events", argc, argv))
		return EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (conn_open(&c) < 0)
		return EXIT_ERR;
	o = conn_ask(&c, new_request("events"));
	if (!o)
		goto out;
	if (!is_ok(o)) {
		p_err("%s", get_str(o, "error", "the agent refused the request"));
		goto out;
	}
	json_object_put(o);
	/* until the agent goes away (or we are interrupted) */
	while ((o = conn_read(&c))) {
		const char *type = get_str(o, "type", "");

		if (json_output)
			print_json(o);
		else if (!strcmp(type, "dropped"))
			printf("lsnitch: %s events dropped (this reader was too slow)\n",
			       get_str(o, "count", "?"));
		else
			show_event(o);
		json_object_put(o);
	}
out:
	json_object_put(o);
	conn_close(&c);
	return EXIT_ERR;
}

static int do_help(int argc, char **argv)
{
	usage(stdout);
	return EXIT_OK;
}

static const struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
} cmds[] = {
	{ "status", do_status },
	{ "reload", do_reload },
	{ "explain", do_explain },
	{ "events", do_events },
	{ "history", do_history },
	{ "learn", do_learn },
	{ "top", do_top },
	{ "help", do_help },
	{}
};

static int cmd_select(int argc, char **argv)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(argv[0], c->name))
			return c->func(argc - 1, argv + 1);
	p_err("unknown command \"%s\" (try \"lsnitch help\")", argv[0]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "history", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int c;

	/* "+": options stop at the command, so "explain --policy x" reaches do_explain */
	while ((c = getopt_long(argc, argv, "+s:jH:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			json_output = true;
			break;
		case 'H':
			history_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("lsnitch %s\n", LN_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return cmd_select(argc - optind, argv + optind);
}
