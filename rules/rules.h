/* SPDX-License-Identifier: GPL-2.0 */
/* lsnitch rules library: parse INI policies and host/domain lists, compile them to map entries. */
#ifndef LSNITCH_RULES_H
#define LSNITCH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "lsnitch.h"
#include "lsnitch_decide.h"

/*
 * Library code never logs. Fallible functions return 0 (or a count) on
 * success and -errno on failure, with a message in *err of the form
 * "file:line: reason" (or "file: reason" when no line applies).
 */
#define LN_ERR_MAX 512
struct ln_error {
	char msg[LN_ERR_MAX];
};

#define LN_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * The one error formatter of rules/ and agent/: formats @fmt into @err (NULL
 * allowed) and returns @rc, so "return ln_err(err, -EINVAL, ...)" reads well.
 * The message is safe to print: one line, control characters (C0, DEL, C1) and
 * invalid UTF-8 written as \xNN; valid UTF-8 is kept as it is.
 */
int ln_err(struct ln_error *err, int rc, const char *fmt, ...) LN_PRINTF(3, 4);
/*
 * @in into @out (@size bytes) with every byte that is not part of a printable
 * UTF-8 character written as \xNN: what ln_err() does to every message, for
 * other text bound for a terminal or a log (event lines).
 */
void ln_printable(char *out, size_t size, const char *in);

/* Limits, checked and reported. */
#define LN_MAX_LINE_LEN 4096      /* list files; INI lines: LN_INI_MAX_LINE */
/* Entries in one list, however many files: 2N + 1 intervals of a family < 2^LN_PACK_STEPS. */
#define LN_MAX_LIST_ENTRIES 32000000
#define LN_MAX_RULES 65536        /* allow/deny entries in all policies */
#define LN_INI_MAX_LINE 199       /* Debian inih: INI_MAX_LINE 200 incl. NUL */

/* Source files; index i + 1 is the file part of a rule id. */
struct ln_sources {
	char **paths;
	size_t n, cap;
};
/* Index (>= 1) of @path, adding it if new; -E2BIG past LN_RULE_MAX_FILES. */
int ln_sources_add(struct ln_sources *s, const char *path);
const char *ln_sources_path(const struct ln_sources *s, __u32 file_idx);
/* "file:line" for a rule id into buf; returns buf. */
const char *ln_rule_id_format(const struct ln_sources *s, __u32 rule_id, char *buf, size_t len);
void ln_sources_free(struct ln_sources *s);

/* An address prefix, 16 bytes, IPv4 mapped; len 0..128 (v4 /n is 96 + n). */
struct ln_prefix {
	__u8 addr[LN_ADDR_LEN];
	__u8 len;
};

/*
 * Parse "192.0.2.1", "192.0.2.0/24", "2001:db8::1", "2001:db8::/32",
 * "::ffff:192.0.2.1". Host bits below the prefix are cleared. Returns 0 or
 * -EINVAL (not an address).
 */
int ln_prefix_parse(const char *s, struct ln_prefix *p);
/* Text form: v4-mapped prefixes print as IPv4 ("10.0.0.0/8", "192.0.2.1"). */
const char *ln_prefix_format(const struct ln_prefix *p, char *buf, size_t len);
/* Address as in an event (16 bytes) to text; v4-mapped prints as IPv4. */
const char *ln_addr_format(const __u8 addr[LN_ADDR_LEN], char *buf, size_t len);
bool ln_prefix_is_v4(const struct ln_prefix *p);
/* Whether @p contains @q (p->len <= q->len and same leading bits). */
bool ln_prefix_contains(const struct ln_prefix *p, const struct ln_prefix *q);

/* Hostname syntax check (LDH labels, '_' allowed, <= 253, labels <= 63). */
bool ln_hostname_is_valid(const char *name);

/* ---- host lists (blocked_hosts.txt) ---- */
struct ln_host_entry {
	struct ln_prefix pfx;
	__u32 rule_id;
};
struct ln_hostname_entry {
	char *name; /* lower case, no trailing dot */
	__u32 rule_id;
};
struct ln_hostlist {
	struct ln_host_entry *v;
	size_t n, cap;
	struct ln_hostname_entry *names;
	size_t n_names, cap_names;
};
/*
 * One address, CIDR or hostname per line; '#' starts a comment (whole line or
 * after the entry); blank lines ignored; surrounding whitespace ignored.
 * Appends to @l. Errors: "file:line: reason".
 */
int ln_hostlist_parse_file(struct ln_hostlist *l, struct ln_sources *src, const char *path,
			   struct ln_error *err);
void ln_hostlist_free(struct ln_hostlist *l);

/* ---- domain lists (blocked_domains.txt) ---- */
struct ln_domain_entry {
	char *name; /* suffix: the domain and all its subdomains; lower case, no trailing dot */
	__u32 rule_id;
};
struct ln_domainlist {
	struct ln_domain_entry *v;
	size_t n, cap;
};
/*
 * Formats per line: "example.com", "*.example.com", "||example.com^",
 * hosts "0.0.0.0 example.com" / "127.0.0.1 a.com b.com" / "::", dnsmasq
 * "address=/example.com/..." (and server=/x/ is rejected), comments '#', '!'
 * (adblock), "[Adblock Plus 2.0]" header; case-insensitive, trailing dot
 * ignored. Hosts-format lines naming "localhost" and friends are skipped.
 */
int ln_domainlist_parse_file(struct ln_domainlist *l, struct ln_sources *src, const char *path,
			     struct ln_error *err);
void ln_domainlist_free(struct ln_domainlist *l);

/* ---- INI policies ---- */
enum ln_target_kind {
	LN_TARGET_PREFIX = 0,   /* address or CIDR ("any"/"*" is ::/0) */
	LN_TARGET_HOSTNAME = 1, /* resolved when compiled */
	LN_TARGET_DOMAIN = 2,   /* allow-domain/deny-domain: suffix, enforced via DNS */
};

struct ln_rule {
	__u8 verdict; /* LN_VERDICT_ALLOW / LN_VERDICT_DENY */
	__u8 proto;   /* LN_PROTO_ANY, IPPROTO_TCP, IPPROTO_UDP */
	__u16 port_lo, port_hi;
	enum ln_target_kind kind;
	struct ln_prefix pfx; /* LN_TARGET_PREFIX */
	char *hostname;       /* LN_TARGET_HOSTNAME */
	__u32 rule_id;
};

/*
 * Parse one rule value: TARGET[:PORT[-PORT]][/tcp|/udp], where TARGET is an
 * IPv4 address or CIDR, a bracketed IPv6 address or CIDR ("[2001:db8::/32]")
 * or a bare IPv6 one when no port follows, a hostname, or "*" / "any".
 * Returns 0 or -EINVAL with a reason (no file:line) in err.
 */
int ln_rule_parse(const char *s, __u8 verdict, struct ln_rule *r, struct ln_error *err);
/* Frees what ln_rule_parse() allocated (the hostname); accepts NULL. */
void ln_rule_free(struct ln_rule *r);

/* raw-sockets= / packet-sockets= / icmp-sockets= / encrypted-dns=: a verdict and its line. */
struct ln_sock_rule {
	__u8 verdict;   /* enum ln_verdict */
	__u32 rule_id;  /* the key's line; 0: not set, the policy's default decides */
};

/*
 * dns-servers = (a policy's, or [global]'s for every policy without one): the
 * resolvers its processes may ask. "system" stands for the nameservers of
 * /etc/resolv.conf, read by the agent at each load; "none" for no server.
 */
struct ln_dns_servers {
	struct ln_prefix *v; /* addresses or CIDRs */
	size_t n;
	bool system;         /* "system" was listed */
	__u32 rule_id;       /* the dns-servers= line; 0: not set */
};
/* Parses a dns-servers value (split in place): 0, or -EINVAL with the bad token. */
int ln_dns_servers_parse(char *v, struct ln_dns_servers *out, struct ln_error *err);
int ln_dns_servers_add(struct ln_dns_servers *s, const struct ln_prefix *p); /* 0, -ENOMEM */
void ln_dns_servers_free(struct ln_dns_servers *s);
bool ln_dns_servers_has(const struct ln_dns_servers *s, const __u8 addr[LN_ADDR_LEN]);
/* Appends the "nameserver" addresses of resolv.conf file @path: 0 or -errno. */
int ln_resolv_conf_read(const char *path, struct ln_dns_servers *out, struct ln_error *err);

struct ln_policy {
	char *name;
	__u32 id;           /* 1.. in load order; 0 is the implicit policy */
	char **cgroups;     /* as written: relative to the cgroup2 root; may be globs */
	char *unit;         /* per-unit file: "nginx.service" (its cgroup is looked up) */
	__u32 *cgroup_ids;  /* rule id of each cgroup= line */
	size_t n_cgroups;
	__u8 default_verdict;
	__u32 default_rule_id; /* the default= line (or the section line) */
	bool audit, log_allowed;
	struct ln_rule *rules;
	size_t n_rules, cap_rules;
	struct ln_rule *domain_rules; /* allow-domain/deny-domain (kind LN_TARGET_DOMAIN) */
	size_t n_domain_rules, cap_domain_rules;
	struct ln_hostlist hosts;     /* blocked-hosts= files of this policy */
	struct ln_domainlist domains; /* blocked-domains= files of this policy */
	__u32 section_rule_id;
	struct ln_sock_rule sock[LN_SOCK_KINDS]; /* index: enum ln_sock_kind */
	struct ln_dns_servers dns_servers;       /* rule_id 0: [global]'s */
	struct ln_sock_rule encrypted_dns; /* encrypted-dns=; rule_id 0: [global]'s */
	char **exes;    /* exe= paths: an exe policy, refining its scope's (rules/exe.c) */
	__u32 *exe_ids; /* rule id of each exe= line */
	size_t n_exes;
};

/* [global] resolver-sockets: unix socket paths, "none" for none; unset: the built-in list. */
struct ln_resolver_sockets {
	char **paths; /* absolute, < LN_UNIX_PATH_MAX bytes */
	__u32 *rule_ids;
	size_t n;
	bool set; /* the key was given */
};

/* ---- list subscriptions ([list NAME] in the --config file; subscription.c) ---- */
enum ln_list_kind {
	LN_LIST_HOSTS = 1,   /* addresses, CIDRs, hostnames (blocked-hosts) */
	LN_LIST_DOMAINS = 2, /* domains, hosts-file, adblock lines (blocked-domains) */
};
#define LN_LISTS_DIR "/var/lib/lsnitch/lists" /* [global] lists-dir's default */
#define LN_LIST_REFRESH_DEFAULT 86400
struct ln_list_sub {
	char *name;   /* the copy is LISTS_DIR/NAME, its state LISTS_DIR/NAME.state */
	char *url;
	int kind;     /* enum ln_list_kind */
	unsigned int refresh_sec;
	char *policy; /* policy= : the named policy's list; NULL: global */
	__u32 rule_id, policy_rule_id; /* the section line, the policy= line */
	/* set by ln_config_load_lists() */
	bool loaded;    /* the copy was there and read */
	size_t entries; /* the copy's entries */
};

struct ln_config {
	struct ln_sources sources;
	struct ln_policy *policies; /* id = index + 1 */
	size_t n_policies, cap_policies;
	/* global lists and settings ([global] section, command line) */
	struct ln_hostlist hosts;
	struct ln_domainlist domains;
	bool audit, log_allowed;
	unsigned int refresh_sec; /* hostname re-resolve interval, default 300 */
	/* DNS ([global] dns-*): the resolver proxy and how it answers blocked names */
	bool dns;                 /* dns = yes (default) */
	int dns_block;            /* enum ln_dns_block_mode value: 0 nxdomain, 1 refused, 2 zero */
	unsigned int dns_port;    /* deprecated, ignored: the proxy's ports are kernel-chosen */
	unsigned int dns_ttl_min; /* clamp of recorded answers, seconds (default 30) */
	unsigned int dns_ttl_max; /* (default 3600); also the longest the proxy keeps an answer */
	bool dns_cache;           /* dns-cache = yes (default): the proxy's answer cache */
	__u32 dns_ttl_rule_id;    /* the last dns-ttl-* line, for "min above max" */
	struct ln_prefix nat64;   /* [global] nat64-prefix; len 0: none */
	struct ln_dns_servers dns_servers; /* default "system" */
	/* Resolvers that bypass the proxy (dns_bypass.c) */
	struct ln_resolver_sockets resolver_sockets;
	struct ln_sock_rule encrypted_dns; /* [global] encrypted-dns: every policy's default */
	struct ln_hostlist doh;            /* [global] doh-resolvers: DoH servers' addresses */
	struct ln_list_sub *lists;         /* [list NAME] sections */
	size_t n_lists, cap_lists;
	char *lists_dir;                   /* [global] lists-dir; NULL: LN_LISTS_DIR */
};

void ln_config_init(struct ln_config *c);
void ln_config_free(struct ln_config *c);
/*
 * Every file the library reads (INI files, host and domain lists) must be a regular file
 * ("path: not a regular file"; a FIFO or device is refused without blocking), its lines are
 * bounded (LN_INI_MAX_LINE, LN_MAX_LINE_LEN: "file:line: line too long (max N)", refused as
 * soon as the limit is passed), a NUL byte is "file:line: NUL byte in line" and a failed read
 * "path: read error: ...", never an end of file.
 *
 * Load one INI file into @c. @allow_global: whether a [global] section is
 * accepted (the --config file). Relative list paths in the file are taken
 * relative to the file's directory.
 */
int ln_config_load_ini(struct ln_config *c, const char *path, bool allow_global,
		       struct ln_error *err);
/*
 * Load every "*.ini" entry of @dir whose name does not start with '.', in name order
 * (alphasort()), stopping at the first that fails. Each must be a readable regular file: a
 * dangling link, a directory or a FIFO named x.ini is an error, not skipped. @dir must be a
 * directory ("dir: not a directory").
 */
int ln_config_load_dir(struct ln_config *c, const char *dir, struct ln_error *err);
/*
 * Per-unit policies: every NAME.service.ini, NAME.scope.ini, NAME.slice.ini in
 * @dir, in name order. A "[policy]" section there is named after the unit and,
 * without cgroup= lines, applies to the unit's cgroup (ln_policy.unit).
 */
int ln_config_load_units_dir(struct ln_config *c, const char *dir, struct ln_error *err);
/* Extra global lists from the command line. */
int ln_config_add_hosts(struct ln_config *c, const char *path, struct ln_error *err);
int ln_config_add_domains(struct ln_config *c, const char *path, struct ln_error *err);
/*
 * Reads the downloaded copy of every [list NAME] (lists_dir/NAME) into the global lists or
 * those of its policy= (an unknown policy is that line's error), like a blocked-hosts= or
 * blocked-domains= file: an error inside names the copy's file:line. A missing copy is no
 * error: the list's .loaded stays false (the caller warns). Call after every file is loaded.
 */
int ln_config_load_lists(struct ln_config *c, struct ln_error *err);
const char *ln_lists_dir(const struct ln_config *c);
/* "DIR/NAME" (@sfx appended: "" or ".state") into a new string; NULL: out of memory. */
char *ln_list_path(const struct ln_config *c, const struct ln_list_sub *l, const char *sfx);
/* Parses @path as a list of @kind (a download being checked): its entry count or -errno. */
long ln_list_validate(int kind, const char *path, struct ln_error *err);
/* "hosts" / "domains" */
const char *ln_list_kind_name(int kind);

/* What lsnitch-update records of each list (LISTS_DIR/NAME.state, "key=value" lines). */
struct ln_list_state {
	char url[1024];
	long long fetched_at;  /* the copy's download (unix time); 0: never */
	long long checked_at;  /* the last attempt */
	long long entries;
	char etag[256], last_modified[128];
	char error[LN_ERR_MAX]; /* the last attempt's failure; "": it worked */
};
/*
 * Reads @path into @s (zeroed first); -ENOENT when there is none, -ELOOP for a symbolic link,
 * -EINVAL for what is not a regular file; unknown keys are skipped.
 */
int ln_list_state_read(const char *path, struct ln_list_state *s);
/* Writes @s to the stream @f. */
int ln_list_state_write(FILE *f, const struct ln_list_state *s);

/* Cross-file checks: duplicate names, a cgroup bound by two policies. */
int ln_config_validate(const struct ln_config *c, struct ln_error *err);

/* ---- compiling to map entries ---- */

/*
 * Resolve @name to up to @max prefixes (/32 or /128). Returns the count
 * (0: does not resolve) or -errno. The agent passes a getaddrinfo() one.
 */
typedef int (*ln_resolve_fn)(const char *name, struct ln_prefix *out, size_t max, void *ud);
/* Called for non-fatal problems ("file:line: cannot resolve x, ignoring"). */
typedef void (*ln_warn_fn)(const char *msg, void *ud);

struct ln_rule_kv {
	struct ln_rule_key k;
	struct ln_rule_set v;
};
struct ln_bl_kv {
	struct ln_bl_key k;
	__u32 rule_id;
};
struct ln_unix_kv {
	struct ln_unix_path k;
	struct ln_unix_val v;
};
struct ln_bl_lpm_kv {
	struct ln_bl_lpm_key k;
	__u32 rule_id;
};
/*
 * Where a policy applies: a cgroup path or glob (cgroup=), or a unit (a
 * per-unit file without cgroup=). Exactly one of cgroup and unit is set.
 */
struct ln_binding {
	const char *cgroup; /* points into the config; NULL for a unit */
	const char *unit;   /* "nginx.service", points into the config; or NULL */
	__u32 policy_id;
	__u32 rule_id;      /* the cgroup= line, or the unit file's section line */
};

/* Host blocklists packed into the pages the programs bisect (see lsnitch.h). */
struct ln_packed {
	struct ln_pack4_page *p4;
	size_t n4, pages4, cap4;  /* intervals, pages used, pages allocated */
	struct ln_pack6_page *p6;
	size_t n6, pages6, cap6;
	struct ln_lists *sets;    /* [set]: set 0 global, else policy id */
	size_t n_sets;
	__u64 *bloom;             /* the prefilter's bits */
	size_t bloom_words;
	__u32 bloom_mask;
	size_t cur_off;           /* packing: first interval of the group being swept */
};

/* One exe= line as the agent resolves it: (scope, the file's identity) -> policy. */
struct ln_exe_binding {
	const char *path; /* as written, points into the config */
	__u32 scope_id;   /* the policy it refines */
	__u32 policy_id;  /* the exe policy */
	__u32 rule_id;    /* the exe= line */
};

struct ln_compiled {
	struct ln_policy_val *policies; /* index = policy id; [0] = implicit */
	size_t n_policies;
	struct ln_rule_kv *rules;
	size_t n_rules;
	struct ln_bl_kv *bl_exact; /* deduplicated (first rule id wins) */
	size_t n_bl_exact;
	struct ln_bl_lpm_kv *bl_prefix; /* deduplicated */
	size_t n_bl_prefix;
	struct ln_binding *bindings;
	size_t n_bindings;
	size_t n_unresolved; /* hostnames that resolved to nothing */
	struct ln_packed packed; /* bl_exact + bl_prefix as the kernel holds them */
	struct ln_nat64 nat64;   /* the config map's local NAT64 prefix */
	struct ln_unix_kv *resolver_sockets; /* the resolver_sockets map (index = order) */
	size_t n_resolver_sockets;
	struct ln_exe_binding *exes; /* in load order */
	size_t n_exes;
};

/* Pack @cc's blocklists (called by ln_compile). */
int ln_pack_blocklists(const struct ln_compiled *cc, struct ln_packed *pk);
void ln_packed_free(struct ln_packed *pk);
/* Rule id of the most specific entry of set @set covering @addr, or 0. */
__u32 ln_packed_lookup(const struct ln_packed *pk, __u32 set, const __u8 addr[LN_ADDR_LEN]);

/*
 * Compile @c. Rules of each policy are pushed down: every prefix's set holds
 * its own entries and those of each shorter prefix containing it, sorted by
 * prefix length desc, port range width asc, specific proto first, deny
 * first. More than LN_RULES_PER_PREFIX for one prefix is an error naming a
 * line. Exact /32 and /128 list entries go to bl_exact, others bl_prefix.
 */
int ln_compile(const struct ln_config *c, ln_resolve_fn resolve, void *resolve_ud,
	       ln_warn_fn warn, void *warn_ud, struct ln_compiled *out, struct ln_error *err);
void ln_compiled_free(struct ln_compiled *out);

/*
 * The live domain-rule set recorded for (policy, address) -- what the
 * dns_verdicts map holds, expired entries left out -- or NULL. The result may
 * point into a buffer owned by @ud; it is read before the next call.
 */
typedef const struct ln_rule_set *(*ln_dns_lookup_fn)(void *ud, __u32 policy_id,
						     const __u8 addr[LN_ADDR_LEN]);
/*
 * What the kernel would do, computed from @cc without a kernel: the BPF
 * programs' decision (lsnitch_decide.h), its map lookups done by scanning @cc
 * and, for domain verdicts, by @dns (NULL: there are none). For "explain" and
 * for tests.
 */
void ln_compiled_decide(const struct ln_compiled *cc, __u32 policy_id,
			const __u8 addr[LN_ADDR_LEN], __u16 port, __u8 proto,
			ln_dns_lookup_fn dns, void *ud, struct ln_decision *d);

/* ---- exe policies (exe.c) ---- */

/*
 * Index of the policy exe policy @p refines: the one without exe= binding exactly its
 * cgroup= values (or following its unit); -1: none.
 */
long ln_exe_scope(const struct ln_config *c, const struct ln_policy *p);
/* Exe policy @i: its scope exists, and no executable has two policies in one scope. */
int ln_exe_validate(const struct ln_config *c, size_t i, struct ln_error *err);
/* cc->exes, and the HAS_EXE/IS_EXE flags of the policies (called by ln_compile). */
int ln_compile_exes(const struct ln_config *c, struct ln_compiled *out, struct ln_error *err);
/*
 * The policy for executable @path (as written in exe=; NULL: none given) within scope
 * @scope: its exe policy, else @scope. The host side of bpf/exe.bpf.h's choice.
 */
__u32 ln_exe_select(const struct ln_compiled *cc, __u32 scope, const char *path);
void ln_policy_exes_free(struct ln_policy *p);

/*
 * The container id in cgroup @path, from the runtimes' names: docker-<id>.scope,
 * libpod-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, containerd-<id>.scope, or
 * a bare <id> below docker/, libpod_parent/, lxc.payload/ (ids: 12-64 hex digits). The
 * deepest one wins. Into @out; false: none (or it does not fit).
 */
bool ln_cgroup_container(const char *path, char *out, size_t len);

/* ---- resolvers that bypass the proxy (dns_bypass.c) ---- */

/* The built-in resolver-sockets list: nss-resolve's varlink socket and nscd's. */
extern const char *const ln_default_resolver_sockets[];
/* Path @i of the resolver_sockets map (ln_unix_val.index) of @c, or NULL. */
const char *ln_resolver_socket_path(const struct ln_config *c, __u32 i);

/* ---- domain rules (DNS) ---- */

/* Whether @name is @suffix or a subdomain of it (both normalized). */
bool ln_domain_matches(const char *name, const char *suffix);
/*
 * The domain rules of @p matching any of @names (a DNS answer's CNAME chain),
 * sorted like a pushed-down prefix set: longer (more specific) suffix first,
 * then narrower ports, specific proto, deny first. Returns the count (0: none
 * matched); at most LN_RULES_PER_PREFIX are kept, the most specific.
 */
int ln_domain_rules_match(const struct ln_policy *p, const char *const *names, size_t n_names,
			  struct ln_rule_set *out);

/* ---- cgroup paths: globs, units, which binding decides ---- */

/* Whether a cgroup= value is a glob (has '*' or '?'). */
bool ln_cgroup_is_glob(const char *pattern);
/*
 * Glob match of a cgroup path relative to the cgroup2 root, both without a
 * leading or trailing '/': '*' matches any run of characters and '?' one
 * character, within one path component; a "**" component matches any number
 * of components, zero included (kubepods.slice then a "**" component matches
 * kubepods.slice and everything below it). Everything else, a backslash
 * included, is literal.
 */
bool ln_cgroup_glob_match(const char *pattern, const char *path);
/*
 * Whether @path is a "glob parent" of @pattern: a cgroup below which the glob
 * may bind one, a child or deeper ("a/b/c-*": "", a and a/b). The programs
 * deny a new child of a glob parent until the agent has seen it, so a new
 * cgroup on the way ("a/b" made with "a/b/c-1" in one burst) is covered too.
 */
bool ln_cgroup_glob_parent(const char *pattern, const char *path);
/* Whether @path is a glob parent of any glob binding among @n. */
bool ln_bindings_glob_parent(const struct ln_binding *b, size_t n, const char *path);

/* Whether @parent is a cgroup where @unit's cgroup was found (the agent remembers). */
typedef bool (*ln_unit_home_fn)(const char *unit, const char *parent, void *ud);
/*
 * What a new child of @parent ("" the root) is, by its name, as the programs
 * decide it before the agent has seen it (struct ln_cg_children): for each
 * binding that could bind the child or a cgroup below it, the child's
 * pattern, in the order ln_binding_lookup() decides (exact paths, units at
 * their @home, globs). Returns how many (0: @parent need not be watched), or
 * -E2BIG when they do not fit: the programs then keep such children pending.
 */
int ln_cg_children_of(const struct ln_binding *b, size_t n, const char *parent,
		      ln_unit_home_fn home, void *ud, struct ln_cg_children *out);
/*
 * What a new child of a new child C of @parent is, by its name, where the agent has seen
 * neither, when C matched @parent's watching pattern @i and no other (LN_CG_GRAND_KEY): what
 * ln_cg_children_of() would give C, from the bindings whose pattern at @parent is @i (@ch:
 * what ln_cg_children_of() gave @parent). Units are the caller's to rule out (they are known
 * only at their home). Returns how many (0: @i watches nothing), or -E2BIG: they do not fit,
 * and such grandchildren stay pending.
 */
int ln_cg_grandchildren_of(const struct ln_binding *b, size_t n, const char *parent,
			   const struct ln_cg_children *ch, __u32 i, struct ln_cg_children *out);
/* Whether @path is a cgroup v2 directory (the agent asks statfs()). */
typedef bool (*ln_is_cgroup2_fn)(const char *path, void *ud);
/*
 * For a --cgroup @path that is no cgroup v2 directory: where cgroup v2 is
 * mounted (@cg2_root) and, on a hybrid host where the path is given below
 * /sys/fs/cgroup but the cgroup2 mount is elsewhere (/sys/fs/cgroup/unified),
 * the path likely meant, if that one is a cgroup v2 directory. Into @out.
 */
void ln_cgroup_hint(const char *path, const char *cg2_root, ln_is_cgroup2_fn is_cg2, void *ud,
		    char *out, size_t len);
/* One more pattern (@len bytes of @pattern) into @out, unless it is there; -E2BIG: full. */
int ln_cg_children_add(struct ln_cg_children *out, const char *pattern, size_t len,
		       __u32 policy_id, __u32 flags);
/*
 * Where a unit's cgroup is found without systemd: a cgroup whose last
 * component is the unit name, below a "system.slice" or "user.slice"
 * component at any depth (system.slice/NAME.service,
 * user.slice/user-1000.slice/user@1000.service/app.slice/NAME.service,
 * x/system.slice/NAME.scope); a slice is its name at any depth.
 */
bool ln_cgroup_unit_tree_match(const char *unit, const char *path);

/* Whether @path is @unit's cgroup (the agent asks systemd, when it runs). */
typedef bool (*ln_unit_match_fn)(const char *unit, const char *path, void *ud);
/* Whether binding @b covers @path itself; NULL @unit_match: the tree rule. */
bool ln_binding_matches(const struct ln_binding *b, const char *path, ln_unit_match_fn unit_match,
			void *ud);
/*
 * Index of the binding that decides @path among @n in load order, or -1:
 * an exact path beats a unit, a unit beats a glob; between equals, the
 * first in load order wins.
 */
long ln_binding_lookup(const struct ln_binding *b, size_t n, const char *path,
		       ln_unit_match_fn unit_match, void *ud);

#endif /* LSNITCH_RULES_H */
