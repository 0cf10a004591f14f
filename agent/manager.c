// SPDX-License-Identifier: GPL-2.0
/*
 * The manager: sets enforcement up (cgroups, first generation, pins, events,
 * DNS, watcher, control socket), runs the sd-event loop, switches generations
 * on reload and hostname refresh, answers signals and the watchdog, and is
 * the one place below main() that decides what to log.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "control.h"
#include "control_proto.h"
#include "dns_proxy.h"
#include "flows.h"
#include "list_slots.h"
#include "log.h"
#include "manager.h"
#include "reload_worker.h"

/* What the lower files noticed: logged as they say it. */
static void manager_note(struct ln_manager *m, int prio, const char *msg)
{
	ln_log(prio, "%s", msg);
}

/* What one round of the cgroup watcher did. */
static void watch_report(struct ln_manager *m, const struct ln_watch_stats *st)
{
	if (st->overflow)
		ln_log(LOG_WARNING, "cgroup events were lost (queue overflow): rescanned the "
				    "cgroup tree");
	if (st->unwatched)
		ln_log(LOG_WARNING, "cannot watch %u cgroup director%s (%s): cgroups made below "
				    "%s are bound at the next reload",
		       st->unwatched, st->unwatched == 1 ? "y" : "ies",
		       strerror(st->unwatched_errno), st->unwatched == 1 ? "it" : "them");
	if (st->failed)
		ln_log(LOG_ERR, "cannot bind %u cgroup(s), the first %s/%s: %s; they run under the "
				"nearest bound ancestor's policy, or are denied (pending) where a "
				"glob could bind them",
		       st->failed, m->cg2_root, st->fail_path, strerror(st->fail_errno));
	if (st->bound || st->unbound)
		ln_log(LOG_DEBUG, "cgroups: %u bound, %u unbound; %zu bound in all", st->bound,
		       st->unbound, ln_bound_count(m->gen));
}

static void log_generation(const char *what, const struct ln_generation *g, size_t n_cg)
{
	const struct ln_compiled *cc = &g->cc;
	size_t names = 0, bytes = 0;

	if (g->domains) {
		names = ln_domain_set_size(g->domains);
		bytes = ln_domain_set_memory(g->domains);
	}
	for (size_t i = 0; i < g->n_policy_domains; i++) {
		if (!g->policy_domains[i])
			continue;
		names += ln_domain_set_size(g->policy_domains[i]);
		bytes += ln_domain_set_memory(g->policy_domains[i]);
	}
	ln_log(LOG_INFO,
	       "%s%s: %zu policies (%zu cgroups bound), %zu rule prefixes, %zu exact + %zu prefix "
	       "blocklist entries, %zu blocked domains (%zu bytes) in %.1f ms; "
	       "%zu cgroup(s) guarded (compiled in %.1f ms, programs verified in %.1f ms)",
	       what, g->lists_only ? " (lists only, programs kept)" : "", cc->n_policies - 1,
	       ln_bound_count(g), cc->n_rules, cc->n_bl_exact, cc->n_bl_prefix, names, bytes,
	       g->load_ms, n_cg, g->compile_ms, g->verify_ms);
}

/* A policy none of whose cgroups lies under an attached --cgroup can never apply: say so. */
static void warn_unguarded(const struct ln_manager *m, const struct ln_config *c)
{
	char where[600];

	for (size_t i = 0; i < c->n_policies && m->opts.n_cgroups; i++) {
		const struct ln_policy *p = &c->policies[i];

		if (ln_policy_guarded(p, m->cg2_root, m->opts.cgroups, m->opts.n_cgroups))
			continue;
		ln_rule_id_format(&c->sources, p->n_cgroups ? p->cgroup_ids[0] : p->section_rule_id,
				  where, sizeof(where));
		ln_log(LOG_WARNING, "%s: policy %s: cgroup %s lies outside every --cgroup: not "
				    "guarded", where, p->name, p->n_cgroups ? p->cgroups[0] : "-");
	}
}

/* A [list] never downloaded: the agent runs without it, and says so. */
static void warn_lists(const struct ln_config *c)
{
	char msg[700];

	for (size_t i = 0; i < c->n_lists; i++)
		if (ln_config_list_missing(c, i, msg, sizeof(msg)))
			ln_log(LOG_WARNING, "%s", msg);
}
/*
 * A reload (cfg NULL: read the files) or a hostname refresh (cfg: the one in
 * force, shared), built on the worker's thread and put in force on the loop.
 */
struct build_job {
	struct ln_manager *m;
	struct ln_config *cfg;
	struct ln_generation *g;
	struct ln_error err;
	int r;
};

static void job_work(void *arg)
{
	struct build_job *j = arg;

	if (j->cfg)
		j->r = ln_gen_build(j->m, j->cfg, &j->g, &j->err);
	else
		j->r = ln_gen_read(j->m, &j->g, &j->err);
}

static void job_done(void *arg);

static int job_start(struct ln_manager *m, struct ln_config *cfg, struct ln_error *err)
{
	struct build_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return ln_err(err, -ENOMEM, "out of memory");
	j->m = m;
	j->cfg = cfg;
	r = ln_worker_run(m->worker, job_work, job_done, j);
	if (r < 0) {
		free(j);
		return ln_err(err, r, "cannot start building the new policy: %s", strerror(-r));
	}
	if (!cfg)
		sd_notify(0, "RELOADING=1");
	return 0;
}

static void reload_failed(struct ln_manager *m, int r, const char *msg)
{
	ln_log(LOG_ERR, "reload failed, keeping the policy in force: %s", msg);
	ln_control_reloaded(m, r, msg);
}

/* The reload's end, on the loop: bind, swap, apply the DNS keys; answer who asked. */
static void reload_done(struct ln_manager *m, struct build_job *j)
{
	struct ln_dns_keys prev = ln_dns_keys_in_force(m);
	struct ln_error warn = {};
	int r = j->r;

	if (r >= 0) {
		r = ln_gen_finish(m, j->g, &j->err);
		if (r < 0)
			ln_gen_discard(m, j->g);
	}
	if (r >= 0) {
		ln_dns_keys_keep(m, j->g->cfg, &warn);
		r = ln_gen_switch(m, j->g, &j->err);
	}
	sd_notify(0, "READY=1");
	if (r < 0 && m->reload_again)
		ln_log(LOG_ERR, "reload failed, a newer one follows: %s", j->err.msg);
	if (r < 0 && !m->reload_again)
		reload_failed(m, r, j->err.msg);
	if (r < 0)
		return;
	ln_dns_keys_apply(m, &prev, &warn);
	log_generation("reloaded", m->gen, m->n_attach);
	if (warn.msg[0])
		ln_log(LOG_WARNING, "reload: %s", warn.msg);
	warn_unguarded(m, m->gen->cfg);
	warn_lists(m->gen->cfg);
	/* Who asked before a queued reload gets that one's answer: it read their files. */
	if (!m->reload_again)
		ln_control_reloaded(m, 0, warn.msg[0] ? warn.msg : NULL);
}

/* Re-resolved hostnames: swap only on change. */
static void refresh_done(struct ln_manager *m, struct build_job *j)
{
	int r = j->r;

	if (r >= 0 && ln_gen_equal(&j->g->cc, &m->gen->cc)) {
		ln_gen_discard(m, j->g);
		return;
	}
	if (r >= 0) {
		r = ln_gen_finish(m, j->g, &j->err);
		if (r < 0)
			ln_gen_discard(m, j->g);
	}
	if (r >= 0)
		r = ln_gen_switch(m, j->g, &j->err);
	if (r >= 0)
		log_generation("hostnames refreshed", m->gen, m->n_attach);
	else
		ln_log(LOG_WARNING, "refreshing hostnames failed, keeping the policy in force: %s",
		       j->err.msg);
}

/*
 * The worker is free (@r < 0: freeing the previous lists failed, @msg says why): a reload
 * asked for meanwhile, else the previous lists' maps freed (ln_lists_release_start()).
 */
static void after_job(struct ln_manager *m, int r, const char *msg)
{
	struct ln_error err = {};

	if (r < 0)
		ln_log(LOG_WARNING, "%s: the previous lists stay until the next reload", msg);
	if (m->stopping)
		return;
	if (!m->reload_again) {
		ln_lists_release_start(m, after_job);
		return;
	}
	m->reload_again = false;
	r = job_start(m, NULL, &err);
	if (r < 0)
		reload_failed(m, r, err.msg);
}

static void job_done(void *arg)
{
	struct build_job *j = arg;
	struct ln_manager *m = j->m;

	if (m->stopping) {
		if (j->r >= 0)
			ln_gen_discard(m, j->g);
	} else if (j->cfg) {
		refresh_done(m, j);
	} else {
		reload_done(m, j);
	}
	free(j);
	after_job(m, 0, NULL);
}

int ln_manager_reload(struct ln_manager *m, struct ln_error *err)
{
	int r;

	if (ln_worker_busy(m->worker)) {
		m->reload_again = true; /* after the job running now */
		return 0;
	}
	r = job_start(m, NULL, err);
	if (r < 0)
		reload_failed(m, r, err->msg);
	return r;
}

/* Re-resolve hostnames of the configuration in force, off the loop; skipped while busy. */
static int on_refresh(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ln_manager *m = userdata;
	struct ln_error err = {};
	uint64_t next = usec + (uint64_t)m->gen->cfg->refresh_sec * 1000000ULL;

	sd_event_source_set_time(s, next);
	if (ln_worker_busy(m->worker))
		return 0;
	if (job_start(m, m->gen->cfg, &err) < 0)
		ln_log(LOG_WARNING, "refreshing hostnames failed, keeping the policy in force: %s",
		       err.msg);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct ln_manager *m = userdata;

	if (si->ssi_signo == SIGHUP) {
		struct ln_error err = {};

		ln_manager_reload(m, &err);
		return 0;
	}
	/* SIGQUIT: hand over to the next agent, leaving the policy pinned. */
	if (si->ssi_signo == SIGQUIT)
		m->keep_on_exit = true;
	/* `systemctl restart`: the same hand-over, so the restart leaves no gap. */
	else if (si->ssi_signo == SIGTERM && m->pinning && !m->keep_on_exit &&
		 ln_systemd_is_restarting()) {
		ln_log(LOG_INFO, "systemd is restarting the unit: handing over to the next agent");
		m->keep_on_exit = true;
	}
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	uint64_t *interval = userdata;

	sd_notify(0, "WATCHDOG=1");
	return sd_event_source_set_time(s, usec + *interval);
}

/* WatchdogSec=: ping at half the interval, from the loop (a stuck loop stops pinging). */
static int manager_start_watchdog(struct ln_manager *m)
{
	static uint64_t interval;
	uint64_t usec, now;
	int r;

	if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
		return 0;
	interval = usec / 2;
	sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(m->event, &m->watchdog_source, CLOCK_MONOTONIC, now + interval,
			      interval / 10, on_watchdog, &interval);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(m->watchdog_source, SD_EVENT_ON);
}

/* Hostnames in the policy are resolved again every refresh_sec. */
static int manager_start_refresh(struct ln_manager *m)
{
	uint64_t now;
	int r;

	if (!ln_config_hostnames(m->gen->cfg))
		return 0;
	sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(m->event, &m->refresh_source, CLOCK_MONOTONIC,
			      now + (uint64_t)m->gen->cfg->refresh_sec * 1000000ULL, 1000000,
			      on_refresh, m);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ON);
}

static int manager_add_signals(struct ln_manager *m)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&mask, sigs[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		r = sd_event_add_signal(m->event, NULL, sigs[i], on_signal, m);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The resolver proxy holds a socket per query in flight and 256 listening
 * sockets per network namespace it serves: room for 64 namespaces and more.
 */
#define LN_FD_LIMIT 65536
static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* already there (LimitNOFILE=): no setrlimit, which the unit's filter refuses */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= LN_FD_LIMIT)
		return;
	rl.rlim_cur = rl.rlim_max < LN_FD_LIMIT ? rl.rlim_max : LN_FD_LIMIT;
	if (rl.rlim_cur < LN_FD_LIMIT && rl.rlim_max != RLIM_INFINITY) {
		struct rlimit up = {LN_FD_LIMIT, LN_FD_LIMIT};

		/* root with CAP_SYS_RESOURCE may raise the hard limit; else up to it */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		ln_log(LOG_WARNING, "raising the open file limit: %m, ignoring");
}

/* The cgroup2 mount and the cgroups to attach to (--cgroup, else the root): guard.c. */
static int manager_open_cgroups(struct ln_manager *m, struct ln_error *err)
{
	int r;

	r = ln_cgroup2_root(&m->cg2_root);
	if (r < 0)
		return ln_err(err, r, "no cgroup v2 mount found: %s", strerror(-r));
	m->cg2_fd = open(m->cg2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->cg2_fd < 0)
		return ln_err(err, -errno, "%s: %s", m->cg2_root, strerror(errno));
	return ln_guards_open(m, err);
}

static int control_reload(void *ud, struct ln_error *err)
{
	return ln_manager_reload(ud, err);
}

/* The operator's way in; enforcement does not depend on it. */
static void manager_start_control(struct ln_manager *m)
{
	static const struct ln_control_ops ops = { .reload = control_reload };
	struct ln_error err = {};

	if (ln_control_start(m, m->opts.control ? m->opts.control : LN_CONTROL_PATH, &ops, m,
			     &err) < 0)
		ln_log(LOG_WARNING, "control socket %s, ignoring", err.msg);
}

static int manager_setup(struct ln_manager *m, struct ln_error *err)
{
	int r;

	r = manager_open_cgroups(m, err);
	if (r < 0)
		return r;
	/* A previous agent's pinned maps are reused by the first generation. */
	ln_pin_prepare(m);
	r = ln_worker_new(m->event, &m->worker);
	if (r < 0)
		return ln_err(err, r, "the reload worker: %s", strerror(-r));
	r = ln_gen_read(m, &m->gen, err);
	if (r >= 0) {
		r = ln_gen_finish(m, m->gen, err);
		if (r < 0) {
			ln_gen_free(m->gen);
			m->gen = NULL;
		}
	}
	if (r >= 0)
		r = ln_pin_shared_maps(m, err);
	if (r < 0)
		return r;
	r = ln_events_start(m);
	if (r < 0)
		return ln_err(err, r, "event ring buffer: %s", strerror(-r));
	r = ln_flows_start(m);
	if (r < 0)
		return ln_err(err, r, "flow drain: %s", strerror(-r));
	/* The proxy listens before any query can be sent its way. */
	r = ln_dns_start(m, err);
	if (r >= 0)
		r = ln_pin_attach(m, m->gen, err);
	if (r < 0)
		return r;
	if (m->took_over_links)
		ln_log(LOG_INFO, "took over %u pinned links and %u maps from a previous agent",
		       m->took_over_links, m->took_over_maps);
	/* Cgroups made from now on are bound as they appear (and reloads keep that). */
	r = ln_watch_start(m, watch_report, err);
	if (r >= 0)
		r = ln_exe_watch_start(m, err);
	if (r < 0)
		return r;
	manager_start_control(m);
	return 0;
}

static int manager_run(struct ln_manager *m)
{
	int r;

	r = manager_add_signals(m);
	if (r >= 0)
		r = manager_start_refresh(m);
	if (r >= 0)
		r = manager_start_watchdog(m);
	if (r < 0)
		return r;
	log_generation("loaded", m->gen, m->n_attach);
	warn_unguarded(m, m->gen->cfg);
	warn_lists(m->gen->cfg);
	ln_log(LOG_INFO, "ready");
	sd_notify(0, "READY=1");
	return sd_event_loop(m->event);
}

static void log_dns_stats(struct ln_manager *m)
{
	struct ln_dns_stats s;

	if (!m->dns)
		return;
	ln_dns_proxy_stats(m->dns, &s);
	ln_log(LOG_INFO, "DNS: %llu queries (%llu over TCP), %llu blocked, %llu forwarded, "
			 "%llu refused, %llu timeouts (%llu late replies), %llu malformed, "
			 "%llu forged replies dropped",
	       s.queries, s.tcp_queries, s.blocked, s.forwarded, s.refused, s.timeouts, s.late,
	       s.malformed, s.forged);
}

static void log_counters(struct ln_manager *m)
{
	__u64 cnt[LN_CNT_MAX];

	if (ln_read_counters(m, cnt) < 0)
		return;
	ln_log(LOG_INFO, "stopped: %llu allowed, %llu denied, %llu would-deny (audit), "
			 "%llu packets dropped, %llu events dropped, %llu over the rate limit",
	       (unsigned long long)cnt[LN_CNT_ALLOWED], (unsigned long long)cnt[LN_CNT_DENIED],
	       (unsigned long long)cnt[LN_CNT_AUDITED],
	       (unsigned long long)cnt[LN_CNT_EGRESS_DROPPED],
	       (unsigned long long)cnt[LN_CNT_EVENTS_DROPPED],
	       (unsigned long long)cnt[LN_CNT_EVENTS_LIMITED]);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Tear down in the reverse order of setup; keeps the pins when asked to. */
static void manager_free(struct ln_manager *m)
{
	bool keep = m->keep_on_exit || m->opts.keep_on_stop;

	/* A build under way is waited for and thrown away. */
	m->stopping = true;
	ln_worker_free(m->worker);
	m->worker = NULL;
	ln_control_stop(m);
	m->watchdog_source = sd_event_source_disable_unref(m->watchdog_source);
	ln_watch_stop(m);
	ln_exe_watch_stop(m);
	/* DNS first: kept programs must not send queries to a proxy that is gone. */
	log_dns_stats(m);
	ln_dns_stop(m);
	ln_pin_release(m, keep);
	if (m->pinning && keep)
		ln_log(LOG_INFO, "the policy stays in force, pinned in %s", m->pin_dir);
	if (m->rb) {
		ln_events_drain(m);
		log_counters(m);
	}
	ln_events_stop(m);
	ln_flows_stop(m);
	m->refresh_source = sd_event_source_disable_unref(m->refresh_source);
	ln_gen_free(m->gen);
	m->gen = NULL;
	ln_sock_kinds_release(m);
	close_fd(&m->events_fd);
	close_fd(&m->counters_fd);
	close_fd(&m->dns_state_fd);
	close_fd(&m->dns_slot_owner_fd);
	close_fd(&m->dns_slot_by_owner_fd);
	close_fd(&m->dns_ports_fd);
	close_fd(&m->dns_requests_fd);
	close_fd(&m->flows_fd);
	close_fd(&m->flow_lost_fd);
	close_fd(&m->flow_cache_fd);
	close_fd(&m->flow_epoch_fd);
	close_fd(&m->exe_sk_fd);
	close_fd(&m->exe_new_fd);
	close_fd(&m->cg2_fd);
	ln_cgnames_free(m);
	ln_units_close(m);
	for (size_t i = 0; i < m->n_attach; i++) {
		free(m->attach[i].at);
		free(m->attach[i].rel);
	}
	free(m->attach);
	free(m->cg2_root);
	sd_event_unref(m->event);
}

int ln_manager_main(const struct ln_opts *opts)
{
	struct ln_manager m = { .opts = *opts, .note = manager_note, .events_fd = -1,
				.counters_fd = -1, .cg2_fd = -1, .dns_state_fd = -1,
				.dns_slot_owner_fd = -1, .dns_slot_by_owner_fd = -1,
				.dns_ports_fd = -1, .dns_requests_fd = -1,
				.flows_fd = -1, .flow_lost_fd = -1, .flow_cache_fd = -1,
				.flow_epoch_fd = -1, .exe_sk_fd = -1, .exe_new_fd = -1 };
	struct ln_error err = {};
	int r;

	ln_report_init(&m.sinks);
	raise_fd_limit();
	r = sd_event_default(&m.event);
	if (r >= 0)
		r = manager_setup(&m, &err);
	if (r >= 0)
		r = manager_run(&m);
	if (r < 0)
		ln_log(LOG_ERR, "%s", err.msg[0] ? err.msg : strerror(-r));
	manager_free(&m);
	return r < 0 ? 1 : 0;
}
