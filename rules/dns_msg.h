/* SPDX-License-Identifier: GPL-2.0 */
/* DNS messages for the resolver proxy: parse queries, check and read replies, build answers. */
#ifndef LSNITCH_DNS_MSG_H
#define LSNITCH_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "rules.h"

/*
 * Pure functions over wire-format messages (no sockets), parsed with glibc's
 * <resolv.h> ns_* API. Names are in presentation form as dn_expand() writes
 * them (special characters escaped), lower-cased, without the trailing dot;
 * the root is "".
 */
/* <arpa/nameser.h>'s sizes, not included here: it defines many short names (dns_msg.c checks) */
#define LN_DNS_NAME_LEN 1025        /* NS_MAXDNAME: room for the escaped form */
#define LN_DNS_WIRE_NAME_LEN 255    /* NS_MAXCDNAME */
#define LN_DNS_HDR_LEN 12           /* NS_HFIXEDSZ */
#define LN_DNS_MAX_CHAIN 17         /* question name + 16 CNAME hops */
/*
 * A/AAAA kept from one reply. A reply with more is not relayed (SERVFAIL): an
 * address relayed but not recorded would escape a deny-domain rule.
 */
#define LN_DNS_MAX_ADDRS 1024
#define LN_DNS_EDNS_SIZE 1232       /* the UDP size the proxy's own replies announce */
#define LN_DNS_ZERO_TTL 60          /* TTL of the 0.0.0.0 / :: block answer */

/* An address of an answer: what the proxy reports to the agent (agent/dns_proxy.h). */
struct ln_dns_answer_addr {
	struct ln_prefix addr; /* /128 (v4 mapped) */
	__u32 ttl;
};

struct ln_dns_query {
	__u16 id;
	__u16 flags; /* header word 2, as on the wire */
	__u16 qtype, qclass;
	bool rd;     /* recursion desired: copied into answers */
	bool edns;   /* the query had an OPT record: the proxy's replies carry one too */
	char qname[LN_DNS_NAME_LEN];
	/* the question as on the wire, name uncompressed, case kept: copied into answers */
	__u8 qwire[LN_DNS_WIRE_NAME_LEN + 4];
	size_t qwire_len;
};

/*
 * Parses a query: header, exactly one question, opcode QUERY. Returns 0, or
 * -EBADMSG (malformed or truncated), -EINVAL (a response: QR set),
 * -EOPNOTSUPP (not opcode QUERY, or not exactly one question).
 */
int ln_dns_query_parse(const __u8 *msg, size_t len, struct ln_dns_query *q);

/*
 * Whether @msg answers @q sent with id @id: same id, QR set, opcode QUERY,
 * and the same question (name case-insensitively, type, class). A reply
 * without a question is accepted only as a bare error (FORMERR, SERVFAIL,
 * NOTIMP, REFUSED with no records), which some servers send. Returns 0,
 * -EBADMSG (malformed) or -EINVAL (answers something else).
 */
int ln_dns_reply_check(const __u8 *msg, size_t len, const struct ln_dns_query *q, __u16 id);

struct ln_dns_answer {
	/* CNAME chain from the question name: names[0] is the question name */
	char names[LN_DNS_MAX_CHAIN][LN_DNS_NAME_LEN];
	size_t n_names;
	struct ln_dns_answer_addr addrs[LN_DNS_MAX_ADDRS];
	size_t n_addrs;
	size_t n_addrs_dropped; /* beyond LN_DNS_MAX_ADDRS */
	__u16 rcode;
	bool truncated; /* TC set */
};

/*
 * Reads a reply already checked against @q: follows CNAME records (class IN)
 * of the answer section from the question name, taking at each hop the first
 * CNAME owned by the current name, up to 16 hops; collects the A and AAAA
 * records (class IN) owned by any name of the chain. Records of other owners
 * are ignored. Returns 0, -EBADMSG (malformed) or -ELOOP (a CNAME loop or
 * more than 16 hops).
 */
int ln_dns_answer_parse(const __u8 *msg, size_t len, const struct ln_dns_query *q,
			struct ln_dns_answer *a);

enum ln_dns_reply_kind {
	LN_DNS_REPLY_NXDOMAIN = 0,
	LN_DNS_REPLY_REFUSED = 1,
	LN_DNS_REPLY_ZERO = 2, /* A 0.0.0.0 / AAAA ::, TTL 60; other types NOERROR, no data */
	LN_DNS_REPLY_SERVFAIL = 3,
};

/*
 * Writes into @out the reply the proxy itself gives to @q: id and question
 * copied, QR and RA set, RD copied, an OPT record (EDNS version 0, no flags)
 * when the query had one. Returns the length or -ENOSPC.
 */
int ln_dns_reply_build(const struct ln_dns_query *q, enum ln_dns_reply_kind kind, __u8 *out,
		       size_t size);

/*
 * The reply to a query ln_dns_query_parse() refused with -EOPNOTSUPP: the
 * header alone, id, opcode and RD copied, NOTIMP for an opcode other than
 * QUERY, else FORMERR (not exactly one question). Returns the length, or
 * -EBADMSG for a message that gets no reply (shorter than a header, or a
 * response: replying to those could loop).
 */
int ln_dns_error_build(const __u8 *msg, size_t len, __u8 *out, size_t size);

/* Sets the id of @msg (relaying an upstream reply with the client's id). 0 or -EBADMSG. */
int ln_dns_set_id(__u8 *msg, size_t len, __u16 id);

/* ---- TTLs, for the proxy's answer cache (dns_ttl.c) ---- */
#define LN_DNS_MAX_TTLS 32 /* records of a reply the cache keeps: one with more is not kept */

struct ln_dns_ttls {
	__u32 ttl;                     /* how long the reply may be kept, seconds */
	size_t n;
	__u16 off[LN_DNS_MAX_TTLS];    /* where each record's TTL is in the message */
};

/*
 * How long the reply @msg (already checked against its query) may be answered from a
 * cache, at most @cap seconds: a NOERROR with answers for their lowest TTL; NXDOMAIN or
 * NOERROR without answers (RFC 2308) for the lower of the authority SOA's TTL and
 * MINIMUM. Fills @t (also where each TTL is, for ln_dns_reply_age()). Returns the TTL,
 * 0 for a reply not to keep (TC set, another rcode, a negative reply without SOA, TTL 0),
 * -EBADMSG or -E2BIG (more than LN_DNS_MAX_TTLS records).
 */
int ln_dns_reply_ttls(const __u8 *msg, size_t len, __u32 cap, struct ln_dns_ttls *t);
/* Writes into @msg (a copy of @orig) each TTL of @t lowered by @age seconds, not below 0. */
void ln_dns_reply_age(__u8 *msg, const __u8 *orig, const struct ln_dns_ttls *t, __u32 age);

#endif /* LSNITCH_DNS_MSG_H */
