/* SPDX-License-Identifier: GPL-2.0 */
/* A sock_addr hook's verdict counted as a flow (flow.bpf.h), through the verdict cache's ref. */
#ifndef LSNITCH_FLOW_SA_BPF_H
#define LSNITCH_FLOW_SA_BPF_H

/*
 * ln_flow_count() of @r's verdict @d, into r->flow; after a verdict cache hit
 * (@hit), the cache slot remembers where (ln_vc_retag()). A global function,
 * so the flow key and the table's temporaries are not on the hook's frame.
 */
__attribute__((noinline)) int ln_flow_count_sa(struct ln_vc_ref *r, const struct ln_words *a,
					       const struct ln_decision *d, __u32 flags, int hit)
{
	if (!r || !a || !d)
		return 0;
	ln_flow_count(r->cg, r->policy_id, (const __u8 *)a->w, r->port, r->proto, d, flags,
		      &r->exe, &r->flow);
	if (hit)
		ln_vc_retag(r, a);
	return 0;
}

/*
 * Count verdict @d of @r: a verdict cache hit whose flow is where it was
 * last counted costs ln_flow_recount(), inline; the rest a call.
 */
LN_INLINE void ln_flow_note(struct ln_vc_ref *r, const struct ln_words *a,
			    const struct ln_decision *d, __u32 flags, int hit)
{
	if (!ln_flows_on)
		return;
	if (hit && ln_flow_recount(&r->flow, r->cg))
		return;
	ln_flow_count_sa(r, a, d, flags, hit);
}

#endif /* LSNITCH_FLOW_SA_BPF_H */
