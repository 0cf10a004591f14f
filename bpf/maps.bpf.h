/* SPDX-License-Identifier: GPL-2.0 */
/* The maps of the lsnitch programs (included once, by lsnitch.bpf.c). */
#ifndef LSNITCH_MAPS_BPF_H
#define LSNITCH_MAPS_BPF_H

/* Sizes below are placeholders: the agent sets every max_entries before load. */
/* mmapped by the agent, which bumps the generation in place (exe policies' files). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ln_config_val);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ln_policy_val);
} policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct ln_cgroup_val);
} cgroup_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ln_cache_val);
} policy_cache SEC(".maps");

/* What a new child of a glob parent is, by its name (key: the parent's cgroup id). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct ln_cg_children);
} cg_children SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ln_rule_key);
	__type(value, struct ln_rule_set);
} rules SEC(".maps");

/*
 * The packed lists, double-buffered (lists_slots.c): each is an array of
 * LN_LIST_SLOTS maps of the exact size, and lists_sel says which slot is in
 * force. BPF_F_INNER_MAP: the agent swaps in maps of other sizes.
 */
#define LN_LIST_MAP(value_t)                                                                  \
	struct {                                                                              \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);                                     \
		__uint(max_entries, LN_LIST_SLOTS);                                           \
		__type(key, __u32);                                                           \
		__array(values, struct {                                                      \
			__uint(type, BPF_MAP_TYPE_ARRAY);                                     \
			__uint(max_entries, 1);                                               \
			__uint(map_flags, BPF_F_INNER_MAP);                                   \
			/* sizes: BTF leaves a type this deep a forward declaration */ \
			__uint(key_size, sizeof(__u32));                                      \
			__uint(value_size, sizeof(value_t));                                  \
		});                                                                           \
	}

/* The prefilter in front of the packed lists: Bloom filter bits. */
LN_LIST_MAP(__u64) bl_bloom SEC(".maps");
/* Packed host blocklists: pages of sorted intervals (see lsnitch.h). */
LN_LIST_MAP(struct ln_pack4_page) bl_pack4 SEC(".maps");
LN_LIST_MAP(struct ln_pack6_page) bl_pack6 SEC(".maps");
/* Each set's regions and the Bloom mask of the slot (index: set). */
LN_LIST_MAP(struct ln_lists_head) bl_heads SEC(".maps");

/* The slot in force: one __u32, written last (an aligned 4-byte write is atomic). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lists_sel SEC(".maps");

/* Shared across reloads (the agent hands the old ones to the new programs). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LN_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ln_bl_key);
	__type(value, struct ln_dns_verdict);
} dns_verdicts SEC(".maps");

/* DNS redirect state, shared across generations like events and counters. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ln_dns_state);
} dns_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LN_DNS_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ln_dns_slot_val);
} dns_slot_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LN_DNS_MAX_SLOTS);
	__type(key, struct ln_dns_owner);
	__type(value, __u32);
} dns_slot_by_owner SEC(".maps");

/* The proxy's kernel-chosen ports per (netns, slot, kind), and back (struct ln_dns_port_key). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LN_DNS_PORT_ENTRIES);
	__type(key, struct ln_dns_port_key);
	__type(value, __u32);
} dns_ports SEC(".maps");

/* Netns the proxy should serve: struct ln_dns_netns_req records. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} dns_requests SEC(".maps");
/* Resolver sockets a guarded process may not connect to (unix.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LN_MAX_RESOLVER_SOCKETS);
	__type(key, struct ln_unix_path);
	__type(value, struct ln_unix_val);
} resolver_sockets SEC(".maps");
/* Repeat summarising (event_limit.bpf.h); a generation's own: a reload restarts the count. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LN_EVENT_KEYS);
	__type(key, struct ln_event_key);
	__type(value, struct ln_event_window);
} event_limit SEC(".maps");

/* Exe policies (exe.bpf.h): (scope, executable) -> policy; a socket's sender's executable. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct ln_exe_key);
	__type(value, __u32);
} exe_policy SEC(".maps");
/* exe_policy's entries by slot (lsnitch_exe_filter.h): most verdicts need no hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ln_exe_slot);
} exe_filter SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ln_exe_id);
} exe_sk SEC(".maps");
/* Per CPU, the socket (cookie) this CPU last noted in exe_sk, and with which executable. */
struct ln_exe_noted {
	__u64 cookie;
	struct ln_exe_id exe;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ln_exe_noted);
} exe_noted SEC(".maps");

#endif /* LSNITCH_MAPS_BPF_H */
