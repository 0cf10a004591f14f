/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who asked (included by lsnitch.bpf.c): a redirected DNS query's task is
 * noted under its socket's cookie, so the proxy's events can name the asker.
 */
#ifndef LSNITCH_DNS_ASKER_BPF_H
#define LSNITCH_DNS_ASKER_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LN_DNS_ASKERS);
	__type(key, __u64);
	__type(value, struct ln_dns_asker);
} dns_askers SEC(".maps");

/*
 * Notes the calling task as the asker on its socket; returns @to (the
 * redirect). A socket asking again from the same task, the common case, costs
 * one lookup and no write.
 */
LN_INLINE int ln_dns_asker_note(struct bpf_sock_addr *ctx, __u64 cg, __u32 policy_id, int to)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u64 id = bpf_get_current_pid_tgid();
	struct ln_dns_asker a = {}, *cur;

	cur = bpf_map_lookup_elem(&dns_askers, &cookie);
	if (cur && cur->pid == (__u32)id && cur->cgroup_id == cg && cur->policy_id == policy_id)
		return to;
	a.cgroup_id = cg;
	a.tgid = id >> 32;
	a.pid = (__u32)id;
	id = bpf_get_current_uid_gid();
	a.uid = (__u32)id;
	a.gid = id >> 32;
	a.policy_id = policy_id;
	bpf_get_current_comm(a.comm, sizeof(a.comm));
	bpf_map_update_elem(&dns_askers, &cookie, &a, BPF_ANY);
	return to;
}

#endif /* LSNITCH_DNS_ASKER_BPF_H */
