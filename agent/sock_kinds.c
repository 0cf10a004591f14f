// SPDX-License-Identifier: GPL-2.0
/* Which program enforces packet-sockets= here: lsm_cgroup, else fmod_ret, else a tracepoint. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch.skel.h"
#include "tracefs.h"

#ifndef __NR_lsm_list_modules
#define __NR_lsm_list_modules 461 /* kernel >= 6.8, the same number on every architecture */
#endif
#define LN_LSM_ID_BPF 109 /* <linux/lsm.h> */

/*
 * Whether "bpf" is among the active LSMs: lsm_cgroup programs run only then. Asked by
 * lsm_list_modules(2), else read from securityfs (which may not be mounted).
 */
static bool bpf_lsm_active(void)
{
	__u64 ids[64];
	__u32 size = sizeof(ids);
	char buf[512], *tok, *save;
	bool found = false;
	long n = syscall(__NR_lsm_list_modules, ids, &size, 0);
	FILE *f;

	for (long i = 0; i < n && i < 64; i++)
		found |= ids[i] == LN_LSM_ID_BPF;
	if (n >= 0)
		return found;
	f = fopen("/sys/kernel/security/lsm", "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		for (tok = strtok_r(buf, ",\n", &save); tok && !found;
		     tok = strtok_r(NULL, ",\n", &save))
			found = !strcmp(tok, "bpf");
	fclose(f);
	return found;
}

/* A program of @type and @attach on BTF function @fn that the kernel loads (fd) or -errno. */
static int probe_load(enum bpf_prog_type type, enum bpf_attach_type attach, const char *fn,
		      int ret)
{
	const struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach);
	int id = libbpf_find_vmlinux_btf_id(fn, attach), fd;

	if (id < 0)
		return id;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(type, NULL, "GPL", prog, 2, &opts);
	return fd < 0 ? -errno : fd;
}

/*
 * Whether an lsm_cgroup program can run here: the kernel loads one (>= 6.0, CONFIG_BPF_LSM;
 * some lockdown setups refuse every LSM and tracing program) and the BPF LSM is active.
 */
static bool lsm_cgroup_probe(void)
{
	int fd = probe_load(BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, "socket_create", 1);

	if (fd < 0)
		return false;
	close(fd);
	return bpf_lsm_active();
}

/*
 * Whether a fmod_ret program on security_socket_create loads and attaches (a trampoline:
 * BTF, a JIT with trampolines, ftrace direct calls). One that returns 0 changes nothing
 * while it is attached for the probe.
 */
static bool fmod_ret_probe(void)
{
	int fd = probe_load(BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, "security_socket_create", 0);
	int link;

	if (fd < 0)
		return false;
	link = bpf_link_create(fd, 0, BPF_MODIFY_RETURN, NULL);
	close(fd);
	if (link < 0)
		return false;
	close(link);
	return true;
}

#define TRACEFS_DIR "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define SOCKET_TP_ID "/events/syscalls/sys_enter_socket/id"

/* Where libbpf reads tracepoint ids when debugfs has none: held while the agent runs. */
static struct ln_tracefs tracefs = LN_TRACEFS_INIT;

/*
 * Whether the socket() syscall tracepoint is there, tracefs mounted where systemd would
 * (libbpf reads its id at every generation's attach, so it stays until ln_sock_kinds_release).
 */
static bool sys_enter_socket_probe(void)
{
	bool found;

	if (access(DEBUGFS_TRACING, F_OK) < 0 && access(TRACEFS_DIR, F_OK) == 0)
		ln_tracefs_hold(&tracefs, TRACEFS_DIR); /* else no tracepoint: found says so */
	found = access(TRACEFS_DIR SOCKET_TP_ID, R_OK) == 0 ||
		access(DEBUGFS_TRACING SOCKET_TP_ID, R_OK) == 0;
	if (!found)
		ln_tracefs_release(&tracefs, TRACEFS_DIR);
	return found;
}

void ln_sock_kinds_release(struct ln_manager *m)
{
	int r = ln_tracefs_release(&tracefs, TRACEFS_DIR);

	if (r < 0)
		ln_note(m, LOG_NOTICE, "leaving tracefs mounted on %s: %s", TRACEFS_DIR,
			r == -ESTALE ? "another mount covers it" : strerror(-r));
}

static const char *const path_names[] = {
	[LN_PACKET_NONE] = "none",
	[LN_PACKET_LSM_CGROUP] = "lsm_cgroup",
	[LN_PACKET_FMOD_RET] = "fmod_ret",
	[LN_PACKET_KILL] = "tracepoint-kill",
};

/* Asked once: every generation must have the same programs for the links to swap. */
enum ln_packet_path ln_packet_path(void)
{
	static int path = -1;

	if (path >= 0)
		return path;
	if (lsm_cgroup_probe())
		path = LN_PACKET_LSM_CGROUP;
	else if (fmod_ret_probe())
		path = LN_PACKET_FMOD_RET;
	else if (sys_enter_socket_probe())
		path = LN_PACKET_KILL;
	else
		path = LN_PACKET_NONE;
	return path;
}

const char *ln_packet_path_name(void)
{
	return path_names[ln_packet_path()];
}

static const char *path_note(enum ln_packet_path p)
{
	switch (p) {
	case LN_PACKET_LSM_CGROUP:
		return "an lsm_cgroup program on the guarded cgroups: socket() fails with EPERM";
	case LN_PACKET_FMOD_RET:
		return "a fmod_ret program on security_socket_create (no lsm_cgroup program "
		       "runs here): socket() fails with EPERM";
	case LN_PACKET_KILL:
		return "a socket() syscall tracepoint (no lsm_cgroup or fmod_ret program runs "
		       "here): the caller is killed (SIGKILL)";
	default:
		return "not enforced";
	}
}

static bool any_packet_deny(const struct ln_compiled *cc)
{
	for (size_t i = 0; i < cc->n_policies; i++)
		if (!(cc->policies[i].sock_allow & (1u << LN_SOCK_PACKET)))
			return true;
	return false;
}

/*
 * packet-sockets= is enforced by the first program of ln_packet_path() this kernel runs;
 * the others are left out (so the agent still starts). Where none runs, a policy that
 * would refuse packet sockets is told.
 */
void ln_sock_kinds_prepare(struct ln_manager *m, struct ln_generation *g)
{
	enum ln_packet_path p = ln_packet_path();
	static bool said;

	bpf_program__set_autoload(g->skel->progs.ln_packet_create, p == LN_PACKET_LSM_CGROUP);
	bpf_program__set_autoload(g->skel->progs.ln_packet_fmod, p == LN_PACKET_FMOD_RET);
	bpf_program__set_autoload(g->skel->progs.ln_packet_kill, p == LN_PACKET_KILL);
	if (!said)
		ln_note(m, LOG_INFO, "packet-sockets = deny: %s", path_note(p));
	said = true;
	if (p == LN_PACKET_NONE && any_packet_deny(&g->cc))
		ln_note(m, LOG_WARNING, "packet-sockets = deny is not enforced: this kernel "
			"runs no lsm_cgroup, fmod_ret or syscall tracepoint program");
}

bool ln_sock_kinds_packet_global(const struct ln_generation *g)
{
	enum ln_packet_path p = ln_packet_path();

	return (p == LN_PACKET_FMOD_RET || p == LN_PACKET_KILL) && any_packet_deny(&g->cc);
}
