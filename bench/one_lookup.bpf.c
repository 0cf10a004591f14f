// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the verdict bench: connect4|6 and sendmsg4|6 programs that do
 * one BPF hash lookup on the destination and nothing else (deny if listed),
 * the least a sock_addr firewall can do. bench/one_lookup.c loads and fills them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* bench/who_lookup.bpf.c includes this file with names and a FLOOR_WHO_ASKS() of its own. */
#ifndef FLOOR_NAME
#define FLOOR_NAME(hook) floor_##hook
#define FLOOR_WHO_ASKS() 0
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} floor4 SEC(".maps");

struct v6key {
	__u32 w[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct v6key);
	__type(value, __u32);
} floor6 SEC(".maps");

static __always_inline int lookup4(struct bpf_sock_addr *ctx)
{
	__u32 k = ctx->user_ip4;

	if (FLOOR_WHO_ASKS())
		return 0;
	return bpf_map_lookup_elem(&floor4, &k) ? 0 : 1;
}

static __always_inline int lookup6(struct bpf_sock_addr *ctx)
{
	struct v6key k = { { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
			     ctx->user_ip6[3] } };

	if (FLOOR_WHO_ASKS())
		return 0;
	return bpf_map_lookup_elem(&floor6, &k) ? 0 : 1;
}

SEC("cgroup/connect4")
int FLOOR_NAME(connect4)(struct bpf_sock_addr *ctx)
{
	return lookup4(ctx);
}

SEC("cgroup/connect6")
int FLOOR_NAME(connect6)(struct bpf_sock_addr *ctx)
{
	return lookup6(ctx);
}

SEC("cgroup/sendmsg4")
int FLOOR_NAME(sendmsg4)(struct bpf_sock_addr *ctx)
{
	return lookup4(ctx);
}

SEC("cgroup/sendmsg6")
int FLOOR_NAME(sendmsg6)(struct bpf_sock_addr *ctx)
{
	return lookup6(ctx);
}

char LICENSE[] SEC("license") = "GPL";
