// SPDX-License-Identifier: GPL-2.0
/*
 * Exe policies in the agent: each exe= path resolved to the identity the programs compare
 * (bpf/exe.bpf.h), and kept right when the file is replaced. A package upgrade writes a new
 * file and renames it over the old one: a new inode, which the map must name before the
 * programs can match it. inotify on the file's directory says when.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "agent.h"
#include "exe_watch.h"
#include "lsnitch.skel.h"

#define LN_EXE_WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB)

struct ln_exe_watch {
	int fd;
	sd_event_source *src;
};

int ln_exe_identity(const char *path, struct ln_exe_id *id)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return -errno;
	id->dev = ((__u64)major(sb.st_dev) << 20) | minor(sb.st_dev);
	id->ino = sb.st_ino;
	return 0;
}

static struct ln_exe_key exe_key(const struct ln_exe_entry *e)
{
	struct ln_exe_key k = {.scope = e->b->scope_id, .exe = e->id};

	return k;
}

/* Whether another resolved entry of the table holds @e's map key. */
static bool key_shared(const struct ln_exe_table *t, const struct ln_exe_entry *e)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct ln_exe_entry *o = &t->v[i];

		if (o != e && o->resolved && o->b->scope_id == e->b->scope_id &&
		    !memcmp(&o->id, &e->id, sizeof(e->id)))
			return true;
	}
	return false;
}

/* Slot @i of @t's table into the programs' copy. */
static int slot_write(const struct ln_exe_table *t, __u32 i)
{
	return bpf_map_update_elem(t->filter_fd, &i, &t->slots[i], BPF_ANY) < 0 ? -errno : 0;
}

static struct ln_exe_slot *slot_of(const struct ln_exe_table *t, const struct ln_exe_key *k,
				   __u32 *i)
{
	*i = ln_exe_slot_of(k->scope, k->exe.dev, k->exe.ino) & (t->n_slots - 1);
	return &t->slots[*i];
}

/*
 * @k's slot (lsnitch_exe_filter.h), before its exe_policy entry exists: identity and policy
 * written, then made valid (one byte changes). A slot another key holds becomes shared.
 */
static int slot_add(struct ln_exe_table *t, const struct ln_exe_key *k, __u32 policy_id)
{
	__u32 i;
	struct ln_exe_slot *s = slot_of(t, k, &i);
	int r;

	if (s->shared || (s->valid && ln_exe_slot_is(s, k->scope, &k->exe)))
		return 0; /* exe_policy decides, or the first path to this file keeps it */
	if (s->valid || k->exe.dev > UINT32_MAX) {
		s->shared = 1;
		return slot_write(t, i);
	}
	*s = (struct ln_exe_slot){.ino = k->exe.ino, .dev = (__u32)k->exe.dev, .scope = k->scope,
				  .policy_id = policy_id};
	r = slot_write(t, i);
	s->valid = 1;
	return r ?: slot_write(t, i);
}

/* Before @k's exe_policy entry goes: the slot holding it shared, for good (one byte changes). */
static int slot_drop(struct ln_exe_table *t, const struct ln_exe_key *k)
{
	__u32 i;
	struct ln_exe_slot *s = slot_of(t, k, &i);

	if (s->shared || !s->valid || !ln_exe_slot_is(s, k->scope, &k->exe))
		return 0;
	s->shared = 1;
	return slot_write(t, i);
}

/*
 * Entry @e's identity now: 1 if its map entry changed, 0 if not, -errno. Two paths of one
 * file in one scope: the first in load order keeps the key (BPF_NOEXIST).
 */
static int exe_resolve(struct ln_exe_table *t, struct ln_exe_entry *e)
{
	struct ln_exe_id id;
	struct ln_exe_key k;
	bool now = !ln_exe_identity(e->b->path, &id);
	int r;

	if (now == e->resolved && (!now || !memcmp(&id, &e->id, sizeof(id))))
		return 0;
	if (e->resolved) {
		e->resolved = false;
		k = exe_key(e);
		r = slot_drop(t, &k);
		if (r < 0)
			return r;
		if (!key_shared(t, e))
			bpf_map_delete_elem(t->map_fd, &k);
	}
	if (!now)
		return 1;
	e->id = id;
	e->resolved = true;
	k = exe_key(e);
	r = slot_add(t, &k, e->b->policy_id);
	if (r < 0)
		return r;
	if (bpf_map_update_elem(t->map_fd, &k, &e->b->policy_id, BPF_NOEXIST) < 0 &&
	    errno != EEXIST) {
		r = -errno;
		slot_drop(t, &k); /* no entry: its slot may not answer for one */
		return r;
	}
	return 1;
}

int ln_exe_table_refresh(struct ln_exe_table *t)
{
	int changed = 0, r;

	/* Removals before additions: a file renamed between two exe= paths keeps its key. */
	for (size_t i = 0; i < t->n; i++) {
		r = exe_resolve(t, &t->v[i]);
		if (r < 0)
			return r;
		changed += r;
	}
	return changed;
}

__u32 ln_exe_slots(const struct ln_compiled *cc)
{
	const char *one = getenv("LSNITCH_TEST_EXE_SHARED");

	return !cc->n_exes || (one && !strcmp(one, "1")) ? 1 : LN_EXE_SLOTS;
}

int ln_exe_table_build(struct ln_exe_table *t, const struct ln_compiled *cc, int map_fd,
		       int filter_fd, struct ln_error *err)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->map_fd = map_fd;
	t->filter_fd = filter_fd;
	if (!cc->n_exes)
		return 0;
	t->v = calloc(cc->n_exes, sizeof(*t->v));
	t->n_slots = ln_exe_slots(cc);
	t->slots = calloc(t->n_slots, sizeof(*t->slots));
	if (!t->v || !t->slots)
		return ln_err(err, -ENOMEM, "out of memory");
	t->slots[0].shared = t->n_slots == 1; /* the test's table: every verdict asks exe_policy */
	r = t->slots[0].shared ? slot_write(t, 0) : 0;
	if (r < 0)
		return ln_err(err, r, "filling the exe_filter map: %s", strerror(-r));
	for (t->n = 0; t->n < cc->n_exes; t->n++)
		t->v[t->n].b = &cc->exes[t->n];
	r = ln_exe_table_refresh(t);
	if (r < 0)
		return ln_err(err, r, "filling the exe_policy map: %s", strerror(-r));
	return 0;
}

void ln_exe_table_free(struct ln_exe_table *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof(*t));
	t->map_fd = -1;
	t->filter_fd = -1;
}

__u32 ln_exe_table_select(const struct ln_exe_table *t, const struct ln_compiled *cc,
			  __u32 scope, const char *path)
{
	struct ln_exe_id id;

	if (!path)
		return scope;
	if (!ln_exe_identity(path, &id))
		for (size_t i = 0; i < t->n; i++)
			if (t->v[i].resolved && t->v[i].b->scope_id == scope &&
			    !memcmp(&t->v[i].id, &id, sizeof(id)))
				return t->v[i].b->policy_id;
	return ln_exe_select(cc, scope, path);
}

void ln_exe_event_path(const struct ln_exe_table *t, __u32 policy_id, __u32 tgid, char *out,
		       size_t len)
{
	const struct ln_exe_entry *only = NULL;
	char link[64], target[PATH_MAX];
	size_t n = 0;
	ssize_t l;

	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	l = tgid ? readlink(link, target, sizeof(target) - 1) : -1;
	target[l > 0 ? l : 0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].b->policy_id != policy_id)
			continue;
		if (l > 0 && !strcmp(t->v[i].b->path, target))
			only = &t->v[i], n = 1;
		else if (!n++)
			only = &t->v[i];
		if (l > 0 && !strcmp(only->b->path, target))
			break;
	}
	snprintf(out, len, "%s", n == 1 ? only->b->path : target);
}

struct json_object *ln_exe_status(const struct ln_generation *g)
{
	json_object *a = json_object_new_array();
	const struct ln_config *cfg = g->cfg;

	for (size_t i = 0; i < g->exe.n; i++) {
		const struct ln_exe_entry *e = &g->exe.v[i];
		json_object *o = json_object_new_object();
		char where[600];

		json_object_object_add(o, "path", json_object_new_string(e->b->path));
		json_object_object_add(o, "policy", json_object_new_string(
							cfg->policies[e->b->policy_id - 1].name));
		json_object_object_add(o, "scope", json_object_new_string(
						       cfg->policies[e->b->scope_id - 1].name));
		json_object_object_add(o, "resolved", json_object_new_boolean(e->resolved));
		if (e->resolved) {
			json_object_object_add(o, "dev", json_object_new_uint64(e->id.dev));
			json_object_object_add(o, "ino", json_object_new_uint64(e->id.ino));
		}
		ln_rule_id_format(&cfg->sources, e->b->rule_id, where, sizeof(where));
		json_object_object_add(o, "file", json_object_new_string(where));
		json_object_array_add(a, o);
	}
	return a;
}

/* ---- the watcher ---- */

/* Whether @name is the last component of an exe= path of @t or of its link's target. */
static bool names_an_exe(const struct ln_exe_table *t, const char *name)
{
	char real[PATH_MAX], *slash;

	for (size_t i = 0; i < t->n; i++) {
		slash = strrchr(t->v[i].b->path, '/');
		if (!strcmp(slash + 1, name))
			return true;
		if (realpath(t->v[i].b->path, real) && !strcmp(strrchr(real, '/') + 1, name))
			return true;
	}
	return false;
}

static int on_exe_inotify(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct ln_manager *m = ud;
	bool hit = false;
	ssize_t n;
	int r;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			hit |= (ev->mask & IN_Q_OVERFLOW) ||
			       (ev->len && names_an_exe(&m->gen->exe, ev->name));
			p += sizeof(*ev) + ev->len;
		}
	}
	if (!hit)
		return 0;
	r = ln_exe_table_refresh(&m->gen->exe);
	if (r)
		ln_vc_all_changed(m->gen); /* after the map changed: cached verdicts are stale */
	if (r < 0)
		ln_note(m, LOG_WARNING, "exe policies: updating the exe_policy map: %s",
			strerror(-r));
	else if (r > 0)
		ln_note(m, LOG_INFO, "exe policies: %d executable(s) replaced or (re)appeared, "
				     "in force", r);
	return 0;
}

/* Watch the directory of @path (a copy is cut): 0, or -errno. */
static int watch_dir_of(int fd, const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	return inotify_add_watch(fd, dirname(dir), LN_EXE_WATCH_MASK) < 0 ? -errno : 0;
}

static void exe_watch_close(struct ln_exe_watch *w)
{
	w->src = sd_event_source_disable_unref(w->src);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* A fresh inotify instance on the directories of the generation in force's exe= paths. */
void ln_exe_watch_follow(struct ln_manager *m)
{
	struct ln_exe_watch *w = m->exe_watch;
	const struct ln_exe_table *t = &m->gen->exe;
	char real[PATH_MAX];
	int r = 0;

	if (!w)
		return;
	exe_watch_close(w);
	if (!t->n)
		return;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0 || sd_event_add_io(m->event, &w->src, w->fd, EPOLLIN, on_exe_inotify, m) < 0) {
		ln_note(m, LOG_WARNING, "exe policies: cannot watch for replaced executables");
		exe_watch_close(w);
		return;
	}
	for (size_t i = 0; i < t->n && !r; i++) {
		r = watch_dir_of(w->fd, t->v[i].b->path);
		if (r == -ENOENT)
			r = 0; /* no directory yet: found at the next reload */
		if (!r && realpath(t->v[i].b->path, real))
			r = watch_dir_of(w->fd, real);
	}
	if (r < 0)
		ln_note(m, LOG_WARNING, "exe policies: watching directories: %s", strerror(-r));
	/* What changed between the build and this watch. */
	r = ln_exe_table_refresh(&m->gen->exe);
	if (r)
		ln_vc_all_changed(m->gen);
	if (r < 0)
		ln_note(m, LOG_WARNING, "exe policies: updating the exe_policy map failed");
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].resolved)
			continue;
		ln_rule_id_format(&m->gen->cfg->sources, t->v[i].b->rule_id, real, sizeof(real));
		ln_note(m, LOG_INFO, "%s: exe %s does not exist (yet): in force when it appears",
			real, t->v[i].b->path);
	}
}

int ln_exe_watch_start(struct ln_manager *m, struct ln_error *err)
{
	m->exe_watch = calloc(1, sizeof(*m->exe_watch));
	if (!m->exe_watch)
		return ln_err(err, -ENOMEM, "out of memory");
	m->exe_watch->fd = -1;
	ln_exe_watch_follow(m);
	return 0;
}

void ln_exe_watch_stop(struct ln_manager *m)
{
	if (!m->exe_watch)
		return;
	exe_watch_close(m->exe_watch);
	free(m->exe_watch);
	m->exe_watch = NULL;
}
