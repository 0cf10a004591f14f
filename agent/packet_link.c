// SPDX-License-Identifier: GPL-2.0
/*
 * The global packet-socket program (bpf/packet_global.bpf.h) where no lsm_cgroup program
 * runs: its guard_roots map, and its one link. A tracing or perf link cannot be pointed at
 * another program (no BPF_LINK_UPDATE), so each generation attaches its own beside the one
 * in force and the old one goes once the new generation is in force: for that moment both
 * decide, and a socket either refuses is refused -- never neither.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch.skel.h"

#define PIN_NAME "packet_global"

/* The cgroups the links are attached at: the program decides only below them. */
int ln_packet_roots_fill(struct ln_manager *m, struct ln_generation *g, struct ln_error *err)
{
	int fd = bpf_map__fd(g->skel->maps.guard_roots);
	__u32 one = 1;
	__u64 id;

	for (size_t i = 0; i < m->n_attach; i++) {
		if (ln_cgroup_id(m->attach[i].at, &id) < 0)
			continue; /* not there (yet): attached, and filled, when it is made */
		if (bpf_map_update_elem(fd, &id, &one, BPF_ANY) < 0)
			return ln_err(err, -errno, "filling the guard_roots map: %s",
				      strerror(errno));
	}
	return 0;
}

static struct bpf_program *global_prog(struct ln_generation *g)
{
	if (ln_packet_path() == LN_PACKET_FMOD_RET)
		return g->skel->progs.ln_packet_fmod;
	return g->skel->progs.ln_packet_kill;
}

int ln_packet_link_attach(struct ln_manager *m, struct ln_generation *g, struct bpf_link **out,
			  struct ln_error *err)
{
	struct bpf_program *prog = global_prog(g);

	*out = NULL;
	if (!ln_sock_kinds_packet_global(g))
		return 0;
	*out = bpf_program__attach(prog);
	if (!*out)
		return ln_err(err, -errno, "cannot attach %s: %s", bpf_program__name(prog),
			      strerror(errno));
	return 0;
}

static void pin_path(const struct ln_manager *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/%s", m->pin_dir, PIN_NAME);
}

/* Let @l go; unpinned too unless @keep (it then stays in force without us). */
static void link_drop(struct bpf_link *l, bool keep)
{
	if (!l)
		return;
	if (!keep && bpf_link__pin_path(l))
		bpf_link__unpin(l);
	bpf_link__destroy(l);
}

void ln_packet_link_commit(struct ln_manager *m, struct bpf_link *next)
{
	char path[PATH_MAX];

	link_drop(m->packet_link, false);
	m->packet_link = next;
	if (!m->pinning)
		return;
	pin_path(m, path, sizeof(path));
	unlink(path); /* a pin we could not open */
	if (next && bpf_link__pin(next, path) < 0)
		ln_note(m, LOG_WARNING, "pinning %s: %m, ignoring", path);
}

void ln_packet_link_abort(struct bpf_link *next)
{
	link_drop(next, true);
}

void ln_packet_link_take_over(struct ln_manager *m)
{
	char path[PATH_MAX];

	if (!m->pinning || m->packet_link)
		return;
	pin_path(m, path, sizeof(path));
	if (access(path, F_OK) == 0)
		m->packet_link = bpf_link__open(path);
}

bool ln_packet_link_is_pin(const char *name)
{
	return !strcmp(name, PIN_NAME);
}

void ln_packet_link_release(struct ln_manager *m, bool keep)
{
	link_drop(m->packet_link, keep || !m->attached);
	m->packet_link = NULL;
}
