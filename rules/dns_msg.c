// SPDX-License-Identifier: GPL-2.0
/* DNS messages for the resolver proxy, read with glibc's ns_* parser and written with dn_comp(). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include "dns_msg.h"
#include "rules_internal.h"

_Static_assert(LN_DNS_NAME_LEN == NS_MAXDNAME && LN_DNS_WIRE_NAME_LEN == NS_MAXCDNAME &&
		       LN_DNS_HDR_LEN == NS_HFIXEDSZ,
	       "dns_msg.h sizes are <arpa/nameser.h>'s");

/* ns_parserr() writes the root as "." (dn_expand() as ""): "" here, as names have no dot. */
static const char *dns_text(const char *name)
{
	return strcmp(name, ".") ? name : "";
}

/* Copies a name in our form: lower case (escapes are digits or punctuation, never letters). */
static void dns_name_copy(char *dst, const char *src)
{
	strcpy(dst, dns_text(src));
	ln_str_lower(dst);
}

static bool dns_name_eq(const char *a, const char *b)
{
	return !strcasecmp(dns_text(a), dns_text(b));
}

/* Whether the additional section of @h has an OPT record (EDNS). */
static bool dns_has_opt(ns_msg *h)
{
	ns_rr rr;

	for (int i = 0; i < ns_msg_count(*h, ns_s_ar); i++)
		if (ns_parserr(h, ns_s_ar, i, &rr) == 0 && ns_rr_type(rr) == ns_t_opt)
			return true;
	return false;
}

int ln_dns_query_parse(const __u8 *msg, size_t len, struct ln_dns_query *q)
{
	ns_msg h;
	ns_rr rr;
	__u8 *cp;
	int n;

	if (len > NS_MAXMSG || ns_initparse(msg, (int)len, &h) < 0)
		return -EBADMSG;
	if (ns_msg_getflag(h, ns_f_qr))
		return -EINVAL;
	if (ns_msg_getflag(h, ns_f_opcode) != ns_o_query || ns_msg_count(h, ns_s_qd) != 1)
		return -EOPNOTSUPP;
	if (ns_parserr(&h, ns_s_qd, 0, &rr) < 0)
		return -EBADMSG;
	q->id = ns_msg_id(h);
	q->flags = ns_get16(msg + NS_INT16SZ);
	q->rd = ns_msg_getflag(h, ns_f_rd);
	q->edns = dns_has_opt(&h);
	q->qtype = ns_rr_type(rr);
	q->qclass = ns_rr_class(rr);
	/* back to wire form from the text, case kept, so answers echo the question exactly */
	n = dn_comp(ns_rr_name(rr), q->qwire, LN_DNS_WIRE_NAME_LEN, NULL, NULL);
	if (n < 0)
		return -EBADMSG;
	cp = q->qwire + n;
	NS_PUT16(q->qtype, cp);
	NS_PUT16(q->qclass, cp);
	q->qwire_len = (size_t)(cp - q->qwire);
	dns_name_copy(q->qname, ns_rr_name(rr));
	return 0;
}

/* A reply with no question: only a bare error some servers send (e.g. FORMERR to EDNS). */
static bool dns_is_bare_error(ns_msg *h)
{
	int rcode = ns_msg_getflag(*h, ns_f_rcode);

	if (ns_msg_count(*h, ns_s_an) || ns_msg_count(*h, ns_s_ns))
		return false;
	return rcode == ns_r_formerr || rcode == ns_r_servfail || rcode == ns_r_notimpl ||
	       rcode == ns_r_refused;
}

int ln_dns_reply_check(const __u8 *msg, size_t len, const struct ln_dns_query *q, __u16 id)
{
	ns_msg h;
	ns_rr rr;

	if (len > NS_MAXMSG || ns_initparse(msg, (int)len, &h) < 0)
		return -EBADMSG;
	if (ns_msg_id(h) != id || !ns_msg_getflag(h, ns_f_qr) ||
	    ns_msg_getflag(h, ns_f_opcode) != ns_o_query)
		return -EINVAL;
	if (ns_msg_count(h, ns_s_qd) == 0)
		return dns_is_bare_error(&h) ? 0 : -EINVAL;
	if (ns_msg_count(h, ns_s_qd) != 1)
		return -EINVAL;
	if (ns_parserr(&h, ns_s_qd, 0, &rr) < 0)
		return -EBADMSG;
	if (ns_rr_type(rr) != q->qtype || ns_rr_class(rr) != q->qclass ||
	    !dns_name_eq(ns_rr_name(rr), q->qname))
		return -EINVAL;
	return 0;
}

static bool dns_chain_has(const struct ln_dns_answer *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n_names; i++)
		if (dns_name_eq(a->names[i], name))
			return true;
	return false;
}

/*
 * The CNAME owned by the last name of the chain, appended to the chain.
 * Returns 1 when one was found, 0 at the end of the chain, or -errno.
 */
static int dns_chain_step(ns_msg *h, struct ln_dns_answer *a)
{
	const char *cur = a->names[a->n_names - 1];
	char target[LN_DNS_NAME_LEN];
	int i, n;
	ns_rr rr;

	for (i = 0; i < ns_msg_count(*h, ns_s_an); i++) {
		if (ns_parserr(h, ns_s_an, i, &rr) < 0)
			return -EBADMSG;
		if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in ||
		    !dns_name_eq(ns_rr_name(rr), cur))
			continue;
		n = dn_expand(ns_msg_base(*h), ns_msg_end(*h), ns_rr_rdata(rr), target,
			      sizeof(target));
		if (n < 0 || n != ns_rr_rdlen(rr))
			return -EBADMSG;
		if (dns_chain_has(a, target) || a->n_names >= LN_DNS_MAX_CHAIN)
			return -ELOOP;
		dns_name_copy(a->names[a->n_names], target);
		a->n_names++;
		return 1;
	}
	return 0;
}

static void dns_add_addr(struct ln_dns_answer *a, const ns_rr *rr)
{
	struct ln_dns_answer_addr *d;

	if (a->n_addrs >= LN_DNS_MAX_ADDRS) {
		a->n_addrs_dropped++;
		return;
	}
	d = &a->addrs[a->n_addrs++];
	memset(d, 0, sizeof(*d));
	d->addr.len = 128;
	d->ttl = ns_rr_ttl(*rr);
	if (ns_rr_type(*rr) == ns_t_a) {
		d->addr.addr[10] = 0xff;
		d->addr.addr[11] = 0xff;
		memcpy(d->addr.addr + 12, ns_rr_rdata(*rr), NS_INADDRSZ);
	} else {
		memcpy(d->addr.addr, ns_rr_rdata(*rr), NS_IN6ADDRSZ);
	}
}

static int dns_collect_addrs(ns_msg *h, struct ln_dns_answer *a)
{
	int i, type;
	ns_rr rr;

	for (i = 0; i < ns_msg_count(*h, ns_s_an); i++) {
		if (ns_parserr(h, ns_s_an, i, &rr) < 0)
			return -EBADMSG;
		type = ns_rr_type(rr);
		if (ns_rr_class(rr) != ns_c_in || (type != ns_t_a && type != ns_t_aaaa))
			continue;
		if (ns_rr_rdlen(rr) != (type == ns_t_a ? NS_INADDRSZ : NS_IN6ADDRSZ))
			return -EBADMSG;
		if (dns_chain_has(a, ns_rr_name(rr)))
			dns_add_addr(a, &rr);
	}
	return 0;
}

int ln_dns_answer_parse(const __u8 *msg, size_t len, const struct ln_dns_query *q,
			struct ln_dns_answer *a)
{
	ns_msg h;
	int rc;

	a->n_names = a->n_addrs = a->n_addrs_dropped = 0;
	if (len > NS_MAXMSG || ns_initparse(msg, (int)len, &h) < 0)
		return -EBADMSG;
	a->rcode = (__u16)ns_msg_getflag(h, ns_f_rcode);
	a->truncated = ns_msg_getflag(h, ns_f_tc);
	strcpy(a->names[0], q->qname);
	a->n_names = 1;
	do
		rc = dns_chain_step(&h, a);
	while (rc == 1);
	if (rc < 0)
		return rc;
	return dns_collect_addrs(&h, a);
}

/* The record of a "zero" answer for @q: 0.0.0.0 for A, :: for AAAA; 0 bytes otherwise. */
static size_t dns_zero_rdlen(const struct ln_dns_query *q)
{
	if (q->qclass != ns_c_in)
		return 0;
	if (q->qtype == ns_t_a)
		return NS_INADDRSZ;
	if (q->qtype == ns_t_aaaa)
		return NS_IN6ADDRSZ;
	return 0;
}

int ln_dns_reply_build(const struct ln_dns_query *q, enum ln_dns_reply_kind kind, __u8 *out,
		       size_t size)
{
	static const int rcodes[] = {
	    [LN_DNS_REPLY_NXDOMAIN] = ns_r_nxdomain,
	    [LN_DNS_REPLY_REFUSED] = ns_r_refused,
	    [LN_DNS_REPLY_ZERO] = ns_r_noerror,
	    [LN_DNS_REPLY_SERVFAIL] = ns_r_servfail,
	};
	size_t rdlen = kind == LN_DNS_REPLY_ZERO ? dns_zero_rdlen(q) : 0;
	size_t name_len = q->qwire_len - 2 * NS_INT16SZ;
	size_t need = LN_DNS_HDR_LEN + q->qwire_len;
	HEADER *hp = (HEADER *)out;
	__u8 *cp;

	if (rdlen)
		need += name_len + NS_RRFIXEDSZ + rdlen;
	if (q->edns)
		need += 1 + NS_RRFIXEDSZ; /* the root name, no data */
	if ((unsigned int)kind >= sizeof(rcodes) / sizeof(rcodes[0]) || need > size)
		return -ENOSPC;
	memset(out, 0, need);
	hp->id = htons(q->id);
	hp->qr = 1;
	hp->opcode = ns_o_query;
	hp->rd = q->rd;
	hp->ra = 1;
	hp->rcode = rcodes[kind];
	hp->qdcount = htons(1);
	hp->ancount = htons(rdlen ? 1 : 0);
	hp->arcount = htons(q->edns ? 1 : 0);
	cp = out + LN_DNS_HDR_LEN;
	memcpy(cp, q->qwire, q->qwire_len);
	cp += q->qwire_len;
	if (rdlen) {
		/* rdata already zeroed: 0.0.0.0 or :: */
		memcpy(cp, q->qwire, name_len);
		cp += name_len;
		NS_PUT16(q->qtype, cp);
		NS_PUT16(q->qclass, cp);
		NS_PUT32(LN_DNS_ZERO_TTL, cp);
		NS_PUT16(rdlen, cp);
		cp += rdlen;
	}
	if (q->edns) {
		/* OPT: root name (already zero), class = UDP size, TTL = rcode/version/flags 0 */
		cp++;
		NS_PUT16(ns_t_opt, cp);
		NS_PUT16(LN_DNS_EDNS_SIZE, cp);
	}
	return (int)need;
}

int ln_dns_error_build(const __u8 *msg, size_t len, __u8 *out, size_t size)
{
	/* byte by byte: @msg may sit anywhere in a TCP buffer, unaligned for HEADER */
	__u8 opcode;

	if (len < LN_DNS_HDR_LEN || msg[2] & 0x80)
		return -EBADMSG;
	opcode = (msg[2] >> 3) & 0xf;
	if (size < LN_DNS_HDR_LEN)
		return -ENOSPC;
	memset(out, 0, LN_DNS_HDR_LEN);
	out[0] = msg[0];
	out[1] = msg[1];
	out[2] = 0x80 | opcode << 3 | (msg[2] & 0x01); /* QR, opcode, RD */
	out[3] = 0x80 | (opcode != ns_o_query ? ns_r_notimpl : ns_r_formerr); /* RA, rcode */
	return LN_DNS_HDR_LEN;
}

int ln_dns_set_id(__u8 *msg, size_t len, __u16 id)
{
	if (len < LN_DNS_HDR_LEN)
		return -EBADMSG;
	ns_put16(id, msg);
	return 0;
}
