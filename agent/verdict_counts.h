/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Verdicts per (policy, verdict, reason) since the agent started, summed from the drained flow
 * table (flows.c): /metrics's per-policy counters, at no cost in the kernel. Never logs.
 */
#ifndef LSNITCH_VERDICT_COUNTS_H
#define LSNITCH_VERDICT_COUNTS_H

#include <stdint.h>

struct json_object;
struct ln_vcounts;

#define LN_VCOUNTS_MAX 1024 /* (policy, verdict, reason)s kept; the rest count as "(other)" */

/* @n verdicts into @vc's (@policy, @verdict, @reason) (@policy copied; the others static). */
int ln_vcounts_add(struct ln_vcounts **vc, const char *policy, const char *verdict,
		   const char *reason, uint64_t n);
/* [{"policy", "verdict", "reason", "count"}, ...]; an empty array for NULL. */
struct json_object *ln_vcounts_json(const struct ln_vcounts *vc);
void ln_vcounts_free(struct ln_vcounts *vc);

#endif /* LSNITCH_VERDICT_COUNTS_H */
