// SPDX-License-Identifier: GPL-2.0
/* lsnitch explain: the verdict for an address, or for every address a hostname resolves to. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lsnitch.h"

#define MAX_ADDRS 64

struct explain_args {
	const char *key, *val; /* "policy" or "cgroup", and its value */
	const char *exe;       /* --exe: the executable, or NULL */
	const char *target;    /* an address or a hostname */
	long port;
	const char *proto;
	char addrs[MAX_ADDRS][INET6_ADDRSTRLEN];
	size_t n_addrs;
	bool by_name; /* the addresses are the target's: each answer says which one */
};

static int parse_args(int argc, char **argv, struct explain_args *a)
{
	char *end;

	while (argc >= 2 && (!strcmp(argv[0], "--policy") || !strcmp(argv[0], "--cgroup") ||
			     !strcmp(argv[0], "--exe"))) {
		if (!strcmp(argv[0], "--exe")) {
			a->exe = argv[1];
		} else {
			a->key = argv[0] + 2;
			a->val = argv[1];
		}
		argc -= 2;
		argv += 2;
	}
	if (!a->key || argc < 2 || argc > 3) {
		p_err("usage: lsnitch explain (--policy NAME|--cgroup PATH) [--exe PATH] ADDR|HOST "
		      "PORT [tcp|udp]");
		return -EINVAL;
	}
	a->target = argv[0];
	errno = 0;
	a->port = strtol(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || a->port < 0 || a->port > 65535) {
		p_err("explain: bad port \"%s\" (0-65535)", argv[1]);
		return -EINVAL;
	}
	a->proto = argc == 3 ? argv[2] : "tcp";
	if (strcmp(a->proto, "tcp") && strcmp(a->proto, "udp")) {
		p_err("explain: protocol must be tcp or udp, not \"%s\"", a->proto);
		return -EINVAL;
	}
	return 0;
}

/* One address a name resolved to, as text (a v4-mapped one as IPv4), once. */
static void add_addr(struct explain_args *a, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	char *buf = a->addrs[a->n_addrs];

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
			  INET6_ADDRSTRLEN);
	else if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, INET6_ADDRSTRLEN);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, INET6_ADDRSTRLEN);
	else
		return;
	for (size_t i = 0; i < a->n_addrs; i++)
		if (!strcmp(a->addrs[i], buf))
			return;
	a->n_addrs++;
}

/*
 * The target as the one address it is (passed on as written), or every
 * address the name resolves to. 0, or -ENOENT when it does not resolve
 * (reported).
 */
static int resolve(struct explain_args *a)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	unsigned char bin[sizeof(struct in6_addr)];
	int r;

	if (inet_pton(AF_INET, a->target, bin) == 1 || inet_pton(AF_INET6, a->target, bin) == 1) {
		snprintf(a->addrs[0], sizeof(a->addrs[0]), "%s", a->target);
		a->n_addrs = 1;
		return 0;
	}
	a->by_name = true;
	r = getaddrinfo(a->target, NULL, &hints, &res);
	if (r) {
		p_err("explain: %s does not resolve: %s", a->target,
		      r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -ENOENT;
	}
	for (struct addrinfo *ai = res; ai && a->n_addrs < MAX_ADDRS; ai = ai->ai_next)
		add_addr(a, ai->ai_addr);
	freeaddrinfo(res);
	if (!a->n_addrs) {
		p_err("explain: %s has no IPv4 or IPv6 address", a->target);
		return -ENOENT;
	}
	return 0;
}

static json_object *explain_request(const struct explain_args *a, const char *addr)
{
	json_object *req = new_request("explain");

	json_object_object_add(req, a->key, json_object_new_string(a->val));
	if (a->exe)
		json_object_object_add(req, "exe", json_object_new_string(a->exe));
	json_object_object_add(req, "addr", json_object_new_string(addr));
	json_object_object_add(req, "port", json_object_new_int(a->port));
	json_object_object_add(req, "proto", json_object_new_string(a->proto));
	return req;
}

/* "VERDICT [addr=A] policy=P rule=R reason=X": one line per address. */
static void show_verdict(json_object *o, const char *addr)
{
	printf("%s", get_str(o, "verdict", "?"));
	if (addr)
		printf(" addr=%s", addr);
	if (get(o, "policy"))
		printf(" policy=%s", get_str(o, "policy", "-"));
	printf(" rule=%s reason=%s\n", get_str(o, "rule", "-"), get_str(o, "reason", "?"));
}

/* Whether an earlier answer than @ans[i] quoted the same rule line. */
static bool line_shown(json_object **ans, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (get(ans[j], "line") &&
		    !strcmp(get_str(ans[j], "rule", ""), get_str(ans[i], "rule", "")))
			return true;
	return false;
}

/* Under the verdicts, once each: the cgroup, the text of every rule line, the note. */
static void show_details(json_object **ans, size_t n)
{
	json_object *o = ans[0];

	if (get(o, "matched_cgroup"))
		printf("  cgroup %s: policy of %s\n", get_str(o, "cgroup", "?"),
		       get_str(o, "matched_cgroup", "?"));
	else if (get(o, "cgroup"))
		printf("  cgroup %s%s\n", get_str(o, "cgroup", "?"),
		       json_object_get_boolean(get(o, "guarded")) ?
			       ": no policy names it or an ancestor (implicit policy)" :
			       ": not below any guarded cgroup");
	if (get(o, "exe"))
		printf("  exe %s: policy %s\n", get_str(o, "exe", "?"), get_str(o, "policy", "-"));
	for (size_t i = 0; i < n; i++)
		if (get(ans[i], "line") && !line_shown(ans, i))
			printf("  %s: %s\n", get_str(ans[i], "rule", "-"),
			       get_str(ans[i], "line", ""));
	if (get(o, "note"))
		printf("  note: %s\n", get_str(o, "note", ""));
}

/* Print the answers; the exit status: denied if any address is, allowed otherwise. */
static int show_answers(const struct explain_args *a, json_object **ans)
{
	int r = EXIT_OK;

	for (size_t i = 0; i < a->n_addrs; i++) {
		/* would-deny (audit mode) lets the connection through: allowed */
		if (!strcmp(get_str(ans[i], "verdict", ""), "deny"))
			r = EXIT_DENIED;
		if (json_output && a->by_name)
			json_object_object_add(ans[i], "name", json_object_new_string(a->target));
		if (json_output)
			print_json(ans[i]);
		else
			show_verdict(ans[i], a->by_name ? a->addrs[i] : NULL);
	}
	if (!json_output)
		show_details(ans, a->n_addrs);
	return r;
}

/* Ask about every address over one connection; all answers, or the first error. */
static int ask_all(const struct explain_args *a, json_object **ans)
{
	struct conn c = CONN_INIT;
	int r = EXIT_ERR;
	size_t i;

	if (conn_open(&c) < 0)
		return EXIT_ERR;
	for (i = 0; i < a->n_addrs; i++) {
		ans[i] = conn_ask(&c, explain_request(a, a->addrs[i]));
		if (!ans[i])
			goto out;
		if (!is_ok(ans[i])) {
			p_err("%s", get_str(ans[i], "error", "the agent refused the request"));
			goto out;
		}
	}
	r = show_answers(a, ans);
out:
	conn_close(&c);
	return r;
}

int do_explain(int argc, char **argv)
{
	struct explain_args a = {};
	json_object *ans[MAX_ADDRS] = {};
	int r;

	if (parse_args(argc, argv, &a) < 0)
		return EXIT_USAGE;
	r = resolve(&a) < 0 ? EXIT_ERR : ask_all(&a, ans);
	for (size_t i = 0; i < MAX_ADDRS; i++)
		json_object_put(ans[i]);
	return r;
}
