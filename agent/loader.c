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
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch.skel.h"

#define LN_CGROUP_SLOTS_MIN 1024   /* room for cgroups that appear later */
#define LN_CGROUP_SLOTS_GLOB 16384 /* with globs or units: one entry per container */
#define LN_BATCH 65536
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal, seen by user space from some map ops */
#endif

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

static struct bpf_program *hook_prog(struct lsnitch_bpf *skel, int i)
{
	struct bpf_program *p[LN_HOOKS] = {
		skel->progs.ln_connect4,     skel->progs.ln_connect6,
		skel->progs.ln_sendmsg4,     skel->progs.ln_sendmsg6,
		skel->progs.ln_recvmsg4,     skel->progs.ln_recvmsg6,
		skel->progs.ln_getpeername4, skel->progs.ln_getpeername6,
	};
	return p[i];
}

static void resolve_warn(const char *msg, void *ud)
{
	ln_log(4, "%s", msg);
}

static int fill_bl_exact_each(int fd, const struct ln_bl_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &kv[i].k, &kv[i].rule_id, BPF_ANY) < 0)
			return -errno;
	return 0;
}

/* Hash maps take batches (one syscall per 64k entries); split keys and values. */
static int fill_bl_exact(int fd, const struct ln_bl_kv *kv, size_t n)
{
	struct ln_bl_key *keys;
	__u32 *vals;
	int r = 0;

	keys = malloc(sizeof(*keys) * LN_BATCH);
	vals = malloc(sizeof(*vals) * LN_BATCH);
	if (!keys || !vals) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t done = 0; done < n;) {
		__u32 cnt = n - done > LN_BATCH ? LN_BATCH : (__u32)(n - done);

		for (__u32 i = 0; i < cnt; i++) {
			keys[i] = kv[done + i].k;
			vals[i] = kv[done + i].rule_id;
		}
		if (bpf_map_update_batch(fd, keys, vals, &cnt, NULL) < 0) {
			r = -errno;
			if (r == -EINVAL || r == -EOPNOTSUPP || r == -ENOTSUPP)
				r = fill_bl_exact_each(fd, kv + done, n - done);
			goto out;
		}
		done += cnt;
	}
out:
	free(keys);
	free(vals);
	return r;
}

static int fill_maps(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	struct lsnitch_bpf *s = g->skel;
	const struct ln_compiled *cc = &g->cc;
	struct ln_config_val cfgv = { .generation = 1 };
	__u32 zero = 0;
	int r;

	for (__u32 i = 0; i < cc->n_policies; i++)
		if (bpf_map_update_elem(bpf_map__fd(s->maps.policies), &i, &cc->policies[i],
					BPF_ANY) < 0)
			goto fail_errno;
	for (size_t i = 0; i < cc->n_rules; i++)
		if (bpf_map_update_elem(bpf_map__fd(s->maps.rules), &cc->rules[i].k,
					&cc->rules[i].v, BPF_ANY) < 0)
			goto fail_errno;
	r = fill_bl_exact(bpf_map__fd(s->maps.bl_exact), cc->bl_exact, cc->n_bl_exact);
	if (r < 0) {
		errno = -r;
		goto fail_errno;
	}
	for (size_t i = 0; i < cc->n_bl_prefix; i++)
		if (bpf_map_update_elem(bpf_map__fd(s->maps.bl_prefix), &cc->bl_prefix[i].k,
					&cc->bl_prefix[i].rule_id, BPF_ANY) < 0)
			goto fail_errno;

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
		ln_log(6, "%s: cgroup %s/%s does not exist (yet): bound when it appears", where,
		       m->cg2_root, b->cgroup);
	}
	if (g->n_bound)
		cfgv.flags |= LN_CFG_HAS_POLICIES;
	for (size_t i = 0; i < cc->n_bl_exact; i++)
		if (cc->bl_exact[i].k.set == LN_SET_GLOBAL) {
			cfgv.flags |= LN_CFG_HAS_GLOBAL_EXACT;
			break;
		}
	for (size_t i = 0; i < cc->n_bl_prefix; i++)
		if (cc->bl_prefix[i].k.set == LN_SET_GLOBAL) {
			cfgv.flags |= LN_CFG_HAS_GLOBAL_PREFIX;
			break;
		}
	/* Last: the config entry makes the rest visible to the programs. */
	if (bpf_map_update_elem(bpf_map__fd(s->maps.config), &zero, &cfgv, BPF_ANY) < 0)
		goto fail_errno;
	return 0;
fail_errno:
	r = -errno;
	snprintf(err->msg, sizeof(err->msg), "filling BPF maps: %s", strerror(errno));
	return r;
}

/* A glob or a unit may bind any number of cgroups: leave room for a busy container host. */
static size_t cgroup_slots(const struct ln_compiled *cc)
{
	size_t slots = cc->n_bindings * 2 > LN_CGROUP_SLOTS_MIN ? cc->n_bindings * 2
								 : LN_CGROUP_SLOTS_MIN;

	for (size_t i = 0; i < cc->n_bindings; i++)
		if (cc->bindings[i].unit || ln_cgroup_is_glob(cc->bindings[i].cgroup))
			return slots > LN_CGROUP_SLOTS_GLOB ? slots : LN_CGROUP_SLOTS_GLOB;
	return slots;
}

static int size_maps(struct ln_manager *m, struct lsnitch_bpf *s, const struct ln_compiled *cc)
{
	size_t slots = cgroup_slots(cc);
	int r = 0;

	r = r ?: bpf_map__set_max_entries(s->maps.policies, at_least_one(cc->n_policies));
	r = r ?: bpf_map__set_max_entries(s->maps.cgroup_policy, (__u32)slots);
	r = r ?: bpf_map__set_max_entries(s->maps.rules, at_least_one(cc->n_rules));
	r = r ?: bpf_map__set_max_entries(s->maps.bl_exact, at_least_one(cc->n_bl_exact));
	r = r ?: bpf_map__set_max_entries(s->maps.bl_prefix, at_least_one(cc->n_bl_prefix));
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
	return r;
}

/*
 * Compile @cfg and load it into a new set of programs and maps, not attached.
 * On success the generation owns @cfg; on error the caller still does, and
 * nothing in force has changed.
 */
int ln_generation_build(struct ln_manager *m, struct ln_config *cfg,
			struct ln_generation **out, struct ln_error *err)
{
	struct ln_generation *g;
	double t0 = now_ms();
	int r;

	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	g->cfg = cfg;
	r = ln_compile(cfg, ln_resolve_getaddrinfo, NULL, resolve_warn, NULL, &g->cc, err);
	if (r < 0)
		goto fail;
	g->skel = lsnitch_bpf__open();
	if (!g->skel) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "opening BPF object: %s", strerror(errno));
		goto fail;
	}
	r = size_maps(m, g->skel, &g->cc);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "sizing BPF maps: %s", strerror(-r));
		goto fail;
	}
	r = lsnitch_bpf__load(g->skel);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "loading BPF programs: %s (run with -v for the verifier log)",
			 strerror(-r));
		goto fail;
	}
	r = fill_maps(m, g, err);
	if (r < 0)
		goto fail;
	r = ln_dns_prepare(m, g, err);
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
	lsnitch_bpf__destroy(g->skel);
	for (size_t i = 0; i < g->n_bound; i++)
		free(g->bound[i].path);
	free(g->bound);
	ln_dns_generation_free(g);
	ln_compiled_free(&g->cc);
	if (g->cfg) {
		ln_config_free(g->cfg);
		free(g->cfg);
	}
	free(g);
}

/* First attach: one bpf_link per hook and cgroup (multi-attach semantics). */
int ln_generation_attach(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	for (size_t c = 0; c < m->n_attach; c++) {
		struct ln_attach *a = &m->attach[c];

		a->fd = open(a->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (a->fd < 0) {
			snprintf(err->msg, sizeof(err->msg), "%s: cannot open cgroup: %s", a->path,
				 strerror(errno));
			return -errno;
		}
		for (int i = 0; i < LN_HOOKS; i++) {
			a->links[i] = bpf_program__attach_cgroup(hook_prog(g->skel, i), a->fd);
			if (!a->links[i]) {
				int r = -errno;

				snprintf(err->msg, sizeof(err->msg), "%s: cannot attach %s: %s",
					 a->path, bpf_program__name(hook_prog(g->skel, i)),
					 strerror(-r));
				return r;
			}
		}
	}
	return 0;
}

/*
 * Point every link at @g's programs. Each update is atomic in the kernel; on a
 * failure the links already moved are put back, so old or new is in force,
 * never neither.
 */
int ln_generation_swap(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	struct ln_generation *old = m->gen;
	size_t c;
	int i, r = 0;

	for (c = 0; c < m->n_attach; c++) {
		for (i = 0; i < LN_HOOKS; i++) {
			r = bpf_link__update_program(m->attach[c].links[i], hook_prog(g->skel, i));
			if (r < 0)
				goto rollback;
		}
	}
	return 0;
rollback:
	snprintf(err->msg, sizeof(err->msg), "%s: cannot replace %s: %s", m->attach[c].path,
		 bpf_program__name(hook_prog(g->skel, i)), strerror(-r));
	for (;;) {
		if (i-- == 0) {
			if (c-- == 0)
				break;
			i = LN_HOOKS - 1;
		}
		bpf_link__update_program(m->attach[c].links[i], hook_prog(old->skel, i));
	}
	return r;
}

void ln_detach_all(struct ln_manager *m)
{
	for (size_t c = 0; c < m->n_attach; c++) {
		for (int i = 0; i < LN_HOOKS; i++) {
			bpf_link__destroy(m->attach[c].links[i]);
			m->attach[c].links[i] = NULL;
		}
		if (m->attach[c].fd >= 0)
			close(m->attach[c].fd);
		m->attach[c].fd = -1;
	}
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
