// SPDX-License-Identifier: GPL-2.0
/*
 * The flow drain: every LN_FLOWS_INTERVAL_US the kernel's flow table is read
 * and emptied into the history database (history.c). History is best effort:
 * a database that cannot be written is closed with a note, the table is still
 * drained (so counting goes on), and opening is tried again later.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "exe_names.h"
#include "flows.h"
#include "history.h"
#include "names.h"
#include "verdict_counts.h"
#include "lsnitch_flow.h"
#include "lsnitch.skel.h"

#define LN_FLOWS_INTERVAL_US (2 * 1000000ULL)
#define LN_FLOWS_PRUNE_S 600 /* retention, and another try at a database that failed */
#define LN_FLOWS_CHUNK 1024  /* entries per batch syscall and per transaction */
#define LN_FLOWS_TURN_CHUNKS 2 /* chunks of the table per loop turn */
#define LN_FLOWS_YIELD_US 1000 /* then the rest of the table after this pause */
#define LN_FLOWS_ROLLUP_US 50000 /* roll-up steps a turn, at most (one step may take longer) */

struct flow_text {
	char cgroup[512], addr[INET6_ADDRSTRLEN], rule[300], proto[8], exe[512], container[80];
};

struct ln_flows {
	struct ln_history *hist;
	sd_event_source *timer;
	struct ln_flow_key keys[LN_FLOWS_CHUNK];
	struct ln_flow_val vals[LN_FLOWS_CHUNK];
	struct ln_history_row rows[LN_FLOWS_CHUNK];
	struct flow_text text[LN_FLOWS_CHUNK];
	__u64 lost_stored, lost_said; /* flow_lost totals already in the history, logged */
	struct ln_vcounts *counts;  /* per (policy, verdict, reason), for /metrics */
	struct ln_exe_names *exes;  /* executables' paths by identity */
	struct ring_buffer *exe_rb; /* exe_new: executables new to the flows */
	sd_event_source *exe_io;
	struct ln_flow_slot *cache; /* one half of flow_cache: [slot][cpu] */
	void *zeros;                /* as big, all zero: clears a half */
	__u32 cache_keys[LN_FLOW_CACHE_SLOTS];
	int ncpu;
	size_t n;                   /* entries in keys/vals not written yet */
	time_t next_prune; /* and next try to open, when hist is NULL */
	bool table_more;   /* the last turn left entries in the table */
	bool history_failed;
	char last_error[LN_ERR_MAX]; /* the database's last failure, for status */
	time_t last_error_at;
};

static const char *history_path(const struct ln_manager *m)
{
	return m->opts.history ? m->opts.history : LN_HISTORY_PATH;
}

bool ln_flows_enabled(const struct ln_manager *m)
{
	return strcmp(history_path(m), "none") != 0;
}

int ln_flows_configure(struct ln_manager *m, struct lsnitch_bpf *s)
{
	int r = 0;

	s->rodata->ln_flows_on = ln_flows_enabled(m);
	if (m->flows_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.flows, m->flows_fd);
	if (!r && m->flow_lost_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.flow_lost, m->flow_lost_fd);
	if (!r && m->flow_cache_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.flow_cache, m->flow_cache_fd);
	if (!r && m->flow_epoch_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.flow_epoch, m->flow_epoch_fd);
	if (!r && m->exe_new_fd >= 0)
		r = bpf_map__reuse_fd(s->maps.exe_new, m->exe_new_fd);
	return r;
}

static const char *flow_verdict(const struct ln_flow_key *k)
{
	if (k->flags & LN_FLOW_DNS)
		return "redirect";
	if (k->flags & LN_FLOW_AUDIT)
		return "would-deny";
	return k->verdict == LN_VERDICT_DENY ? "deny" : "allow";
}

static const char *flow_policy(const struct ln_manager *m, __u32 id)
{
	if (id == LN_POLICY_IMPLICIT || !m->gen || id > m->gen->cfg->n_policies)
		return "-";
	return m->gen->cfg->policies[id - 1].name;
}

/* The reason as the events name it: the implicit policy's default is "nothing matched". */
static const char *flow_reason(const struct ln_flow_key *k)
{
	if (k->policy_id == LN_POLICY_IMPLICIT && k->reason == LN_REASON_DEFAULT)
		return ln_reason_name(LN_REASON_NONE);
	return ln_reason_name(k->reason);
}

static void flow_addr(const __u8 *a, char *buf, size_t len)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a, mapped, sizeof(mapped)))
		inet_ntop(AF_INET, a + 12, buf, len);
	else
		inet_ntop(AF_INET6, a, buf, len);
}

/* Kernel times (CLOCK_MONOTONIC ns) to Unix seconds. */
static int64_t wall_of(__u64 mono_ns)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return real.tv_sec - (int64_t)((mono.tv_sec * 1000000000ULL + mono.tv_nsec - mono_ns) /
				       1000000000ULL);
}

static void flow_row(struct ln_manager *m, const struct ln_flow_key *k,
		     const struct ln_flow_val *v, struct ln_history_row *w, struct flow_text *t)
{
	const char *name = ln_dns_name_of(m, k->policy_id, k->addr);

	ln_cgroup_name(m, k->cgroup_id, t->cgroup, sizeof(t->cgroup));
	flow_addr(k->addr, t->addr, sizeof(t->addr));
	if (k->rule_id && m->gen)
		ln_rule_id_format(&m->gen->cfg->sources, k->rule_id, t->rule, sizeof(t->rule));
	else
		snprintf(t->rule, sizeof(t->rule), "-");
	snprintf(t->proto, sizeof(t->proto), "%s", ln_proto_name(k->proto));
	ln_exe_names_get(m->flows->exes, m->gen ? &m->gen->exe : NULL, &k->exe, v->tgid, t->exe,
			 sizeof(t->exe));
	if (!ln_cgroup_container(t->cgroup, t->container, sizeof(t->container)))
		t->container[0] = '\0';
	*w = (struct ln_history_row){
		.cgroup = t->cgroup, .policy = flow_policy(m, k->policy_id), .addr = t->addr,
		.name = name ? name : "", .proto = t->proto, .verdict = flow_verdict(k),
		.reason = flow_reason(k), .rule = t->rule, .exe = t->exe,
		.container = t->container, .port = k->port,
		.count = v->count, .first = wall_of(v->first_ns), .last = wall_of(v->last_ns),
	};
	/* Seen again since: some time up to this drain (hits do not read the clock). */
	if (v->count > 1)
		w->last = time(NULL);
}

static void history_failed(struct ln_manager *m, const struct ln_error *err)
{
	struct ln_flows *f = m->flows;

	ln_note(m, LOG_WARNING, "%s; continuing without history, trying again in %d minutes",
		err->msg, LN_FLOWS_PRUNE_S / 60);
	snprintf(f->last_error, sizeof(f->last_error), "%s", err->msg);
	f->last_error_at = time(NULL);
	ln_history_close(f->hist);
	f->hist = NULL;
	f->next_prune = time(NULL) + LN_FLOWS_PRUNE_S;
}

/* Write @n drained entries (the database permitting). */
static void flows_write(struct ln_manager *m, size_t n)
{
	struct ln_flows *f = m->flows;
	struct ln_error err = {};

	f->n = 0;
	/* counted with or without a database: an allocation failure only loses a count */
	for (size_t i = 0; i < n; i++)
		ln_vcounts_add(&f->counts, flow_policy(m, f->keys[i].policy_id),
			       flow_verdict(&f->keys[i]), flow_reason(&f->keys[i]), f->vals[i].count);
	if (!f->hist)
		return;
	for (size_t i = 0; i < n; i++)
		flow_row(m, &f->keys[i], &f->vals[i], &f->rows[i], &f->text[i]);
	if (ln_history_add(f->hist, f->rows, n, &err) < 0)
		history_failed(m, &err);
}

/*
 * Read and empty the kernel's table, a chunk per syscall and at most
 * LN_FLOWS_TURN_CHUNKS a loop turn (each is an SQLite transaction of a few
 * ms): the control socket and the proxy get their turn in between, even when
 * a flood of new destinations keeps the table full. True if more is left.
 * Every call starts at the first entry: those read before are deleted.
 */
static bool flows_drain_table(struct ln_manager *m)
{
	struct ln_flows *f = m->flows;
	__u64 out = 0;

	for (int c = 0; c < LN_FLOWS_TURN_CHUNKS; c++) {
		__u32 n = LN_FLOWS_CHUNK;
		int r = bpf_map_lookup_and_delete_batch(m->flows_fd, NULL, &out, f->keys, f->vals,
							 &n, NULL);

		if (r < 0 && errno != ENOENT)
			return false;
		if (n)
			flows_write(m, n);
		if (r < 0)
			return false;
	}
	return true;
}

/* One CPU's slot of the cache into the batch, written when full. */
static void flows_take_slot(struct ln_manager *m, const struct ln_flow_slot *s)
{
	struct ln_flows *f = m->flows;

	f->keys[f->n] = s->k;
	f->vals[f->n] = (struct ln_flow_val){ s->count, s->first_ns, s->first_ns, s->tgid, 0 };
	if (++f->n == LN_FLOWS_CHUNK)
		flows_write(m, f->n);
}

/*
 * The half of the cache the programs left at the last flip (2 s ago: no
 * program is still in it), read and cleared; then flip. A count is in the
 * history one to two intervals after it happened.
 */
static void flows_drain_cache(struct ln_manager *m)
{
	struct ln_flows *f = m->flows;
	__u32 zero = 0, epoch, prev, n = LN_FLOW_CACHE_SLOTS, out;
	bool any = false;

	if (bpf_map_lookup_elem(m->flow_epoch_fd, &zero, &epoch) < 0)
		return;
	prev = (epoch ^ 1) & 1 ? LN_FLOW_CACHE_SLOTS - 1 : 0;
	if (bpf_map_lookup_batch(m->flow_cache_fd, prev ? &prev : NULL, &out, f->cache_keys,
				 f->cache, &n, NULL) < 0 && errno != ENOENT)
		return;
	for (__u32 i = 0; i < n * (__u32)f->ncpu; i++)
		if (f->cache[i].count) {
			flows_take_slot(m, &f->cache[i]);
			any = true;
		}
	if (any)
		bpf_map_update_batch(m->flow_cache_fd, f->cache_keys, f->zeros, &n, NULL);
	if (f->n)
		flows_write(m, f->n);
	epoch ^= 1;
	bpf_map_update_elem(m->flow_epoch_fd, &zero, &epoch, BPF_ANY);
}

static __u64 flows_lost_total(struct ln_manager *m)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu > 0 ? ncpu : 1], sum = 0;
	__u32 zero = 0;

	if (ncpu <= 0 || bpf_map_lookup_elem(m->flow_lost_fd, &zero, vals) < 0)
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

/* Verdicts the full table could not count: into the history, and said (not too often). */
static void flows_check_lost(struct ln_manager *m, bool say)
{
	struct ln_flows *f = m->flows;
	__u64 total = flows_lost_total(m), fresh = total - f->lost_stored;
	struct ln_error err = {};

	if (fresh && f->hist && ln_history_add_lost(f->hist, time(NULL), fresh, &err) < 0)
		history_failed(m, &err);
	f->lost_stored = total;
	if (!say || total == f->lost_said)
		return;
	ln_note(m, LOG_WARNING, "flow table full: %llu verdicts not counted (%llu in all)",
		(unsigned long long)(total - f->lost_said), (unsigned long long)total);
	f->lost_said = total;
}

static void flows_open(struct ln_manager *m)
{
	struct ln_history_limits lim = {
		.retention_s = LN_HISTORY_RETENTION_S, .max_bytes = LN_HISTORY_MAX_BYTES,
		.minutes_s = LN_HISTORY_MINUTES_S, .hours_s = LN_HISTORY_HOURS_S,
	};
	struct ln_flows *f = m->flows;
	struct ln_error err = {};

	if (ln_history_open(history_path(m), &lim, &f->hist, &err) < 0)
		history_failed(m, &err);
}

/* Every LN_FLOWS_PRUNE_S: retention, another try at opening, what was lost. */
static void flows_housekeeping(struct ln_manager *m)
{
	struct ln_flows *f = m->flows;
	struct ln_error err = {};
	uint64_t deleted = 0;
	time_t now = time(NULL);

	if (now < f->next_prune)
		return;
	f->next_prune = now + LN_FLOWS_PRUNE_S;
	if (!f->hist)
		flows_open(m);
	if (f->hist && ln_history_prune(f->hist, now, &deleted, &err) < 0)
		history_failed(m, &err);
	else if (deleted)
		ln_note(m, LOG_INFO, "history: %llu old buckets removed",
			(unsigned long long)deleted);
	flows_check_lost(m, true);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/*
 * The roll-ups (minutes into hours, hours into days) as minutes age: steps
 * until done or LN_FLOWS_ROLLUP_US went by; a backlog (a database from an
 * older agent, a long stop) is caught up over the next turns.
 */
static void flows_rollup(struct ln_manager *m)
{
	struct ln_flows *f = m->flows;
	uint64_t start = mono_us();
	struct ln_error err = {};
	bool more = true;

	while (f->hist && more && mono_us() - start < LN_FLOWS_ROLLUP_US)
		if (ln_history_rollup(f->hist, time(NULL), &more, &err) < 0)
			history_failed(m, &err);
}

static int on_flows_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ln_manager *m = ud;
	struct ln_flows *f = m->flows;

	if (!f->table_more)
		flows_drain_cache(m);
	f->table_more = flows_drain_table(m);
	if (f->table_more)
		return sd_event_source_set_time_relative(s, LN_FLOWS_YIELD_US);
	flows_rollup(m);
	flows_housekeeping(m);
	flows_check_lost(m, false);
	return sd_event_source_set_time_relative(s, LN_FLOWS_INTERVAL_US);
}

void ln_flows_status(struct ln_manager *m, struct ln_flows_status *st)
{
	struct ln_flows *f = m->flows;

	*st = (struct ln_flows_status){ .path = history_path(m), .enabled = ln_flows_enabled(m) };
	if (!f)
		return;
	st->lost = flows_lost_total(m);
	st->last_error = f->last_error;
	st->last_error_at = f->last_error_at;
	st->open = f->hist != NULL;
	if (f->hist)
		ln_history_info(f->hist, &st->info);
}

/* A new executable: its path now, while the task that ran it (most likely) still does. */
static int on_exe_new(void *ctx, void *data, size_t size)
{
	struct ln_manager *m = ctx;
	const struct ln_exe_new *n = data;

	if (size >= sizeof(*n))
		ln_exe_names_learn(m->flows->exes, &n->exe, n->tgid);
	return 0;
}

static int on_exe_new_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ln_manager *m = ud;

	ring_buffer__consume(m->flows->exe_rb);
	return 0;
}

/* The consumer of exe_new: paths of short-lived processes are read before they exit. */
static int flows_exe_listen(struct ln_manager *m)
{
	struct ln_flows *f = m->flows;

	if (m->exe_new_fd < 0)
		return 0;
	f->exe_rb = ring_buffer__new(m->exe_new_fd, on_exe_new, m, NULL);
	if (!f->exe_rb)
		return -errno;
	return sd_event_add_io(m->event, &f->exe_io, ring_buffer__epoll_fd(f->exe_rb), EPOLLIN,
			       on_exe_new_io, m);
}

int ln_flows_start(struct ln_manager *m)
{
	struct ln_flows *f;
	int r;

	if (!ln_flows_enabled(m) || m->flows_fd < 0)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	m->flows = f;
	f->ncpu = libbpf_num_possible_cpus();
	if (f->ncpu <= 0)
		return -EINVAL;
	f->exes = ln_exe_names_new();
	if (!f->exes)
		return -ENOMEM;
	f->cache = calloc((size_t)f->ncpu * LN_FLOW_CACHE_SLOTS, sizeof(*f->cache));
	f->zeros = calloc((size_t)f->ncpu * LN_FLOW_CACHE_SLOTS, sizeof(*f->cache));
	if (!f->cache || !f->zeros)
		return -ENOMEM;
	f->lost_stored = f->lost_said = flows_lost_total(m);
	r = flows_exe_listen(m);
	if (r < 0)
		return r;
	flows_housekeeping(m);
	r = sd_event_add_time_relative(m->event, &f->timer, CLOCK_MONOTONIC,
				       LN_FLOWS_INTERVAL_US, 100000, on_flows_timer, m);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(f->timer, SD_EVENT_ON);
}

struct json_object *ln_flows_verdicts(const struct ln_manager *m)
{
	return ln_vcounts_json(m->flows ? m->flows->counts : NULL);
}

void ln_flows_stop(struct ln_manager *m)
{
	struct ln_flows *f = m->flows;

	if (!f)
		return;
	f->timer = sd_event_source_disable_unref(f->timer);
	/* Both halves: the one in use after a flip and a moment for programs in it. */
	flows_drain_cache(m);
	usleep(1000);
	flows_drain_cache(m);
	while (flows_drain_table(m))
		;
	flows_check_lost(m, true);
	ln_history_close(f->hist);
	ln_vcounts_free(f->counts);
	sd_event_source_disable_unref(f->exe_io);
	ring_buffer__free(f->exe_rb);
	ln_exe_names_free(f->exes);
	free(f->cache);
	free(f->zeros);
	free(f);
	m->flows = NULL;
}
