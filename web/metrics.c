// SPDX-License-Identifier: GPL-2.0
/* /metrics: the agent's status answer in the Prometheus text exposition format (0.0.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* The status counters, as "lsnitch_<name>_total" counters (their JSON key, their help). */
static const struct {
	const char *key, *name, *help;
} counters[] = {
	{ "events_dropped", "events_dropped", "Events the ring buffer had no room for" },
	{ "events_limited", "events_limited", "Events the repeat limiter folded into a count" },
	{ "dns_redirected", "dns_redirected", "DNS queries redirected to the proxy" },
	{ "dns_no_slot", "dns_no_slot", "DNS queries refused for want of a proxy slot" },
	{ "dns_no_proxy", "dns_no_proxy", "DNS queries refused while no proxy ran" },
	{ "egress_dropped", "egress_dropped", "Packets the egress backstop dropped" },
	{ "pending", "pending", "Connections refused while a cgroup's policy was pending" },
};

/* The DNS proxy's statistics: every one a counter but "netns" (how many are served). */
static const char *const dns_counters[] = {
	"queries", "tcp_queries", "answered", "blocked", "forwarded", "truncated", "timeouts",
	"malformed", "forged", "servfail", "refused", "over_share", "notimp", "late",
};

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, key, &v);
	return v;
}

static long long jint(json_object *o, const char *key)
{
	return json_object_get_int64(jget(o, key));
}

/* A label value as the format wants it: \\, \" and \n escaped. */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP lsnitch_%s %s\n# TYPE lsnitch_%s %s\n", name, help, name, type);
}

static void counters_out(FILE *f, json_object *c)
{
	family(f, "connections_total", "counter", "Verdicts of the BPF hooks, by verdict");
	fprintf(f, "lsnitch_connections_total{verdict=\"allow\"} %lld\n", jint(c, "allowed"));
	fprintf(f, "lsnitch_connections_total{verdict=\"deny\"} %lld\n", jint(c, "denied"));
	fprintf(f, "lsnitch_connections_total{verdict=\"would-deny\"} %lld\n",
		jint(c, "would_deny"));
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s_total", counters[i].name);
		family(f, name, "counter", counters[i].help);
		fprintf(f, "lsnitch_%s %lld\n", name, jint(c, counters[i].key));
	}
}

static void dns_out(FILE *f, json_object *d)
{
	family(f, "dns_proxy_total", "counter", "The DNS proxy's statistics, by kind");
	for (size_t i = 0; i < sizeof(dns_counters) / sizeof(dns_counters[0]); i++)
		fprintf(f, "lsnitch_dns_proxy_total{kind=\"%s\"} %lld\n", dns_counters[i],
			jint(d, dns_counters[i]));
	family(f, "dns_proxy_netns", "gauge", "Network namespaces the DNS proxy serves");
	fprintf(f, "lsnitch_dns_proxy_netns %lld\n", jint(d, "netns"));
}

/* One gauge per policy, from the key @key of each of the status "policies" entries. */
static void policy_gauge(FILE *f, json_object *pols, const char *name, const char *help,
			 const char *key)
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < json_object_array_length(pols); i++) {
		json_object *p = json_object_array_get_idx(pols, i), *v = jget(p, key);
		long long n = json_object_is_type(v, json_type_array) ?
				      (long long)json_object_array_length(v) :
				      json_object_get_int64(v);

		fprintf(f, "lsnitch_%s{policy=", name);
		label(f, json_object_get_string(jget(p, "name")));
		fprintf(f, "} %lld\n", n);
	}
}

static void policies_out(FILE *f, json_object *pols)
{
	if (!json_object_is_type(pols, json_type_array))
		return;
	policy_gauge(f, pols, "policy_guarded", "1 if every cgroup of the policy is guarded",
		     "guarded");
	policy_gauge(f, pols, "policy_audit", "1 if the policy only reports what it would deny",
		     "audit");
	policy_gauge(f, pols, "policy_bound_cgroups", "Cgroups the policy is bound to now", "bound");
	policy_gauge(f, pols, "policy_rules", "Address rules of the policy", "rules");
	policy_gauge(f, pols, "policy_domain_rules", "Domain rules of the policy", "domain_rules");
}

/* Integer gauges of the status answer: its key, or "generation"'s key @in_generation. */
static const struct {
	const char *name, *help, *key;
	bool in_generation;
} gauges[] = {
	{ "loaded_timestamp_seconds", "When the configuration in force loaded", "loaded_at", 1 },
	{ "bound_cgroups", "Cgroups bound to a policy now", "bound", 1 },
	{ "uptime_seconds", "Seconds since the agent started", "uptime_sec", 0 },
	{ "control_clients", "Clients of the control socket, subscribers included", "clients", 0 },
};

static void generation_out(FILE *f, json_object *st)
{
	json_object *g = jget(st, "generation"), *r = jget(st, "last_reload");

	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		family(f, gauges[i].name, "gauge", gauges[i].help);
		fprintf(f, "lsnitch_%s %lld\n", gauges[i].name,
			jint(gauges[i].in_generation ? g : st, gauges[i].key));
	}
	family(f, "load_seconds", "gauge", "How long the configuration in force took to load");
	fprintf(f, "lsnitch_load_seconds %.6f\n", json_object_get_double(jget(g, "load_ms")) / 1e3);
	family(f, "last_reload_ok", "gauge", "1 if the last reload worked (or none was asked)");
	fprintf(f, "lsnitch_last_reload_ok %d\n",
		!r || json_object_get_boolean(jget(r, "ok")) ? 1 : 0);
	family(f, "guarded_cgroups", "gauge", "Cgroup trees the agent attached to");
	fprintf(f, "lsnitch_guarded_cgroups %zu\n",
		json_object_is_type(g = jget(st, "cgroups"), json_type_array) ?
			json_object_array_length(g) : 0);
}

/* Verdicts per policy and reason, from the flows the agent drained (none with --history none). */
static void verdicts_out(FILE *f, json_object *v)
{
	static const char *const keys[] = {"policy", "verdict", "reason"};

	if (!json_object_is_type(v, json_type_array))
		return;
	family(f, "verdicts_total", "counter",
	       "Verdicts by policy, verdict and reason (flow accounting; a few seconds behind)");
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);

		fputs("lsnitch_verdicts_total{", f);
		for (size_t k = 0; k < 3; k++) {
			fprintf(f, "%s%s=", k ? "," : "", keys[k]);
			label(f, json_object_get_string(jget(e, keys[k])));
		}
		fprintf(f, "} %lld\n", jint(e, "count"));
	}
}

/* The agent's BPF maps that can fill up: entries now and the most they hold. */
static void maps_out(FILE *f, json_object *maps)
{
	static const char *const keys[] = {"entries", "max"};
	static const char *const helps[] = {"Entries in the BPF map now",
					    "The most entries the BPF map holds"};

	if (!json_object_is_type(maps, json_type_array))
		return;
	for (size_t k = 0; k < 2; k++) {
		family(f, k ? "map_max_entries" : "map_entries", "gauge", helps[k]);
		for (size_t i = 0; i < json_object_array_length(maps); i++) {
			json_object *m = json_object_array_get_idx(maps, i);

			fprintf(f, "lsnitch_%s{map=", k ? "map_max_entries" : "map_entries");
			label(f, json_object_get_string(jget(m, "name")));
			fprintf(f, "} %lld\n", jint(m, keys[k]));
		}
	}
}

char *web_metrics(json_object *st)
{
	bool up = st && json_object_get_boolean(jget(st, "ok"));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	family(f, "up", "gauge", "1 if the agent answered on its control socket");
	fprintf(f, "lsnitch_up %d\n", up);
	family(f, "ready", "gauge", "1 if the agent has a configuration loaded and in force");
	fprintf(f, "lsnitch_ready %d\n", up && jget(st, "generation") ? 1 : 0);
	if (up) {
		counters_out(f, jget(st, "counters"));
		if (jget(st, "dns"))
			dns_out(f, jget(st, "dns"));
		policies_out(f, jget(st, "policies"));
		generation_out(f, st);
		maps_out(f, jget(st, "maps"));
		verdicts_out(f, jget(st, "verdicts"));
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
