/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lsnitch learn from flows to text, one implementation for the CLI and the agent's "learn"
 * command (the web Learn page): the same query gives both the same INI, byte for byte.
 */
#ifndef LSNITCH_CLI_LEARN_RUN_H
#define LSNITCH_CLI_LEARN_RUN_H

#include <stddef.h>
#include <sqlite3.h>

#include "histdb.h"

struct ln_error;

struct learn_text {
	char name[128]; /* the scope's policy */
	char *text;	/* the INI, each line ended */
	size_t len;
	size_t rules; /* in all the policies */
	size_t exes;  /* exe policies (q->by_exe) */
};

/*
 * The policy learned from @db's flows for @q into @out, or with q->by_exe the scope's and one
 * per executable, the header naming @source (the database): 0 or -errno with @err: the query's
 * own error, -ENOENT when no flow matched (a wrong name is not an empty policy) or, by
 * executable, none named an executable's path; -ENOMEM.
 */
int learn_text_run(sqlite3 *db, const struct hq *q, const char *source, struct learn_text *out,
		   struct ln_error *err);
void learn_text_free(struct learn_text *t);

#endif /* LSNITCH_CLI_LEARN_RUN_H */
