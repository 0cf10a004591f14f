/* SPDX-License-Identifier: GPL-2.0 */
/* The control socket's commands (status, reload, explain, events) and the state they read. */
#ifndef LSNITCH_CONTROL_CMDS_H
#define LSNITCH_CONTROL_CMDS_H

#include <stddef.h>
#include <time.h>

#include "control.h"
#include "control_proto.h"

/* What the commands read and do: kept by control.c, which serves them. */
struct ln_ctl_ctx {
	struct ln_manager *m;
	const struct ln_control_ops *ops;
	void *ud;
	size_t n_clients, n_subscribers;
	struct timespec started;   /* CLOCK_MONOTONIC */
	time_t loaded_at;          /* wall clock of the generation in force */
	time_t reload_at;          /* 0: never reloaded */
	int reload_r;
	char reload_msg[LN_ERR_MAX];
	/*
	 * A rule-add/rule-undo waiting for its reload (one at a time): when the
	 * reload ends, done() makes its answer (and puts the file back on a
	 * refusal); client: who asked, NULL once gone (control.c).
	 */
	struct json_object *(*pending_done)(struct ln_ctl_ctx *ctx, int r, const char *msg);
	void *pending, *pending_client;
};

/* The answer to a pending rule change when its reload ended with @r, @msg (control_cmds.c). */
struct json_object *ln_ctl_pending_answer(struct ln_ctl_ctx *ctx, int r, const char *msg);

/* The [list] subscriptions of @c, for status (status_lists.c). */
struct ln_config;
struct json_object *ln_status_lists(const struct ln_config *c);

/*
 * status_bound.c: into policy @id's status object @o, "bound" (the cgroups it is bound to
 * now, relative to the cgroup root) and "bound_cgroups" (each as {"path", "unit",
 * "container"}: the systemd unit, "-" if none; the container id, when its name gives one).
 */
struct ln_generation;
void ln_status_bound(const struct ln_generation *g, __u32 id, struct json_object *o);

/* The flow history's database and drain, for status (status_history.c). */
struct ln_manager;
struct json_object *ln_status_history(struct ln_manager *m);
/* control_history.c: "history" (flows and a series of verdicts) and "learn" (a policy). */
int ln_ctl_history(struct ln_ctl_ctx *ctx, struct json_object *req, struct json_object **reply,
		   struct ln_error *err);
int ln_ctl_learn(struct ln_ctl_ctx *ctx, struct json_object *req, struct json_object **reply,
		 struct ln_error *err);

/* Answer one request line: ln_ctl_dispatch() over the command table. */
int ln_ctl_command(struct ln_ctl_ctx *ctx, const char *line, size_t len,
		   struct json_object **reply, struct ln_error *err);

#endif /* LSNITCH_CONTROL_CMDS_H */
