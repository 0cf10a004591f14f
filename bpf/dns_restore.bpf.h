/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replies and peer names: a guarded socket talking to the proxy sees the
 * server it asked instead. These hooks can only rewrite, never deny.
 */
#ifndef LSNITCH_DNS_RESTORE_BPF_H
#define LSNITCH_DNS_RESTORE_BPF_H

LN_INLINE void ln_restore4(struct bpf_sock_addr *ctx)
{
	const struct ln_dns_slot_val *v;
	const __u32 *w;

	if (ctx->user_ip4 != bpf_htonl(0x7f000001))
		return;
	v = ln_dns_owner_of(ctx, bpf_ntohs((__u16)ctx->user_port),
			    LN_DNS_UDP4 + (ctx->protocol == IPPROTO_TCP));
	if (!v || !ln_is_v4_mapped(v->owner.addr))
		return;
	w = (const __u32 *)v->owner.addr;
	ctx->user_ip4 = w[3];
	ctx->user_port = bpf_htons(v->owner.port);
}

LN_INLINE void ln_restore6(struct bpf_sock_addr *ctx)
{
	const struct ln_dns_slot_val *v;
	__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2],
	      a3 = ctx->user_ip6[3];
	__u16 kind = ctx->protocol == IPPROTO_TCP;
	const __u32 *w;

	/* ::1 (the proxy's v6 sockets) or ::ffff:127.0.0.1 (its v4 ones) */
	if (a0 || a1)
		return;
	if (a2 == 0 && a3 == bpf_htonl(1))
		kind += LN_DNS_UDP6;
	else if (a2 != bpf_htonl(0x0000ffff) || a3 != bpf_htonl(0x7f000001))
		return;
	v = ln_dns_owner_of(ctx, bpf_ntohs((__u16)ctx->user_port), kind);
	if (!v)
		return;
	w = (const __u32 *)v->owner.addr;
	ctx->user_ip6[0] = w[0];
	ctx->user_ip6[1] = w[1];
	ctx->user_ip6[2] = w[2];
	ctx->user_ip6[3] = w[3];
	ctx->user_port = bpf_htons(v->owner.port);
}

SEC("cgroup/recvmsg4")
int ln_recvmsg4(struct bpf_sock_addr *ctx)
{
	ln_restore4(ctx);
	return 1;
}

SEC("cgroup/recvmsg6")
int ln_recvmsg6(struct bpf_sock_addr *ctx)
{
	ln_restore6(ctx);
	return 1;
}

SEC("cgroup/getpeername4")
int ln_getpeername4(struct bpf_sock_addr *ctx)
{
	ln_restore4(ctx);
	return 1;
}

SEC("cgroup/getpeername6")
int ln_getpeername6(struct bpf_sock_addr *ctx)
{
	ln_restore6(ctx);
	return 1;
}

#endif /* LSNITCH_DNS_RESTORE_BPF_H */
