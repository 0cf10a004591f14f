/* SPDX-License-Identifier: GPL-2.0 */
/* Control socket protocol: the command table's dispatch, request parsing, pure lookups. */
#ifndef LSNITCH_CONTROL_PROTO_H
#define LSNITCH_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "rules.h"

struct json_object;

/*
 * One JSON object per line each way. A request line longer than this is
 * refused and the connection closed: nothing a client says is held unbounded.
 */
#define LN_CTL_MAX_REQUEST 4096
#define LN_CTL_MAX_CLIENTS 64
/* Queued output beyond which an event subscriber's events are dropped (and counted). */
#define LN_CTL_MAX_EVENT_BACKLOG (256 * 1024)

/* What the commands work on: defined by their user (control_cmds.h; a test has its own). */
struct ln_ctl_ctx;

/*
 * A command: @run answers the request object @req (which it does not keep)
 * with a new object in *@reply. Returns 0, LN_CTL_SUBSCRIBE (the client now
 * only listens to events) or -errno with the reason in @err (sent back as
 * {"ok":false,"error":...}).
 */
#define LN_CTL_SUBSCRIBE 1
struct ln_ctl_cmd {
	const char *name; /* the request's "cmd" */
	int (*run)(struct ln_ctl_ctx *ctx, struct json_object *req, struct json_object **reply,
		   struct ln_error *err);
};

/*
 * Parse one request line (without its newline) and run the command of @cmds
 * that its "cmd" names. -EINVAL with the reason in @err for a line that is not
 * a JSON object, has no "cmd", names no command ("unknown cmd \"x\""), or is
 * longer than LN_CTL_MAX_REQUEST; otherwise what the command returns.
 */
int ln_ctl_dispatch(const struct ln_ctl_cmd *cmds, size_t n, struct ln_ctl_ctx *ctx,
		    const char *line, size_t len, struct json_object **reply, struct ln_error *err);

struct ln_ctl_explain {
	/* exactly one of policy / cgroup is set (non-empty) */
	char policy[256];
	char cgroup[LN_CTL_MAX_REQUEST];
	__u8 addr[LN_ADDR_LEN]; /* v4 mapped */
	__u16 port;
	__u8 proto;             /* IPPROTO_TCP (default) or IPPROTO_UDP */
};

/* The arguments of an "explain" request. 0, or -EINVAL with the reason in @err. */
int ln_ctl_parse_explain(struct json_object *req, struct ln_ctl_explain *ex,
			 struct ln_error *err);

/*
 * The policy in force for the cgroup @path (absolute under @cg2_root, or
 * relative to it): that of the nearest ancestor-or-self one of @b binds,
 * chosen as the agent binds cgroups (ln_binding_lookup(): an exact path
 * beats a unit, a unit beats a glob); 0 (the implicit policy) if none.
 * @matched gets the cgroup that matched, relative to the root ("" if none).
 */
__u32 ln_ctl_cgroup_policy(const struct ln_binding *b, size_t n_bindings, const char *cg2_root,
			   const char *path, ln_unit_match_fn unit_match, void *ud, char *matched,
			   size_t len);

/* Whether the cgroup @path (as for ln_ctl_cgroup_policy()) lies at or below one of @attach. */
bool ln_ctl_cgroup_guarded(const char *cg2_root, char *const *attach, size_t n_attach,
			   const char *path);

/*
 * Whether policy @p can take effect with the agent attached to the cgroups
 * @attach (absolute paths under @cg2_root): whether one of its cgroups (for a
 * glob, its leading components without '*' or '?') lies at or below an attach
 * point, or an attach point lies below it (the kernel looks up the policy of
 * every ancestor, so a policy on an ancestor rules the processes below the
 * attach point). A unit's cgroup is wherever systemd puts it, so a unit
 * policy is guarded by any attach point. The manager warns about a policy
 * that is not; "status" shows it.
 */
bool ln_policy_guarded(const struct ln_policy *p, const char *cg2_root, char *const *attach,
		       size_t n_attach);

/* Line @line of @path, whitespace trimmed, into @buf. 0 or -errno (-ENOENT: no such line). */
int ln_ctl_source_line(const char *path, unsigned int line, char *buf, size_t len);

#endif /* LSNITCH_CONTROL_PROTO_H */
