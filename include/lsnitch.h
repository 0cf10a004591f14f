/* SPDX-License-Identifier: GPL-2.0 */
/* lsnitch kernel/user ABI: map keys and values, events, verdicts, reasons. */
#ifndef LSNITCH_H
#define LSNITCH_H

#include <linux/types.h>

/*
 * Every address is 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so
 * one rule covers AF_INET sockets and v4-mapped destinations on AF_INET6
 * sockets alike. A v4 prefix /n is stored as /(96 + n).
 */
#define LN_ADDR_LEN 16
#define LN_V4_MAPPED_PREFIX 96

/* Verdicts as the hooks return them. */
enum ln_verdict {
	LN_VERDICT_DENY = 0,
	LN_VERDICT_ALLOW = 1,
};

/* Why a verdict was reached. Stable numbers: never reuse or renumber. */
enum ln_reason {
	LN_REASON_NONE = 0,      /* no policy and no list matched: allowed */
	LN_REASON_RULE = 1,      /* a policy allow/deny rule */
	LN_REASON_BLOCKLIST = 2, /* a host blocklist entry (global or policy's) */
	LN_REASON_DEFAULT = 3,   /* the policy's default verdict */
	LN_REASON_DOMAIN = 4,    /* reserved: domain rule (DNS, later) */
	LN_REASON_DOMAIN_BLOCKLIST = 5, /* reserved: domain blocklist (DNS, later) */
	LN_REASON_SOCKET_KIND = 6, /* a socket kind the policy refuses (raw-sockets= ...) */
	LN_REASON_PENDING = 7,     /* a new cgroup the agent has not bound yet: fail closed */
	LN_REASON_DNS_NO_SLOT = 8,  /* DNS: no proxy slot free for (server, policy): refused */
	LN_REASON_DNS_NO_PROXY = 9, /* DNS: the proxy has no sockets in this netns (yet): refused */
	LN_REASON_DNS_SERVER = 10,  /* a DNS server the policy may not ask (dns-servers =) */
	LN_REASON_RESOLVER_SOCKET = 11, /* a resolver's unix socket (nss-resolve, nscd) */
};

/* Which hook produced an event. Stable numbers. */
enum ln_hook {
	LN_HOOK_CONNECT4 = 1,
	LN_HOOK_CONNECT6 = 2,
	LN_HOOK_SENDMSG4 = 3,
	LN_HOOK_SENDMSG6 = 4,
	LN_HOOK_SOCK_CREATE = 5,   /* cgroup/sock_create: raw and ICMP sockets */
	LN_HOOK_PACKET_CREATE = 6, /* lsm_cgroup/socket_create: AF_PACKET sockets */
	LN_HOOK_EGRESS = 7,        /* cgroup_skb/egress: the packet-level backstop */
	LN_HOOK_CONNECT_UNIX = 8,  /* cgroup/connect_unix: resolver sockets (kernel >= 6.7) */
};

/*
 * Socket kinds a policy allows or refuses at socket() (raw-sockets=,
 * packet-sockets=, icmp-sockets=): stable numbers, bit numbers of
 * ln_policy_val.sock_allow and indexes of its sock_rule_id.
 */
enum ln_sock_kind {
	LN_SOCK_RAW = 0,    /* AF_INET/AF_INET6 SOCK_RAW, any protocol */
	LN_SOCK_PACKET = 1, /* AF_PACKET, any type */
	LN_SOCK_ICMP = 2,   /* ICMP "ping" sockets: SOCK_DGRAM + IPPROTO_ICMP/ICMPV6 */
	LN_SOCK_KINDS = 3,
};

/*
 * Rule ids name the line a rule or list entry came from: the agent keeps a
 * table of source files; id = file index (1..1023) << 22 | line (1..4194303).
 * 0 means "no rule".
 */
#define LN_RULE_FILE_BITS 10
#define LN_RULE_LINE_BITS 22
#define LN_RULE_MAX_FILES ((1u << LN_RULE_FILE_BITS) - 1)
#define LN_RULE_MAX_LINE ((1u << LN_RULE_LINE_BITS) - 1)
#define LN_RULE_ID(file, line) (((__u32)(file) << LN_RULE_LINE_BITS) | (__u32)(line))
#define LN_RULE_ID_FILE(id) ((__u32)(id) >> LN_RULE_LINE_BITS)
#define LN_RULE_ID_LINE(id) ((__u32)(id) & LN_RULE_MAX_LINE)

/* Policy 0 is the implicit policy of attached cgroups no policy names. */
#define LN_POLICY_IMPLICIT 0
/*
 * Not a policy: a cgroup that appeared where a glob may bind it and that the
 * agent has not looked at yet. Denied (LN_REASON_PENDING), never cached.
 */
#define LN_POLICY_PENDING 0xffffffffu
/* Not a policy: a cgroup the programs run for but that no --cgroup guards (a gate). */
#define LN_POLICY_NONE 0xfffffffeu
#define LN_MAX_POLICIES 4096
/* Deepest cgroup level the ancestor walk looks at. */
#define LN_MAX_CGROUP_DEPTH 32

/* ln_policy_val.flags */
#define LN_POLICY_AUDIT (1u << 0)       /* report would-be denials, deny nothing */
#define LN_POLICY_LOG_ALLOWED (1u << 1) /* also report allowed connections */
#define LN_POLICY_HAS_RULES (1u << 2)   /* has entries in the rules trie */
#define LN_POLICY_HAS_LISTS (1u << 3)   /* has its own blocklist entries (set = id) */
#define LN_POLICY_HAS_DOMAIN_RULES (1u << 4) /* look up dns_verdicts */
#define LN_POLICY_PENDING_DENY (1u << 5) /* LN_POLICY_PENDING's: deny all, reason pending */
/* Domain filtering is in force: connect() to a resolver's unix socket is refused. */
#define LN_POLICY_RESOLVER_GUARD (1u << 6)
/* Exe policies refine it (bpf/exe.bpf.h): only then is the task's executable read. */
#define LN_POLICY_HAS_EXE (1u << 7)
/* An exe policy: its sockets remember their executable for the egress backstop. */
#define LN_POLICY_IS_EXE (1u << 8)

/*
 * exe_policy map: (scope policy, executable) -> exe policy id. The executable
 * is the identity of current->mm->exe_file: its inode number and its
 * superblock's device in the kernel's encoding (major << 20 | minor).
 */
struct ln_exe_id {
	__u64 dev;
	__u64 ino;
};
_Static_assert(sizeof(struct ln_exe_id) == 16, "ln_exe_id size");

struct ln_exe_key {
	__u32 scope; /* the policy the cgroup walk chose */
	__u32 pad;
	struct ln_exe_id exe;
};
_Static_assert(sizeof(struct ln_exe_key) == 24, "ln_exe_key size");

/*
 * Host blocklists are packed: each set's entries (exact addresses and
 * prefixes alike) become sorted, disjoint intervals, each with the rule id of
 * the most specific entry covering it, searched by bisection. IPv4 (host
 * order) in bl_pack4, IPv6 (two host-order halves) in bl_pack6, both arrays of
 * pages. A set's intervals are one contiguous region of each array.
 */
struct ln_region {
	__u32 off; /* first interval */
	__u32 cnt; /* intervals */
};
_Static_assert(sizeof(struct ln_region) == 8, "ln_region size");

#define LN_PACK4_PAGE 256 /* intervals per page: 3 KiB */
struct ln_pack4_page {
	__u32 lo[LN_PACK4_PAGE];
	__u32 hi[LN_PACK4_PAGE];
	__u32 rule_id[LN_PACK4_PAGE];
};
_Static_assert(sizeof(struct ln_pack4_page) == 12 * LN_PACK4_PAGE, "ln_pack4_page size");

/*
 * An IPv6 interval is its start and a span: it ends at lo | (2^span - 1)
 * (an exact address or a prefix: nearly all of them), or with
 * LN_SPAN_TO_NEXT, where the next one starts (the rest of a prefix around a
 * more specific entry; a gap after it is an interval of rule id 0). 21 bytes
 * an interval instead of 36 with the end stored.
 */
#define LN_PACK6_PAGE 64 /* intervals per page: 1.3 KiB */
#define LN_SPAN_TO_NEXT 0xff
struct ln_pack6_page {
	__u64 lo[LN_PACK6_PAGE][2]; /* [0]: high 64 bits, [1]: low 64 bits */
	__u32 rule_id[LN_PACK6_PAGE];
	__u8 span[LN_PACK6_PAGE]; /* 0..128, or LN_SPAN_TO_NEXT */
};
_Static_assert(sizeof(struct ln_pack6_page) == 21 * LN_PACK6_PAGE, "ln_pack6_page size");

/* Bisection steps: enough for 2^26 - 1 intervals (32M entries make at most 64M + 1). */
#define LN_PACK_STEPS 26

/*
 * A set's packed lists, and the prefilter in front of them: a Bloom filter
 * (bl_bloom, an array of 64-bit words shared by all sets) over (set, prefix
 * length, masked address) of every entry, probed for each prefix length the
 * set uses, so a destination no entry covers -- the common case -- costs a
 * few hashes instead of a bisection. More than LN_BLOOM_LENS lengths in a
 * family: LN_BLOOM_ALL, no prefilter.
 */
#define LN_BLOOM_LENS 8
#define LN_BLOOM_ALL 0xff
#define LN_BLOOM_BITS_PER_ENTRY 16 /* two probes: ~1.4% false positives */

struct ln_lists {
	struct ln_region v4, v6;
	__u8 n_lens4, n_lens6;
	__u8 lens4[LN_BLOOM_LENS]; /* 0..32 */
	__u8 lens6[LN_BLOOM_LENS]; /* 0..128 */
	__u8 pad[6];
};
_Static_assert(sizeof(struct ln_lists) == 40, "ln_lists size");

/*
 * The lists in force are double-buffered: bl_bloom, bl_pack4, bl_pack6 and
 * bl_heads hold LN_LIST_SLOTS maps each, lists_sel (one __u32) the slot the
 * programs read. A list-only reload fills the idle slot with new maps, then
 * flips lists_sel: a verdict reads one slot, old or new, never a mix. The
 * lists fields of ln_config_val and ln_policy_val are then only the copy of
 * the generation that loaded the programs; bl_heads is what is in force.
 */
#define LN_LIST_SLOTS 2
struct ln_lists_head {
	struct ln_lists lists; /* set @index: 0 global, else the policy id */
	__u32 bloom_mask;      /* the slot's bl_bloom bits - 1 */
	__u32 slot;            /* the slot it is in: read back, not kept on the stack */
};
_Static_assert(sizeof(struct ln_lists_head) == 48, "ln_lists_head size");

/* policies map (array, index = policy id). */
struct ln_policy_val {
	__u32 flags;
	__u8 default_verdict; /* enum ln_verdict */
	__u8 pad[3];
	__u32 default_rule_id; /* the line that set the default */
	__u32 pad2;
	struct ln_lists lists; /* the policy's own blocklists (set = id) */
	__u32 sock_allow;      /* bit (1 << enum ln_sock_kind): the kind may be opened */
	__u32 sock_rule_id[LN_SOCK_KINDS]; /* the key, or the default= line, that decided */
};
_Static_assert(sizeof(struct ln_policy_val) == 72, "ln_policy_val size");

/*
 * cgroup_policy map (hash): key = cgroup id (__u64), value below. Besides the
 * cgroups bound to a policy it holds, flagged, the cgroups a glob may bind
 * below (LN_CG_GLOB_PARENT) and their children the agent has looked at and
 * left unbound (LN_CG_UNBOUND): a child of a glob parent with no entry is new,
 * and its processes are denied until the agent has seen it.
 */
#define LN_CG_UNBOUND (1u << 0)     /* no policy here: policy_id means nothing */
#define LN_CG_GLOB_PARENT (1u << 1) /* a glob may bind the children (or deeper) */
/*
 * A --cgroup path the agent attaches at its parent (a unit's cgroup, made
 * again on every restart): the parent is a gate, policy LN_POLICY_NONE for
 * itself and every cgroup below it but the path, which is the guard and
 * carries the policy it would have from its ancestors.
 */
#define LN_CG_GATE (1u << 2)  /* not guarded here and below, but below a guard */
#define LN_CG_GUARD (1u << 3) /* guarded again from here: a --cgroup path */

struct ln_cgroup_val {
	__u32 policy_id;
	__u32 flags; /* LN_CG_* */
};
_Static_assert(sizeof(struct ln_cgroup_val) == 8, "ln_cgroup_val size");

/*
 * cg_children map (hash): key = id of a cgroup flagged LN_CG_GLOB_PARENT,
 * value: what a new child of it is, by the child's kernfs name, until the
 * agent has seen it. The programs match the name against each pattern ('*'
 * any run, '?' one character); the first LN_CHILD_BIND match gives the
 * child's policy, any LN_CHILD_WATCH match makes its own new children
 * pending; no match: the ancestors' policy. A glob parent without an entry
 * here (or a name too long to read) keeps the fail-closed rule: pending.
 */
#define LN_CG_NAME_LEN 96    /* a child's name as read, NUL included */
#define LN_CG_PATTERN_LEN 128 /* NUL included */
#define LN_CG_PATTERNS 8
#define LN_CHILD_BIND (1u << 0)    /* a matching child is bound to policy_id */
#define LN_CHILD_WATCH (1u << 1)   /* a matching child's children are decided here too */
#define LN_CHILD_PENDING (1u << 2) /* a matching child is pending (a '**' glob) */
#define LN_CHILD_GUARD (1u << 3)   /* a matching child is a --cgroup path (LN_CG_GUARD) */
/*
 * A new child's own new children (two deep below a glob parent P, made in one burst): the
 * patterns the agent would give a child of P that matched P's watching pattern @i (and no
 * other), under key LN_CG_GRAND_KEY(P's id, @i) in the same map. No such entry, or a child
 * that matched two watching patterns: pending, as before. (Cgroup ids stay below 2^56.)
 */
#define LN_CG_GRAND_KEY(id, i) ((__u64)(id) | (1ULL << 63) | ((__u64)(i) << 56))

struct ln_cg_pattern {
	char pattern[LN_CG_PATTERN_LEN];
	__u32 policy_id;
	__u32 flags; /* LN_CHILD_* */
};
_Static_assert(sizeof(struct ln_cg_pattern) == 136, "ln_cg_pattern size");

struct ln_cg_children {
	__u32 n;
	__u32 pad;
	struct ln_cg_pattern p[LN_CG_PATTERNS];
};
_Static_assert(sizeof(struct ln_cg_children) == 8 + 136 * LN_CG_PATTERNS, "ln_cg_children size");

/* policy_cache map (LRU): key = current cgroup id, value: */
struct ln_cache_val {
	__u32 policy_id;
	__u32 generation; /* must equal config generation to be valid */
};
_Static_assert(sizeof(struct ln_cache_val) == 8, "ln_cache_val size");

/*
 * Rules trie (LPM): key = (policy id, address prefix). The value holds the
 * rules of the longest matching prefix followed by those of every shorter
 * prefix of the same policy that contains it, already sorted from most to
 * least specific (user space does this), so one lookup and a linear scan
 * give "most specific wins, deny wins ties".
 */
#define LN_RULES_PER_PREFIX 16
#define LN_PROTO_ANY 0

struct ln_rule_key {
	__u32 prefixlen; /* 32 (policy id) + address bits */
	__u32 policy_id; /* matched in full */
	__u8 addr[LN_ADDR_LEN];
};
_Static_assert(sizeof(struct ln_rule_key) == 24, "ln_rule_key size");

struct ln_rule_entry {
	__u16 port_lo; /* host order, inclusive; 0..65535 is any */
	__u16 port_hi;
	__u8 proto;    /* LN_PROTO_ANY, IPPROTO_TCP or IPPROTO_UDP (matches UDP-Lite too) */
	__u8 verdict;  /* enum ln_verdict */
	__u8 pad[2];
	__u32 rule_id;
};
_Static_assert(sizeof(struct ln_rule_entry) == 12, "ln_rule_entry size");

struct ln_rule_set {
	__u32 count;
	__u32 pad;
	struct ln_rule_entry e[LN_RULES_PER_PREFIX];
};
_Static_assert(sizeof(struct ln_rule_set) == 8 + 12 * LN_RULES_PER_PREFIX, "ln_rule_set size");

/*
 * Host blocklist entries as the compiler lists them before packing. set = 0
 * for the global lists, = policy id for a policy's own extra lists. The
 * dns_verdicts map uses struct ln_bl_key too.
 */
#define LN_SET_GLOBAL 0

struct ln_bl_key {
	__u32 set;
	__u8 addr[LN_ADDR_LEN];
};
_Static_assert(sizeof(struct ln_bl_key) == 20, "ln_bl_key size");

struct ln_bl_lpm_key {
	__u32 prefixlen; /* 32 (set) + address bits */
	__u32 set;
	__u8 addr[LN_ADDR_LEN];
};
_Static_assert(sizeof(struct ln_bl_lpm_key) == 24, "ln_bl_lpm_key size");

/*
 * A local NAT64 prefix (RFC 6052) besides the well-known 64:ff9b::/96: the
 * IPv4 address embedded in a destination under it is decided too.
 */
struct ln_nat64 {
	__u64 hi;  /* the prefix, two host-order halves, bits past len zero */
	__u64 lo;
	__u32 len; /* 32, 40, 48, 56, 64 or 96; 0: none */
	__u32 pad;
};
_Static_assert(sizeof(struct ln_nat64) == 24, "ln_nat64 size");

/* config map (array, one element). Bits 0 and 1 are retired (hash/LPM lists). */
#define LN_CFG_HAS_POLICIES (1u << 2) /* cgroup_policy map is not empty */

struct ln_config_val {
	__u32 flags;
	__u32 generation; /* bumped when cgroup bindings change */
	struct ln_lists lists; /* the global blocklists (set 0) */
	__u32 bloom_mask;      /* bits in bl_bloom - 1 (a power of two - 1) */
	/* Retired: the verdict cache's epochs are per policy (bpf/verdict_cache.bpf.h). */
	__u32 verdict_epoch;
	struct ln_nat64 nat64; /* [global] nat64-prefix */
};
_Static_assert(sizeof(struct ln_config_val) == 80, "ln_config_val size");

/* Per-CPU counters (array index). */
enum ln_counter {
	LN_CNT_ALLOWED = 0,
	LN_CNT_DENIED = 1,
	LN_CNT_AUDITED = 2, /* would have been denied, audit mode */
	LN_CNT_EVENTS_DROPPED = 3,
	LN_CNT_DNS_REDIRECTED = 4,
	LN_CNT_DNS_NO_SLOT = 5, /* no free slot: the query was refused (EPERM) */
	LN_CNT_EGRESS_DROPPED = 6, /* packets the egress backstop dropped */
	LN_CNT_EVENTS_LIMITED = 7, /* events held back in the kernel: egress budget, repeats */
	LN_CNT_PENDING = 8,        /* walks that found a new, not yet seen cgroup */
	LN_CNT_DNS_NO_PROXY = 9,   /* DNS from a netns the proxy does not serve yet: refused */
	LN_CNT_MAX = 10,
};

/* ln_event.flags */
#define LN_EVENT_AUDIT (1u << 0) /* verdict is what would have happened */

#define LN_COMM_LEN 16

/* What a socket-kind event carries instead of a destination address. */
struct ln_sock_desc {
	__u32 type;     /* SOCK_RAW, SOCK_DGRAM, ... */
	__u32 protocol; /* as given to socket(); AF_PACKET: the ethertype, network order */
	__u32 kind;     /* enum ln_sock_kind */
	__u32 pad;
};
_Static_assert(sizeof(struct ln_sock_desc) == LN_ADDR_LEN, "ln_sock_desc size");

/*
 * resolver_sockets map (hash): the unix socket paths through which glibc asks a local
 * resolver instead of port 53 (nss-resolve's varlink socket, nscd's), zero-padded; a
 * guarded process's connect() to one is refused, so glibc falls back to DNS.
 */
#define LN_UNIX_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
#define LN_MAX_RESOLVER_SOCKETS 64

struct ln_unix_path {
	char path[LN_UNIX_PATH_MAX];
};
_Static_assert(sizeof(struct ln_unix_path) == LN_UNIX_PATH_MAX, "ln_unix_path size");

/* ln_unix_val.flags */
#define LN_UNIX_QUIET (1u << 0) /* no socket there at load (no nscd here): refused, not reported */

struct ln_unix_val {
	__u32 rule_id; /* the resolver-sockets line; 0: the built-in list */
	__u16 index;   /* of the path in the generation's list: the event names it */
	__u16 flags;   /* LN_UNIX_* */
};
_Static_assert(sizeof(struct ln_unix_val) == 8, "ln_unix_val size");

/* What a unix-socket event carries instead of a destination address. */
struct ln_unix_desc {
	__u32 index; /* ln_unix_val.index */
	__u32 pad[3];
};
_Static_assert(sizeof(struct ln_unix_desc) == LN_ADDR_LEN, "ln_unix_desc size");

/* Ring buffer record, one per reported verdict. */
struct ln_event {
	__u64 ts_ns;     /* bpf_ktime_get_ns() */
	__u64 cgroup_id; /* calling task's cgroup (egress: the socket's) */
	__u32 pid;       /* thread id */
	__u32 tgid;      /* process id */
	__u32 uid;
	__u32 gid;
	__u32 policy_id;
	__u32 rule_id;
	/*
	 * The destination as asked (0.0.0.0 and a NAT64 form stay as they are,
	 * rule_id says what decided it); for a send with no address on a
	 * connected socket, the connected peer.
	 */
	union {
		__u8 addr[LN_ADDR_LEN];
		struct ln_sock_desc sock; /* LN_HOOK_SOCK_CREATE, LN_HOOK_PACKET_CREATE */
		struct ln_unix_desc un;   /* LN_HOOK_CONNECT_UNIX */
	};
	__u16 port;      /* host order; 0 for a socket-kind event */
	__u8 family;     /* AF_INET or AF_INET6 as the socket saw it; AF_PACKET; AF_UNIX */
	__u8 proto;      /* IPPROTO_TCP / UDP / UDPLITE as the socket has it, when there is one */
	__u8 verdict;    /* enum ln_verdict actually applied or, with audit, intended */
	__u8 reason;     /* enum ln_reason */
	__u8 hook;       /* enum ln_hook */
	__u8 flags;      /* LN_EVENT_* */
	char comm[LN_COMM_LEN];
	__u32 repeats;   /* events of the same key held back before this one (event_limit) */
	__u32 pad;
};
_Static_assert(sizeof(struct ln_event) == 88, "ln_event size");
/* A record before ln_event.repeats existed (a previous agent's programs, until the swap). */
#define LN_EVENT_SIZE_V1 80

/*
 * Repeats summarised in the kernel: at most LN_EVENT_BURST events a second
 * per key (process, cgroup, rule, reason, verdict, hook), whatever the
 * destination; the rest are counted into the next one (bpf/event_limit.bpf.h).
 */
#define LN_EVENT_BURST 5
#define LN_EVENT_KEYS 8192

struct ln_event_key {
	__u64 cgroup_id;
	__u32 tgid;
	__u32 rule_id;
	__u8 reason;
	__u8 verdict;
	__u8 hook;
	__u8 audit;
	__u32 pad;
};
_Static_assert(sizeof(struct ln_event_key) == 24, "ln_event_key size");

struct ln_event_window {
	__u64 start_ns; /* bpf_ktime_get_ns() at the start of the current second */
	__u32 sent;     /* events let through in it */
	__u32 held;     /* events held back since the last one let through */
};
_Static_assert(sizeof(struct ln_event_window) == 16, "ln_event_window size");

/*
 * DNS redirect. A guarded process's port-53 connect()/sendto() goes to the
 * agent's resolver proxy at 127.0.0.1 / ::1 in the process's own network
 * namespace; a slot stands for one (original server, policy) pair, allocated
 * by the programs on first use (keyed hash, at most policy_slots per policy).
 * The proxy's ports are kernel-chosen, one per (netns, slot, kind), published
 * in dns_ports. recvmsg and getpeername put the original server back. Only
 * while the agent's heartbeat is fresh: if it dies, DNS goes straight out
 * again. While it lives, a query with no slot or no proxy socket is refused.
 */
#define LN_DNS_PORT 53
#define LN_DNS_MAX_SLOTS 256
#define LN_DNS_MAX_NETNS 64 /* namespaces served at once, the host's included */
#define LN_DNS_POLICY_NETNS 16 /* of them, asked for by one policy's processes */
#define LN_DNS_HEARTBEAT_NS (3ULL * 1000000000ULL)

struct ln_dns_owner {
	__u8 addr[LN_ADDR_LEN]; /* original server, v4 mapped */
	__u16 port;             /* host order */
	__u16 pad;
	__u32 policy_id;
};
_Static_assert(sizeof(struct ln_dns_owner) == 24, "ln_dns_owner size");

/* dns_slot_owner map (hash): key = slot (__u32), value: */
struct ln_dns_slot_val {
	struct ln_dns_owner owner;
	__u64 last_used_ns; /* the agent frees slots idle for long */
};
_Static_assert(sizeof(struct ln_dns_slot_val) == 32, "ln_dns_slot_val size");

/* dns_state map (array, one element), shared by every generation. */
struct ln_dns_state {
	__u64 heartbeat_ns; /* bpf_ktime_get_ns() clock (CLOCK_MONOTONIC) */
	__u32 agent_tgid;   /* never redirect the agent's own sockets */
	__u16 n_slots;      /* 0: no proxy */
	__u16 policy_slots; /* the most slots one policy may hold */
	__u64 hash_key[2];  /* SipHash key of the slot hash (random, from the agent) */
};
_Static_assert(sizeof(struct ln_dns_state) == 32, "ln_dns_state size");

/* The proxy's listening sockets of a slot: stable numbers (ln_dns_port_key.kind). */
enum ln_dns_kind {
	LN_DNS_UDP4 = 0, /* 127.0.0.1 (also reached as ::ffff:127.0.0.1) */
	LN_DNS_TCP4 = 1,
	LN_DNS_UDP6 = 2, /* ::1 */
	LN_DNS_TCP6 = 3,
	LN_DNS_KINDS = 4,
};

/*
 * dns_ports map (hash), value __u32: with by_port 0, key (netns, num = slot,
 * kind) gives the port; with by_port 1, key (netns, num = port, kind) gives
 * the slot. A netns with no entries has no proxy sockets.
 */
struct ln_dns_port_key {
	__u64 netns; /* bpf_get_netns_cookie() / SO_NETNS_COOKIE */
	__u32 num;
	__u16 kind;  /* enum ln_dns_kind */
	__u16 by_port;
};
_Static_assert(sizeof(struct ln_dns_port_key) == 16, "ln_dns_port_key size");
#define LN_DNS_PORT_ENTRIES (LN_DNS_MAX_NETNS * 64 * LN_DNS_KINDS * 2)

/* dns_requests ring buffer: a query came from a netns without proxy sockets. */
struct ln_dns_netns_req {
	__u64 netns;
	__u32 tgid;      /* the asking process: the agent joins its netns */
	__u32 policy_id; /* its policy: one policy asks for LN_DNS_POLICY_NETNS at most */
};
_Static_assert(sizeof(struct ln_dns_netns_req) == 16, "ln_dns_netns_req size");

/*
 * dns_verdicts map (LRU hash): key = struct ln_bl_key with set = policy id;
 * the domain rules of that policy that matched a name the address was
 * resolved from, recorded by the proxy before it relays the answer.
 */
struct ln_dns_verdict {
	__u64 expires_ns; /* bpf_ktime_get_ns() clock */
	struct ln_rule_set rs;
};
_Static_assert(sizeof(struct ln_dns_verdict) == 8 + sizeof(struct ln_rule_set), "dns verdict");

/*
 * dns_askers map (LRU hash): key = the socket cookie of a guarded socket whose
 * DNS query was redirected, value: who sent it, so that the proxy's events
 * name the asker (the agent finds the cookie with sock_diag when it reports).
 */
#define LN_DNS_ASKERS 8192
struct ln_dns_asker {
	__u64 cgroup_id;
	__u32 tgid, pid;
	__u32 uid, gid;
	__u32 policy_id;
	__u32 pad;
	char comm[LN_COMM_LEN];
};
_Static_assert(sizeof(struct ln_dns_asker) == 48, "ln_dns_asker size");

#endif /* LSNITCH_H */
