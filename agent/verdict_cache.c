// SPDX-License-Identifier: GPL-2.0
/* The agent's side of the verdict cache (bpf/verdict_cache.bpf.h): what makes it stale. */
#include "agent.h"
#include "lsnitch.skel.h"

#define LN_VC_N_EPOCHS (sizeof(((struct lsnitch_bpf *)0)->bss->ln_vc_epoch) / sizeof(__u32))

void ln_vc_policy_changed(struct ln_generation *g, __u32 policy_id)
{
	if (!g || !g->skel || !g->skel->bss)
		return;
	/* after the write it follows: a verdict stamped before it no longer matches */
	__atomic_fetch_add(&g->skel->bss->ln_vc_epoch[policy_id % LN_VC_N_EPOCHS], 1,
			   __ATOMIC_RELEASE);
}

void ln_vc_all_changed(struct ln_generation *g)
{
	__u32 *gen, old, next;

	if (!g || !g->config_mm)
		return;
	/* the generation, not a policy's epoch: a miss reads it before the maps it decides from */
	gen = &g->config_mm->generation;
	old = __atomic_load_n(gen, __ATOMIC_RELAXED);
	do
		next = old + 1 ? old + 1 : 1; /* 0 is never a generation */
	while (!__atomic_compare_exchange_n(gen, &old, next, false, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
}
