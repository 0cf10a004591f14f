/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet-sockets = deny where no lsm_cgroup program runs (included by lsnitch.bpf.c): one
 * global program instead, whichever this kernel loads (agent/sock_kinds.c probes them):
 *
 *   fmod_ret/security_socket_create   socket() fails with EPERM (BPF_MODIFY_RETURN on an
 *                                     LSM hook: kernel >= 5.7, BTF and BPF trampolines; the
 *                                     BPF LSM need not be active)
 *   tracepoint/syscalls/sys_enter_socket   the caller is killed (SIGKILL) at socket(): a
 *                                     tracepoint cannot change the call's result
 *
 * Both run for every task on the machine, so they decide only for a task whose cgroup is
 * at or below a cgroup the agent attaches to (guard_roots), with the decision of the
 * lsm_cgroup program (ln_sock_check()) and its event (hook packet_create).
 */
#define LN_SIGKILL 9
#define LN_EPERM 1
#define LN_SOCK_TYPE_MASK 0xf /* type without SOCK_NONBLOCK, SOCK_CLOEXEC */

/* The cgroups the agent's links are attached at (--cgroup paths, or their parents). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* set by the agent: one per --cgroup */
	__type(key, __u64);
	__type(value, __u32);
} guard_roots SEC(".maps");

/* Whether the calling task's cgroup is a guard root or below one. */
LN_INLINE int ln_task_under_guard(void)
{
	for (int level = 0; level < LN_MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (!id)
			break;
		if (bpf_map_lookup_elem(&guard_roots, &id))
			return 1;
	}
	return 0;
}

/* 1: the calling task may have a packet socket; 0: its policy refuses it (event sent). */
LN_INLINE int ln_packet_global(__u32 type, __u32 protocol)
{
	if (!ln_task_under_guard())
		return 1;
	return ln_sock_check(LN_AF_PACKET, type & LN_SOCK_TYPE_MASK, protocol,
			     LN_HOOK_PACKET_CREATE);
}

/* security_socket_create(family, type, protocol, kern): 0 lets the call go on. */
SEC("fmod_ret/security_socket_create")
int ln_packet_fmod(__u64 *ctx)
{
	int family = (int)ctx[0], type = (int)ctx[1], protocol = (int)ctx[2], kern = (int)ctx[3];

	if (kern || family != LN_AF_PACKET)
		return 0;
	return ln_packet_global(type, protocol) ? 0 : -LN_EPERM;
}

/* The syscall tracepoint's record: its common header, the number, the arguments. */
struct ln_sys_enter_socket {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 family, type, protocol;
};

SEC("tracepoint/syscalls/sys_enter_socket")
int ln_packet_kill(struct ln_sys_enter_socket *ctx)
{
	if (ctx->family != LN_AF_PACKET)
		return 0;
	if (!ln_packet_global((__u32)ctx->type, (__u32)ctx->protocol))
		bpf_send_signal(LN_SIGKILL);
	return 0;
}
