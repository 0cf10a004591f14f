/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Socket kinds per policy, decided at socket() (included at the end of lsnitch.bpf.c):
 * cgroup/sock_create for raw and ICMP sockets (AF_INET/AF_INET6; kernel >= 4.10), and
 * lsm_cgroup/socket_create for AF_PACKET, which runs no cgroup/sock_create program (kernel
 * >= 6.0 with "bpf" among the active LSMs; the agent leaves it out where that is not so).
 *
 * Both select the policy from the calling task's cgroup, as the sock_addr hooks do: the
 * kernel runs a cgroup/sock_create program for the socket's cgroup, which sk_alloc() has
 * just taken from the calling task, so the two are the same cgroup here; an lsm_cgroup
 * program on a hook without a socket argument runs for the task's cgroup.
 */
#include "lsnitch_sock.h"

LN_INLINE void ln_sock_report(__u64 cg, __u32 policy_id, const struct ln_decision *d, __u8 hook,
			      __u32 family, const struct ln_sock_desc *sock)
{
	struct ln_event *e = ln_event_start(cg, policy_id, d, hook);

	if (!e)
		return;
	e->sock = *sock;
	e->port = 0;
	e->family = family;
	e->proto = family == LN_AF_PACKET ? 0 : sock->protocol; /* the IP protocol, if any */
	bpf_ringbuf_submit(e, 0);
}

/* 1: the socket may be created; 0: socket() fails with EPERM. Audit: report, allow. */
LN_INLINE int ln_sock_check(__u32 family, __u32 type, __u32 protocol, __u8 hook)
{
	struct ln_sock_desc sock = { .type = type, .protocol = protocol };
	const struct ln_policy_val *pol;
	const struct ln_config_val *cfg;
	struct ln_decision d = {};
	__u32 zero = 0, policy_id;
	int kind = ln_sock_kind(family, type, protocol);
	__u64 cg;

	if (kind < 0)
		return 1; /* TCP, UDP, ...: the sock_addr hooks decide them */
	cg = bpf_get_current_cgroup_id();
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 1;
	pol = ln_policy(cfg, cg, &policy_id);
	if (!pol)
		return 1; /* not guarded (below a gate) */
	ln_decide_sock(pol, kind, &d);
	if (d.verdict == LN_VERDICT_ALLOW)
		ln_count(LN_CNT_ALLOWED);
	else
		ln_count(d.audit ? LN_CNT_AUDITED : LN_CNT_DENIED);
	sock.kind = kind;
	if (d.log)
		ln_sock_report(cg, policy_id, &d, hook, family, &sock);
	return d.verdict == LN_VERDICT_DENY && !d.audit ? 0 : 1;
}

SEC("cgroup/sock_create")
int ln_sock_create(struct bpf_sock *ctx)
{
	return ln_sock_check(ctx->family, ctx->type, ctx->protocol, LN_HOOK_SOCK_CREATE);
}

/* security_socket_create(family, type, protocol, kern); only user sockets are decided. */
SEC("lsm_cgroup/socket_create")
int ln_packet_create(__u64 *ctx)
{
	int family = (int)ctx[0], type = (int)ctx[1], protocol = (int)ctx[2], kern = (int)ctx[3];

	if (kern || family != LN_AF_PACKET)
		return 1;
	return ln_sock_check(family, type, protocol, LN_HOOK_PACKET_CREATE);
}
