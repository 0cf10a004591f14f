/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DNS redirect (included by lsnitch.bpf.c): while the agent's proxy is
 * alive, a guarded port-53 query goes to the proxy port of its (server,
 * policy) slot; the restore hooks ask which server a slot stands for.
 */
#ifndef LSNITCH_DNS_REDIRECT_BPF_H
#define LSNITCH_DNS_REDIRECT_BPF_H

/* The proxy is up (fresh heartbeat) and this is not one of its own sockets. */
LN_INLINE const struct ln_dns_state *ln_dns_active(void)
{
	const struct ln_dns_state *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&dns_state, &zero);
	if (!st || !st->n_slots || st->n_slots > LN_DNS_MAX_SLOTS)
		return NULL;
	if (bpf_ktime_get_ns() - st->heartbeat_ns > LN_DNS_HEARTBEAT_NS)
		return NULL;
	if ((bpf_get_current_pid_tgid() >> 32) == st->agent_tgid)
		return NULL;
	return st;
}

LN_INLINE __u32 ln_dns_hash(const struct ln_dns_owner *o)
{
	const __u32 *w = (const __u32 *)o;
	__u32 h = 0x9e3779b9;
	int i;

	for (i = 0; i < (int)(sizeof(*o) / 4); i++)
		h = (h ^ w[i]) * 0x01000193;
	return h ^ (h >> 16);
}

LN_INLINE int ln_dns_owner_eq(const struct ln_dns_owner *a, const struct ln_dns_owner *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
}

/* The slot of (server, policy), claiming a free one on first use; -1 if none. */
LN_INLINE int ln_dns_slot(const struct ln_dns_state *st, const struct ln_dns_owner *o)
{
	struct ln_dns_slot_val nv = { .owner = *o };
	struct ln_dns_slot_val *cur;
	__u32 *found, h, n = st->n_slots, s;
	int i;

	found = bpf_map_lookup_elem(&dns_slot_by_owner, o);
	if (found) {
		cur = bpf_map_lookup_elem(&dns_slot_owner, found);
		if (cur)
			cur->last_used_ns = bpf_ktime_get_ns();
		return *found < n ? (int)*found : -1;
	}
	if (!n)
		return -1;
	h = ln_dns_hash(o);
	nv.last_used_ns = bpf_ktime_get_ns();
	for (i = 0; i < 8; i++) {
		s = (h + i) % n;
		/* BPF_NOEXIST makes the claim atomic against other CPUs. */
		if (bpf_map_update_elem(&dns_slot_owner, &s, &nv, BPF_NOEXIST) == 0) {
			bpf_map_update_elem(&dns_slot_by_owner, o, &s, BPF_ANY);
			return (int)s;
		}
		cur = bpf_map_lookup_elem(&dns_slot_owner, &s);
		if (cur && ln_dns_owner_eq(&cur->owner, o))
			return (int)s;
	}
	return -1;
}

LN_INLINE int ln_is_v4_mapped(const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

/* ln_check() results beyond allow/deny: redirect to the proxy's port. */
#define LN_REDIRECT 0x10000

/*
 * The proxy port for a DNS query of (server, policy), as LN_REDIRECT | port;
 * 0 when there is no slot (the query then goes out as it is).
 */
LN_INLINE int ln_dns_redirect(const struct ln_dns_state *st, const __u8 *addr, __u16 port,
			      __u32 policy_id)
{
	struct ln_dns_owner o = { .port = port, .policy_id = policy_id };
	int slot;

	__builtin_memcpy(o.addr, addr, LN_ADDR_LEN);
	slot = ln_dns_slot(st, &o);
	if (slot < 0) {
		ln_count(LN_CNT_DNS_NO_SLOT);
		return 0;
	}
	ln_count(LN_CNT_DNS_REDIRECTED);
	return LN_REDIRECT | (__u16)(st->base_port + slot);
}

/* The (server, policy) the proxy port @port stands for, or NULL. */
LN_INLINE const struct ln_dns_slot_val *ln_dns_owner_of(__u16 port)
{
	const struct ln_dns_state *st;
	__u32 zero = 0, slot;

	st = bpf_map_lookup_elem(&dns_state, &zero);
	if (!st || port < st->base_port || port >= st->base_port + st->n_slots)
		return NULL;
	if ((bpf_get_current_pid_tgid() >> 32) == st->agent_tgid)
		return NULL;
	slot = port - st->base_port;
	return bpf_map_lookup_elem(&dns_slot_owner, &slot);
}

#endif /* LSNITCH_DNS_REDIRECT_BPF_H */
