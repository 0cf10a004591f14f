// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning: links and the maps every generation shares live under the pin
 * directory (bpffs), so enforcement outlives the agent. A new agent takes the
 * pinned links over with BPF_LINK_UPDATE (atomic per link: no moment without
 * a program), reuses the pinned ring buffer, counters and DNS slot maps, and
 * removes pins of cgroups it no longer guards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch_flow.h"
#include "lsnitch.skel.h"

static const char *const hook_names[LN_HOOKS] = {
	"connect4", "connect6", "sendmsg4", "sendmsg6",
	"recvmsg4", "recvmsg6", "getpeername4", "getpeername6",
	"sock_create", "packet_create", "egress", "connect_unix",
};

/* The maps that outlive a generation, and what a compatible pin looks like. */
struct shared_map {
	const char *name;
	size_t fd_off; /* offsetof(struct ln_manager, ...) */
	__u32 type, key_size, value_size, max_entries;
};

#define FD_OFF(f) offsetof(struct ln_manager, f)
static const struct shared_map shared_maps[] = {
	{ "events", FD_OFF(events_fd), BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 20 },
	{ "counters", FD_OFF(counters_fd), BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, LN_CNT_MAX },
	{ "dns_state", FD_OFF(dns_state_fd), BPF_MAP_TYPE_ARRAY, 4,
	  sizeof(struct ln_dns_state), 1 },
	{ "dns_slot_owner", FD_OFF(dns_slot_owner_fd), BPF_MAP_TYPE_HASH, 4,
	  sizeof(struct ln_dns_slot_val), LN_DNS_MAX_SLOTS },
	{ "dns_slot_by_owner", FD_OFF(dns_slot_by_owner_fd), BPF_MAP_TYPE_HASH,
	  sizeof(struct ln_dns_owner), 4, LN_DNS_MAX_SLOTS },
	{ "dns_ports", FD_OFF(dns_ports_fd), BPF_MAP_TYPE_HASH,
	  sizeof(struct ln_dns_port_key), 4, LN_DNS_PORT_ENTRIES },
	{ "dns_requests", FD_OFF(dns_requests_fd), BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 },
	{ "flows", FD_OFF(flows_fd), BPF_MAP_TYPE_HASH, sizeof(struct ln_flow_key),
	  sizeof(struct ln_flow_val), LN_FLOW_MAX_ENTRIES },
	{ "flow_lost", FD_OFF(flow_lost_fd), BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1 },
	{ "flow_cache", FD_OFF(flow_cache_fd), BPF_MAP_TYPE_PERCPU_ARRAY, 4,
	  sizeof(struct ln_flow_slot), 2 * LN_FLOW_CACHE_SLOTS },
	{ "flow_epoch", FD_OFF(flow_epoch_fd), BPF_MAP_TYPE_ARRAY, 4, 4, 1 },
	{ "exe_sk", FD_OFF(exe_sk_fd), BPF_MAP_TYPE_SK_STORAGE, 4, sizeof(struct ln_exe_id), 0 },
	{ "exe_new", FD_OFF(exe_new_fd), BPF_MAP_TYPE_RINGBUF, 0, 0, LN_EXE_NEW_RING },
};
#define N_SHARED (sizeof(shared_maps) / sizeof(shared_maps[0]))

static int *map_fd(struct ln_manager *m, const struct shared_map *s)
{
	return (int *)((char *)m + s->fd_off);
}

static struct bpf_map *skel_map(struct lsnitch_bpf *skel, size_t i)
{
	struct bpf_map *maps[N_SHARED] = {
		skel->maps.events, skel->maps.counters, skel->maps.dns_state,
		skel->maps.dns_slot_owner, skel->maps.dns_slot_by_owner, skel->maps.dns_ports,
		skel->maps.dns_requests,
		skel->maps.flows, skel->maps.flow_lost, skel->maps.flow_cache, skel->maps.flow_epoch,
		skel->maps.exe_sk, skel->maps.exe_new,
	};
	return maps[i];
}

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void pin_path(const struct ln_manager *m, char *buf, size_t len, const char *sub,
		     const char *name)
{
	snprintf(buf, len, "%s/%s/%s", m->pin_dir, sub, name);
}

/*
 * Make sure the pin directory is on a bpffs (mounting one at /sys/fs/bpf as
 * systemd would, if nothing is there) and open the shared maps a previous
 * agent pinned. Pinning is best effort: without it the agent still enforces,
 * only not beyond its own life, and says so.
 */
/* The pin directory on a bpffs, made if missing: 0, or -errno with what failed in @why. */
static int pin_dir_ready(struct ln_manager *m, char *why, size_t len)
{
	char path[PATH_MAX], parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", m->pin_dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		snprintf(why, len, "pin directory %s: must be below a bpffs mount", m->pin_dir);
		return -EINVAL;
	}
	*slash = '\0';
	if (!is_bpffs(parent) && !strcmp(parent, "/sys/fs/bpf") &&
	    mount("bpf", parent, "bpf", 0, "mode=0700") < 0)
		ln_note(m, LOG_WARNING, "mounting bpffs on %s: %m", parent);
	if (!is_bpffs(parent)) {
		snprintf(why, len, "%s is not a bpffs", parent);
		return -ENOTDIR;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", m->pin_dir, i ? "links" : "maps");
		if (mkdir_p(path, 0700) < 0) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int ln_pin_prepare(struct ln_manager *m)
{
	char path[PATH_MAX], why[PATH_MAX + 64];

	m->pin_dir = m->opts.pin_dir ? m->opts.pin_dir : LN_PIN_DIR;
	if (pin_dir_ready(m, why, sizeof(why)) < 0) {
		ln_note(m, LOG_WARNING, "%s: not pinning; enforcement ends with the agent", why);
		return 0;
	}
	m->pinning = true;

	for (size_t i = 0; i < N_SHARED; i++) {
		const struct shared_map *s = &shared_maps[i];
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		pin_path(m, path, sizeof(path), "maps", s->name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.type != s->type ||
		    info.key_size != s->key_size || info.value_size != s->value_size ||
		    info.max_entries != s->max_entries) {
			/* Another layout (an upgrade): start this map afresh. */
			close(fd);
			unlink(path);
			continue;
		}
		*map_fd(m, s) = fd;
		m->took_over_maps++;
	}
	return 0;
}

/* After the first generation is loaded: share and pin what was not pinned yet. */
int ln_pin_shared_maps(struct ln_manager *m, struct ln_error *err)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < N_SHARED; i++) {
		const struct shared_map *s = &shared_maps[i];
		int *fd = map_fd(m, s);

		if (*fd >= 0)
			continue;
		*fd = dup(bpf_map__fd(skel_map(m->gen->skel, i)));
		if (*fd < 0)
			return ln_err(err, -errno, "map %s: %s", s->name, strerror(errno));
		if (!m->pinning)
			continue;
		pin_path(m, path, sizeof(path), "maps", s->name);
		if (bpf_obj_pin(*fd, path) < 0)
			ln_note(m, LOG_WARNING, "pinning %s: %m, ignoring", path);
	}
	return 0;
}

static void link_name(char *buf, size_t len, __u64 cgid, int hook)
{
	snprintf(buf, len, "%llu_%s", (unsigned long long)cgid, hook_names[hook]);
}

/* Links pinned for cgroups this agent does not guard (any more): detach them. */
static void unpin_stale_links(struct ln_manager *m, const __u64 *ids)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/links", m->pin_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long long id;
		bool ours = false;

		if (de->d_name[0] == '.' || ln_packet_link_is_pin(de->d_name))
			continue;
		if (sscanf(de->d_name, "%llu_", &id) == 1)
			for (size_t c = 0; c < m->n_attach; c++)
				ours |= ids[c] == id;
		if (ours)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
		ln_note(m, LOG_INFO, "removed stale pinned link %s", path);
	}
	closedir(d);
}

/* Take over @a's pinned link of hook @i, updating it to @prog: 1 taken, 0 none. */
static int take_over_link(struct ln_manager *m, struct ln_attach *a, int i,
			  struct bpf_program *prog, const char *path)
{
	/* AT_EACCESS: access() would drop the capabilities of a non-root agent
	 * (User= with AmbientCapabilities=), and /sys/fs/bpf is root's, 0700. */
	a->links[i] = m->pinning && !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) ?
			      bpf_link__open(path) : NULL;
	if (!a->links[i])
		return 0;
	if (bpf_link__update_program(a->links[i], prog) == 0) {
		m->took_over_links++;
		return 1;
	}
	/* Not ours to update (e.g. another program type): replace. */
	bpf_link__unpin(a->links[i]);
	bpf_link__destroy(a->links[i]);
	a->links[i] = NULL;
	return 0;
}

int ln_pin_attach_one(struct ln_manager *m, struct ln_generation *g, struct ln_attach *a,
		      __u64 *id, struct ln_error *err)
{
	char name[64], path[PATH_MAX];

	if (a->fd >= 0)
		close(a->fd);
	a->fd = open(a->at, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->fd < 0 || ln_cgroup_id(a->at, id) < 0)
		return ln_err(err, -errno, "%s: cannot open cgroup: %s", a->at, strerror(errno));
	for (int i = 0; i < LN_HOOKS; i++) {
		struct bpf_program *prog = ln_hook_prog(g->skel, i);

		if (!prog)
			continue; /* a hook this kernel cannot run */
		link_name(name, sizeof(name), *id, i);
		pin_path(m, path, sizeof(path), "links", name);
		if (take_over_link(m, a, i, prog, path))
			continue;
		a->links[i] = bpf_program__attach_cgroup(prog, a->fd);
		if (!a->links[i])
			return ln_err(err, -errno, "%s: cannot attach %s: %s", a->at,
				      bpf_program__name(prog), strerror(errno));
		if (m->pinning && bpf_link__pin(a->links[i], path) < 0)
			ln_note(m, LOG_WARNING, "pinning %s: %m, ignoring", path);
	}
	return 0;
}

/* Let @a's links go, pins included (its cgroup is gone: they guard nothing). */
void ln_pin_detach_one(struct ln_manager *m, struct ln_attach *a)
{
	for (int i = 0; i < LN_HOOKS; i++) {
		if (!a->links[i])
			continue;
		if (bpf_link__pin_path(a->links[i]))
			bpf_link__unpin(a->links[i]);
		bpf_link__destroy(a->links[i]);
		a->links[i] = NULL;
	}
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

/*
 * Put @g in force on every --cgroup: take over a pinned link (swapping in
 * @g's program atomically) or attach and pin a new one. An attach sharing
 * another's cgroup (two units of one slice) has no links of its own.
 */
int ln_pin_attach(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	struct bpf_link *packet;
	__u64 *ids;
	int r = 0;

	ids = calloc(m->n_attach ? m->n_attach : 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (size_t c = 0; c < m->n_attach && !r; c++) {
		if (m->attach[c].shared)
			ln_cgroup_id(m->attach[c].at, &ids[c]);
		else
			r = ln_pin_attach_one(m, g, &m->attach[c], &ids[c], err);
	}
	if (!r) {
		/* The global packet-socket link: a previous agent's replaced by ours. */
		ln_packet_link_take_over(m);
		r = ln_packet_link_attach(m, g, &packet, err);
		if (r >= 0)
			ln_packet_link_commit(m, packet);
	}
	if (!r && m->pinning)
		unpin_stale_links(m, ids);
	m->attached = !r;
	free(ids);
	return r;
}

/*
 * On exit: unless the policy is to stay in force, unpin and detach every link
 * and unpin the shared maps; otherwise just let go of our references.
 */
void ln_pin_release(struct ln_manager *m, bool keep)
{
	char path[PATH_MAX];

	ln_packet_link_release(m, keep);
	for (size_t c = 0; c < m->n_attach; c++) {
		for (int i = 0; i < LN_HOOKS; i++) {
			struct bpf_link *l = m->attach[c].links[i];

			if (!l)
				continue;
			if (!keep && m->attached && bpf_link__pin_path(l))
				bpf_link__unpin(l);
			bpf_link__destroy(l);
			m->attach[c].links[i] = NULL;
		}
		if (m->attach[c].fd >= 0)
			close(m->attach[c].fd);
		m->attach[c].fd = -1;
	}
	if (keep || !m->pinning)
		return;
	/*
	 * An agent that never took over (e.g. a second one that failed to start)
	 * owns no pin; it only removes the directories it may have made, which
	 * rmdir() leaves alone while another agent's pins are in them.
	 */
	for (size_t i = 0; i < N_SHARED && m->attached; i++) {
		pin_path(m, path, sizeof(path), "maps", shared_maps[i].name);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/maps", m->pin_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/links", m->pin_dir);
	rmdir(path);
	rmdir(m->pin_dir);
}
