/* SPDX-License-Identifier: GPL-2.0 */
/* Flow accounting ABI: the kernel's bounded flow table and what the agent drains from it. */
#ifndef LSNITCH_FLOW_H
#define LSNITCH_FLOW_H

#include <linux/types.h>

#include "lsnitch.h" /* struct ln_exe_id */

/*
 * Every final sock_addr verdict (and every packet the egress backstop drops)
 * counts into the flows map under the key below. The map is a preallocated
 * hash of fixed size shared by every generation: when it is full a new key is
 * not inserted, the verdict stands as decided, and flow_lost counts it. The
 * agent drains (reads and deletes) the table every few seconds.
 */
#define LN_FLOW_MAX_ENTRIES 16384

/* ln_flow_key.flags */
#define LN_FLOW_AUDIT (1u << 0)    /* verdict is what would have happened */
#define LN_FLOW_DNS (1u << 1)      /* redirected to the DNS proxy, which decides names */
#define LN_FLOW_EGRESS (1u << 2)   /* a packet the egress backstop decided, not a connect */

struct ln_flow_key {
	__u64 cgroup_id;
	__u32 policy_id;
	__u32 rule_id;
	__u8 addr[16]; /* as the verdict saw it, IPv4 mapped */
	__u16 port;    /* host order */
	__u8 proto;    /* IPPROTO_TCP / UDP / ... as the socket has it */
	__u8 verdict;  /* enum ln_verdict */
	__u8 reason;   /* enum ln_reason */
	__u8 flags;    /* LN_FLOW_* */
	__u8 pad[2];
	struct ln_exe_id exe; /* the task's executable (bpf/exe.bpf.h); zero: none or unknown */
};
_Static_assert(sizeof(struct ln_flow_key) == 56, "ln_flow_key size");
/* The programs compare port..pad as one word (bpf/flow.bpf.h, ln_flow_tail()). */
_Static_assert(__builtin_offsetof(struct ln_flow_key, port) == 32, "ln_flow_key tail word");

/*
 * Times are bpf_ktime_get_ns() (CLOCK_MONOTONIC), taken at insertion only: a
 * hit costs no clock read. No byte counts: a verdict has none yet.
 */
struct ln_flow_val {
	__u64 count;
	__u64 first_ns;
	__u64 last_ns; /* = first_ns; the drain that finds count > 1 is "last seen" */
	__u32 tgid;    /* the first task counted: where the agent finds the exe's path */
	__u32 pad;
};
_Static_assert(sizeof(struct ln_flow_val) == 32, "ln_flow_val size");

/*
 * flow_cache map (per-CPU array, 2 * LN_FLOW_CACHE_SLOTS): where the connect
 * and sendmsg hooks count first; a slot's flow moves into the flows map when
 * another flow takes the slot, or the agent drains the half not in use.
 */
#define LN_FLOW_CACHE_BITS 9
#define LN_FLOW_CACHE_SLOTS (1u << LN_FLOW_CACHE_BITS)

struct ln_flow_slot {
	struct ln_flow_key k;
	__u64 count; /* 0: empty */
	__u64 first_ns;
	__u32 tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct ln_flow_slot) == 80, "ln_flow_slot size");

/*
 * exe_new ring buffer (shared by every generation): an executable a flow
 * counted that the exe_seen LRU map (per generation) did not hold yet, with
 * the task that ran it, so the agent reads /proc/PID/exe while it still runs.
 */
#define LN_EXE_SEEN_MAX 4096
#define LN_EXE_NEW_RING (16 * 1024)

struct ln_exe_new {
	struct ln_exe_id exe;
	__u32 tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct ln_exe_new) == 24, "ln_exe_new size");

#endif /* LSNITCH_FLOW_H */
