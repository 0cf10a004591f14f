// SPDX-License-Identifier: GPL-2.0
/*
 * Cgroups that come and go: every cgroup a policy names (path, glob or unit)
 * is bound in the generation in force as it appears and unbound as it goes,
 * from inotify events on the whole cgroup2 tree. Binding is a map entry,
 * never an attach: the programs stay where --cgroup put them.
 *
 * A policy's binding covers the cgroup's subtree (the programs look for the
 * nearest bound ancestor), so a glob or unit binds only the topmost cgroups
 * it matches: below a cgroup bound to a policy, that policy's globs and units
 * bind nothing more, and a deeper cgroup bound to another policy keeps its
 * whole subtree. An exact path is always bound.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch.skel.h"
#include "watch.h"

#define LN_WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
#define LN_WATCH_READS 64 /* reads per wake-up before the generation is bumped */

struct ln_watch {
	int fd;
	sd_event_source *source;
	ln_watch_report_fn report;
	struct ln_wd_table wds;
};

/* One reconciliation: a subtree walked, bindings of @g brought up to date. */
struct walk {
	struct ln_manager *m;
	struct ln_generation *g;
	struct ln_watch *w; /* add watches on the way; NULL: bind only */
	struct ln_watch_stats *st;
	char path[PATH_MAX]; /* the directory being visited, relative */
	size_t len;
};

/* ---- what a generation has bound ---- */

/* Whether a proper ancestor of @path is bound to @policy_id. */
static bool ancestor_bound_to(struct ln_generation *g, const char *path, __u32 policy_id)
{
	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		const struct ln_bound *b = ln_bound_find(g, path, s - path);

		if (b && !(b->flags & LN_CG_UNBOUND) && b->policy_id == policy_id)
			return true;
	}
	return false;
}

static void note_failure(struct ln_watch_stats *st, const char *path, int r)
{
	if (!st->failed++) {
		st->fail_errno = -r;
		snprintf(st->fail_path, sizeof(st->fail_path), "%.255s", path);
	}
}

static bool unit_match(const char *unit, const char *path, void *ud)
{
	return ln_unit_is_cgroup(ud, unit, path);
}

static bool unit_home(const char *unit, const char *parent, void *ud)
{
	return ln_unit_home_is(ud, unit, parent);
}

/*
 * What a new child of @path is by name (@ch), for the programs: how many
 * patterns, 0 when no binding can bind below @path, -E2BIG too many.
 */
static int children_of(struct walk *wk, const char *path, struct ln_cg_children *ch)
{
	const struct ln_compiled *cc = &wk->g->cc;
	int r;

	r = ln_cg_children_of(cc->bindings, cc->n_bindings, path, unit_home, wk->m, ch);
	return r < 0 ? r : ln_guard_children(wk->m, wk->g, path, ch);
}

/* Whether the parent of the directory being visited is watched (a glob parent). */
static bool parent_is_glob_parent(struct walk *wk)
{
	struct ln_cg_children ch;
	char *slash = strrchr(wk->path, '/');
	int r;

	if (!wk->len)
		return false;
	if (!slash)
		return children_of(wk, "", &ch) != 0;
	*slash = '\0';
	r = children_of(wk, wk->path, &ch);
	*slash = '/';
	return r != 0;
}

/* Whether cg_children may hold entries of @id: only a glob parent's entry says so. */
static bool had_children(struct walk *wk, __u64 id)
{
	const struct ln_bound *b = ln_bound_find(wk->g, wk->path, wk->len);

	return b && b->id == id && (b->flags & LN_CG_GLOB_PARENT);
}

/*
 * The patterns a new child of the directory being visited (cgroup @id) is
 * matched against, written before the mark that makes the programs look:
 * LN_CG_GLOB_PARENT, or 0 when nothing can bind below it. Patterns that do
 * not fit leave no entry: such children stay pending until seen.
 */
static __u32 watch_children(struct walk *wk, __u64 id)
{
	const struct ln_compiled *cc = &wk->g->cc;
	int fd = bpf_map__fd(wk->g->skel->maps.cg_children);
	struct ln_cg_children ch, gc;
	int n = children_of(wk, wk->path, &ch), ng;
	bool grand = n > 0 && !ln_unit_home_below(wk->m, wk->path) &&
		     !ln_guard_gate_below(wk->m, wk->path);

	/* A leaf, the common case: nothing to write, nothing written before to take back. */
	if (!n && !had_children(wk, id))
		return 0;
	/* Before the entry the programs look at first: what a new child's new child is. */
	for (__u32 i = 0; i < LN_CG_PATTERNS; i++) {
		__u64 key = LN_CG_GRAND_KEY(id, i);

		/* Units' and gates' patterns are per path: below those, it stays pending. */
		ng = grand ? ln_cg_grandchildren_of(cc->bindings, cc->n_bindings, wk->path, &ch,
						    i, &gc)
			   : 0;
		if (ng <= 0 || bpf_map_update_elem(fd, &key, &gc, BPF_ANY) < 0)
			bpf_map_delete_elem(fd, &key);
	}
	if (n > 0 && bpf_map_update_elem(fd, &id, &ch, BPF_ANY) < 0)
		n = -errno;
	if (n <= 0)
		bpf_map_delete_elem(fd, &id);
	return n ? LN_CG_GLOB_PARENT : 0;
}

static void consider(struct walk *wk, __u64 id);

/*
 * A unit's cgroup found where it was not before: its parent learns the
 * unit's name, so the cgroup the unit gets on its next start is bound by
 * the programs from its first process on.
 */
static void learn_unit_home(struct walk *wk, const char *unit)
{
	char *slash = strrchr(wk->path, '/');
	size_t save = wk->len;
	struct stat st;

	if (!slash || ln_unit_home_add(wk->m, unit, wk->path, slash - wk->path) <= 0)
		return;
	*slash = '\0';
	wk->len = slash - wk->path;
	if (!fstatat(wk->m->cg2_fd, wk->path, &st, AT_SYMLINK_NOFOLLOW))
		consider(wk, st.st_ino);
	*slash = '/';
	wk->len = save;
	wk->st->seen++; /* what the programs decided by name may change: bump */
}

/*
 * Bring the entry of the directory being visited (cgroup @id) up to date: its
 * binding, or the mark that it is seen, where a glob could have bound it.
 */
static void consider(struct walk *wk, __u64 id)
{
	const struct ln_compiled *cc = &wk->g->cc;
	const struct ln_binding *b;
	struct ln_cgroup_val v = {};
	struct ln_bound *old;
	long i;
	int r;

	if (!cc->n_bindings && !ln_guards_any_gate(wk->m))
		return;
	/* The root is never bound (the implicit policy is its), only marked. */
	i = wk->len ? ln_binding_lookup(cc->bindings, cc->n_bindings, wk->path, unit_match, wk->m)
		    : -1;
	b = i >= 0 ? &cc->bindings[i] : NULL;
	/* A glob or unit inside a subtree its policy already covers adds nothing. */
	if (b && (b->unit || ln_cgroup_is_glob(b->cgroup)) &&
	    ancestor_bound_to(wk->g, wk->path, b->policy_id))
		b = NULL;
	if (b && b->unit)
		learn_unit_home(wk, b->unit);
	v.flags |= watch_children(wk, id);
	if (b)
		v.policy_id = b->policy_id;
	else if (v.flags || parent_is_glob_parent(wk))
		v.flags |= LN_CG_UNBOUND;
	ln_guard_entry(wk->m, wk->g, wk->path, &v);
	if (!b && !v.flags) {
		old = ln_bound_find(wk->g, wk->path, wk->len);
		if (old)
			ln_bound_remove(wk->g, wk->st, old);
		return;
	}
	r = ln_bound_set(wk->m, wk->g, wk->st, wk->path, id, v);
	if (r < 0)
		note_failure(wk->st, wk->path, r);
}

static void watch_add(struct walk *wk)
{
	char abs[PATH_MAX + 64];
	int wd, r;

	snprintf(abs, sizeof(abs), "%s/%s", wk->m->cg2_root, wk->path);
	wd = inotify_add_watch(wk->w->fd, abs, LN_WATCH_MASK);
	r = wd < 0 ? -errno : ln_wd_set(&wk->w->wds, wd, wk->path);
	if (r < 0 && r != -ENOENT && !wk->st->unwatched++)
		wk->st->unwatched_errno = -r;
}

static bool is_subdir(int dfd, const struct dirent *de)
{
	struct stat st;

	if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
		return false;
	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return !fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
}

/* Visit the directory @dfd (wk->path): watch it first, so no child is missed. */
static void walk_dir(struct walk *wk, int dfd)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (wk->w)
		watch_add(wk);
	/* On cgroup2 the inode number is the cgroup id (the root's too: 1). */
	if (!fstat(dfd, &st))
		consider(wk, st.st_ino);
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		size_t save = wk->len, n = strlen(de->d_name);
		int fd;

		if (!is_subdir(dirfd(d), de))
			continue;
		if (save + 1 + n >= sizeof(wk->path)) {
			note_failure(wk->st, wk->path, -ENAMETOOLONG);
			continue;
		}
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile: its events follow */
		if (save)
			wk->path[wk->len++] = '/';
		memcpy(wk->path + wk->len, de->d_name, n + 1);
		wk->len += n;
		walk_dir(wk, fd);
		wk->len = save;
		wk->path[save] = '\0';
	}
	closedir(d);
}

/*
 * Make @g's bindings at and below @top ("" for all) match the tree as it is
 * now: bind what exists and matches, unbind what is gone.
 */
static void reconcile(struct walk *wk, const char *top)
{
	bool all = ln_bound_mark_stale(wk->g, top);
	int fd;

	wk->len = snprintf(wk->path, sizeof(wk->path), "%s", top);
	fd = openat(wk->m->cg2_fd, *top ? top : ".",
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		walk_dir(wk, fd);
	ln_bound_drop_stale(wk->g, wk->st, top, all);
}

int ln_bindings_scan(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	struct ln_watch_stats st = {};
	struct walk *wk = calloc(1, sizeof(*wk));

	if (!wk) {
		return ln_err(err, -ENOMEM, "out of memory");
	}
	wk->m = m;
	wk->g = g;
	wk->st = &st;
	reconcile(wk, "");
	free(wk);
	if (st.failed) {
		/* Fail closed: a policy that cannot be bound keeps the old one in force. */
		return ln_err(err, -st.fail_errno, "binding cgroup %s: %s (%u failed)",
			      st.fail_path, strerror(st.fail_errno), st.failed);
	}
	return 0;
}

/* Make new bindings visible: cached verdicts of the old generation number are stale. */
static int bump_generation(struct ln_generation *g)
{
	int fd = bpf_map__fd(g->skel->maps.config);
	struct ln_config_val v;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &v) < 0)
		return -errno;
	if (!++v.generation)
		v.generation = 1;
	if (g->n_bound)
		v.flags |= LN_CFG_HAS_POLICIES;
	else
		v.flags &= ~LN_CFG_HAS_POLICIES;
	return bpf_map_update_elem(fd, &zero, &v, BPF_ANY) < 0 ? -errno : 0;
}

static void handle_event(struct walk *wk, const struct inotify_event *ev, bool *full)
{
	char top[PATH_MAX];
	const char *parent;

	if (ev->mask & IN_Q_OVERFLOW) {
		*full = true;
		return;
	}
	if (ev->mask & IN_IGNORED) {
		ln_wd_del(&wk->w->wds, ev->wd);
		return;
	}
	if (!(ev->mask & IN_ISDIR) || !ev->len || *full)
		return;
	parent = ln_wd_path(&wk->w->wds, ev->wd);
	if (!parent) {
		*full = true;
		return;
	}
	if (snprintf(top, sizeof(top), "%s%s%s", parent, *parent ? "/" : "", ev->name) >=
	    (int)sizeof(top))
		return;
	/*
	 * Created or removed (cgroup2 refuses renames, but a move is handled
	 * alike): the subtree is made to match what is there now.
	 */
	reconcile(wk, top);
	ln_guard_event(wk->m, top, ev->mask & (IN_CREATE | IN_MOVED_TO));
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_manager *m = userdata;
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct ln_watch_stats st = {};
	struct walk *wk;
	bool full = false;
	int r;

	wk = calloc(1, sizeof(*wk));
	if (!wk)
		return 0; /* level-triggered: called again */
	wk->m = m;
	wk->g = m->gen;
	wk->w = m->watch;
	wk->st = &st;
	/* Take every queued event, then bump the generation once for the lot. */
	for (int reads = 0; reads < LN_WATCH_READS; reads++) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			handle_event(wk, ev, &full);
			p += sizeof(*ev) + ev->len;
		}
	}
	if (full) {
		st.overflow = true;
		reconcile(wk, "");
		ln_guards_recheck(m);
	}
	free(wk);
	/* A mark needs no bump (pending is never cached) but may set LN_CFG_HAS_POLICIES. */
	if (st.bound || st.unbound || st.seen) {
		r = bump_generation(m->gen);
		if (r < 0)
			note_failure(&st, "(config map)", r);
	}
	m->watch->report(m, &st);
	return 0;
}

int ln_watch_start(struct ln_manager *m, ln_watch_report_fn report, struct ln_error *err)
{
	struct ln_watch_stats st = {};
	struct ln_watch *w;
	struct walk *wk;
	int r;

	w = calloc(1, sizeof(*w));
	if (w)
		w->fd = -1;
	wk = calloc(1, sizeof(*wk));
	if (!w || !wk) {
		r = ln_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	w->report = report;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		r = ln_err(err, -errno, "inotify: %s", strerror(errno));
		goto fail;
	}
	r = sd_event_add_io(m->event, &w->source, w->fd, EPOLLIN, on_inotify, m);
	if (r < 0) {
		ln_err(err, r, "inotify event source: %s", strerror(-r));
		goto fail;
	}
	/* Bind new cgroups before their first connect() is reported or proxied. */
	sd_event_source_set_priority(w->source, SD_EVENT_PRIORITY_IMPORTANT);
	m->watch = w;
	/* Watch every directory, and catch up with what appeared since the build. */
	wk->m = m;
	wk->g = m->gen;
	wk->w = w;
	wk->st = &st;
	reconcile(wk, "");
	free(wk);
	if (!w->wds.n || !w->wds.v[0].path || w->wds.v[0].path[0]) { /* the root first */
		r = st.unwatched ? -st.unwatched_errno : -ENOENT;
		/* ln_watch_stop() frees it */
		return ln_err(err, r, "%s: cannot watch: %s", m->cg2_root, strerror(-r));
	}
	if ((st.bound || st.unbound || st.seen) && (r = bump_generation(m->gen)) < 0)
		return ln_err(err, r, "config map: %s", strerror(-r));
	w->report(m, &st);
	return 0;
fail:
	free(wk);
	if (w && w->fd >= 0)
		close(w->fd);
	free(w);
	return r;
}

void ln_watch_stop(struct ln_manager *m)
{
	struct ln_watch *w = m->watch;

	if (!w)
		return;
	sd_event_source_disable_unref(w->source);
	close(w->fd);
	ln_wd_free(&w->wds);
	free(w);
	m->watch = NULL;
}
