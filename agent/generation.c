// SPDX-License-Identifier: GPL-2.0
/*
 * A generation is loader.c's BPF side and dns.c's domain sets: read, built
 * (off the loop), finished and switched in (on the loop), freed together.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "list_slots.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A generation is its BPF side (loader.c) and its DNS side (dns.c), freed together. */
void ln_gen_free(struct ln_generation *g)
{
	if (!g)
		return;
	ln_dns_generation_free(g);
	ln_generation_free(g);
}

/*
 * Load @cfg into a new generation, not in force nor bound to cgroups yet
 * (ln_gen_finish()), with its domain sets. On error @cfg is still the
 * caller's. Runs on the reload worker's thread.
 */
int ln_gen_build(struct ln_manager *m, struct ln_config *cfg, struct ln_generation **out,
		 struct ln_error *err)
{
	double t0 = now_ms();
	int r;

	r = ln_generation_build(m, cfg, out, err);
	if (r < 0)
		return r;
	r = ln_dns_prepare(m, *out, err);
	if (r < 0) {
		(*out)->cfg = NULL;
		ln_gen_free(*out);
		*out = NULL;
		return r;
	}
	(*out)->load_ms = now_ms() - t0;
	return 0;
}

/* On the loop, just before the swap: bind its cgroups, carry the live DNS answers over. */
int ln_gen_finish(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	double t0 = now_ms();
	int r;

	/* A list-only reload keeps the bound cgroups: the maps in force stay. */
	r = g->lent_from ? 0 : ln_generation_finish(m, g, err);
	if (r >= 0)
		r = ln_dns_replay(m, g, err);
	g->load_ms += now_ms() - t0;
	return r;
}

/* A generation that will not be put in force; the configuration in force stays. */
void ln_gen_discard(struct ln_manager *m, struct ln_generation *g)
{
	if (!g)
		return;
	if (m->gen && g->cfg == m->gen->cfg)
		g->cfg = NULL;
	ln_gen_free(g);
}

bool ln_gen_equal(const struct ln_compiled *a, const struct ln_compiled *b)
{
	return a->n_rules == b->n_rules && a->n_bl_exact == b->n_bl_exact &&
	       a->n_bl_prefix == b->n_bl_prefix &&
	       !memcmp(a->rules, b->rules, a->n_rules * sizeof(*a->rules)) &&
	       !memcmp(a->bl_exact, b->bl_exact, a->n_bl_exact * sizeof(*a->bl_exact)) &&
	       !memcmp(a->bl_prefix, b->bl_prefix, a->n_bl_prefix * sizeof(*a->bl_prefix));
}

/*
 * Put @g in force in place of the current generation; frees @g on failure.
 * A generation built from the configuration in force (a hostname refresh)
 * shares it: the configuration goes to whichever generation stays.
 */
int ln_gen_switch(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	bool shared = g->cfg == m->gen->cfg;
	int r;

	ln_events_drain(m);
	if (g->lent_from)
		r = ln_lists_switch(m->gen, g, err);
	else
		r = ln_generation_swap(m, g, err);
	if (r < 0) {
		ln_gen_discard(m, g);
		return r;
	}
	if (shared)
		m->gen->cfg = NULL;
	ln_gen_free(m->gen);
	m->gen = g;
	ln_exe_watch_follow(m);
	return 0;
}

/* Read the configuration the options name and build a generation of it (not in force). */
int ln_gen_read(struct ln_manager *m, struct ln_generation **out, struct ln_error *err)
{
	struct ln_config *cfg;
	int r;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return ln_err(err, -ENOMEM, "out of memory");
	ln_config_init(cfg);
	r = ln_config_from_opts(&m->opts, cfg, err);
	if (r >= 0)
		r = ln_gen_build(m, cfg, out, err);
	if (r < 0) {
		ln_config_free(cfg);
		free(cfg);
	}
	return r;
}
