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
/*
 * Connection slots: LN_CTL_MAX_CLIENTS in all, at most LN_CTL_MAX_PER_PEER
 * for one process (SO_PEERCRED's pid: every client is root, so the uid tells
 * none apart), and the last LN_CTL_RESERVED only for a process that holds
 * none yet, so that one more "lsnitch status" always gets in.
 */
#define LN_CTL_MAX_CLIENTS 64
#define LN_CTL_MAX_PER_PEER 8
#define LN_CTL_RESERVED 4
/*
 * Unsent output beyond which a client's further requests wait unread (and an
 * event subscriber's events are dropped, and counted) until it drains.
 */
#define LN_CTL_MAX_OUTPUT (256 * 1024)
/*
 * A connection on which no byte moves either way for LN_CTL_IDLE_SEC is
 * closed; an event subscriber waits for events, so only once it has taken
 * none of its pending output for LN_CTL_STALL_SEC.
 */
#define LN_CTL_IDLE_SEC 10
#define LN_CTL_STALL_SEC 60

/* What the commands work on: defined by their user (control_cmds.h; a test has its own). */
struct ln_ctl_ctx;

/*
 * A command: @run answers the request object @req (which it does not keep)
 * with a new object in *@reply. Returns 0, LN_CTL_SUBSCRIBE (the client now
 * only listens to events) or -errno with the reason in @err (sent back as
 * {"ok":false,"error":...}).
 */
#define LN_CTL_SUBSCRIBE 1
#define LN_CTL_PENDING 2 /* no reply yet: it comes with ln_control_reloaded() */
struct ln_ctl_cmd {
	const char *name; /* the request's "cmd" */
	int (*run)(struct ln_ctl_ctx *ctx, struct json_object *req, struct json_object **reply,
		   struct ln_error *err);
};

/*
 * Parse one request line (without its newline) and run the command of @cmds
 * that its "cmd" names. -EINVAL with the reason in @err for a line that is not
 * one JSON object (trailing characters included), is not UTF-8, has a string
 * with NUL in it ("\u0000": never cut short), has no "cmd", names no command
 * ("unknown cmd \"x\""), or is longer than LN_CTL_MAX_REQUEST; otherwise what
 * the command returns.
 */
int ln_ctl_dispatch(const struct ln_ctl_cmd *cmds, size_t n, struct ln_ctl_ctx *ctx,
		    const char *line, size_t len, struct json_object **reply, struct ln_error *err);

/*
 * Whether one more connection may come in, @n_clients being open of which
 * @n_peer are the same process's: 0, or -EBUSY with the reason in @err.
 */
int ln_ctl_admit(size_t n_clients, size_t n_peer, struct ln_error *err);

/*
 * When (usec, the clock of @active) to close a client whose last byte moved
 * either way, or whose output started waiting, at @active; 0 for never.
 */
__u64 ln_ctl_deadline(bool subscribed, size_t pending, __u64 active);

/*
 * The length of the UTF-8 character @p starts with (1-4, @len >= 1), or 0 if
 * it is not one (RFC 3629: no overlong form, no surrogate, none past
 * U+10FFFF). The agent sends a byte that is not as the text \xNN, and the CLI
 * prints one so; shared with the CLI, hence inline.
 */
static inline size_t ln_utf8_char_len(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Write the JSON text @s to @put (in pieces) with every byte that is not
 * UTF-8 (by ln_utf8_char_len()) as the text \xNN, which the string then
 * reads: json-c copies bytes >= 0x80 as they are, and only into strings, so
 * a file or process name can never make a line the agent sends invalid.
 * Returns 0, or the first error @put returns.
 */
int ln_json_utf8_write(const char *s, size_t len, int (*put)(void *ud, const char *s, size_t len),
		       void *ud);

struct ln_ctl_explain {
	/* exactly one of policy / cgroup is set (non-empty) */
	char policy[256];
	char cgroup[LN_CTL_MAX_REQUEST];
	char exe[4096];         /* optional: the executable, for the scope's exe policies */
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
