// SPDX-License-Identifier: GPL-2.0
/* The agent's control socket: status, reload, explain and live events for the lsnitch CLI. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "agent.h"
#include "control.h"
#include "control_proto.h"
#include "dns_proxy.h"

struct ln_ctl_client {
	struct ln_control *ctl;
	struct ln_ctl_client *next;
	int fd;
	sd_event_source *src;
	char in[LN_CTL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool subscribed, closing, dead;
	unsigned long long dropped; /* events lost since the last one it got */
};

struct ln_control {
	struct ln_manager *m;
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	sd_event_source *src;
	struct ln_ctl_client *clients;
	size_t n_clients, n_subscribers;
	struct timespec started;   /* CLOCK_MONOTONIC */
	time_t loaded_at;          /* wall clock of the generation in force */
	time_t reload_at;          /* 0: never reloaded */
	int reload_r;
	char reload_msg[LN_ERR_MAX];
};


/* ---- output ---- */

static int client_queue(struct ln_ctl_client *c, const char *s, size_t len)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	return 0;
}

/* Queue @o as one line and drop the reference. */
static int client_send(struct ln_ctl_client *c, json_object *o)
{
	const char *s;
	int r;

	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	r = client_queue(c, s, strlen(s));
	if (r >= 0)
		r = client_queue(c, "\n", 1);
	json_object_put(o);
	return r;
}

static int client_send_error(struct ln_ctl_client *c, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return client_send(c, o);
}

static void client_flush(struct ln_ctl_client *c)
{
	while (!c->dead && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
			if (errno != EINTR)
				break;
			continue;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

static void client_free(struct ln_ctl_client *c)
{
	struct ln_control *ctl = c->ctl;
	struct ln_ctl_client **pp;

	for (pp = &ctl->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ctl->n_clients--;
	if (c->subscribed)
		ctl->n_subscribers--;
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Wait for what there is to wait for: input unless closing, room when output is queued. */
static void client_update(struct ln_ctl_client *c)
{
	uint32_t ev = (c->closing ? 0 : EPOLLIN) | (c->out_len > c->out_off ? EPOLLOUT : 0);

	sd_event_source_set_io_events(c->src, ev);
}

/* ---- requests ---- */

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *status_policy(const struct ln_config *cfg, const struct ln_policy *p)
{
	json_object *o = json_object_new_object(), *cgs = json_object_new_array();
	char where[600];

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
	json_object_object_add(o, "rules", json_object_new_int64(p->n_rules));
	json_object_object_add(o, "domain_rules", json_object_new_int64(p->n_domain_rules));
	ln_rule_id_format(&cfg->sources, p->section_rule_id, where, sizeof(where));
	json_object_object_add(o, "file", jstr(where));
	return o;
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
#undef ADD
	return o;
}

static json_object *status_counters(struct ln_manager *m)
{
	json_object *o = json_object_new_object();
	__u64 cnt[LN_CNT_MAX];

	if (ln_read_counters(m, cnt) < 0)
		return NULL;
	json_object_object_add(o, "allowed", json_object_new_uint64(cnt[LN_CNT_ALLOWED]));
	json_object_object_add(o, "denied", json_object_new_uint64(cnt[LN_CNT_DENIED]));
	json_object_object_add(o, "would_deny", json_object_new_uint64(cnt[LN_CNT_AUDITED]));
	json_object_object_add(o, "events_dropped",
			       json_object_new_uint64(cnt[LN_CNT_EVENTS_DROPPED]));
	json_object_object_add(o, "dns_redirected",
			       json_object_new_uint64(cnt[LN_CNT_DNS_REDIRECTED]));
	json_object_object_add(o, "dns_no_slot", json_object_new_uint64(cnt[LN_CNT_DNS_NO_SLOT]));
	return o;
}

static json_object *do_status(struct ln_control *ctl)
{
	struct ln_manager *m = ctl->m;
	const struct ln_config *cfg = m->gen->cfg;
	json_object *o = json_object_new_object(), *a;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "version", jstr(LN_VERSION));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "uptime_sec",
			       json_object_new_int64(now.tv_sec - ctl->started.tv_sec));
	json_object_object_add(o, "clients", json_object_new_int64(ctl->n_clients));
	json_object_object_add(o, "subscribers", json_object_new_int64(ctl->n_subscribers));
	a = json_object_new_array();
	for (size_t i = 0; i < m->n_attach; i++)
		json_object_array_add(a, jstr(m->attach[i].path));
	json_object_object_add(o, "cgroups", a);
	a = json_object_new_array();
	for (size_t i = 0; i < cfg->n_policies; i++)
		json_object_array_add(a, status_policy(cfg, &cfg->policies[i]));
	json_object_object_add(o, "policies", a);
	json_object_object_add(o, "counters", status_counters(m));
	if (m->dns)
		json_object_object_add(o, "dns", status_dns(m));
	a = json_object_new_object();
	json_object_object_add(a, "loaded_at", json_object_new_int64(ctl->loaded_at));
	json_object_object_add(a, "load_ms", json_object_new_double(m->gen->load_ms));
	json_object_object_add(a, "bound", json_object_new_int64(m->gen->n_bound));
	json_object_object_add(o, "generation", a);
	if (ctl->reload_at) {
		a = json_object_new_object();
		json_object_object_add(a, "at", json_object_new_int64(ctl->reload_at));
		json_object_object_add(a, "ok", json_object_new_boolean(ctl->reload_r >= 0));
		if (ctl->reload_r < 0)
			json_object_object_add(a, "error", jstr(ctl->reload_msg));
		json_object_object_add(o, "last_reload", a);
	}
	return o;
}

static json_object *do_reload(struct ln_control *ctl)
{
	struct ln_error err = {};
	json_object *o = json_object_new_object();
	int r;

	r = ln_manager_reload(ctl->m, &err);
	json_object_object_add(o, "ok", json_object_new_boolean(r >= 0));
	if (r < 0)
		json_object_object_add(o, "error", jstr(err.msg[0] ? err.msg : strerror(-r)));
	return o;
}

/* Whether @abs is one of the attached cgroups or below one. */
static bool is_guarded(const struct ln_manager *m, const char *abs)
{
	for (size_t i = 0; i < m->n_attach; i++) {
		const char *a = m->attach[i].path;
		size_t n = strlen(a);

		while (n > 1 && a[n - 1] == '/')
			n--;
		if (!strncmp(abs, a, n) && (abs[n] == '/' || !abs[n] || (n == 1 && a[0] == '/')))
			return true;
	}
	return false;
}

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

static void explain_rule(json_object *o, const struct ln_config *cfg, __u32 rule_id)
{
	char where[600], text[512];
	const char *path = ln_sources_path(&cfg->sources, LN_RULE_ID_FILE(rule_id));

	ln_rule_id_format(&cfg->sources, rule_id, where, sizeof(where));
	json_object_object_add(o, "rule", jstr(where));
	if (rule_id && ln_ctl_source_line(path, LN_RULE_ID_LINE(rule_id), text, sizeof(text)) == 0)
		json_object_object_add(o, "line", jstr(text));
}

static json_object *do_explain(struct ln_control *ctl, const struct ln_ctl_request *req)
{
	struct ln_manager *m = ctl->m;
	const struct ln_config *cfg = m->gen->cfg;
	json_object *o = json_object_new_object();
	struct ln_decision d;
	char matched[4096], abs[8192];
	bool found = true;
	__u32 id;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	if (req->policy[0]) {
		id = find_policy(cfg, req->policy, &found);
		if (!found) {
			json_object_put(o);
			return NULL;
		}
	} else {
		cgroup_abs(m->cg2_root, req->cgroup, abs, sizeof(abs));
		id = ln_ctl_cgroup_policy(cfg, m->cg2_root, req->cgroup, matched, sizeof(matched));
		json_object_object_add(o, "cgroup", jstr(abs));
		if (matched[0])
			json_object_object_add(o, "matched_cgroup", jstr(matched));
		if (!is_guarded(m, abs)) {
			json_object_object_add(o, "guarded", json_object_new_boolean(0));
			json_object_object_add(o, "verdict", jstr("allow"));
			json_object_object_add(o, "reason", jstr("not-guarded"));
			json_object_object_add(o, "rule", jstr("-"));
			return o;
		}
		json_object_object_add(o, "guarded", json_object_new_boolean(1));
	}
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
	return o;
}

static void client_subscribe(struct ln_ctl_client *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "subscribed", json_object_new_boolean(1));
	client_send(c, o);
	if (!c->subscribed)
		c->ctl->n_subscribers++;
	c->subscribed = true;
}

static void client_request(struct ln_ctl_client *c, const char *line, size_t len)
{
	struct ln_ctl_request *req;
	struct ln_error err = {};
	json_object *o = NULL;

	if (c->subscribed)
		return; /* a subscriber only listens */
	req = malloc(sizeof(*req));
	if (!req) {
		client_send_error(c, "out of memory");
		return;
	}
	if (ln_ctl_parse_request(line, len, req, &err) < 0) {
		client_send_error(c, err.msg);
		goto out;
	}
	switch (req->cmd) {
	case LN_CTL_STATUS:
		o = do_status(c->ctl);
		break;
	case LN_CTL_RELOAD:
		o = do_reload(c->ctl);
		break;
	case LN_CTL_EXPLAIN:
		o = do_explain(c->ctl, req);
		if (!o) {
			snprintf(err.msg, sizeof(err.msg), "no policy named \"%.200s\"",
				 req->policy);
			client_send_error(c, err.msg);
			goto out;
		}
		break;
	case LN_CTL_EVENTS:
		client_subscribe(c);
		goto out;
	}
	if (client_send(c, o) < 0)
		c->dead = true;
out:
	free(req);
}

/* Read what there is; answer every complete line. */
static void client_read(struct ln_ctl_client *c)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (c->in_len == LN_CTL_MAX_REQUEST) {
			client_send_error(c, "request too long (limit 4096 bytes)");
			c->closing = true;
			return;
		}
		n = recv(c->fd, c->in + c->in_len, LN_CTL_MAX_REQUEST - c->in_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = true;
			return;
		}
		if (n == 0) {
			c->closing = true; /* answer what came, then close */
			return;
		}
		c->in_len += n;
		while (!c->closing && (nl = memchr(c->in, '\n', c->in_len))) {
			size_t len = nl - c->in;

			if (len && c->in[len - 1] == '\r')
				len--;
			if (len)
				client_request(c, c->in, len);
			c->in_len -= nl + 1 - c->in;
			memmove(c->in, nl + 1, c->in_len);
		}
		if (c->subscribed)
			c->in_len = 0; /* whatever a subscriber says is ignored */
	}
}

static void publish_dropped(struct ln_ctl_client *c)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "{\"type\":\"dropped\",\"count\":%llu}\n", c->dropped);
	if (client_queue(c, buf, strlen(buf)) == 0)
		c->dropped = 0;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_ctl_client *c = userdata;

	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing)
		client_read(c);
	client_flush(c);
	/* the backlog drained: tell a subscriber what it lost, even if nothing else comes */
	if (c->subscribed && c->dropped && c->out_len == c->out_off && !c->dead) {
		publish_dropped(c);
		client_flush(c);
	}
	if (c->dead || (c->closing && c->out_len == c->out_off) ||
	    (c->closing && (revents & (EPOLLHUP | EPOLLERR)))) {
		client_free(c);
		return 0;
	}
	client_update(c);
	return 0;
}

/* Only root (or the agent's own user) may talk to the agent, whatever the file mode says. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_control *ctl = userdata;

	for (;;) {
		struct ln_ctl_client *c;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			return 0; /* EAGAIN, or a client gone already */
		if (!peer_allowed(cfd) || ctl->n_clients >= LN_CTL_MAX_CLIENTS) {
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			return 0;
		}
		c->ctl = ctl;
		c->fd = cfd;
		if (sd_event_add_io(sd_event_source_get_event(s), &c->src, cfd, EPOLLIN, on_client,
				    c) < 0) {
			close(cfd);
			free(c);
			return 0;
		}
		c->next = ctl->clients;
		ctl->clients = c;
		ctl->n_clients++;
	}
}

/* ---- events ---- */

bool ln_control_has_subscribers(const struct ln_manager *m)
{
	return m->control && m->control->n_subscribers;
}

static json_object *event_object(const struct ln_event_field *f, size_t n)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", jstr("event"));
	for (size_t i = 0; i < n; i++) {
		if (f[i].is_num)
			json_object_object_add(o, f[i].key, json_object_new_uint64(f[i].num));
		else if (f[i].str)
			json_object_object_add(o, f[i].key, jstr(f[i].str));
	}
	return o;
}

void ln_control_publish(struct ln_manager *m, const struct ln_event_field *f, size_t n)
{
	struct ln_control *ctl = m->control;
	json_object *o;
	const char *s;
	size_t len;

	if (!ctl || !ctl->n_subscribers)
		return;
	o = event_object(f, n);
	if (!o)
		return;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	for (struct ln_ctl_client *c = ctl->clients; c; c = c->next) {
		if (!c->subscribed || c->closing || c->dead)
			continue;
		/* never block, never grow without bound: a slow reader loses events */
		if (c->out_len - c->out_off + len + 1 > LN_CTL_MAX_EVENT_BACKLOG) {
			c->dropped++;
			continue;
		}
		if (c->dropped)
			publish_dropped(c);
		if (client_queue(c, s, len) < 0 || client_queue(c, "\n", 1) < 0) {
			c->dropped++;
			continue;
		}
		client_update(c);
	}
	json_object_put(o);
}

/* ---- the listening socket ---- */

void ln_control_reloaded(struct ln_manager *m, int r, const char *msg)
{
	struct ln_control *ctl = m->control;

	if (!ctl)
		return;
	ctl->reload_at = time(NULL);
	ctl->reload_r = r;
	snprintf(ctl->reload_msg, sizeof(ctl->reload_msg), "%s", r < 0 && msg ? msg : "");
	if (r >= 0)
		ctl->loaded_at = ctl->reload_at;
}

/* mkdir -p the parent of @path; directories made here are 0700. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

/* A socket file left by an agent that died is removed; a live one is not ours to take. */
static int remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int control_listen(struct ln_control *ctl, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = make_parent(path);
	if (r < 0)
		return r;
	r = remove_stale(&sa);
	if (r < 0)
		return r;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return -errno;
	/* created 0600: no moment where another user could connect */
	old = umask(0177);
	r = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return -errno;
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0)
		return -errno;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if (listen(ctl->fd, 16) < 0)
		return -errno;
	return 0;
}

int ln_control_start(struct ln_manager *m, const char *path, struct ln_error *err)
{
	struct ln_control *ctl;
	int r;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->m = m;
	ctl->fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &ctl->started);
	ctl->loaded_at = time(NULL);
	m->control = ctl;
	ctl->path = strdup(path);
	if (!ctl->path) {
		r = -ENOMEM;
		goto fail;
	}
	r = control_listen(ctl, path);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path,
			 r == -EADDRINUSE ? "another agent is listening there" : strerror(-r));
		goto fail;
	}
	r = sd_event_add_io(m->event, &ctl->src, ctl->fd, EPOLLIN, on_accept, ctl);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	ln_control_stop(m);
	return r;
}

void ln_control_stop(struct ln_manager *m)
{
	struct ln_control *ctl = m->control;
	struct stat st;

	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	ctl->src = sd_event_source_disable_unref(ctl->src);
	/* unlink only the file we made: a newer agent may have replaced it */
	if (ctl->path && stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		unlink(ctl->path);
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	m->control = NULL;
}
