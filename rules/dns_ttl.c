// SPDX-License-Identifier: GPL-2.0
/* TTLs of DNS replies, for the proxy's answer cache: how long a reply may be kept, and aged. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include "dns_msg.h"

/* The negative-caching TTL an SOA record gives (RFC 2308: the lower of its TTL and MINIMUM). */
static __u32 dns_soa_ttl(const ns_rr *rr)
{
	__u32 min;

	if (ns_rr_rdlen(*rr) < 5 * NS_INT32SZ)
		return 0;
	min = ns_get32(ns_rr_rdata(*rr) + ns_rr_rdlen(*rr) - NS_INT32SZ);
	return min < ns_rr_ttl(*rr) ? min : ns_rr_ttl(*rr);
}

/*
 * Notes where each record of section @s has its TTL (OPT left out: its "TTL" holds flags),
 * and lowers @t->ttl to the answers' TTLs (@s answer) or the SOA's negative TTL (@s
 * authority, a negative reply; *soa set). 0, -EBADMSG or -E2BIG.
 */
static int dns_ttls_section(ns_msg *h, ns_sect s, bool negative, struct ln_dns_ttls *t, bool *soa)
{
	const __u8 *msg = ns_msg_base(*h);
	ns_rr rr;

	for (int i = 0; i < ns_msg_count(*h, s); i++) {
		if (ns_parserr(h, s, i, &rr) < 0)
			return -EBADMSG;
		if (ns_rr_type(rr) == ns_t_opt)
			continue;
		if (t->n == LN_DNS_MAX_TTLS)
			return -E2BIG;
		/* TTL and RDLENGTH come right before the data */
		t->off[t->n++] = (__u16)(ns_rr_rdata(rr) - msg - NS_INT32SZ - NS_INT16SZ);
		if (s == ns_s_an && ns_rr_ttl(rr) < t->ttl)
			t->ttl = ns_rr_ttl(rr);
		if (s == ns_s_ns && negative && ns_rr_type(rr) == ns_t_soa && !*soa) {
			*soa = true;
			if (dns_soa_ttl(&rr) < t->ttl)
				t->ttl = dns_soa_ttl(&rr);
		}
	}
	return 0;
}

int ln_dns_reply_ttls(const __u8 *msg, size_t len, __u32 cap, struct ln_dns_ttls *t)
{
	static const ns_sect sects[] = {ns_s_an, ns_s_ns, ns_s_ar};
	bool negative, soa = false;
	ns_msg h;
	int rc;

	t->n = 0;
	t->ttl = cap;
	if (len > NS_MAXMSG || ns_initparse(msg, (int)len, &h) < 0)
		return -EBADMSG;
	if (ns_msg_getflag(h, ns_f_tc))
		return 0; /* the rest comes over TCP: not a whole answer */
	switch (ns_msg_getflag(h, ns_f_rcode)) {
	case ns_r_noerror:
		negative = !ns_msg_count(h, ns_s_an);
		break;
	case ns_r_nxdomain:
		negative = true;
		break;
	default:
		return 0; /* SERVFAIL, REFUSED, ...: a passing state, never kept */
	}
	for (size_t i = 0; i < sizeof(sects) / sizeof(sects[0]); i++) {
		rc = dns_ttls_section(&h, sects[i], negative, t, &soa);
		if (rc < 0)
			return rc;
	}
	if (negative && !soa)
		return 0; /* RFC 2308: without an SOA a negative answer is not cached */
	return (int)(t->ttl > INT32_MAX ? INT32_MAX : t->ttl);
}

void ln_dns_reply_age(__u8 *msg, const __u8 *orig, const struct ln_dns_ttls *t, __u32 age)
{
	for (size_t i = 0; i < t->n; i++) {
		__u32 ttl = ns_get32(orig + t->off[i]);

		ns_put32(ttl > age ? ttl - age : 0, msg + t->off[i]);
	}
}
