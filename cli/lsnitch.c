// SPDX-License-Identifier: GPL-2.0
/* lsnitch: the operator's CLI over the agent's control socket (status, reload, explain, events). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "agent.h" /* LN_CONTROL_PATH */

#define LN_MAX_RESPONSE (64 * 1024 * 1024)

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

static const char *socket_path = LN_CONTROL_PATH;
static bool json_output;

/* The one error printer: a JSON object on stdout with --json, a line on stderr otherwise. */
static void __attribute__((format(printf, 1, 2))) p_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_output) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", json_object_new_string(msg));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		fprintf(stderr, "lsnitch: %s\n", msg);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lsnitch [--socket PATH] [--json] COMMAND\n"
		"Talk to a running lsnitch-agent over its control socket.\n\n"
		"Commands:\n"
		"  status                       version, cgroups, policies, counters, DNS\n"
		"  reload                       re-read every file; on error the policy in\n"
		"                               force stays and the error is printed\n"
		"  explain --policy NAME ADDR PORT [tcp|udp]\n"
		"  explain --cgroup PATH ADDR PORT [tcp|udp]\n"
		"                               what the policy would decide, and why\n"
		"  events                       follow every event the agent reports\n"
		"  help                         this help\n\n"
		"Options:\n"
		"  -s, --socket PATH   control socket (default " LN_CONTROL_PATH ")\n"
		"  -j, --json          print the agent's JSON, one object per line\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version\n\n"
		"Exit status: 0 success, 1 error (agent unreachable, reload failed, ...),\n"
		"2 bad usage.\n");
}

/* ---- talking to the agent ---- */

static int ctl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		p_err("%s: path too long", socket_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		p_err("cannot connect to the agent at %s: %s", socket_path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static int send_request(int fd, json_object *req)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), off = 0;

	while (off <= len) {
		const char *p = off < len ? s + off : "\n";
		ssize_t n = send(fd, p, off < len ? len - off : 1, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			p_err("sending to the agent: %s", strerror(errno));
			return -errno;
		}
		off += n;
	}
	return 0;
}

struct reader {
	int fd;
	char *buf;
	size_t len, cap;
};

/* The next line from the agent as a JSON object; NULL at EOF or on error (reported). */
static json_object *read_object(struct reader *rd)
{
	for (;;) {
		char *nl = rd->len ? memchr(rd->buf, '\n', rd->len) : NULL;
		ssize_t n;

		if (nl) {
			size_t l = nl - rd->buf;
			json_object *o;

			*nl = '\0';
			o = json_tokener_parse(rd->buf);
			rd->len -= l + 1;
			memmove(rd->buf, nl + 1, rd->len);
			if (!o || !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				p_err("the agent sent something that is not a JSON object");
				return NULL;
			}
			return o;
		}
		if (rd->len + 4096 > rd->cap) {
			char *p;

			if (rd->cap >= LN_MAX_RESPONSE) {
				p_err("the agent's answer is too long");
				return NULL;
			}
			p = realloc(rd->buf, rd->cap ? rd->cap * 2 : 65536);
			if (!p) {
				p_err("out of memory");
				return NULL;
			}
			rd->buf = p;
			rd->cap = rd->cap ? rd->cap * 2 : 65536;
		}
		n = recv(rd->fd, rd->buf + rd->len, rd->cap - rd->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				p_err("reading from the agent: %s", strerror(errno));
			else if (rd->len)
				p_err("the agent closed the connection mid-answer");
			else
				p_err("the agent closed the connection without an answer");
			return NULL;
		}
		rd->len += n;
	}
}

/* Send @req (consumed) and read one answer; NULL on error (reported). */
static json_object *request(json_object *req, struct reader *rd)
{
	json_object *o = NULL;

	rd->fd = ctl_connect();
	if (rd->fd >= 0 && send_request(rd->fd, req) == 0)
		o = read_object(rd);
	json_object_put(req);
	return o;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *get_str(json_object *o, const char *key, const char *dflt)
{
	json_object *v = get(o, key);

	return v ? json_object_get_string(v) : dflt;
}

static bool is_ok(json_object *o)
{
	json_object *v = get(o, "ok");

	return v && json_object_get_boolean(v);
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

static json_object *new_request(const char *cmd)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	return o;
}

/*
 * One request, one answer: prints it (raw with --json, through @show
 * otherwise). Returns the exit status.
 */
static int run_simple(json_object *req, void (*show)(json_object *))
{
	struct reader rd = { .fd = -1 };
	json_object *o = request(req, &rd);
	int r = EXIT_ERR;

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
	if (rd.fd >= 0)
		close(rd.fd);
	free(rd.buf);
	return r;
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

static void show_status(json_object *o)
{
	json_object *a = get(o, "cgroups"), *g = get(o, "generation"), *rl = get(o, "last_reload");
	size_t n = a ? json_object_array_length(a) : 0;

	printf("lsnitch-agent %s, pid %s, up %s s\n", get_str(o, "version", "?"),
	       get_str(o, "pid", "?"), get_str(o, "uptime_sec", "?"));
	if (g) {
		show_time("policy loaded ", json_object_get_int64(get(g, "loaded_at")));
		printf(" (built in %.1f ms, %s cgroup bindings)\n",
		       json_object_get_double(get(g, "load_ms")), get_str(g, "bound", "0"));
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
		printf("  %s\n", json_object_get_string(json_object_array_get_idx(a, i)));
	a = get(o, "policies");
	n = a ? json_object_array_length(a) : 0;
	printf("policies: %zu\n", n);
	for (size_t i = 0; i < n; i++)
		show_policy(json_object_array_get_idx(a, i));
	show_kv("counters", get(o, "counters"));
	show_kv("dns proxy", get(o, "dns"));
}

static int do_status(int argc, char **argv)
{
	if (argc) {
		p_err("status: unexpected argument \"%s\"", argv[0]);
		return EXIT_USAGE;
	}
	return run_simple(new_request("status"), show_status);
}

/* ---- reload ---- */

static void show_reload(json_object *o)
{
	printf("reloaded\n");
}

static int do_reload(int argc, char **argv)
{
	if (argc) {
		p_err("reload: unexpected argument \"%s\"", argv[0]);
		return EXIT_USAGE;
	}
	return run_simple(new_request("reload"), show_reload);
}

/* ---- explain ---- */

static void show_explain(json_object *o)
{
	printf("%s", get_str(o, "verdict", "?"));
	if (get(o, "policy"))
		printf(" policy=%s", get_str(o, "policy", "-"));
	printf(" rule=%s reason=%s\n", get_str(o, "rule", "-"), get_str(o, "reason", "?"));
	if (get(o, "matched_cgroup"))
		printf("  cgroup %s: policy of %s\n", get_str(o, "cgroup", "?"),
		       get_str(o, "matched_cgroup", "?"));
	else if (get(o, "cgroup"))
		printf("  cgroup %s%s\n", get_str(o, "cgroup", "?"),
		       json_object_get_boolean(get(o, "guarded")) ?
			       ": no policy names it or an ancestor (implicit policy)" :
			       ": not below any guarded cgroup");
	if (get(o, "line"))
		printf("  %s: %s\n", get_str(o, "rule", "-"), get_str(o, "line", ""));
	if (get(o, "note"))
		printf("  note: %s\n", get_str(o, "note", ""));
}

static int do_explain(int argc, char **argv)
{
	const char *key = NULL, *val = NULL, *proto = "tcp";
	json_object *req;
	char *end;
	long port;

	if (argc >= 2 && (!strcmp(argv[0], "--policy") || !strcmp(argv[0], "--cgroup"))) {
		key = argv[0] + 2;
		val = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (!key || argc < 2 || argc > 3) {
		p_err("usage: lsnitch explain (--policy NAME|--cgroup PATH) ADDR PORT [tcp|udp]");
		return EXIT_USAGE;
	}
	errno = 0;
	port = strtol(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || port < 0 || port > 65535) {
		p_err("explain: bad port \"%s\" (0-65535)", argv[1]);
		return EXIT_USAGE;
	}
	if (argc == 3) {
		proto = argv[2];
		if (strcmp(proto, "tcp") && strcmp(proto, "udp")) {
			p_err("explain: protocol must be tcp or udp, not \"%s\"", proto);
			return EXIT_USAGE;
		}
	}
	req = new_request("explain");
	json_object_object_add(req, key, json_object_new_string(val));
	json_object_object_add(req, "addr", json_object_new_string(argv[0]));
	json_object_object_add(req, "port", json_object_new_int(port));
	json_object_object_add(req, "proto", json_object_new_string(proto));
	return run_simple(req, show_explain);
}

/* ---- events ---- */

/* The agent's own line: "VERDICT PROTO DEST key=value...". */
static void show_event(json_object *o)
{
	static const char *const skip[] = { "type", "verdict", "proto", "dest", "addr", "port" };
	bool dns = !strcmp(get_str(o, "proto", ""), "dns");

	printf("%s %s %s", get_str(o, "verdict", "?"), get_str(o, "proto", "?"),
	       dns ? get_str(o, "name", "?") : get_str(o, "dest", "?"));
	json_object_object_foreach(o, k, v) {
		bool shown = dns && !strcmp(k, "name");

		for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			shown = shown || !strcmp(k, skip[i]);
		if (!shown)
			printf(" %s=%s", k, json_object_get_string(v));
	}
	printf("\n");
}

static int do_events(int argc, char **argv)
{
	struct reader rd = { .fd = -1 };
	json_object *o;
	int r = EXIT_ERR;

	if (argc) {
		p_err("events: unexpected argument \"%s\"", argv[0]);
		return EXIT_USAGE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	o = request(new_request("events"), &rd);
	if (!o)
		goto out;
	if (!is_ok(o)) {
		p_err("%s", get_str(o, "error", "the agent refused the request"));
		goto out;
	}
	json_object_put(o);
	/* until the agent goes away (or we are interrupted) */
	while ((o = read_object(&rd))) {
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
	o = NULL;
out:
	json_object_put(o);
	if (rd.fd >= 0)
		close(rd.fd);
	free(rd.buf);
	return r;
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
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int c;

	/* "+": options stop at the command, so "explain --policy x" reaches do_explain */
	while ((c = getopt_long(argc, argv, "+s:jhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			json_output = true;
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
