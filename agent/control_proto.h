/* SPDX-License-Identifier: GPL-2.0 */
/* Control socket protocol: request parsing and the pure lookups "explain" needs. */
#ifndef LSNITCH_CONTROL_PROTO_H
#define LSNITCH_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "rules.h"

/*
 * One JSON object per line each way. A request line longer than this is
 * refused and the connection closed: nothing a client says is held unbounded.
 */
#define LN_CTL_MAX_REQUEST 4096
#define LN_CTL_MAX_CLIENTS 64
/* Queued output beyond which an event subscriber's events are dropped (and counted). */
#define LN_CTL_MAX_EVENT_BACKLOG (256 * 1024)

enum ln_ctl_cmd {
	LN_CTL_STATUS = 1,
	LN_CTL_RELOAD,
	LN_CTL_EXPLAIN,
	LN_CTL_EVENTS,
};

struct ln_ctl_request {
	enum ln_ctl_cmd cmd;
	/* explain: exactly one of policy / cgroup is set (non-empty) */
	char policy[256];
	char cgroup[LN_CTL_MAX_REQUEST];
	__u8 addr[LN_ADDR_LEN]; /* v4 mapped */
	__u16 port;
	__u8 proto;             /* IPPROTO_TCP (default) or IPPROTO_UDP */
};

/*
 * Parse one request line (without its newline). Returns 0, or -EINVAL with
 * the reason in @err ("unknown cmd \"x\"", "explain: bad port ...").
 */
int ln_ctl_parse_request(const char *line, size_t len, struct ln_ctl_request *req,
			 struct ln_error *err);

/*
 * The policy in force for the cgroup @path (absolute under @cg2_root, or
 * relative to it): the nearest ancestor-or-self that a policy's cgroup= names
 * (globs as fnmatch(3) patterns per path) or whose last component is the
 * policy's unit; 0 (the implicit policy) if none. @matched gets the cgroup
 * that matched, relative to the root ("" if none).
 */
__u32 ln_ctl_cgroup_policy(const struct ln_config *c, const char *cg2_root, const char *path,
			   char *matched, size_t len);

/* Line @line of @path, whitespace trimmed, into @buf. 0 or -errno (-ENOENT: no such line). */
int ln_ctl_source_line(const char *path, unsigned int line, char *buf, size_t len);

#endif /* LSNITCH_CONTROL_PROTO_H */
