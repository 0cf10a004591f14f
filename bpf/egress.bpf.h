/* SPDX-License-Identifier: GPL-2.0 */
/* cgroup_skb/egress: every packet's real destinations under the policy (in lsnitch.bpf.c). */

/*
 * The sock_addr hooks decide the address given to connect()/sendmsg(). What
 * they cannot see is decided here, per packet, with the same maps and
 * ln_decide(): the first hop and every address of an IPv6 routing header or
 * an IPv4 source route, and every packet of sockets no sock_addr hook runs
 * for (raw, ping, other protocols). Everything else -- an ordinary TCP/UDP
 * packet already decided at connect()/sendmsg() -- leaves after a few loads.
 */

#ifndef SOCK_RAW
#define SOCK_RAW 3
#endif
#define LN_IP_ICMP 1
#define LN_IP_HOPOPTS 0
#define LN_IP_ROUTING 43
#define LN_IP_FRAGMENT 44
#define LN_IP_AH 51
#define LN_IP_ICMPV6 58
#define LN_IP_DSTOPTS 60
#define LN_IP_SCTP 132
#define LN_IP_DCCP 33
#define LN_IP_UDPLITE 136
#define LN_IPOPT_LSRR 0x83
#define LN_IPOPT_SSRR 0x89

/* Extension headers looked past before the transport header; routing headers remembered. */
#define LN_EXT_MAX 8
#define LN_RH_MAX 2
/* An IPv6 routing header holds at most 127 addresses (hdrlen <= 255), IPv4 options 9. */
#define LN_ROUTE_MAX 128
/* Egress events per CPU per second; a flood of dropped packets is counted, not reported. */
#define LN_EGRESS_EVENTS_PER_SEC 64

struct ln_egress_budget {
	__u64 window_ns; /* start of the current second */
	__u32 sent;	 /* events sent in it */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ln_egress_budget);
} egress_budget SEC(".maps");

/* One destination of a packet, as ln_egress_hop() decides it. */
struct ln_hop {
	__u8 addr[LN_ADDR_LEN]; /* v4 mapped */
	__u64 cg;		/* the socket's cgroup */
	__u32 policy_id;
	__u16 port; /* host order; 0 for protocols without ports */
	__u8 family;
	__u8 proto;
};

/* The sock_addr hooks decide this socket's destinations: TCP, UDP, UDP-Lite, not raw. */
LN_INLINE int ln_sock_hooked(const struct bpf_sock *sk)
{
	__u32 p = sk->protocol;

	return sk->type != SOCK_RAW && (p == IPPROTO_TCP || p == IPPROTO_UDP || p == LN_IP_UDPLITE);
}

/* An IPv4 header without options or an IPv6 header straight to TCP/UDP/UDP-Lite. */
LN_INLINE int ln_plain(const __u8 *p, const void *end)
{
	__u8 next;

	if ((const void *)(p + 10) > end)
		return 0;
	if (p[0] == 0x45)
		next = p[9];
	else if ((p[0] >> 4) == 6)
		next = p[6];
	else
		return 0;
	return next == IPPROTO_TCP || next == IPPROTO_UDP || next == LN_IP_UDPLITE;
}

/* One event per denial, within the per-CPU budget; the rest only counted. */
LN_INLINE int ln_egress_budget_ok(void)
{
	struct ln_egress_budget *b;
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&egress_budget, &zero);
	if (!b)
		return 0;
	if (now - b->window_ns >= 1000000000ULL) {
		b->window_ns = now;
		b->sent = 0;
	}
	if (b->sent >= LN_EGRESS_EVENTS_PER_SEC) {
		ln_count(LN_CNT_EVENTS_LIMITED);
		return 0;
	}
	b->sent++;
	return 1;
}

/*
 * The packet may be sent from softirq context (a TCP retransmission), where
 * the current task is anyone: the task is named only when it is in the
 * socket's cgroup; the uid is always the socket owner's.
 */
LN_INLINE void ln_egress_report(struct __sk_buff *skb, const struct ln_hop *h,
				const struct ln_decision *d)
{
	struct ln_event *e;

	if (!ln_egress_budget_ok())
		return;
	e = ln_event_new(h->cg, h->policy_id, d, LN_HOOK_EGRESS);
	if (!e)
		return;
	__builtin_memcpy(e->addr, h->addr, LN_ADDR_LEN);
	e->port = h->port;
	if (bpf_get_current_cgroup_id() == h->cg) {
		ln_event_task(e);
	} else {
		e->pid = 0;
		e->tgid = 0;
		e->gid = 0;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
	e->uid = bpf_get_socket_uid(skb);
	e->family = h->family;
	e->proto = h->proto;
	bpf_ringbuf_submit(e, 0);
}

/*
 * A drop of @h into the flow table, with the socket's executable. A global
 * function: the flow key is on its own frame, not on the chain below
 * ln_egress_hop() (ln_decide() and the list lookups), which is at 512 bytes.
 */
__attribute__((noinline)) int ln_egress_flow(struct __sk_buff *skb, const struct ln_hop *h,
					     const struct ln_decision *d)
{
	if (h && d)
		ln_flow_count_shared(h->cg, h->policy_id, h->addr, h->port, h->proto, d,
				     LN_FLOW_EGRESS, ln_flow_skb_exe(skb));
	return 0;
}

/*
 * 1: @h may receive the packet, 0: drop it. A global function: the verifier
 * checks the decision once, not once per address of a route.
 */
__attribute__((noinline)) int ln_egress_hop(struct __sk_buff *skb, const struct ln_hop *h)
{
	const struct ln_policy_val *pol;
	const struct ln_config_val *cfg;
	struct ln_decision d = {};
	__u32 zero = 0, policy_id;

	if (!h)
		return 1;
	policy_id = h->policy_id;
	cfg = bpf_map_lookup_elem(&config, &zero);
	pol = ln_policy_by_id(policy_id);
	if (!cfg || !pol)
		return 1;
	ln_decide_bpf(policy_id, (const struct ln_words *)h->addr, h->port, h->proto, &d);
	if (d.verdict == LN_VERDICT_DENY)
		ln_count(d.audit ? LN_CNT_AUDITED : LN_CNT_EGRESS_DROPPED);
	if (d.verdict == LN_VERDICT_DENY && !d.audit)
		ln_egress_flow(skb, h, &d);
	if (d.log)
		ln_egress_report(skb, h, &d);
	return d.verdict == LN_VERDICT_DENY && !d.audit ? 0 : 1;
}

/* What the slow path learned from the headers. */
struct ln_pkt {
	struct __sk_buff *skb;
	__u32 off;	     /* next header to read */
	__u32 end;	     /* v4: end of the options */
	__u32 rh[LN_RH_MAX]; /* offsets of routing headers (v6) or the source route option (v4) */
	__u8 n_rh;
	__u8 next;	     /* protocol of the header at @off */
	__u8 later_fragment; /* no transport header in this packet */
	__u8 hop_limit;	     /* v6 */
	__u8 on_link;	     /* v6: to a link-scope address or into the source's /64 */
	__u8 pad[3];
};

LN_INLINE int ln_load(struct __sk_buff *skb, __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes(skb, off, to, len);
}

/* bpf_loop() step over one IPv6 extension header; 1 at the transport header. */
static long ln_ext_step(__u32 i, void *ctx)
{
	struct ln_pkt *pk = ctx;
	__u8 h[4];

	if (pk->next != LN_IP_HOPOPTS && pk->next != LN_IP_ROUTING && pk->next != LN_IP_DSTOPTS &&
	    pk->next != LN_IP_FRAGMENT && pk->next != LN_IP_AH)
		return 1;
	/* Truncated: the transport is unknown, the destination is decided all the same. */
	if (ln_load(pk->skb, pk->off, h, sizeof(h)) < 0)
		return 1;
	if (pk->next == LN_IP_ROUTING && pk->n_rh < LN_RH_MAX)
		pk->rh[pk->n_rh++ & (LN_RH_MAX - 1)] = pk->off;
	if (pk->next == LN_IP_FRAGMENT)
		pk->later_fragment |= (h[2] << 8 | h[3]) >> 3 != 0;
	if (pk->next == LN_IP_FRAGMENT)
		pk->off += 8;
	else if (pk->next == LN_IP_AH)
		pk->off += (h[1] + 2) * 4;
	else
		pk->off += (h[1] + 1) * 8;
	pk->next = h[0];
	return 0;
}

/* bpf_loop() step over one IPv4 option; 1 at the end of the options. */
static long ln_opt_step(__u32 i, void *ctx)
{
	struct ln_pkt *pk = ctx;
	__u8 o[2];

	if (pk->off >= pk->end || ln_load(pk->skb, pk->off, o, sizeof(o)) < 0)
		return 1;
	if (o[0] == 0) /* end of options */
		return 1;
	if (o[0] == 1) { /* no-op */
		pk->off++;
		return 0;
	}
	if (o[1] < 2)
		return 1;
	if ((o[0] == LN_IPOPT_LSRR || o[0] == LN_IPOPT_SSRR) && !pk->n_rh) {
		pk->rh[0] = pk->off;
		pk->n_rh = 1;
	}
	pk->off += o[1];
	return 0;
}

/* The destination port of transport @proto at @off (0: none, or not in this packet). */
LN_INLINE __u16 ln_port_at(struct __sk_buff *skb, __u32 off, __u8 proto)
{
	__u16 port;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != LN_IP_UDPLITE &&
	    proto != LN_IP_SCTP && proto != LN_IP_DCCP)
		return 0;
	if (ln_load(skb, off + 2, &port, sizeof(port)) < 0)
		return 0;
	return bpf_ntohs(port);
}

/* Walk on from the route addresses: decides each; 1 when one is denied. */
struct ln_route_walk {
	struct __sk_buff *skb;
	struct ln_hop *hop;
	__u32 off; /* next address */
	__u8 alen; /* 4 or 16 */
	__u8 denied;
};

static long ln_route_step(__u32 i, void *ctx)
{
	struct ln_route_walk *w = ctx;
	struct ln_hop *h = w->hop;
	int r;

	if (w->alen == 4)
		r = ln_load(w->skb, w->off, &h->addr[12], 4);
	else
		r = ln_load(w->skb, w->off, h->addr, LN_ADDR_LEN);
	if (r < 0)
		return 1;
	w->off += w->alen;
	if (!ln_egress_hop(w->skb, h)) {
		w->denied = 1;
		return 1;
	}
	return 0;
}

/* 1: every address of the route at @off may receive the packet. */
LN_INLINE int ln_route_ok(struct __sk_buff *skb, struct ln_hop *h, __u32 off, int v6)
{
	struct ln_route_walk w = {.skb = skb, .hop = h, .alen = v6 ? 16 : 4};
	__u8 r[5];
	__u32 n;

	/* Read once already, on the way to the transport header: fails only when truncated. */
	if (ln_load(skb, off, r, v6 ? 5 : 3) < 0)
		return 0;
	if (!v6) {
		/* type, length, pointer, then the addresses: every one a hop to come */
		n = r[1] >= 3 ? (r[1] - 3) / 4 : 0;
		w.off = off + 3;
	} else if (r[2] == 0 || r[2] == 2 || r[2] == 4) {
		/* types 0 and 2: addresses fill the header; 4 (SRH): last_entry + 1 of them */
		n = r[1] / 2;
		if (r[2] == 4 && (__u32)r[4] + 1 < n)
			n = r[4] + 1;
		w.off = off + 8;
	} else {
		return 1; /* a type the kernel does not route by: only its destination counts */
	}
	bpf_loop(n < LN_ROUTE_MAX ? n : LN_ROUTE_MAX, ln_route_step, &w, 0);
	return !w.denied;
}

/* Fills @h (destination, protocol, port) and @pk (route) from the headers; -1: not IP. */
LN_INLINE int ln_parse(struct __sk_buff *skb, struct ln_pkt *pk, struct ln_hop *h)
{
	__u8 ip[40];

	if (ln_load(skb, 0, ip, 20) < 0)
		return -1;
	if ((ip[0] >> 4) == 4 && (ip[0] & 15) >= 5) {
		h->family = AF_INET;
		ln_addr_from_v4(h->addr, *(__u32 *)&ip[16]);
		pk->next = ip[9];
		pk->off = 20;
		pk->end = (ip[0] & 15) * 4;
		pk->later_fragment = ((ip[6] << 8 | ip[7]) & 0x1fff) != 0;
		bpf_loop(40, ln_opt_step, pk, 0);
		pk->off = pk->end;
	} else if ((ip[0] >> 4) == 6 && ln_load(skb, 0, ip, 40) == 0) {
		h->family = AF_INET6;
		__builtin_memcpy(h->addr, &ip[24], LN_ADDR_LEN);
		pk->hop_limit = ip[7];
		pk->on_link = (ip[24] == 0xfe && (ip[25] & 0xc0) == 0x80) ||
			      (ip[24] == 0xff && (ip[25] & 0x0f) == 0x02) ||
			      *(__u64 *)&ip[8] == *(__u64 *)&ip[24];
		pk->next = ip[6];
		pk->off = 40;
		bpf_loop(LN_EXT_MAX, ln_ext_step, pk, 0);
	} else {
		return -1;
	}
	h->proto = pk->next;
	h->port = pk->later_fragment ? 0 : ln_port_at(skb, pk->off, pk->next);
	return 0;
}

/*
 * IPv6 neighbour discovery (hop limit 255) and MLD (hop limit 1) on the link:
 * a network namespace made inside a guarded cgroup sends its kernel's own
 * with sockets of that cgroup, and IPv6 does not work without them. Passed
 * undecided, but only to link-scope addresses or the source's own /64.
 */
LN_INLINE int ln_link_housekeeping(struct __sk_buff *skb, const struct ln_pkt *pk)
{
	__u8 type;

	if (pk->next != LN_IP_ICMPV6 || !pk->on_link || pk->later_fragment ||
	    ln_load(skb, pk->off, &type, 1) < 0)
		return 0;
	if (type >= 133 && type <= 137)
		return pk->hop_limit == 255;
	return (type >= 130 && type <= 132) || type == 143 ? pk->hop_limit == 1 : 0;
}

/* The slow path: 1 pass, 0 drop. @hooked: a socket the sock_addr hooks decide. */
LN_INLINE int ln_egress_check(struct __sk_buff *skb, int hooked)
{
	struct ln_pkt pk = {.skb = skb};
	const struct ln_config_val *cfg;
	struct ln_hop h = {};
	__u32 zero = 0;
	int i;

	if (ln_parse(skb, &pk, &h) < 0 || (hooked && !pk.n_rh))
		return 1;
	if (h.family == AF_INET6 && ln_link_housekeeping(skb, &pk))
		return 1;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 1;
	h.cg = bpf_skb_cgroup_id(skb);
	if (!ln_policy_of(cfg, h.cg, skb, &h.policy_id))
		return 1;
	if (!ln_egress_hop(skb, &h))
		return 0;
	for (i = 0; i < LN_RH_MAX; i++)
		if (i < pk.n_rh && !ln_route_ok(skb, &h, pk.rh[i], h.family == AF_INET6))
			return 0;
	return 1;
}

SEC("cgroup_skb/egress")
int ln_egress(struct __sk_buff *skb)
{
	const void *end = (const void *)(long)skb->data_end;
	const __u8 *p = (const __u8 *)(long)skb->data;
	struct bpf_sock *sk = skb->sk;
	int hooked;

	if (!sk)
		return 1;
	/* Not a full socket: a request or timewait socket's control packet of TCP. */
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	hooked = ln_sock_hooked(sk);
	if (hooked && ln_plain(p, end))
		return 1;
	return ln_egress_check(skb, hooked);
}
