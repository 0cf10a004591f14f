/* SPDX-License-Identifier: GPL-2.0 */
/* A guarded process's connect() to a resolver's unix socket: the verdict, both sides. */
#ifndef LSNITCH_UNIX_H
#define LSNITCH_UNIX_H

#include "lsnitch.h"
#include "lsnitch_decide.h"

#define LN_AF_UNIX 1

/*
 * The verdict of policy @pol (NULL: none) on a connect() to a path the resolver_sockets
 * map holds, with @v its entry. Refused where the policy's domain filtering is in force
 * (LN_POLICY_RESOLVER_GUARD): glibc then falls back to DNS, which the proxy sees; a
 * pending cgroup is refused like everything else. Reported when refused, unless no socket
 * was there when the policy was loaded: glibc tries nscd's on every lookup, nscd or not.
 */
LN_INLINE void ln_decide_unix(const struct ln_policy_val *pol, const struct ln_unix_val *v,
			      struct ln_decision *d)
{
	__u32 flags = pol ? pol->flags : 0;
	int refused = !!(flags & LN_POLICY_RESOLVER_GUARD);

	if (ln_decide_pending(pol, d))
		return;
	*d = (struct ln_decision){
	    .verdict = refused ? LN_VERDICT_DENY : LN_VERDICT_ALLOW,
	    .reason = refused ? LN_REASON_RESOLVER_SOCKET : LN_REASON_NONE,
	    .rule_id = refused ? v->rule_id : 0,
	    .audit = refused && (flags & LN_POLICY_AUDIT),
	    /* log-allowed is about connections out, not this */
	    .log = refused && !(v->flags & LN_UNIX_QUIET),
	};
}

#endif /* LSNITCH_UNIX_H */
