/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lsnitch learn's pure part, linked by the CLI and the agent: flows in (hq_run's callback),
 * an INI policy out that allows what was seen and nothing else. Never prints an error.
 */
#ifndef LSNITCH_CLI_LEARN_POLICY_H
#define LSNITCH_CLI_LEARN_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "histdb.h"

/* One rule to print: a name (allow-domain) or an address, with a port and protocol. */
struct learned {
	char target[256];
	char proto[8]; /* "tcp", "udp", or "" for any */
	int port;
	bool domain;
	int64_t count, first, last;
	unsigned int flows; /* history flows merged into it (a name: its addresses) */
};

struct learn {
	struct learned *rules;
	size_t n, cap;
	char **cgroups; /* the cgroups the flows came from */
	size_t n_cgroups;
	char **servers; /* the DNS servers asked through the proxy (dns-servers =) */
	size_t n_servers;
	int64_t skipped; /* flows a list or an enforcing deny stopped: not learned */
	const char *exe; /* an exe policy's executable (learn_exe.c), or NULL */
	bool oom;
};

/* hq_run()'s callback: flow @f into the struct learn @ud (l->oom set if memory ran out). */
void learn_flow(const struct hq_flow *f, void *ud);
/* Cgroup @cg into @l's set (l->oom set if memory ran out). */
void learn_cgroup(struct learn *l, const char *cg);
/* The learned policy's name for @q (its --policy, or "learned-" and the cgroup or unit). */
void learn_name(const struct hq *q, char *buf, size_t len);
/* @prefix and @s's last path component as a policy name: other than [A-Za-z0-9_.@-] is '-'. */
void learn_policy_name(const char *prefix, const char *s, char *buf, size_t len);
/* @l as an INI [policy @name], its header naming @source (the database) and @q's window. */
void learn_print(FILE *f, const struct hq *q, const struct learn *l, const char *name,
		 const char *source);
/* The header alone, and a [policy @name] section whose cgroup lines are @scope's. */
void learn_print_header(FILE *f, const struct hq *q, const char *source);
void learn_print_section(FILE *f, const struct hq *q, const struct learn *l,
			 const struct learn *scope, const char *name);
void learn_free(struct learn *l);

#endif /* LSNITCH_CLI_LEARN_POLICY_H */
