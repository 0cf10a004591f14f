/* SPDX-License-Identifier: GPL-2.0 */
/* lsnitch-agent internals: the manager, the loaded generations, events, cgroups. */
#ifndef LSNITCH_AGENT_H
#define LSNITCH_AGENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "rules.h"
#include "domain_set.h"
#include "report.h"
#include "exe_watch.h"

#define LN_PIN_DIR "/sys/fs/bpf/lsnitch"
#define LN_CONTROL_PATH "/run/lsnitch/control.sock"
/*
 * connect4|6, sendmsg4|6, recvmsg4|6, getpeername4|6, sock_create, packet_create, egress,
 * connect_unix
 */
#define LN_HOOKS 12

struct lsnitch_bpf;
struct bpf_link;
struct ring_buffer;
struct ln_dns_proxy;
struct ln_name_cache;
struct ln_bound_index;
struct ln_control;
struct ln_watch;
struct ln_flows;
struct ln_heartbeat;
struct ln_worker;

struct ln_opts {
	char **cgroups; /* --cgroup, absolute paths */
	size_t n_cgroups;
	const char *config;
	const char *rules_dir;
	const char *units_dir;   /* --units: NAME.service.ini etc. */
	const char *managed_rules; /* --managed-rules: rule-add's file, loaded last (managed.h) */
	const char *pin_dir;     /* --pin-dir (default LN_PIN_DIR) */
	const char *control;     /* --control socket path (default LN_CONTROL_PATH) */
	const char *control_group; /* --control-group: also its members may connect */
	const char *history;     /* --history database, "none" (default LN_HISTORY_PATH) */
	bool keep_on_stop;       /* --keep-on-stop: SIGTERM leaves enforcement pinned */
	const char **hosts; /* --blocked-hosts */
	size_t n_hosts;
	const char **domains; /* --blocked-domains */
	size_t n_domains;
	bool audit, log_allowed, check, verbose;
};

/* A cgroup bound in a generation's cgroup_policy map (kept: a removed one cannot be stat'ed). */
struct ln_bound {
	char *path;      /* relative to the cgroup2 root, no leading '/' */
	__u64 id;
	__u32 policy_id;
	__u32 flags;     /* LN_CG_*: LN_CG_UNBOUND entries only mark a cgroup seen */
	bool stale;      /* while reconciling: not seen again yet */
};

/* One compiled and loaded policy: what the links point to. */
struct ln_generation {
	struct ln_config *cfg; /* owned */
	struct ln_compiled cc;
	struct ln_domain_set *domains;          /* global domain lists */
	struct ln_domain_set **policy_domains;  /* [policy id - 1], NULL if none */
	size_t n_policy_domains;
	unsigned int *domain_refs; /* generations sharing these sets (hostname refresh) */
	struct ln_dns_servers *dns_servers; /* [policy id]: the resolvers it may ask */
	size_t n_dns_servers;
	struct lsnitch_bpf *skel;
	struct lsnitch_bpf *skel_b; /* the programs load_split.c verified beside skel's */
	struct ln_bound *bound; /* the cgroups its cgroup_policy map holds */
	size_t n_bound, cap_bound;
	struct ln_bound_index *bound_index; /* bound by path (watch_index.c) */
	double load_ms;         /* parse + compile + fill */
	double compile_ms, verify_ms; /* of it: ln_compile(), the programs' load (verifier) */
	struct ln_exe_table exe; /* exe= paths resolved into its exe_policy map (exe_watch.c) */
	struct ln_config_val *config_mm; /* the config map, mmapped: generation */
	/* A list-only reload (list_slots.h): skel is this generation's, lent until the switch. */
	struct ln_generation *lent_from;
	__u32 list_slot; /* the list maps' slot holding its lists */
	bool lists_only; /* loaded by a list-only reload, into the programs before it */
	bool idle_freed; /* the other slot's maps freed since (ln_lists_release_start()) */
};

struct ln_attach {
	char *path;      /* as --cgroup gave it */
	int fd;
	struct bpf_link *links[LN_HOOKS];
	/* guard.c: where the links are, and what the path is doing */
	char *at;        /* path, or its parent for a unit's cgroup (a gate: see LN_CG_GATE) */
	char *rel;       /* path relative to the cgroup2 root, "" for the root */
	bool gate;       /* attached at the parent; the path is bound there, by name */
	bool shared;     /* an earlier attach has the same 'at': its links serve both */
	bool present;    /* the directory exists */
	unsigned int gone, back; /* times it went away, and came back */
};

struct ln_cgname {
	__u64 id;
	char *path;
};

struct ln_manager;
/*
 * How the files below the manager tell it what they noticed that is not an
 * error (a pin that could not be made, a cgroup not there yet): they never
 * log; the manager decides what to log (manager.c sets this).
 */
typedef void (*ln_note_fn)(struct ln_manager *m, int prio, const char *msg);

struct ln_manager {
	sd_event *event;
	ln_note_fn note;
	struct ln_report_sinks sinks; /* where events go (report.c) */
	struct ln_opts opts;
	char *cg2_root;       /* cgroup2 mount point */
	int cg2_fd;
	struct ln_attach *attach;
	size_t n_attach;
	struct ln_generation *gen; /* in force */
	struct ln_worker *worker;  /* builds reloads and refreshes off the loop (reload_worker.h) */
	bool reload_again;         /* a reload was asked for while a build ran */
	bool stopping;
	int events_fd;        /* shared across generations */
	int counters_fd;
	struct ring_buffer *rb;
	sd_event_source *rb_source, *refresh_source, *repeat_source;
	struct ln_cgname *cgnames; /* cgroup id -> path cache */
	size_t n_cgnames, cap_cgnames;
	unsigned long long events_seen;
	/* DNS: shared maps (fds outlive generations), the proxy, the name cache */
	int dns_state_fd, dns_slot_owner_fd, dns_slot_by_owner_fd;
	int dns_ports_fd, dns_requests_fd; /* kernel-chosen ports; netns to serve (dns_slots.c) */
	struct ln_dns_proxy *dns;
	sd_event_source *heartbeat_source; /* the loop's sign of life for the heartbeat thread */
	struct ln_heartbeat *heartbeat;
	struct ln_dns_slots *dns_slots;    /* dns_slots.c: ports, netns requests, reclaim */
	struct ln_name_cache *names;
	/* pinning (pin.c) */
	const char *pin_dir;
	bool pinning;       /* pins are being kept under pin_dir */
	bool attached;      /* our links are in force: the pins are ours to remove */
	bool keep_on_exit;  /* leave the policy pinned and enforcing (SIGQUIT, --keep-on-stop) */
	unsigned int took_over_maps, took_over_links;
	struct bpf_link *packet_link; /* the global packet-socket program's (packet_link.c) */
	/* control socket (control.c) and the systemd watchdog */
	struct ln_control *control;
	sd_event_source *watchdog_source;
	/* cgroups that come and go (watch.c), units (units.c) */
	struct ln_watch *watch;
	sd_bus *bus;          /* systemd's, when it is PID 1 */
	bool bus_tried;
	char **unit_homes;    /* "parent/unit": where units' cgroups were found (units.c) */
	size_t n_unit_homes;
	/* flow accounting (flows.c): shared maps and the drain into the history */
	int flows_fd, flow_lost_fd, flow_cache_fd, flow_epoch_fd;
	int exe_new_fd; /* executables new to the flows, as they are counted */
	struct ln_flows *flows;
	struct ln_exe_watch *exe_watch; /* replaced executables (exe_watch.c) */
	int exe_sk_fd; /* sockets' executables (bpf/exe.bpf.h): shared, so a reload keeps them */
};

/* What one round of cgroup changes did, for the manager to report. */
struct ln_watch_stats {
	unsigned int bound, unbound; /* map entries added or changed, removed */
	unsigned int seen;           /* entries marking cgroups seen or glob parents, changed */
	unsigned int failed;         /* bindings that could not be made */
	int fail_errno;
	char fail_path[256];
	unsigned int unwatched;      /* directories that could not be watched */
	int unwatched_errno;
	bool overflow;               /* the event queue overflowed: rescanned */
};

/* cgroup.c */
int ln_cgroup2_root(char **out);
int ln_cgroup_id(const char *path, __u64 *id);
const char *ln_cgroup_name(struct ln_manager *m, __u64 id, char *buf, size_t len);
void ln_cgroup_remember(struct ln_manager *m, __u64 id, const char *rel);
void ln_cgnames_free(struct ln_manager *m);

/* config.c: read everything the options name into a fresh config. */
int ln_config_from_opts(const struct ln_opts *o, struct ln_config *c, struct ln_error *err);
/* Whether [list] @i has no downloaded copy; if so, the warning into @buf. */
bool ln_config_list_missing(const struct ln_config *c, size_t i, char *buf, size_t len);
int ln_resolve_getaddrinfo(const char *name, struct ln_prefix *out, size_t max, void *ud);
/* How many hostnames (rules and host lists) the configuration resolves. */
size_t ln_config_hostnames(const struct ln_config *c);

/*
 * generation.c. Off the loop (the reload worker): ln_gen_read() reads the
 * files the options name, ln_gen_build() builds a generation of a
 * configuration (not in force, not bound; on error @cfg stays the caller's).
 * On the loop: ln_gen_finish() binds it and carries live DNS answers over,
 * ln_gen_switch() puts it in force (frees it on failure). A generation built
 * from the configuration in force (a hostname refresh) shares it.
 */
int ln_gen_read(struct ln_manager *m, struct ln_generation **out, struct ln_error *err);
int ln_gen_build(struct ln_manager *m, struct ln_config *cfg, struct ln_generation **out,
		 struct ln_error *err);
int ln_gen_finish(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
int ln_gen_switch(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
bool ln_gen_equal(const struct ln_compiled *a, const struct ln_compiled *b);
/* Free @g; the configuration in force stays (ln_gen_discard()) or goes with it. */
void ln_gen_discard(struct ln_manager *m, struct ln_generation *g);
void ln_gen_free(struct ln_generation *g);

/* loader.c */
int ln_generation_build(struct ln_manager *m, struct ln_config *cfg,
			struct ln_generation **out, struct ln_error *err);
/* On the loop, before the swap: bind @g's cgroups and make its maps visible to its programs. */
int ln_generation_finish(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
void ln_generation_free(struct ln_generation *g);
int ln_generation_swap(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
struct bpf_program *ln_hook_prog(struct lsnitch_bpf *skel, int i);
/*
 * load_split.c: @g->skel (opened, its programs prepared) loaded on the maps of @maps (opened
 * and sized, loaded here with no program), its programs in two halves at once, the second
 * half in @g->skel_b and named by @g->skel's skeleton: 0 or -errno. @maps can go after.
 */
int ln_load_split(struct ln_generation *g, struct lsnitch_bpf *maps);

/*
 * verdict_cache.c: the verdicts @g's programs cached (bpf/verdict_cache.bpf.h) are stale
 * after a write to @g's dns_verdicts for policy @policy_id (that policy's only), and after
 * a change to the exe_policy map (all of them: an executable's policy moved).
 */
void ln_vc_policy_changed(struct ln_generation *g, __u32 policy_id);
void ln_vc_all_changed(struct ln_generation *g);

/*
 * sock_kinds.c: before @g is loaded, leave out the programs this kernel cannot run (and say
 * so when a policy needs one). The answer is the same for every generation of the process.
 */
void ln_sock_kinds_prepare(struct ln_manager *m, struct ln_generation *g);
/* What enforces packet-sockets = deny: the first of these the kernel runs (asked once). */
enum ln_packet_path {
	LN_PACKET_NONE,
	LN_PACKET_LSM_CGROUP, /* per cgroup, a link like the others: EPERM */
	LN_PACKET_FMOD_RET,   /* one global link (packet_link.c): EPERM */
	LN_PACKET_KILL,       /* one global link: the caller is killed at socket() */
};
enum ln_packet_path ln_packet_path(void);
const char *ln_packet_path_name(void);
/* Whether @g needs the global program attached (a global path, a policy that denies). */
bool ln_sock_kinds_packet_global(const struct ln_generation *g);
/* At exit: tracefs unmounted if the probe mounted it (never a mount it found). */
void ln_sock_kinds_release(struct ln_manager *m);
/*
 * packet_link.c: the global packet-socket program's link, one per agent, pinned and taken
 * over on restart. A generation's is attached beside the one in force, which is let go only
 * once the new generation is in force (commit), or dropped (abort).
 */
int ln_packet_roots_fill(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
int ln_packet_link_attach(struct ln_manager *m, struct ln_generation *g, struct bpf_link **out,
			  struct ln_error *err);
void ln_packet_link_commit(struct ln_manager *m, struct bpf_link *next);
void ln_packet_link_abort(struct bpf_link *next);
/* A previous agent's pinned link, held until ours replaces it; whether @name is its pin. */
void ln_packet_link_take_over(struct ln_manager *m);
bool ln_packet_link_is_pin(const char *name);
void ln_packet_link_release(struct ln_manager *m, bool keep);
/* unix_guard.c: the same for the resolver-socket program; its map, once @g is loaded. */
void ln_unix_prepare(struct ln_manager *m, struct ln_generation *g);
int ln_unix_fill(struct ln_generation *g, struct ln_error *err);

/* explain.c: what @g's programs decide for one destination, its live DNS verdicts included. */
void ln_explain_decide(const struct ln_generation *g, __u32 policy_id,
		       const __u8 addr[LN_ADDR_LEN], __u16 port, __u8 proto, struct ln_decision *d);

/* pin.c */
int ln_pin_prepare(struct ln_manager *m);
int ln_pin_shared_maps(struct ln_manager *m, struct ln_error *err);
int ln_pin_attach(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
/* Attach (or take over) @a's links to @g's programs, or let them go (unpinned). */
int ln_pin_attach_one(struct ln_manager *m, struct ln_generation *g, struct ln_attach *a,
		      __u64 *id, struct ln_error *err);
void ln_pin_detach_one(struct ln_manager *m, struct ln_attach *a);
void ln_pin_release(struct ln_manager *m, bool keep);
int ln_read_counters(struct ln_manager *m, __u64 out[LN_CNT_MAX]);
/*
 * map_fill.c: [{"name", "entries", "max"}] for the generation's hash, LRU and trie maps
 * (entries counted by walking the keys, one syscall each: on request, at most every 30 s and
 * once per generation; a request meanwhile shares the last count).
 */
struct json_object *ln_map_fill(const struct ln_manager *m);

/*
 * guard.c: the --cgroup paths. A unit's own cgroup (*.service, *.scope) is
 * attached at its parent, a gate, and bound there by name, so it is
 * enforced from the first process of each cgroup systemd makes for it;
 * another path is attached at itself, and again when it is made again.
 */
int ln_guards_open(struct ln_manager *m, struct ln_error *err);
/* Whether @path's last component names a unit's own cgroup (*.service, *.scope). */
bool ln_guard_is_unit_cgroup(const char *path);
/* @v, @rel's entry as the bindings make it, adjusted where @rel is a gate or a guard. */
void ln_guard_entry(struct ln_manager *m, struct ln_generation *g, const char *rel,
		    struct ln_cgroup_val *v);
/* The guards below the gate @rel into @ch: -E2BIG, or how many patterns @ch holds. */
int ln_guard_children(struct ln_manager *m, struct ln_generation *g, const char *rel,
		      struct ln_cg_children *ch);
/* Whether a gate's parent is a child of @rel (its children's patterns are per path). */
bool ln_guard_gate_below(const struct ln_manager *m, const char *rel);
/* Whether any --cgroup is a gate (the cgroup_policy map is needed without policies). */
bool ln_guards_any_gate(const struct ln_manager *m);
/* @rel was made or removed (@exists): say so, and attach again or let go. */
void ln_guard_event(struct ln_manager *m, const char *rel, bool exists);
/* Events were lost: look at every --cgroup path again (ln_guard_event()). */
void ln_guards_recheck(struct ln_manager *m);

/* watch.c: bind cgroups as they appear, unbind them as they go. */
/* Walk the cgroup2 tree and bind, in @g's map, every cgroup a policy names. */
int ln_bindings_scan(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
/*
 * Watch the whole tree (inotify, in m->event) and keep m->gen's bindings
 * current; @report is told what each round of changes did.
 */
typedef void (*ln_watch_report_fn)(struct ln_manager *m, const struct ln_watch_stats *st);
int ln_watch_start(struct ln_manager *m, ln_watch_report_fn report, struct ln_error *err);
/* The cgroups @g binds to a policy (its other entries only mark cgroups seen). */
size_t ln_bound_count(const struct ln_generation *g);
void ln_watch_stop(struct ln_manager *m);

/* units.c */
/* Whether @path (relative to the cgroup2 root) is @unit's cgroup. */
bool ln_unit_is_cgroup(struct ln_manager *m, const char *unit, const char *path);
/* @unit's cgroup from systemd: 1 and *out, 0 unknown / not running, -errno no systemd. */
int ln_unit_cgroup_systemd(struct ln_manager *m, const char *unit, char **out);
void ln_units_close(struct ln_manager *m);
/*
 * Where a unit's cgroup was found: @parent (relative, "" the root) learns the
 * unit's name, so the programs bind the cgroup the unit gets on its next
 * start (watch.c). Remembered for the agent's life, across reloads.
 */
bool ln_unit_home_is(struct ln_manager *m, const char *unit, const char *parent);
/* Whether a unit was found in a child of @parent (its patterns there are per path). */
bool ln_unit_home_below(struct ln_manager *m, const char *parent);
/* Remember @unit below the first @len bytes of @parent: 1 new, 0 known, -ENOMEM. */
int ln_unit_home_add(struct ln_manager *m, const char *unit, const char *parent, size_t len);

/* systemd_job.c */
/* Whether systemd runs a restart job on this agent's unit (SIGTERM then hands over). */
bool ln_systemd_is_restarting(void);

/* dns.c */
int ln_dns_start(struct ln_manager *m, struct ln_error *err);
void ln_dns_stop(struct ln_manager *m);
/* Build the domain sets of @g (off the loop: the reload worker's thread). */
int ln_dns_prepare(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
/* On the loop, before the swap: record the DNS answers still live into @g's maps. */
int ln_dns_replay(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
void ln_dns_generation_free(struct ln_generation *g);
/* Name an address was last resolved from by @policy_id (NULL if none live). */
const char *ln_dns_name_of(struct ln_manager *m, __u32 policy_id,
			   const __u8 addr[LN_ADDR_LEN]);

/*
 * dns_slots.c: the proxy's ports in the kernel, the netns it is asked to serve,
 * slots handed back when idle. Started before the proxy (it clears stale ports).
 */
int ln_dns_slots_start(struct ln_manager *m, struct ln_error *err);
/* Starts serving the netns the kernel asks for (after the proxy started). */
int ln_dns_slots_listen(struct ln_manager *m, struct ln_error *err);
void ln_dns_slots_stop(struct ln_manager *m);
/* The slot hash key and the per-policy share, for the dns_state map. */
void ln_dns_slots_state(const struct ln_manager *m, struct ln_dns_state *st);
/* The proxy's ops->ports: publishes (or withdraws) a slot's ports in a netns. */
int ln_dns_slots_ports(void *ud, __u64 netns, __u16 slot, const __u16 *port, bool on);
/* Once a second: idle slots back to the pool, namespaces with no process released. */
void ln_dns_slots_tick(struct ln_manager *m);
/* dns_keys.c: the [global] DNS keys a reload changes, applied or kept (said in @warn). */
struct ln_dns_keys {
	bool dns;
	int block;
	unsigned int port;
};
struct ln_dns_keys ln_dns_keys_in_force(const struct ln_manager *m);
/* Before the swap: a key the running proxy cannot change gets its value in force back. */
void ln_dns_keys_keep(struct ln_manager *m, struct ln_config *next, struct ln_error *warn);
/* After the swap: start or stop the proxy, change how blocked names are answered. */
void ln_dns_keys_apply(struct ln_manager *m, const struct ln_dns_keys *prev, struct ln_error *warn);

/* events.c: the ring buffer consumer; each event becomes a record (report.h) */
int ln_events_start(struct ln_manager *m);
void ln_events_drain(struct ln_manager *m);
void ln_events_stop(struct ln_manager *m);

/* A note for the manager (LOG_* priority), formatted here: see ln_note_fn. */
static inline void __attribute__((format(printf, 3, 4)))
ln_note(struct ln_manager *m, int prio, const char *fmt, ...)
{
	struct ln_error safe;
	char msg[LN_ERR_MAX];
	va_list ap;

	if (!m->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ln_err(&safe, 0, "%s", msg); /* escaped like every error: names may hold control bytes */
	m->note(m, prio, safe.msg);
}

#endif /* LSNITCH_AGENT_H */
