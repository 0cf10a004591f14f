// SPDX-License-Identifier: GPL-2.0
/* lsnitch-agent: options, the sd-event loop, reload and the only place that logs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "control.h"
#include "lsnitch.skel.h"

static bool verbose;

void ln_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > 6 && !verbose)
		return;
	fputs("lsnitch-agent: ", stderr);
	if (prio == 4)
		fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* What the cgroup watcher did in one round (watch.c never logs). */
void ln_watch_report(struct ln_manager *m, const struct ln_watch_stats *st)
{
	if (st->overflow)
		ln_log(4, "cgroup events were lost (queue overflow): rescanned the cgroup tree");
	if (st->unwatched)
		ln_log(4, "cannot watch %u cgroup director%s (%s): cgroups made below %s are "
			  "bound at the next reload",
		       st->unwatched, st->unwatched == 1 ? "y" : "ies", strerror(st->unwatched_errno),
		       st->unwatched == 1 ? "it" : "them");
	if (st->failed)
		ln_log(3, "cannot bind %u cgroup(s), the first %s/%s: %s; they run under the "
			  "nearest bound ancestor's policy",
		       st->failed, m->cg2_root, st->fail_path, strerror(st->fail_errno));
	if (st->bound || st->unbound)
		ln_log(7, "cgroups: %u bound, %u unbound; %zu bound in all", st->bound, st->unbound,
		       m->gen->n_bound);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lsnitch-agent [OPTIONS]\n"
		"Per-application firewall: enforce INI policies and host blocklists on cgroups.\n\n"
		"  --cgroup PATH           attach to this cgroup v2 directory (repeatable;\n"
		"                          default: the cgroup v2 root)\n"
		"  --config FILE           main INI file (may hold [global] and policies)\n"
		"  --rules DIR             load every *.ini policy file in DIR\n"
		"  --units DIR             per-unit policies: NAME.service.ini, NAME.scope.ini,\n"
		"                          NAME.slice.ini apply to that unit's cgroup\n"
		"  --blocked-hosts FILE    host blocklist: address, CIDR or hostname per line\n"
		"                          (repeatable)\n"
		"  --blocked-domains FILE  domain blocklist (repeatable; validated, enforced\n"
		"                          once DNS support lands)\n"
		"  --audit                 report what would be denied, deny nothing\n"
		"  --log-allowed           report allowed connections too\n"
		"  --check                 validate everything, print a summary, exit\n"
		"  --pin-dir DIR           pin links and maps here (default " LN_PIN_DIR ")\n"
		"  --keep-on-stop          SIGTERM leaves the policy pinned and enforcing\n"
		"  --control PATH          control socket (default " LN_CONTROL_PATH ")\n"
		"  -v, --verbose           debug output (libbpf, verifier)\n"
		"  -h, --help              this help\n"
		"  --version               print the version\n\n"
		"With no list or policy options, ./blocked_hosts.txt and ./blocked_domains.txt\n"
		"are loaded when present. SIGHUP reloads; SIGINT/SIGTERM detach and exit;\n"
		"SIGQUIT exits leaving the policy pinned for the next agent to take over.\n");
}

enum {
	OPT_CGROUP = 0x100,
	OPT_CONFIG,
	OPT_RULES,
	OPT_UNITS,
	OPT_PIN_DIR,
	OPT_CONTROL,
	OPT_KEEP,
	OPT_HOSTS,
	OPT_DOMAINS,
	OPT_AUDIT,
	OPT_LOG_ALLOWED,
	OPT_CHECK,
	OPT_VERSION,
};

static int push(void *arrp, size_t *n, const void *v)
{
	const void ***arr = arrp;
	const void **a = realloc(*arr, (*n + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	a[(*n)++] = v;
	*arr = a;
	return 0;
}

/* Returns 1 to go on, 0 to exit successfully, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct ln_opts *o)
{
	static const struct option longopts[] = {
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "units", required_argument, NULL, OPT_UNITS },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "keep-on-stop", no_argument, NULL, OPT_KEEP },
		{ "blocked-hosts", required_argument, NULL, OPT_HOSTS },
		{ "blocked-domains", required_argument, NULL, OPT_DOMAINS },
		{ "audit", no_argument, NULL, OPT_AUDIT },
		{ "log-allowed", no_argument, NULL, OPT_LOG_ALLOWED },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CGROUP:
			if (push(&o->cgroups, &o->n_cgroups, optarg) < 0)
				return -1;
			break;
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_RULES:
			o->rules_dir = optarg;
			break;
		case OPT_UNITS:
			o->units_dir = optarg;
			break;
		case OPT_PIN_DIR:
			o->pin_dir = optarg;
			break;
		case OPT_CONTROL:
			o->control = optarg;
			break;
		case OPT_KEEP:
			o->keep_on_stop = true;
			break;
		case OPT_HOSTS:
			if (push(&o->hosts, &o->n_hosts, optarg) < 0)
				return -1;
			break;
		case OPT_DOMAINS:
			if (push(&o->domains, &o->n_domains, optarg) < 0)
				return -1;
			break;
		case OPT_AUDIT:
			o->audit = true;
			break;
		case OPT_LOG_ALLOWED:
			o->log_allowed = true;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("lsnitch-agent %s\n", LN_VERSION);
			return 0;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lsnitch-agent: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 1;
}

static size_t count_hostnames(const struct ln_config *c)
{
	size_t n = c->hosts.n_names;

	for (size_t i = 0; i < c->n_policies; i++) {
		const struct ln_policy *p = &c->policies[i];

		n += p->hosts.n_names;
		for (size_t j = 0; j < p->n_rules; j++)
			n += p->rules[j].kind == LN_TARGET_HOSTNAME;
	}
	return n;
}

static void config_summary(const struct ln_config *c, char *buf, size_t len)
{
	size_t rules = 0, hosts = c->hosts.n, domains = c->domains.n;

	for (size_t i = 0; i < c->n_policies; i++) {
		rules += c->policies[i].n_rules + c->policies[i].n_domain_rules;
		hosts += c->policies[i].hosts.n;
		domains += c->policies[i].domains.n;
	}
	snprintf(buf, len,
		 "%zu policies, %zu rules, %zu host entries, %zu hostnames, %zu domains, "
		 "%zu files",
		 c->n_policies, rules, hosts, count_hostnames(c), domains, c->sources.n);
}

/* --check resolves nothing: it must not depend on the network or on root. */
static int resolve_none(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	return 0;
}

static void warn_none(const char *msg, void *ud)
{
}

static int do_check(const struct ln_opts *o)
{
	struct ln_config cfg;
	struct ln_compiled cc = {};
	struct ln_error err = {};
	char sum[256];
	int r;

	ln_config_init(&cfg);
	r = ln_config_from_opts(o, &cfg, &err);
	if (r >= 0)
		r = ln_compile(&cfg, resolve_none, NULL, warn_none, NULL, &cc, &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err.msg);
	} else {
		config_summary(&cfg, sum, sizeof(sum));
		printf("configuration OK: %s\n", sum);
	}
	ln_compiled_free(&cc);
	ln_config_free(&cfg);
	return r < 0 ? 1 : 0;
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
	ln_log(6,
	       "%s: %zu policies (%zu cgroups bound), %zu rule prefixes, %zu exact + %zu prefix "
	       "blocklist entries, %zu blocked domains (%zu bytes) in %.1f ms; "
	       "%zu cgroup(s) guarded",
	       what, cc->n_policies - 1, g->n_bound, cc->n_rules, cc->n_bl_exact,
	       cc->n_bl_prefix, names, bytes, g->load_ms, n_cg);
}

static bool compiled_equal(const struct ln_compiled *a, const struct ln_compiled *b)
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
static int manager_switch(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	bool shared = g->cfg == m->gen->cfg;
	int r;

	ln_events_drain(m);
	r = ln_generation_swap(m, g, err);
	if (r < 0) {
		if (shared)
			g->cfg = NULL;
		ln_generation_free(g);
		return r;
	}
	if (shared)
		m->gen->cfg = NULL;
	ln_generation_free(m->gen);
	m->gen = g;
	return 0;
}

/*
 * Re-read everything and put it in force atomically; on any error the policy
 * in force stays, and @err says what failed. Logs either way.
 */
int ln_manager_reload(struct ln_manager *m, struct ln_error *err)
{
	struct ln_generation *g = NULL;
	struct ln_config *cfg;
	int r;

	sd_notify(0, "RELOADING=1");
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	ln_config_init(cfg);
	r = ln_config_from_opts(&m->opts, cfg, err);
	if (r >= 0)
		r = ln_generation_build(m, cfg, &g, err);
	if (r < 0) {
		ln_config_free(cfg);
		free(cfg);
		goto fail;
	}
	r = manager_switch(m, g, err);
	if (r < 0)
		goto fail;
	log_generation("reloaded", m->gen, m->n_attach);
	ln_control_reloaded(m, 0, NULL);
	sd_notify(0, "READY=1");
	return 0;
fail:
	ln_log(3, "reload failed, keeping the policy in force: %s", err->msg);
	ln_control_reloaded(m, r, err->msg);
	sd_notify(0, "READY=1");
	return r;
}

/* Re-resolve hostnames of the configuration in force; swap only on change. */
static int on_refresh(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ln_manager *m = userdata;
	struct ln_generation *g = NULL;
	struct ln_error err = {};
	uint64_t next = usec + (uint64_t)m->gen->cfg->refresh_sec * 1000000ULL;

	sd_event_source_set_time(s, next);
	if (ln_generation_build(m, m->gen->cfg, &g, &err) < 0) {
		ln_log(4, "refreshing hostnames failed, keeping the policy in force: %s", err.msg);
		return 0;
	}
	if (compiled_equal(&g->cc, &m->gen->cc)) {
		g->cfg = NULL;
		ln_generation_free(g);
		return 0;
	}
	if (manager_switch(m, g, &err) < 0) {
		ln_log(4, "refreshing hostnames failed, keeping the policy in force: %s", err.msg);
		return 0;
	}
	log_generation("hostnames refreshed", g, m->n_attach);
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
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* The resolver proxy holds a socket per query in flight: room for thousands. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max < 16384 ? rl.rlim_max : 16384;
	if (rl.rlim_cur < 16384 && rl.rlim_max != RLIM_INFINITY)
		rl.rlim_max = rl.rlim_cur = 16384; /* as root we may raise the hard limit */
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		ln_log(4, "raising the open file limit: %m, ignoring");
}

static int check_cgroup2_dir(const char *path)
{
	struct statfs sfs;

	if (statfs(path, &sfs) < 0)
		return -errno;
	return sfs.f_type == CGROUP2_SUPER_MAGIC ? 0 : -ENOTDIR;
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
		ln_log(4, "control socket %s, ignoring", err.msg);
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

static int manager_setup(struct ln_manager *m, struct ln_error *err)
{
	struct ln_config *cfg;
	int r;

	r = ln_cgroup2_root(&m->cg2_root);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "no cgroup v2 mount found: %s", strerror(-r));
		return r;
	}
	m->cg2_fd = open(m->cg2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->cg2_fd < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s", m->cg2_root, strerror(errno));
		return -errno;
	}
	if (!m->opts.n_cgroups && push(&m->opts.cgroups, &m->opts.n_cgroups, m->cg2_root) < 0)
		return -ENOMEM;
	m->attach = calloc(m->opts.n_cgroups, sizeof(*m->attach));
	if (!m->attach)
		return -ENOMEM;
	for (size_t i = 0; i < m->opts.n_cgroups; i++) {
		m->attach[i].path = m->opts.cgroups[i];
		m->attach[i].fd = -1;
		m->n_attach++;
		r = check_cgroup2_dir(m->attach[i].path);
		if (r < 0) {
			snprintf(err->msg, sizeof(err->msg), "--cgroup %s: not a cgroup v2 directory (%s)",
				 m->attach[i].path, strerror(-r));
			return r;
		}
	}

	/* A previous agent's pinned maps are reused by the first generation. */
	ln_pin_prepare(m);
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	ln_config_init(cfg);
	r = ln_config_from_opts(&m->opts, cfg, err);
	if (r >= 0)
		r = ln_generation_build(m, cfg, &m->gen, err);
	if (r < 0) {
		ln_config_free(cfg);
		free(cfg);
		return r;
	}
	r = ln_pin_shared_maps(m, err);
	if (r < 0)
		return r;
	r = ln_events_start(m);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "event ring buffer: %s", strerror(-r));
		return r;
	}
	/* The proxy listens before any query can be sent its way. */
	r = ln_dns_start(m, err);
	if (r < 0)
		return r;
	r = ln_pin_attach(m, m->gen, err);
	if (r < 0)
		return r;
	if (m->took_over_links)
		ln_log(6, "took over %u pinned links and %u maps from a previous agent",
		       m->took_over_links, m->took_over_maps);
	/* Cgroups made from now on are bound as they appear (and reloads keep that). */
	r = ln_watch_start(m, err);
	if (r < 0)
		return r;
	manager_start_control(m);
	return 0;
}

static int manager_run(struct ln_manager *m)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m);
	r = r < 0 ? r : sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m);
	r = r < 0 ? r : sd_event_add_signal(m->event, NULL, SIGHUP, on_signal, m);
	r = r < 0 ? r : sd_event_add_signal(m->event, NULL, SIGQUIT, on_signal, m);
	if (r < 0)
		return r;
	if (count_hostnames(m->gen->cfg)) {
		uint64_t now;

		sd_event_now(m->event, CLOCK_MONOTONIC, &now);
		r = sd_event_add_time(m->event, &m->refresh_source, CLOCK_MONOTONIC,
				      now + (uint64_t)m->gen->cfg->refresh_sec * 1000000ULL,
				      1000000, on_refresh, m);
		if (r < 0)
			return r;
		sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ON);
	}
	r = manager_start_watchdog(m);
	if (r < 0)
		return r;
	log_generation("loaded", m->gen, m->n_attach);
	ln_log(6, "ready");
	sd_notify(0, "READY=1");
	return sd_event_loop(m->event);
}

static void manager_free(struct ln_manager *m)
{
	__u64 cnt[LN_CNT_MAX];

	ln_control_stop(m);
	m->watchdog_source = sd_event_source_disable_unref(m->watchdog_source);
	ln_watch_stop(m);
	/* DNS first: kept programs must not send queries to a proxy that is gone. */
	ln_dns_print_stats(m);
	ln_dns_stop(m);
	ln_pin_release(m, m->keep_on_exit || m->opts.keep_on_stop);
	if (m->pinning && (m->keep_on_exit || m->opts.keep_on_stop))
		ln_log(6, "the policy stays in force, pinned in %s", m->pin_dir);
	if (m->rb) {
		ln_events_drain(m);
		if (ln_read_counters(m, cnt) == 0)
			ln_log(6, "stopped: %llu allowed, %llu denied, %llu would-deny (audit), "
			       "%llu events dropped",
			       (unsigned long long)cnt[LN_CNT_ALLOWED],
			       (unsigned long long)cnt[LN_CNT_DENIED],
			       (unsigned long long)cnt[LN_CNT_AUDITED],
			       (unsigned long long)cnt[LN_CNT_EVENTS_DROPPED]);
	}
	ln_events_stop(m);
	m->refresh_source = sd_event_source_disable_unref(m->refresh_source);
	ln_generation_free(m->gen);
	m->gen = NULL;
	if (m->events_fd >= 0)
		close(m->events_fd);
	if (m->counters_fd >= 0)
		close(m->counters_fd);
	if (m->dns_state_fd >= 0)
		close(m->dns_state_fd);
	if (m->dns_slot_owner_fd >= 0)
		close(m->dns_slot_owner_fd);
	if (m->dns_slot_by_owner_fd >= 0)
		close(m->dns_slot_by_owner_fd);
	if (m->cg2_fd >= 0)
		close(m->cg2_fd);
	ln_cgnames_free(m);
	ln_units_close(m);
	free(m->attach);
	free(m->cg2_root);
	free(m->opts.cgroups);
	free(m->opts.hosts);
	free(m->opts.domains);
	sd_event_unref(m->event);
}

int main(int argc, char **argv)
{
	struct ln_manager m = { .events_fd = -1, .counters_fd = -1, .cg2_fd = -1,
				.dns_state_fd = -1, .dns_slot_owner_fd = -1,
				.dns_slot_by_owner_fd = -1 };
	struct ln_error err = {};
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = parse_args(argc, argv, &m.opts);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	verbose = m.opts.verbose;
	if (m.opts.check) {
		r = do_check(&m.opts);
		free(m.opts.cgroups);
		free(m.opts.hosts);
		free(m.opts.domains);
		return r;
	}
	if (geteuid() != 0) {
		ln_log(3, "must run as root (needs CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN); "
			  "--check works without");
		return 1;
	}
	libbpf_set_print(libbpf_print);
	raise_fd_limit();
	r = sd_event_default(&m.event);
	if (r >= 0)
		r = manager_setup(&m, &err);
	if (r >= 0)
		r = manager_run(&m);
	if (r < 0)
		ln_log(3, "%s", err.msg[0] ? err.msg : strerror(-r));
	manager_free(&m);
	return r < 0 ? 1 : 0;
}
