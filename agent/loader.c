// SPDX-License-Identifier: GPL-2.0
/*
 * BPF lifecycle: open → size maps to content → load → fill → attach, and the
 * reload path that builds a whole new generation aside and swaps it into the
 * existing links with BPF_LINK_UPDATE, so no moment passes unchecked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "flows.h"
#include "list_slots.h"
#include "lsnitch.skel.h"
#include "watch.h"

#define LN_CGROUP_SLOTS_MIN 1024   /* room for cgroups that appear later */
#define LN_CGROUP_SLOTS_GLOB 16384 /* with globs or units: one entry per container */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static __u32 at_least_one(size_t n)
{
	return n ? (__u32)n : 1;
}

struct bpf_program *ln_hook_prog(struct lsnitch_bpf *skel, int i)
{
	struct bpf_program *p[LN_HOOKS] = {
		skel->progs.ln_connect4,     skel->progs.ln_connect6,
		skel->progs.ln_sendmsg4,     skel->progs.ln_sendmsg6,
		skel->progs.ln_recvmsg4,     skel->progs.ln_recvmsg6,
		skel->progs.ln_getpeername4, skel->progs.ln_getpeername6,
		skel->progs.ln_sock_create,  skel->progs.ln_packet_create,
		skel->progs.ln_egress,       skel->progs.ln_connect_unix,
	};
	/* A program the kernel cannot run is not loaded (ln_*_prepare()): no link. */
	return bpf_program__autoload(p[i]) ? p[i] : NULL;
}

static void resolve_warn(const char *msg, void *ud)
{
	ln_note(ud, LOG_WARNING, "%s", msg);
}

/* Everything the configuration alone decides; safe off the event loop (see agent.h). */
static int fill_maps(struct ln_generation *g, struct ln_error *err)
{
	struct lsnitch_bpf *s = g->skel;
	const struct ln_compiled *cc = &g->cc;

	for (__u32 i = 0; i < cc->n_policies; i++)
		if (bpf_map_update_elem(bpf_map__fd(s->maps.policies), &i, &cc->policies[i],
					BPF_ANY) < 0)
			goto fail_errno;
	for (size_t i = 0; i < cc->n_rules; i++)
		if (bpf_map_update_elem(bpf_map__fd(s->maps.rules), &cc->rules[i].k,
					&cc->rules[i].v, BPF_ANY) < 0)
			goto fail_errno;
	return 0;
fail_errno:
	return ln_err(err, -errno, "filling BPF maps: %s", strerror(errno));
}

int ln_generation_finish(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	const struct ln_compiled *cc = &g->cc;
	struct ln_config_val cfgv = { .generation = 1 };
	__u32 zero = 0;
	int r;

	/* Every existing cgroup a policy names; the watcher binds the others later. */
	r = ln_bindings_scan(m, g, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cc->n_bindings; i++) {
		const struct ln_binding *b = &cc->bindings[i];
		char where[512];

		if (!b->cgroup || ln_cgroup_is_glob(b->cgroup) ||
		    !faccessat(m->cg2_fd, b->cgroup, F_OK, 0))
			continue;
		ln_rule_id_format(&g->cfg->sources, b->rule_id, where, sizeof(where));
		ln_note(m, LOG_INFO, "%s: cgroup %s/%s does not exist (yet): bound when it appears",
			where, m->cg2_root, b->cgroup);
	}
	if (g->n_bound)
		cfgv.flags |= LN_CFG_HAS_POLICIES;
	if (cc->packed.n_sets)
		cfgv.lists = cc->packed.sets[LN_SET_GLOBAL];
	cfgv.bloom_mask = cc->packed.bloom_mask;
	cfgv.nat64 = cc->nat64;
	r = ln_packet_roots_fill(m, g, err);
	if (r < 0)
		return r;
	/* Last: the config entry makes the rest visible to the programs. */
	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.config), &zero, &cfgv, BPF_ANY) < 0)
		return ln_err(err, -errno, "filling BPF maps: %s", strerror(errno));
	return 0;
}

/*
 * A glob or a unit may bind any number of cgroups, and every binding marks
 * the children of the cgroups on its way (watch.c): leave room for a busy
 * container host.
 */
static size_t cgroup_slots(const struct ln_compiled *cc)
{
	size_t slots = cc->n_bindings * 2 > LN_CGROUP_SLOTS_MIN ? cc->n_bindings * 2
								 : LN_CGROUP_SLOTS_MIN;

	if (cc->n_bindings)
		return slots > LN_CGROUP_SLOTS_GLOB ? slots : LN_CGROUP_SLOTS_GLOB;
	return slots;
}

static int size_maps(struct ln_manager *m, struct lsnitch_bpf *s, const struct ln_compiled *cc)
{
	size_t slots = cgroup_slots(cc);
	int r = 0;

	r = r ?: bpf_map__set_max_entries(s->maps.policies, at_least_one(cc->n_policies));
	r = r ?: bpf_map__set_max_entries(s->maps.cgroup_policy, (__u32)slots);
	/* each watched cgroup: its children's patterns, and their children's */
	r = r ?: bpf_map__set_max_entries(s->maps.cg_children, (__u32)slots * 2);
	r = r ?: bpf_map__set_max_entries(s->maps.rules, at_least_one(cc->n_rules));
	r = r ?: bpf_map__set_max_entries(s->maps.exe_policy, at_least_one(cc->n_exes));
	r = r ?: bpf_map__set_max_entries(s->maps.exe_filter, ln_exe_slots(cc));
	r = r ?: bpf_map__set_max_entries(s->maps.guard_roots, at_least_one(m->n_attach));
	/* Events and counters outlive a generation: every generation shares them. */
	if (!r && m->events_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.events, m->events_fd);
	if (!r && m->counters_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.counters, m->counters_fd);
	if (!r && m->dns_state_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.dns_state, m->dns_state_fd);
	if (!r && m->dns_slot_owner_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.dns_slot_owner, m->dns_slot_owner_fd);
	if (!r && m->dns_slot_by_owner_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.dns_slot_by_owner, m->dns_slot_by_owner_fd);
	if (!r && m->dns_ports_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.dns_ports, m->dns_ports_fd);
	if (!r && m->dns_requests_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.dns_requests, m->dns_requests_fd);
	/* A socket's remembered executable outlives a reload: egress still knows it. */
	if (!r && m->exe_sk_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.exe_sk, m->exe_sk_fd);
	return r ?: ln_flows_configure(m, s);
}

/* The config map, mmapped (BPF_F_MMAPABLE): the generation is bumped without a syscall. */
static int map_config(struct ln_generation *g, struct ln_error *err)
{
	void *p = mmap(NULL, sizeof(*g->config_mm), PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(g->skel->maps.config), 0);

	if (p == MAP_FAILED)
		return ln_err(err, -errno, "mapping the config map: %s", strerror(errno));
	g->config_mm = p;
	return 0;
}

/*
 * @g's own programs and maps, sized to its compiled configuration, loaded and filled: the
 * maps made by an object of their own, the programs verified in two halves at once
 * (load_split.c), the list maps made, filled and put in meanwhile (list_slots.h).
 */
static int load_programs(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	struct ln_prefill lists;
	struct lsnitch_bpf *maps;
	double t0;
	int r, rl;

	g->skel = lsnitch_bpf__open();
	maps = lsnitch_bpf__open();
	if (!g->skel || !maps) {
		r = -errno;
		lsnitch_bpf__destroy(maps);
		return ln_err(err, r, "opening BPF object: %s", strerror(-r));
	}
	ln_sock_kinds_prepare(m, g);
	ln_unix_prepare(m, g);
	r = size_maps(m, maps, &g->cc);
	if (r < 0) {
		lsnitch_bpf__destroy(maps);
		return ln_err(err, r, "sizing BPF maps: %s", strerror(-r));
	}
	ln_prefill_start(&lists, maps, &g->cc.packed);
	t0 = now_ms();
	r = ln_load_split(g, maps);
	g->verify_ms = now_ms() - t0;
	rl = ln_prefill_wait(&lists);
	lsnitch_bpf__destroy(maps); /* @g's objects hold the maps */
	if (r < 0)
		return ln_err(err, r, "loading BPF programs: %s (run with -v for the verifier log)",
			      strerror(-r));
	if (rl < 0)
		return ln_err(err, rl, "filling the list maps: %s", strerror(-rl));
	/* A new generation's programs read slot 0 (lists_sel starts at 0): filled. */
	r = fill_maps(g, err);
	r = r ?: ln_unix_fill(g, err);
	r = r ?: ln_exe_table_build(&g->exe, &g->cc, bpf_map__fd(g->skel->maps.exe_policy),
				    bpf_map__fd(g->skel->maps.exe_filter), err);
	return r ?: map_config(g, err);
}

/*
 * Compile @cfg and load it into a new set of programs and maps, not attached
 * and not yet bound to cgroups (ln_generation_finish()); or, when only list
 * contents changed, into the idle list slot of the programs in force
 * (list_slots.h). On success the generation owns @cfg; on error the caller
 * still does, and nothing in force has changed. Runs on the reload worker's
 * thread: reads only what stays put while the loop runs (the options, the
 * shared map fds, the generation in force but for its bound cgroups).
 */
int ln_generation_build(struct ln_manager *m, struct ln_config *cfg,
			struct ln_generation **out, struct ln_error *err)
{
	struct ln_generation *g;
	double t0 = now_ms();
	int r;

	g = calloc(1, sizeof(*g));
	if (!g)
		return ln_err(err, -ENOMEM, "out of memory");
	g->cfg = cfg;
	r = ln_compile(cfg, ln_resolve_getaddrinfo, NULL, resolve_warn, m, &g->cc, err);
	g->compile_ms = now_ms() - t0;
	if (r < 0)
		goto fail;
	if (ln_lists_only_change(m->gen, cfg, &g->cc))
		r = ln_lists_build(m->gen, g, err);
	else
		r = load_programs(m, g, err);
	if (r < 0)
		goto fail;
	g->load_ms = now_ms() - t0;
	*out = g;
	return 0;
fail:
	g->cfg = NULL; /* still the caller's */
	ln_generation_free(g);
	return r;
}

void ln_generation_free(struct ln_generation *g)
{
	if (!g)
		return;
	ln_exe_table_free(&g->exe);
	if (g->lent_from) { /* the generation in force's */
		g->skel = NULL;
		g->skel_b = NULL;
	}
	if (g->config_mm)
		munmap(g->config_mm, sizeof(*g->config_mm));
	lsnitch_bpf__destroy(g->skel);
	lsnitch_bpf__destroy(g->skel_b);
	for (size_t i = 0; i < g->n_bound; i++)
		free(g->bound[i].path);
	free(g->bound);
	ln_bound_index_free(g->bound_index);
	ln_compiled_free(&g->cc);
	if (g->cfg) {
		ln_config_free(g->cfg);
		free(g->cfg);
	}
	free(g);
}

/*
 * Point every link at @g's programs. Each update is atomic in the kernel; on a
 * failure the links already moved are put back, so old or new is in force,
 * never neither. The global packet-socket link is attached anew beside the old.
 */
int ln_generation_swap(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	struct ln_generation *old = m->gen;
	struct bpf_link *packet;
	size_t c;
	int i, r;

	r = ln_packet_link_attach(m, g, &packet, err);
	if (r < 0)
		return r;
	for (c = 0; c < m->n_attach; c++) {
		for (i = 0; i < LN_HOOKS; i++) {
			if (!m->attach[c].links[i])
				continue; /* a hook this kernel cannot run */
			r = bpf_link__update_program(m->attach[c].links[i], ln_hook_prog(g->skel, i));
			if (r < 0)
				goto rollback;
		}
	}
	ln_packet_link_commit(m, packet);
	return 0;
rollback:
	ln_packet_link_abort(packet);
	ln_err(err, r, "%s: cannot replace %s: %s", m->attach[c].path,
	       bpf_program__name(ln_hook_prog(g->skel, i)), strerror(-r));
	for (;;) {
		if (i-- == 0) {
			if (c-- == 0)
				break;
			i = LN_HOOKS - 1;
		}
		if (m->attach[c].links[i])
			bpf_link__update_program(m->attach[c].links[i], ln_hook_prog(old->skel, i));
	}
	return r;
}

int ln_read_counters(struct ln_manager *m, __u64 out[LN_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < LN_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(m->counters_fd, &k, vals) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}
