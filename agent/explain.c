// SPDX-License-Identifier: GPL-2.0
/* explain: the kernel's verdict for one destination, with the running generation's live DNS. */
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "lsnitch.skel.h"

/* The dns_verdicts map as ln_compiled_decide() asks it; the answer lives in @v. */
struct explain_dns {
	int fd;
	__u64 now_ns; /* CLOCK_MONOTONIC: the clock of bpf_ktime_get_ns() */
	struct ln_dns_verdict v;
};

static const struct ln_rule_set *explain_dns_lookup(void *ud, __u32 policy_id,
						    const __u8 addr[LN_ADDR_LEN])
{
	struct explain_dns *x = ud;
	struct ln_bl_key k = {.set = policy_id};

	memcpy(k.addr, addr, LN_ADDR_LEN);
	if (x->fd < 0 || bpf_map_lookup_elem(x->fd, &k, &x->v))
		return NULL;
	return x->now_ns < x->v.expires_ns ? &x->v.rs : NULL;
}

void ln_explain_decide(const struct ln_generation *g, __u32 policy_id, const __u8 addr[LN_ADDR_LEN],
		       __u16 port, __u8 proto, struct ln_decision *d)
{
	struct explain_dns x = {.fd = -1};
	struct timespec ts;

	if (g->skel)
		x.fd = bpf_map__fd(g->skel->maps.dns_verdicts);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	x.now_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ln_compiled_decide(&g->cc, policy_id, addr, port, proto, explain_dns_lookup, &x, d);
}
