/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lsnitch learn --by-exe's pure part (CLI and agent): the scope's policy from flows of no
 * named executable, and an exe policy (exe = PATH) per executable the history names.
 */
#ifndef LSNITCH_CLI_LEARN_EXE_H
#define LSNITCH_CLI_LEARN_EXE_H

#include <stdbool.h>
#include <stdio.h>

#include "learn_policy.h"

struct learn_exe {
	struct learn scope; /* flows with no executable, or one known only as "(DEV:INO)" */
	struct learn *exes; /* one per executable path, its ->exe set */
	size_t n;
	int64_t unnamed; /* attempts by executables known only as "(DEV:INO)" */
	bool oom;
};

/* hq_run()'s callback: flow @f into the struct learn_exe @ud. */
void learn_exe_flow(const struct hq_flow *f, void *ud);
/* The policies, the scope's [policy @name] first, each exe policy "@name-BASENAME" after. */
void learn_exe_print(FILE *f, const struct hq *q, const struct learn_exe *le, const char *name,
		     const char *source);
/* Rules in all the policies. */
size_t learn_exe_rules(const struct learn_exe *le);
void learn_exe_free(struct learn_exe *le);

#endif /* LSNITCH_CLI_LEARN_EXE_H */
