// SPDX-License-Identifier: GPL-2.0
/* Answers that wait for a reload: "reload" and rule-add/rule-undo, sent when the reload ends. */
#include <stdio.h>
#include <time.h>
#include <json-c/json.h>

#include "control_client.h"

void ln_ctl_pending_wait(struct ln_ctl_client *c)
{
	struct ln_ctl_ctx *ctx = &c->ctl->ctx;

	c->reloading = true;
	if (ctx->pending_done && !ctx->pending_client)
		ctx->pending_client = c; /* a rule change: its own answer */
}

void ln_ctl_pending_forget(struct ln_ctl_ctx *ctx, const struct ln_ctl_client *c)
{
	if (ctx->pending_client == c)
		ctx->pending_client = NULL;
}

/* The answer a client waited for (@o: made already); then what it sent meanwhile is served. */
static void client_answer_reload(struct ln_ctl_client *c, int r, const char *msg, json_object *o)
{
	if (!o)
		o = r < 0 ? ln_ctl_error_object(msg) : json_object_new_object();
	else
		r = -1; /* nothing to add */
	if (r >= 0) {
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		if (msg[0])
			json_object_object_add(o, "warning", json_object_new_string(msg));
	}
	c->reloading = false;
	if (ln_ctl_client_send(c, o) < 0)
		c->dead = true;
	ln_ctl_client_resume(c);
}

void ln_control_reloaded(struct ln_manager *m, int r, const char *msg)
{
	struct ln_ctl_ctx *ctx = m->control ? &m->control->ctx : NULL;

	if (!ctx)
		return;
	ctx->reload_at = time(NULL);
	ctx->reload_r = r;
	snprintf(ctx->reload_msg, sizeof(ctx->reload_msg), "%s", msg ? msg : "");
	if (r >= 0)
		ctx->loaded_at = ctx->reload_at;
	if (ctx->pending_done) {
		struct ln_ctl_client *asker = ctx->pending_client;
		json_object *o = ln_ctl_pending_answer(ctx, r, ctx->reload_msg);

		ctx->pending_client = NULL;
		if (asker)
			client_answer_reload(asker, r, ctx->reload_msg, o);
		else
			json_object_put(o);
	}
	for (struct ln_ctl_client *c = m->control->clients, *next; c; c = next) {
		next = c->next;
		if (c->reloading)
			client_answer_reload(c, r, ctx->reload_msg, NULL);
	}
}
