/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the control socket: a client and the socket, for control.c and control_pending.c. */
#ifndef LSNITCH_CONTROL_CLIENT_H
#define LSNITCH_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "agent.h"
#include "control_cmds.h"

struct ln_ctl_client {
	struct ln_control *ctl;
	struct ln_ctl_client *next;
	int fd;
	pid_t pid; /* the peer process: its share of the slots */
	sd_event_source *src;
	char in[LN_CTL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	uint64_t active; /* CLOCK_MONOTONIC usec: a byte moved, or output began to wait */
	bool subscribed, closing, dead;
	bool reloading; /* waits for its "reload" answer: reads nothing more meanwhile */
	unsigned long long dropped; /* events lost since the last one it got */
};

struct ln_control {
	struct ln_ctl_ctx ctx; /* what the commands see; its counts are kept here */
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	gid_t group; /* --control-group, (gid_t)-1 if none */
	sd_event_source *src;
	sd_event_source *timer; /* closes idle clients: armed for the earliest deadline */
	struct ln_ctl_client *clients;
};
/* control.c: queue @o as one line and drop the reference (0 or -ENOMEM). */
int ln_ctl_client_send(struct ln_ctl_client *c, json_object *o);
/* control.c: {"ok":false,"error":@msg}. */
json_object *ln_ctl_error_object(const char *msg);
/* control.c: after an answer @c waited for: send it, serve what came meanwhile (may free @c). */
void ln_ctl_client_resume(struct ln_ctl_client *c);

/* control_pending.c: @c asked for a reload or a rule change; it waits for ln_control_reloaded(). */
void ln_ctl_pending_wait(struct ln_ctl_client *c);
/* control_pending.c: @c is going away: a rule change's answer has no one to go to. */
void ln_ctl_pending_forget(struct ln_ctl_ctx *ctx, const struct ln_ctl_client *c);

#endif /* LSNITCH_CONTROL_CLIENT_H */
