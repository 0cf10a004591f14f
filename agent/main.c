// SPDX-License-Identifier: GPL-2.0
/* lsnitch-agent: options, --check, and main(); the manager (manager.c) does the rest. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "agent.h"
#include "history.h"
#include "managed.h"
#include "log.h"
#include "manager.h"

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
		"  --blocked-domains FILE  domain blocklist, enforced by the DNS proxy\n"
		"                          (repeatable)\n"
		"  --audit                 report what would be denied, deny nothing\n"
		"  --log-allowed           report allowed connections too\n"
		"  --managed-rules FILE    the rules added over the control socket (rule-add),\n"
		"                          loaded after the others (default " LN_MANAGED_RULES ")\n"
		"  --check                 validate everything, print a summary, exit\n"
		"  --pin-dir DIR           pin links and maps here (default " LN_PIN_DIR ")\n"
		"  --keep-on-stop          SIGTERM leaves the policy pinned and enforcing\n"
		"  --control PATH          control socket (default " LN_CONTROL_PATH ")\n"
		"  --control-group GROUP   members of GROUP may use the control socket too\n"
		"  --history PATH|none     flow history database (default " LN_HISTORY_PATH ");\n"
		"                          none: no flow accounting at all\n"
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
	OPT_MANAGED,
	OPT_PIN_DIR,
	OPT_CONTROL,
	OPT_CONTROL_GROUP,
	OPT_HISTORY,
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

/* One option into @o. Returns 1 to go on, 0 to exit successfully, -1 on bad usage. */
static int take_option(struct ln_opts *o, int c)
{
	switch (c) {
	case OPT_CGROUP:
		return push(&o->cgroups, &o->n_cgroups, optarg) < 0 ? -1 : 1;
	case OPT_HOSTS:
		return push(&o->hosts, &o->n_hosts, optarg) < 0 ? -1 : 1;
	case OPT_DOMAINS:
		return push(&o->domains, &o->n_domains, optarg) < 0 ? -1 : 1;
	case OPT_CONFIG:
		o->config = optarg;
		return 1;
	case OPT_RULES:
		o->rules_dir = optarg;
		return 1;
	case OPT_UNITS:
		o->units_dir = optarg;
		return 1;
	case OPT_MANAGED:
		o->managed_rules = optarg;
		return 1;
	case OPT_PIN_DIR:
		o->pin_dir = optarg;
		return 1;
	case OPT_CONTROL:
		o->control = optarg;
		return 1;
	case OPT_CONTROL_GROUP:
		o->control_group = optarg;
		return 1;
	case OPT_HISTORY:
		o->history = optarg;
		return 1;
	case OPT_KEEP:
		o->keep_on_stop = true;
		return 1;
	case OPT_AUDIT:
		o->audit = true;
		return 1;
	case OPT_LOG_ALLOWED:
		o->log_allowed = true;
		return 1;
	case OPT_CHECK:
		o->check = true;
		return 1;
	case 'v':
		o->verbose = true;
		return 1;
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

/* Returns 1 to go on, 0 to exit successfully, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct ln_opts *o)
{
	static const struct option longopts[] = {
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "units", required_argument, NULL, OPT_UNITS },
		{ "managed-rules", required_argument, NULL, OPT_MANAGED },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-group", required_argument, NULL, OPT_CONTROL_GROUP },
		{ "history", required_argument, NULL, OPT_HISTORY },
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
	int c, r;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		r = take_option(o, c);
		if (r <= 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "lsnitch-agent: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 1;
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
		 c->n_policies, rules, hosts, ln_config_hostnames(c), domains, c->sources.n);
}

/* --check resolves nothing: it must not depend on the network or on root. */
static int resolve_none(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	return 0;
}

static void warn_none(const char *msg, void *ud)
{
}

/* A --cgroup on a unit's own cgroup works, but there is a sturdier way: say so. */
static void check_cgroups(const struct ln_opts *o)
{
	for (size_t i = 0; i < o->n_cgroups; i++)
		if (ln_guard_is_unit_cgroup(o->cgroups[i]))
			fprintf(stderr, "warning: --cgroup %s is a unit's own cgroup: systemd makes "
				"it anew on every restart (the agent attaches at its parent and "
				"binds the path there). Sturdier: guard the slice or the root, with "
				"the unit's policy in --units DIR as NAME.service.ini\n",
				o->cgroups[i]);
}

static int do_check(const struct ln_opts *o)
{
	struct ln_config cfg;
	struct ln_compiled cc = {};
	struct ln_error err = {};
	char sum[700];
	int r;

	check_cgroups(o);
	ln_config_init(&cfg);
	r = ln_config_from_opts(o, &cfg, &err);
	for (size_t i = 0; r >= 0 && i < cfg.n_lists; i++)
		if (ln_config_list_missing(&cfg, i, sum, sizeof(sum)))
			fprintf(stderr, "warning: %s\n", sum);
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

static void opts_free(struct ln_opts *o)
{
	free(o->cgroups);
	free(o->hosts);
	free(o->domains);
}

/*
 * Root, or a service user given the capabilities (AmbientCapabilities=): the
 * agent cannot load or attach its programs without CAP_NET_ADMIN and CAP_BPF
 * (CAP_SYS_ADMIN before Linux 5.8).
 */
static bool has_agent_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};
	bool bpf, net;

	if (syscall(SYS_capget, &h, d) < 0)
		return geteuid() == 0;
#define HAS_CAP(c) (d[CAP_TO_INDEX(c)].effective & CAP_TO_MASK(c))
	bpf = HAS_CAP(CAP_BPF) || HAS_CAP(CAP_SYS_ADMIN);
	net = HAS_CAP(CAP_NET_ADMIN);
#undef HAS_CAP
	return bpf && net;
}

int main(int argc, char **argv)
{
	struct ln_opts opts = { .managed_rules = LN_MANAGED_RULES };
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = parse_args(argc, argv, &opts);
	if (r <= 0) {
		opts_free(&opts);
		return r < 0 ? 2 : 0;
	}
	ln_log_init(opts.verbose);
	if (opts.check)
		r = do_check(&opts);
	else if (!has_agent_caps()) {
		ln_log(LOG_ERR, "must run as root or with CAP_BPF, CAP_NET_ADMIN and "
				"CAP_SYS_ADMIN; --check works without");
		r = 1;
	} else
		r = ln_manager_main(&opts);
	opts_free(&opts);
	return r;
}
