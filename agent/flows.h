/* SPDX-License-Identifier: GPL-2.0 */
/* The flow drain: the kernel's flow table into the history database, on the manager's loop. */
#ifndef LSNITCH_FLOWS_H
#define LSNITCH_FLOWS_H

#include <stdbool.h>
#include <time.h>

#include "history.h"

struct ln_manager;
struct lsnitch_bpf;

/* Whether flows are counted at all (not with --history none). */
bool ln_flows_enabled(const struct ln_manager *m);
/* Before a generation's load: switch counting on or off, share the flow maps. */
int ln_flows_configure(struct ln_manager *m, struct lsnitch_bpf *s);
/* Open the database (a failure is a note, not an error) and start the drain timer. */
int ln_flows_start(struct ln_manager *m);
/* What status shows of the history. */
struct ln_flows_status {
	const char *path;       /* the database, or "none" */
	bool enabled, open;     /* counting flows; the database is open */
	unsigned long long lost; /* verdicts the kernel's full table did not count (since boot) */
	struct ln_history_info info; /* when open */
	const char *last_error; /* the database's last failure, "" or NULL if none */
	time_t last_error_at;
};
void ln_flows_status(struct ln_manager *m, struct ln_flows_status *st);
/* Verdicts per (policy, verdict, reason) drained since the start (verdict_counts.h). */
struct json_object *ln_flows_verdicts(const struct ln_manager *m);
/* A last drain, then close. */
void ln_flows_stop(struct ln_manager *m);

#endif /* LSNITCH_FLOWS_H */
