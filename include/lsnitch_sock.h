/* SPDX-License-Identifier: GPL-2.0 */
/* Socket kinds at socket(): which kind a socket is and the policy's verdict on it, both sides. */
#ifndef LSNITCH_SOCK_H
#define LSNITCH_SOCK_H

#include "lsnitch.h"
#include "lsnitch_decide.h"

/* The numbers of <sys/socket.h> and <netinet/in.h>, which the BPF side cannot include. */
#define LN_AF_INET 2
#define LN_AF_INET6 10
#define LN_AF_PACKET 17
#define LN_SOCK_DGRAM 2
#define LN_SOCK_RAW_TYPE 3
#define LN_IPPROTO_ICMP 1
#define LN_IPPROTO_ICMPV6 58

/* The kind of a socket(@family, @type, @protocol) a policy decides, or -1: not one of them. */
LN_INLINE int ln_sock_kind(__u32 family, __u32 type, __u32 protocol)
{
	if (family == LN_AF_PACKET)
		return LN_SOCK_PACKET;
	if (family != LN_AF_INET && family != LN_AF_INET6)
		return -1;
	if (type == LN_SOCK_RAW_TYPE)
		return LN_SOCK_RAW;
	if (type == LN_SOCK_DGRAM &&
	    protocol == (family == LN_AF_INET ? LN_IPPROTO_ICMP : LN_IPPROTO_ICMPV6))
		return LN_SOCK_ICMP;
	return -1;
}

/*
 * The verdict of policy @pol on a socket of @kind (NULL: no policy, allowed).
 * The rule is the key that decided, or the default= line it fell back to.
 */
LN_INLINE void ln_decide_sock(const struct ln_policy_val *pol, int kind, struct ln_decision *d)
{
	__u32 flags = pol ? pol->flags : 0;

	if (ln_decide_pending(pol, d))
		return;
	d->verdict = LN_VERDICT_ALLOW;
	d->reason = LN_REASON_NONE;
	d->rule_id = 0;
	if (pol && kind >= 0 && kind < LN_SOCK_KINDS) {
		d->verdict = (pol->sock_allow >> kind) & 1 ? LN_VERDICT_ALLOW : LN_VERDICT_DENY;
		d->reason = LN_REASON_SOCKET_KIND;
		d->rule_id = pol->sock_rule_id[kind];
	}
	d->audit = d->verdict == LN_VERDICT_DENY && (flags & LN_POLICY_AUDIT);
	d->log = d->verdict == LN_VERDICT_DENY || (flags & LN_POLICY_LOG_ALLOWED);
}

#endif /* LSNITCH_SOCK_H */
