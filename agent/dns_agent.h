/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's DNS glue, between its files: the name cache, resolvers a policy may ask, askers. */
#ifndef LSNITCH_DNS_AGENT_H
#define LSNITCH_DNS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "agent.h"
#include "dns_proxy.h"

__u64 ln_dns_mono_ns(void); /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */

/* dns_names.c: (policy, address) -> the names (CNAME chain) it was resolved from */
struct ln_name_cache;
/* The key of a policy in the cache: its name's, so that it outlives a reload. */
__u64 ln_dns_policy_key(const struct ln_config *c, __u32 policy_id);
struct ln_name_cache *ln_names_new(void);
void ln_names_free(struct ln_name_cache *c); /* accepts NULL */
void ln_names_store(struct ln_name_cache *c, __u64 policy_key, const __u8 *addr,
		    const char *const *names, size_t n, __u64 expires_ns);
/* The first name of a live entry, or NULL; @c may be NULL. */
const char *ln_names_lookup(struct ln_name_cache *c, __u64 policy_key, const __u8 *addr);
typedef void (*ln_names_fn)(void *ud, __u64 policy_key, const __u8 *addr, const char *const *names,
			    size_t n, __u64 expires_ns);
void ln_names_each_live(struct ln_name_cache *c, ln_names_fn fn, void *ud);

/* dns_asker.c: the task that sent @b's query (bpf/dns_asker.bpf.h); 0 or -ENOENT etc. */
int ln_dns_asker_find(struct ln_manager *m, const struct ln_dns_block *b, struct ln_dns_asker *out);

/* dns_events.c: the proxy's events, naming the asker */
void ln_dns_report_blocked(void *ud, const struct ln_dns_block *b);
/* A query to a server @b's policy may not ask; @audit: reported, not refused. */
void ln_dns_report_server(struct ln_manager *m, const struct ln_dns_block *b, bool audit);

/* dns_servers.c: which resolvers each policy of a generation may ask */
int ln_dns_servers_prepare(struct ln_manager *m, struct ln_generation *g, struct ln_error *err);
void ln_dns_servers_release(struct ln_generation *g);
bool ln_dns_server_refused(void *ud, const struct ln_dns_block *b);

#endif /* LSNITCH_DNS_AGENT_H */
