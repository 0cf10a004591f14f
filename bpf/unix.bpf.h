/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resolver sockets (included by lsnitch.bpf.c): a cgroup/connect_unix program (kernel >= 6.7)
 * refusing a guarded process's connect() to the unix sockets through which glibc asks a local
 * resolver instead of port 53 -- nss-resolve's varlink socket, nscd's. nss-resolve then
 * returns UNAVAIL, glibc falls back to its dns module, and the proxy sees the name.
 *
 * libbpf 1.1 (Debian 12) has no "cgroup/connect_unix" section: the program is built as a
 * sock_addr one and the agent sets its attach type before load (agent/unix_guard.c), or
 * leaves it out where the kernel has none. Should it ever run on an inet connect(), it
 * allows it: it decides AF_UNIX addresses only.
 */
#include "lsnitch_unix.h"

/* The kernel's context behind struct bpf_sock_addr, its fields found through BTF (CO-RE). */
struct bpf_sock_addr_kern___ln {
	void *uaddr; /* struct sockaddr_un *, in a kernel sockaddr_storage */
	__u32 uaddrlen;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/* A resolver_sockets key with room for the NUL bpf_probe_read_kernel_str() ends a copy with. */
struct ln_unix_key {
	struct ln_unix_path k;
	char nul;
};

/*
 * The path @ctx connects to into @key (zeroed by the caller), zero-padded as the map's keys
 * are: the bytes the caller gave, up to the first NUL. An abstract name (leading NUL) becomes
 * all zeros, which no key is. 0, or -1 when it cannot be read. The helper stops at the NUL:
 * no loop over the 108 bytes, which the verifier would walk once per place a path can end.
 */
LN_INLINE int ln_unix_path_of(struct bpf_sock_addr *ctx, struct ln_unix_key *key)
{
	struct bpf_sock_addr_kern___ln *sa = bpf_cast_to_kern_ctx(ctx);
	__u32 len = sa->uaddrlen;

	/* sun_path starts after the 2-byte family; the storage behind it is 128 bytes. */
	len = len > 2 ? len - 2 : 0;
	if (len > LN_UNIX_PATH_MAX)
		len = LN_UNIX_PATH_MAX;
	/* at most len bytes, then the NUL (into key->nul for a 108-byte path) */
	if (bpf_probe_read_kernel_str(key->k.path, len + 1, (char *)sa->uaddr + 2) < 0)
		return -1;
	return 0;
}

LN_INLINE void ln_unix_report(__u64 cg, __u32 policy_id, const struct ln_decision *d,
			      const struct ln_unix_val *v)
{
	struct ln_event *e = ln_event_start(cg, policy_id, d, LN_HOOK_CONNECT_UNIX);

	if (!e)
		return;
	__builtin_memset(&e->un, 0, sizeof(e->un));
	e->un.index = v->index;
	e->port = 0;
	e->family = LN_AF_UNIX;
	e->proto = 0;
	bpf_ringbuf_submit(e, 0);
}

/* 1: connect() goes on; 0: it fails with EPERM. Audit: reported, allowed. */
SEC("cgroup/connect4")
int ln_connect_unix(struct bpf_sock_addr *ctx)
{
	const struct ln_policy_val *pol;
	const struct ln_config_val *cfg;
	const struct ln_unix_val *v;
	struct ln_unix_key key = {};
	struct ln_decision d = {};
	__u32 zero = 0, policy_id;
	__u64 cg;

	if (ctx->user_family != LN_AF_UNIX || ln_unix_path_of(ctx, &key) < 0)
		return 1;
	v = bpf_map_lookup_elem(&resolver_sockets, &key.k);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!v || !cfg)
		return 1;
	cg = bpf_get_current_cgroup_id();
	pol = ln_policy(cfg, cg, &policy_id);
	ln_decide_unix(pol, v, &d);
	ln_count(d.verdict == LN_VERDICT_ALLOW ? LN_CNT_ALLOWED
		 : d.audit		       ? LN_CNT_AUDITED
					       : LN_CNT_DENIED);
	if (d.log)
		ln_unix_report(cg, policy_id, &d, v);
	return d.verdict == LN_VERDICT_DENY && !d.audit ? 0 : 1;
}
