// SPDX-License-Identifier: GPL-2.0
/* The resolver-socket program (bpf/unix.bpf.h): whether this kernel runs it, and its map. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch.skel.h"

/* BPF_CGROUP_UNIX_CONNECT (kernel >= 6.7): newer than the 6.1 headers Debian 12 builds with. */
#define LN_ATTACH_UNIX_CONNECT 49

/* Whether the kernel loads a sock_addr program for connect() on unix sockets. */
static bool connect_unix_probe(void)
{
	const struct bpf_insn ret1[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = LN_ATTACH_UNIX_CONNECT);
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, NULL, "GPL", ret1, 2, &opts);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Asked once: every generation must have the same programs for the links to swap. */
static bool connect_unix_usable(void)
{
	static int usable = -1;

	if (usable < 0)
		usable = connect_unix_probe();
	return usable;
}

static bool any_guarded(const struct ln_compiled *cc)
{
	for (size_t i = 0; i < cc->n_policies; i++)
		if (cc->policies[i].flags & LN_POLICY_RESOLVER_GUARD)
			return true;
	return false;
}

/*
 * Before @g is loaded: the program's attach type (its section cannot say it, see
 * unix.bpf.h), or, where the kernel has none, the program left out and a policy that would
 * refuse the resolver sockets told.
 */
void ln_unix_prepare(struct ln_manager *m, struct ln_generation *g)
{
	struct bpf_program *p = g->skel->progs.ln_connect_unix;

	if (connect_unix_usable()) {
		bpf_program__set_expected_attach_type(p, LN_ATTACH_UNIX_CONNECT);
		return;
	}
	bpf_program__set_autoload(p, false);
	if (g->cc.n_resolver_sockets && any_guarded(&g->cc))
		ln_note(m, LOG_WARNING,
			"resolver sockets are not guarded: this kernel runs no "
			"cgroup/connect_unix program (needs >= 6.7), so lookups through "
			"nss-resolve or nscd bypass the domain rules");
}

/*
 * The resolver_sockets map of @g, from its compiled entries; a path with no socket now is
 * refused without an event (LN_UNIX_QUIET) until a reload finds one there.
 */
int ln_unix_fill(struct ln_generation *g, struct ln_error *err)
{
	int fd = bpf_map__fd(g->skel->maps.resolver_sockets);

	for (size_t i = 0; i < g->cc.n_resolver_sockets; i++) {
		const struct ln_unix_kv *kv = &g->cc.resolver_sockets[i];
		struct ln_unix_val v = kv->v;
		struct stat st;

		if (stat(kv->k.path, &st) < 0 || !S_ISSOCK(st.st_mode))
			v.flags |= LN_UNIX_QUIET;
		if (bpf_map_update_elem(fd, &kv->k, &v, BPF_ANY) < 0)
			return ln_err(err, -errno, "filling the resolver_sockets map: %s",
				      strerror(errno));
	}
	return 0;
}
