// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's commands, a table of handlers: status, reload, explain, rules, events,
 * rule-add and rule-undo (the managed rules file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "agent.h"
#include "names.h"
#include "control_cmds.h"
#include "dns_proxy.h"
#include "flows.h"
#include "managed.h"

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *ok_object(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

/* The attach points as the pure lookups take them; NULL if out of memory. */
static char **attach_paths(const struct ln_manager *m)
{
	char **a = calloc(m->n_attach + 1, sizeof(*a));

	for (size_t i = 0; a && i < m->n_attach; i++)
		a[i] = m->attach[i].path;
	return a;
}

/* ---- status ---- */

static json_object *status_policy(const struct ln_manager *m, const struct ln_policy *p,
				  char *const *attach)
{
	const struct ln_config *cfg = m->gen->cfg;
	json_object *o = json_object_new_object(), *cgs = json_object_new_array();
	char where[600];
	bool guarded;

	json_object_object_add(o, "name", jstr(p->name));
	json_object_object_add(o, "id", json_object_new_int64(p->id));
	json_object_object_add(o, "default", jstr(p->default_verdict == LN_VERDICT_DENY ?
						  "deny" : "allow"));
	json_object_object_add(o, "audit", json_object_new_boolean(p->audit || cfg->audit));
	for (size_t j = 0; j < p->n_cgroups; j++)
		json_object_array_add(cgs, jstr(p->cgroups[j]));
	json_object_object_add(o, "cgroups", cgs);
	if (p->unit)
		json_object_object_add(o, "unit", jstr(p->unit));
	/* out of memory for @attach: say guarded rather than raise a false alarm */
	guarded = !attach || ln_policy_guarded(p, m->cg2_root, attach, m->n_attach);
	json_object_object_add(o, "guarded", json_object_new_boolean(guarded));
	ln_status_bound(m->gen, p->id, o);
	json_object_object_add(o, "rules", json_object_new_int64(p->n_rules));
	json_object_object_add(o, "domain_rules", json_object_new_int64(p->n_domain_rules));
	ln_rule_id_format(&cfg->sources, p->section_rule_id, where, sizeof(where));
	json_object_object_add(o, "file", jstr(where));
	return o;
}

static json_object *status_policies(const struct ln_manager *m)
{
	const struct ln_config *cfg = m->gen->cfg;
	json_object *a = json_object_new_array();
	char **attach = attach_paths(m);

	for (size_t i = 0; i < cfg->n_policies; i++)
		json_object_array_add(a, status_policy(m, &cfg->policies[i], attach));
	free(attach);
	return a;
}

static json_object *status_dns(const struct ln_manager *m)
{
	json_object *o = json_object_new_object();
	struct ln_dns_stats s;

	ln_dns_proxy_stats(m->dns, &s);
#define ADD(f) json_object_object_add(o, #f, json_object_new_uint64(s.f))
	ADD(queries);
	ADD(tcp_queries);
	ADD(answered);
	ADD(blocked);
	ADD(forwarded);
	ADD(truncated);
	ADD(timeouts);
	ADD(malformed);
	ADD(forged);
	ADD(servfail);
	ADD(refused);
	ADD(over_share);
	ADD(netns);
	ADD(notimp);
	ADD(late);
	ADD(cached);
#undef ADD
	return o;
}

/* status's "counters": the key of each kernel counter, in the order status shows them. */
static const struct { const char *key; int cnt; } status_counter_keys[] = {
	{ "allowed", LN_CNT_ALLOWED }, { "denied", LN_CNT_DENIED },
	{ "would_deny", LN_CNT_AUDITED }, { "events_dropped", LN_CNT_EVENTS_DROPPED },
	{ "dns_redirected", LN_CNT_DNS_REDIRECTED }, { "dns_no_slot", LN_CNT_DNS_NO_SLOT },
	{ "dns_no_proxy", LN_CNT_DNS_NO_PROXY }, { "egress_dropped", LN_CNT_EGRESS_DROPPED },
	{ "events_limited", LN_CNT_EVENTS_LIMITED }, { "pending", LN_CNT_PENDING },
};

static json_object *status_counters(struct ln_manager *m)
{
	json_object *o;
	__u64 cnt[LN_CNT_MAX];

	if (ln_read_counters(m, cnt) < 0)
		return NULL;
	o = json_object_new_object();
	for (size_t i = 0; i < sizeof(status_counter_keys) / sizeof(status_counter_keys[0]); i++)
		json_object_object_add(o, status_counter_keys[i].key,
				       json_object_new_uint64(cnt[status_counter_keys[i].cnt]));
	return o;
}

/* The generation in force and the last reload's outcome. */
static void status_generation(const struct ln_ctl_ctx *ctx, json_object *o)
{
	const struct ln_manager *m = ctx->m;
	json_object *a = json_object_new_object();

	json_object_object_add(a, "loaded_at", json_object_new_int64(ctx->loaded_at));
	json_object_object_add(a, "load_ms", json_object_new_double(m->gen->load_ms));
	json_object_object_add(a, "kind", jstr(m->gen->lists_only ? "lists" : "full"));
	json_object_object_add(a, "bound", json_object_new_int64(ln_bound_count(m->gen)));
	json_object_object_add(o, "generation", a);
	if (!ctx->reload_at)
		return;
	a = json_object_new_object();
	json_object_object_add(a, "at", json_object_new_int64(ctx->reload_at));
	json_object_object_add(a, "ok", json_object_new_boolean(ctx->reload_r >= 0));
	if (ctx->reload_msg[0])
		json_object_object_add(a, ctx->reload_r < 0 ? "error" : "warning",
				       jstr(ctx->reload_msg));
	json_object_object_add(o, "last_reload", a);
}

/* What each --cgroup path is doing: there or gone, where its links are, restarts. */
static json_object *status_cgroup_state(struct ln_manager *m)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < m->n_attach; i++) {
		const struct ln_attach *at = &m->attach[i];
		json_object *c = json_object_new_object();

		json_object_object_add(c, "path", jstr(at->path));
		json_object_object_add(c, "present", json_object_new_boolean(at->present));
		json_object_object_add(c, "attached_at", jstr(at->at));
		json_object_object_add(c, "gone", json_object_new_int64(at->gone));
		json_object_object_add(c, "back", json_object_new_int64(at->back));
		json_object_array_add(a, c);
	}
	return a;
}

static int do_status(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		     struct ln_error *err)
{
	struct ln_manager *m = ctx->m;
	json_object *o = ok_object(), *a;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	json_object_object_add(o, "version", jstr(LN_VERSION));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "uptime_sec",
			       json_object_new_int64(now.tv_sec - ctx->started.tv_sec));
	json_object_object_add(o, "clients", json_object_new_int64(ctx->n_clients));
	json_object_object_add(o, "subscribers", json_object_new_int64(ctx->n_subscribers));
	a = json_object_new_array();
	for (size_t i = 0; i < m->n_attach; i++)
		json_object_array_add(a, jstr(m->attach[i].path));
	json_object_object_add(o, "cgroups", a);
	json_object_object_add(o, "cgroup_state", status_cgroup_state(m));
	json_object_object_add(o, "packet_sockets", jstr(ln_packet_path_name()));
	json_object_object_add(o, "policies", status_policies(m));
	json_object_object_add(o, "counters", status_counters(m));
	json_object_object_add(o, "verdicts", ln_flows_verdicts(m));
	json_object_object_add(o, "lists", ln_status_lists(m->gen->cfg));
	json_object_object_add(o, "maps", ln_map_fill(m));
	json_object_object_add(o, "exes", ln_exe_status(m->gen));
	if (m->dns)
		json_object_object_add(o, "dns", status_dns(m));
	json_object_object_add(o, "history", ln_status_history(m));
	status_generation(ctx, o);
	*reply = o;
	return 0;
}

/* ---- reload ---- */

static int do_reload(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		     struct ln_error *err)
{
	int r = ctx->ops->reload(ctx->ud, err);

	if (r < 0)
		return err->msg[0] ? r : ln_err(err, r, "%s", strerror(-r));
	*reply = NULL; /* the reload runs off the loop: answered when it is done */
	return LN_CTL_PENDING;
}

/* ---- explain ---- */

/*
 * "/sys/fs/cgroup/x/y" as it is; "x/y" and "/x/y" (as systemd and
 * /proc/PID/cgroup write them) relative to the cgroup v2 root.
 */
static void cgroup_abs(const char *root, const char *cg, char *buf, size_t len)
{
	size_t n = strlen(root);

	if (!strncmp(cg, root, n) && (cg[n] == '/' || !cg[n])) {
		snprintf(buf, len, "%s", cg);
		return;
	}
	while (*cg == '/')
		cg++;
	snprintf(buf, len, "%s%s%s", root, *cg && strcmp(root, "/") ? "/" : "", cg);
}

static __u32 find_policy(const struct ln_config *cfg, const char *name, bool *found)
{
	*found = true;
	if (!strcmp(name, "-"))
		return LN_POLICY_IMPLICIT;
	for (size_t i = 0; i < cfg->n_policies; i++)
		if (!strcmp(cfg->policies[i].name, name))
			return i + 1;
	*found = false;
	return 0;
}

static bool has_domain_rules(const struct ln_config *cfg, __u32 id)
{
	return id && id <= cfg->n_policies && cfg->policies[id - 1].n_domain_rules;
}

/* A rule's file:line as @at_key of @o and, when the file still has it, its text as @text_key. */
static void rule_where(json_object *o, const struct ln_config *cfg, __u32 rule_id,
		       const char *at_key, const char *text_key)
{
	char where[600], text[512];
	const char *path = ln_sources_path(&cfg->sources, LN_RULE_ID_FILE(rule_id));

	ln_rule_id_format(&cfg->sources, rule_id, where, sizeof(where));
	json_object_object_add(o, at_key, jstr(where));
	if (rule_id && ln_ctl_source_line(path, LN_RULE_ID_LINE(rule_id), text, sizeof(text)) == 0)
		json_object_object_add(o, text_key, jstr(text));
}

static void explain_rule(json_object *o, const struct ln_config *cfg, __u32 rule_id)
{
	rule_where(o, cfg, rule_id, "rule", "line");
}

/* A unit's cgroup as the agent's cgroup watcher sees it (systemd, else the tree rule). */
static bool unit_match(const char *unit, const char *path, void *ud)
{
	return ln_unit_is_cgroup(ud, unit, path);
}

/*
 * The policy of the cgroup an explain request names into *@id, and that
 * cgroup into @o. Returns whether the cgroup is guarded at all.
 */
static bool explain_cgroup(const struct ln_manager *m, const struct ln_ctl_explain *req,
			   json_object *o, __u32 *id)
{
	char matched[4096], abs[8192], **attach = attach_paths(m);
	bool guarded;

	cgroup_abs(m->cg2_root, req->cgroup, abs, sizeof(abs));
	*id = ln_ctl_cgroup_policy(m->gen->cc.bindings, m->gen->cc.n_bindings, m->cg2_root,
				   req->cgroup, unit_match, (void *)m, matched, sizeof(matched));
	json_object_object_add(o, "cgroup", jstr(abs));
	if (matched[0])
		json_object_object_add(o, "matched_cgroup", jstr(matched));
	guarded = attach && ln_ctl_cgroup_guarded(m->cg2_root, attach, m->n_attach, abs);
	free(attach);
	json_object_object_add(o, "guarded", json_object_new_boolean(guarded));
	if (guarded)
		return true;
	json_object_object_add(o, "verdict", jstr("allow"));
	json_object_object_add(o, "reason", jstr("not-guarded"));
	json_object_object_add(o, "rule", jstr("-"));
	return false;
}

/* What policy @id decides for the request's destination, and why, into @o. */
static void explain_decide(const struct ln_manager *m, __u32 id, const struct ln_ctl_explain *req,
			   json_object *o)
{
	const struct ln_config *cfg = m->gen->cfg;
	struct ln_decision d;

	ln_explain_decide(m->gen, id, req->addr, req->port, req->proto, &d);
	json_object_object_add(o, "policy", jstr(id ? cfg->policies[id - 1].name : "-"));
	json_object_object_add(o, "policy_id", json_object_new_int64(id));
	json_object_object_add(o, "verdict", jstr(d.audit ? "would-deny" :
						  d.verdict == LN_VERDICT_DENY ? "deny" : "allow"));
	if (!id && d.reason == LN_REASON_DEFAULT)
		d.reason = LN_REASON_NONE; /* as the events say: nothing matched */
	json_object_object_add(o, "reason", jstr(ln_reason_name(d.reason)));
	explain_rule(o, cfg, d.rule_id);
	if (has_domain_rules(cfg, id))
		json_object_object_add(o, "note", jstr("the policy has domain rules: an address "
						       "that DNS resolved a matching name to "
						       "follows them while the answer lives"));
}

static int do_explain(struct ln_ctl_ctx *ctx, json_object *request, json_object **reply,
		      struct ln_error *err)
{
	const struct ln_manager *m = ctx->m;
	struct ln_ctl_explain req;
	char addr[64];
	bool found = true;
	json_object *o;
	__u32 id = 0;
	int r;

	r = ln_ctl_parse_explain(request, &req, err);
	if (r < 0)
		return r;
	if (req.policy[0]) {
		id = find_policy(m->gen->cfg, req.policy, &found);
		if (!found)
			return ln_err(err, -ENOENT, "no policy named \"%.200s\"", req.policy);
	}
	o = ok_object();
	json_object_object_add(o, "addr", jstr(ln_addr_format(req.addr, addr, sizeof(addr))));
	if (req.policy[0] || explain_cgroup(m, &req, o, &id)) {
		/* the kernel's order: the scope first, then its exe policy (bpf/exe.bpf.h) */
		if (req.exe[0]) {
			id = ln_exe_table_select(&m->gen->exe, &m->gen->cc, id, req.exe);
			json_object_object_add(o, "exe", jstr(req.exe));
		}
		explain_decide(m, id, &req, o);
	}
	*reply = o;
	return 0;
}

/* ---- rules ---- */

/* Each rule of @v as {"at": "file:line", "text": the line as written}, in order. */
static json_object *rules_list(const struct ln_config *cfg, const struct ln_rule *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_new_object();

		rule_where(r, cfg, v[i].rule_id, "at", "text");
		json_object_array_add(a, r);
	}
	return a;
}

static json_object *rules_policy(const struct ln_config *cfg, const struct ln_policy *p)
{
	json_object *o = json_object_new_object(), *d = json_object_new_object();

	json_object_object_add(o, "name", jstr(p->name));
	rule_where(o, cfg, p->section_rule_id, "at", "text");
	json_object_object_add(o, "rules", rules_list(cfg, p->rules, p->n_rules));
	json_object_object_add(o, "domain_rules",
			       rules_list(cfg, p->domain_rules, p->n_domain_rules));
	rule_where(d, cfg, p->default_rule_id, "at", "text");
	json_object_object_add(o, "default", d);
	json_object_object_add(o, "blocked_hosts",
			       json_object_new_int64(p->hosts.n + p->hosts.n_names));
	json_object_object_add(o, "blocked_domains", json_object_new_int64(p->domains.n));
	return o;
}

/* Every policy's rules with their file:line and text, and the global lists' sizes. */
static int do_rules(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		    struct ln_error *err)
{
	const struct ln_config *cfg = ctx->m->gen->cfg;
	json_object *o = ok_object(), *a = json_object_new_array(), *g = json_object_new_object();

	for (size_t i = 0; i < cfg->n_policies; i++)
		json_object_array_add(a, rules_policy(cfg, &cfg->policies[i]));
	json_object_object_add(o, "policies", a);
	json_object_object_add(g, "blocked_hosts",
			       json_object_new_int64(cfg->hosts.n + cfg->hosts.n_names));
	json_object_object_add(g, "blocked_domains", json_object_new_int64(cfg->domains.n));
	json_object_object_add(o, "global", g);
	*reply = o;
	return 0;
}

/* ---- rule-add, rule-undo: the managed rules file ---- */

/* The string @key of @req, "" when absent or not a string. */
static const char *req_str(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* A rule change whose reload runs: the file as it was, the rule's line (0: an undo). */
struct managed_pending {
	struct ln_managed_edit ed;
	__u32 line;
};

static json_object *managed_done(struct ln_ctl_ctx *ctx, int r, const char *msg)
{
	struct managed_pending *mp = ctx->pending;
	const char *path = ctx->m->opts.managed_rules;
	struct ln_error err = {""}, rerr = {""};
	char at[600], text[512];
	json_object *o;

	ctx->pending = NULL;
	ctx->pending_done = NULL;
	if (r < 0) {
		ln_err(&err, r, "%s", msg[0] ? msg : strerror(-r));
		/* the policy in force is the old one: so must the file be */
		if (ln_managed_revert(path, &mp->ed, &rerr) < 0)
			ln_err(&err, r, "%s (and the file was not put back: %s)", err.msg, rerr.msg);
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", jstr(err.msg));
	} else {
		o = ok_object();
		if (mp->line) {
			snprintf(at, sizeof(at), "%s:%u", path, mp->line);
			json_object_object_add(o, "at", jstr(at));
			json_object_object_add(o, "line", json_object_new_int64(mp->line));
			if (ln_ctl_source_line(path, mp->line, text, sizeof(text)) == 0)
				json_object_object_add(o, "text", jstr(text));
		}
	}
	ln_managed_edit_free(&mp->ed);
	free(mp);
	return o;
}

struct json_object *ln_ctl_pending_answer(struct ln_ctl_ctx *ctx, int r, const char *msg)
{
	return ctx->pending_done ? ctx->pending_done(ctx, r, msg) : NULL;
}

/*
 * Starts the reload with the edited file in force. It runs off the loop: the
 * answer (the rule's "at" file:line and "text", or the refusal's file:line
 * reason with the file put back) comes when it ends, from managed_done().
 */
static int managed_reload(struct ln_ctl_ctx *ctx, struct ln_managed_edit *ed, __u32 line,
			  json_object **reply, struct ln_error *err)
{
	const char *path = ctx->m->opts.managed_rules;
	struct managed_pending *mp = calloc(1, sizeof(*mp));
	struct ln_error rerr = {""};
	int r = mp ? ctx->ops->reload(ctx->ud, err) : ln_err(err, -ENOMEM, "out of memory");

	if (r < 0) {
		free(mp);
		if (!err->msg[0])
			ln_err(err, r, "%s", strerror(-r));
		if (ln_managed_revert(path, ed, &rerr) < 0)
			ln_err(err, r, "%s (and the file was not put back: %s)", err->msg, rerr.msg);
		return r;
	}
	mp->ed = *ed; /* the pending change owns the old text now */
	*ed = (struct ln_managed_edit){};
	mp->line = line;
	ctx->pending = mp;
	ctx->pending_done = managed_done;
	*reply = NULL;
	return LN_CTL_PENDING;
}

/* {"policy", "verdict": "allow"|"deny", "dest", "port", "proto"}: a rule into the file. */
static int do_rule_add(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		       struct ln_error *err)
{
	const char *verdict = req_str(req, "verdict");
	struct ln_managed_rule r = {
		.policy = req_str(req, "policy"),
		.dest = req_str(req, "dest"),
		.proto = req_str(req, "proto"),
	};
	struct ln_managed_edit ed = {};
	json_object *v;
	__u32 line;
	int rc;

	if (!strcmp(verdict, "allow") || !strcmp(verdict, "deny"))
		r.verdict = verdict[0] == 'a' ? LN_VERDICT_ALLOW : LN_VERDICT_DENY;
	else
		return ln_err(err, -EINVAL, "bad verdict \"%s\" (allow or deny)", verdict);
	if (json_object_object_get_ex(req, "port", &v))
		r.port = json_object_get_int64(v) < 0 ? 1u << 20 : json_object_get_int64(v);
	if (ctx->pending_done)
		return ln_err(err, -EBUSY, "another rule change is being applied: try again");
	rc = ln_managed_add(ctx->m->opts.managed_rules, &r, &ed, &line, err);
	if (!rc)
		rc = managed_reload(ctx, &ed, line, reply, err);
	ln_managed_edit_free(&ed);
	return rc;
}

/* {"line", "text"}: takes out the rule rule-add wrote there, if the line still reads @text. */
static int do_rule_undo(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
			struct ln_error *err)
{
	struct ln_managed_edit ed = {};
	json_object *v;
	__u32 line = 0;
	int rc;

	if (json_object_object_get_ex(req, "line", &v))
		line = json_object_get_int64(v) > 0 ? json_object_get_int64(v) : 0;
	if (ctx->pending_done)
		return ln_err(err, -EBUSY, "another rule change is being applied: try again");
	rc = ln_managed_remove(ctx->m->opts.managed_rules, line, req_str(req, "text"), &ed, err);
	if (!rc)
		rc = managed_reload(ctx, &ed, 0, reply, err);
	ln_managed_edit_free(&ed);
	return rc;
}

/* ---- events ---- */

static int do_events(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		     struct ln_error *err)
{
	*reply = ok_object();
	json_object_object_add(*reply, "subscribed", json_object_new_boolean(1));
	return LN_CTL_SUBSCRIBE;
}

static const struct ln_ctl_cmd cmds[] = {
	{ "status", do_status },
	{ "reload", do_reload },
	{ "explain", do_explain },
	{ "rules", do_rules },
	{ "events", do_events },
	{ "rule-add", do_rule_add },
	{ "rule-undo", do_rule_undo },
	{ "history", ln_ctl_history },
	{ "learn", ln_ctl_learn },
};

int ln_ctl_command(struct ln_ctl_ctx *ctx, const char *line, size_t len,
		   struct json_object **reply, struct ln_error *err)
{
	return ln_ctl_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), ctx, line, len, reply, err);
}
