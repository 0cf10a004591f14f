/* SPDX-License-Identifier: GPL-2.0 */
/* The DNS resolver proxy: answers guarded processes' queries, blocks names, records verdicts. */
#ifndef LSNITCH_DNS_PROXY_H
#define LSNITCH_DNS_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <linux/types.h>

#include "rules.h"
#include "dns_msg.h" /* struct ln_dns_answer_addr: the parser fills what record() gets */

/*
 * How queries reach the proxy: the BPF connect/sendmsg hooks rewrite a guarded
 * process's port-53 destination to 127.0.0.1:(base_port + slot) (or [::1] for
 * IPv6 sockets, ::ffff:127.0.0.1 for v4-mapped). A slot stands for one
 * (original server address:port, policy id) pair; the kernel allocates slots
 * and the proxy asks which pair a slot stands for with slot_lookup. So the
 * proxy listens on n_slots consecutive ports, UDP and TCP, on 127.0.0.1 and
 * ::1 (4 sockets per slot), and forwards each query to the slot's server.
 */
struct ln_dns_slot {
	struct sockaddr_storage server; /* original destination (port 53 usually) */
	socklen_t server_len;
	__u32 policy_id;
};

enum ln_dns_block_mode {
	LN_DNS_BLOCK_NXDOMAIN = 0, /* default */
	LN_DNS_BLOCK_REFUSED = 1,
	LN_DNS_BLOCK_ZERO = 2, /* A 0.0.0.0 / AAAA ::, NXDOMAIN-free; other types NODATA */
};

/*
 * A listed name, for events. Under audit the query it was in was answered
 * normally (forwarded, its answer recorded and relayed), else with the block
 * reply.
 */
struct ln_dns_block {
	__u32 policy_id;
	__u32 rule_id;
	const char *name;              /* the listed name: the question or a CNAME in the answer */
	__u16 qtype;
	bool audit;                    /* reported only: the query was answered normally */
	const struct sockaddr *client; /* NULL if unknown */
};

struct ln_dns_proxy_ops {
	/* Which (server, policy) @slot stands for; 0, or -ENOENT for an unknown slot. */
	int (*slot_lookup)(void *ud, __u16 slot, struct ln_dns_slot *out);
	/*
	 * Whether @name (lower case, no trailing dot) is blocked for @policy_id:
	 * the rule id of the matching domain-list entry, or 0; *audit set true
	 * when the policy (or the whole agent) is in audit mode: then the name
	 * is reported, not blocked.
	 */
	__u32 (*name_blocked)(void *ud, __u32 policy_id, const char *name, bool *audit);
	/*
	 * Called for every answer the proxy is about to relay, BEFORE it is sent
	 * to the client: @names is the CNAME chain (question name first), @addrs
	 * the A/AAAA addresses with their TTLs. The agent records verdicts here.
	 */
	void (*record)(void *ud, __u32 policy_id, const char *const *names, size_t n_names,
		       const struct ln_dns_answer_addr *addrs, size_t n_addrs);
	/* A listed name was asked or answered: blocked, or in audit mode only reported. */
	void (*blocked)(void *ud, const struct ln_dns_block *b);
};

struct ln_dns_proxy_config {
	__u16 base_port;         /* first port; default LN_DNS_BASE_PORT */
	__u16 n_slots;           /* ports base .. base + n_slots - 1 */
	enum ln_dns_block_mode block_mode;
	unsigned int timeout_ms; /* upstream timeout; then SERVFAIL (default 4000) */
	__u32 sock_mark;         /* SO_MARK on upstream sockets (0: none) */
	const struct ln_dns_proxy_ops *ops;
	void *ud;
};

#define LN_DNS_BASE_PORT 10530
#define LN_DNS_SLOTS 64
#define LN_DNS_TIMEOUT_MS 4000

/*
 * queries: every message received from clients (UDP and TCP), tcp_queries of
 * them over TCP; malformed: dropped (not a parsable single-question query,
 * or an unreadable upstream reply); blocked: answered with the block reply
 * (question or CNAME chain listed; under audit a listed name is not counted
 * here, its query goes on as any other); forwarded: sent upstream; answered:
 * upstream replies relayed; truncated: relayed with TC set; forged: replies
 * on an upstream socket that did not answer our query (ignored); timeouts:
 * no valid reply in time (SERVFAIL sent); servfail: every SERVFAIL the proxy
 * made (timeouts, a full pending table, upstream unreachable, CNAME loops);
 * refused: queries on a slot slot_lookup() did not know.
 */
struct ln_dns_stats {
	unsigned long long queries, answered, blocked, forwarded, timeouts, malformed, forged,
		tcp_queries, truncated;
	unsigned long long servfail, refused;
};

struct ln_dns_proxy;

/* Binds every socket (fails with -EADDRINUSE etc. and a message in *err). */
int ln_dns_proxy_start(sd_event *event, const struct ln_dns_proxy_config *cfg,
		       struct ln_dns_proxy **out, struct ln_error *err);
void ln_dns_proxy_stop(struct ln_dns_proxy *p); /* accepts NULL */
void ln_dns_proxy_stats(const struct ln_dns_proxy *p, struct ln_dns_stats *out);
/* Whether the ::1 sockets exist (false when the host has no IPv6: that is not an error). */
/* How blocked names are answered from now on (a reload changed dns-block): 0 or -EINVAL. */
int ln_dns_proxy_set_block_mode(struct ln_dns_proxy *p, enum ln_dns_block_mode mode);
bool ln_dns_proxy_has_ipv6(const struct ln_dns_proxy *p);

#endif /* LSNITCH_DNS_PROXY_H */
