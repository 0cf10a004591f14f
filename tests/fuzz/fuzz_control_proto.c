// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the control protocol's request parsing and dispatch (agent/control_proto.c)
 * through a table of commands that do nothing but parse, and the cgroup lookups explain makes.
 */
#include <json-c/json.h>

#include "fuzz_common.h"
#include "control_proto.h"

struct ln_ctl_ctx {
	struct ln_ctl_explain ex;
};

static int run_status(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		      struct ln_error *err)
{
	*reply = json_object_new_object();
	return 0;
}

static int run_fail(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		    struct ln_error *err)
{
	return ln_err(err, -EIO, "failed");
}

static int run_events(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		      struct ln_error *err)
{
	return LN_CTL_SUBSCRIBE;
}

/* The bindings and attach points of a small configuration, for explain's cgroup lookups. */
static const struct ln_binding bindings[] = {
    {.cgroup = "system.slice/nginx.service", .policy_id = 1, .rule_id = 1},
    {.unit = "sshd.service", .policy_id = 2, .rule_id = 2},
    {.cgroup = "user.slice/**/app-*.scope", .policy_id = 3, .rule_id = 3},
    {.cgroup = "a/b", .policy_id = 4, .rule_id = 4},
};
static char *const attach[] = {"/sys/fs/cgroup/system.slice", "/sys/fs/cgroup/user.slice/"};

static int run_explain(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		       struct ln_error *err)
{
	char matched[LN_CTL_MAX_REQUEST + 1];
	int rc;

	rc = ln_ctl_parse_explain(req, &ctx->ex, err);
	if (rc)
		return rc;
	FUZZ_ASSERT(!ctx->ex.policy[0] != !ctx->ex.cgroup[0]);
	if (ctx->ex.cgroup[0]) {
		ln_ctl_cgroup_policy(bindings, sizeof(bindings) / sizeof(bindings[0]),
				     "/sys/fs/cgroup", ctx->ex.cgroup, NULL, NULL, matched,
				     sizeof(matched));
		ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 2, ctx->ex.cgroup);
	}
	*reply = json_object_new_object();
	return 0;
}

static const struct ln_ctl_cmd cmds[] = {
    {"status", run_status},
    {"reload", run_fail},
    {"explain", run_explain},
    {"events", run_events},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ln_error err = {""};
	json_object *reply = NULL;
	struct ln_ctl_ctx ctx;
	int rc;

	/* a line as control.c hands it over: without its newline, not NUL-terminated */
	char *line = malloc(size ? size : 1);

	if (!line)
		return 0;
	memcpy(line, data, size);
	rc = ln_ctl_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), &ctx, line, size, &reply, &err);
	FUZZ_ASSERT(rc == 0 || rc == LN_CTL_SUBSCRIBE || (rc < 0 && err.msg[0]));
	FUZZ_ASSERT(rc != 0 || reply);
	json_object_put(reply);
	free(line);
	return 0;
}
