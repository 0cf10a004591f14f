/* SPDX-License-Identifier: GPL-2.0 */
/* The DNS resolver proxy: answers guarded processes' queries, blocks names, records verdicts. */
#ifndef LSNITCH_DNS_PROXY_H
#define LSNITCH_DNS_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <linux/types.h>

#include "rules.h"
#include "dns_msg.h" /* struct ln_dns_answer_addr: the parser fills what record() gets */

/*
 * How queries reach the proxy: the BPF connect/sendmsg hooks rewrite a guarded
 * process's port-53 destination to 127.0.0.1:port (or [::1] for IPv6 sockets,
 * ::ffff:127.0.0.1 for v4-mapped) in the process's own network namespace. A
 * slot stands for one (original server address:port, policy id) pair; the
 * kernel allocates slots and the proxy asks which pair a slot stands for with
 * slot_lookup. In every netns it serves, the proxy has 4 sockets per slot
 * (UDP and TCP on 127.0.0.1 and ::1) on ports the kernel chose (so nobody can
 * take them first), published through ops->ports, and forwards each query to
 * the slot's server from inside that netns.
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
	/* the asking socket as the kernel knows it: its peer is the proxy's (tcp) port */
	__u16 proxy_port;
	bool tcp;
	const struct sockaddr *server; /* the server asked; NULL if unknown */
};

struct ln_dns_proxy_ops {
	/*
	 * Which (server, policy) @slot stands for; 0, or -ENOENT for an unknown slot.
	 * A known slot's answer is kept until ln_dns_proxy_slot_renew(): a slot
	 * must be renewed before it may stand for another pair.
	 */
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
	/*
	 * The sockets of @slot in netns @netns were opened (@on) or are about to
	 * close: @port[kind] (enum ln_dns_kind), 0 for a kind it has none of.
	 * Returns 0 or -errno (then the proxy does not use those sockets).
	 */
	int (*ports)(void *ud, __u64 netns, __u16 slot, const __u16 *port, bool on);
	/*
	 * Whether the query @b (the question, rule_id 0) is refused because its
	 * policy may not ask that server: then the proxy answers REFUSED and
	 * forwards nothing (the agent reports it). NULL: every server may be asked.
	 */
	bool (*server_refused)(void *ud, const struct ln_dns_block *b);
};

struct ln_dns_proxy_config {
	__u16 n_slots;           /* slots, at most LN_DNS_SLOTS */
	enum ln_dns_block_mode block_mode;
	unsigned int timeout_ms; /* upstream timeout; then SERVFAIL (default 4000) */
	__u32 sock_mark;         /* SO_MARK on upstream sockets (0: none) */
	bool cache;              /* keep answers for their TTL (ln_dns_proxy_set_cache()) */
	__u32 cache_ttl_max;     /* keep none longer, seconds (0: 3600) */
	const struct ln_dns_proxy_ops *ops;
	void *ud;
};

#define LN_DNS_SLOTS 64 /* ln_dns_port_key entries are sized for 64 */
#define LN_DNS_POLICY_SLOTS (LN_DNS_SLOTS / 4)
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
 * refused: queries on a slot slot_lookup() did not know, or to a server the
 * policy may not ask (server_refused()); over_share: queries (SERVFAIL) and
 * TCP connections (closed) over their policy's fair share; netns: network
 * namespaces served now, the agent's own included; notimp, late: see below.
 */
struct ln_dns_stats {
	unsigned long long queries, answered, blocked, forwarded, timeouts, malformed, forged,
		tcp_queries, truncated;
	unsigned long long servfail, refused, over_share, netns;
	unsigned long long notimp; /* NOTIMP / FORMERR to a query of another opcode or shape */
	unsigned long long late;   /* replies to queries that had timed out (not forged) */
	unsigned long long cached; /* answered from the answer cache (also counted answered) */
};

struct ln_dns_proxy;

/* Binds every socket of the agent's own netns (-errno and a message in *err). */
int ln_dns_proxy_start(sd_event *event, const struct ln_dns_proxy_config *cfg,
		       struct ln_dns_proxy **out, struct ln_error *err);
void ln_dns_proxy_stop(struct ln_dns_proxy *p); /* accepts NULL */
void ln_dns_proxy_stats(const struct ln_dns_proxy *p, struct ln_dns_stats *out);
/* Whether the ::1 sockets exist (false when the host has no IPv6: that is not an error). */
/* How blocked names are answered from now on (a reload changed dns-block): 0 or -EINVAL. */
int ln_dns_proxy_set_block_mode(struct ln_dns_proxy *p, enum ln_dns_block_mode mode);
bool ln_dns_proxy_has_ipv6(const struct ln_dns_proxy *p);
/*
 * The answer cache on (@on) or off, at most @ttl_max seconds per answer; either way it
 * starts empty (a reload: lists, servers and policy ids may have changed). 0 or -errno
 * (then it is off).
 */
int ln_dns_proxy_set_cache(struct ln_dns_proxy *p, bool on, __u32 ttl_max);

/*
 * Serves the netns @cookie too: its sockets made inside it, through
 * /proc/PID/ns/net of process @pid, or of any process still in it (@cookie
 * 0: whatever netns @pid is in, the agent's own too, which is -EEXIST). -EEXIST:
 * served already; -ENOSPC: LN_DNS_MAX_NETNS served; -ESRCH: no process in it;
 * other -errno; each with a message in *err.
 */
int ln_dns_proxy_add_netns(struct ln_dns_proxy *p, int pid, __u64 cookie, __u32 owner,
			   struct ln_error *err);
bool ln_dns_proxy_serves(const struct ln_dns_proxy *p, __u64 cookie);
size_t ln_dns_proxy_n_netns(const struct ln_dns_proxy *p);
/* How many served netns were added with @owner (a tag of the caller's: the asking policy). */
size_t ln_dns_proxy_n_netns_of(const struct ln_dns_proxy *p, __u32 owner);
/* Closes the sockets of every served netns no process is in any more; returns how many. */
size_t ln_dns_proxy_sweep(struct ln_dns_proxy *p);
/* Whether no query came on @slot for @idle_usec and none is pending or connected there. */
bool ln_dns_proxy_slot_idle(const struct ln_dns_proxy *p, __u16 slot, uint64_t idle_usec);
/*
 * New ports for @slot in every netns (the old sockets closed), so a client
 * still holding a socket connected to the old port cannot reach whoever gets
 * the slot next. 0, or -errno (the old sockets then stay).
 */
int ln_dns_proxy_slot_renew(struct ln_dns_proxy *p, __u16 slot);

#endif /* LSNITCH_DNS_PROXY_H */
