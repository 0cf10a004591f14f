// SPDX-License-Identifier: GPL-2.0
/*
 * The measurement floor of the egress bench: a cgroup_skb/egress program that
 * does nothing, attached beside lsnitch's, so that run_time_ns / run_cnt says
 * what bpf_stats itself costs per run on this machine.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/egress")
int ln_bench_noop(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
