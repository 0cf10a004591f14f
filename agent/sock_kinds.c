// SPDX-License-Identifier: GPL-2.0
/* Which socket-kind programs this kernel runs: the lsm_cgroup one for AF_PACKET may not. */
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

/*
 * Whether an lsm_cgroup program can run here: the kernel loads one (>= 6.0, CONFIG_BPF_LSM;
 * some lockdown setups refuse every LSM and tracing program) and the BPF LSM is active.
 */
static bool lsm_cgroup_probe(void)
{
	const struct bpf_insn ret1[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_CGROUP);
	int id = libbpf_find_vmlinux_btf_id("socket_create", BPF_LSM_CGROUP), fd;

	if (id < 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_LSM, NULL, "GPL", ret1, 2, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return bpf_lsm_active();
}

/* Asked once: every generation must have the same programs for the links to swap. */
static bool lsm_cgroup_usable(void)
{
	static int usable = -1;

	if (usable < 0)
		usable = lsm_cgroup_probe();
	return usable;
}

/*
 * packet-sockets= is enforced by an lsm_cgroup program: where none can run it is left out
 * (so the agent still starts), and a policy that would refuse packet sockets is told.
 */
void ln_sock_kinds_prepare(struct ln_manager *m, struct ln_generation *g)
{
	if (lsm_cgroup_usable())
		return;
	bpf_program__set_autoload(g->skel->progs.ln_packet_create, false);
	for (size_t i = 0; i < g->cc.n_policies; i++) {
		if (g->cc.policies[i].sock_allow & (1u << LN_SOCK_PACKET))
			continue;
		ln_note(m, LOG_WARNING, "packet-sockets = deny is not enforced: this kernel "
			"runs no lsm_cgroup program (needs >= 6.0 and the BPF LSM)");
		return;
	}
}
