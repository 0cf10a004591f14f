// SPDX-License-Identifier: GPL-2.0
/* Unit tests: how long the proxy's answer cache may keep a reply, and its TTLs aged. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <cmocka.h>

#include "dns_msg.h"

/* A reply: header, question "a.test" A, then records appended section by section. */
struct reply {
	__u8 buf[4096];
	__u8 *cp;
	int count[4]; /* qd, an, ns, ar */
};

static void r_init(struct reply *r, int rcode, bool tc)
{
	HEADER *hp = (HEADER *)r->buf;

	memset(r, 0, sizeof(*r));
	hp->id = htons(7);
	hp->qr = 1;
	hp->rcode = rcode;
	hp->tc = tc;
	r->cp = r->buf + NS_HFIXEDSZ;
	r->cp += dn_comp("a.test", r->cp, 256, NULL, NULL);
	NS_PUT16(ns_t_a, r->cp);
	NS_PUT16(ns_c_in, r->cp);
	r->count[0] = 1;
}

static void r_rr(struct reply *r, int sect, int type, __u32 ttl, const void *rd, size_t rdlen)
{
	*r->cp++ = 0; /* owner: the root, short and valid */
	NS_PUT16(type, r->cp);
	NS_PUT16(ns_c_in, r->cp);
	NS_PUT32(ttl, r->cp);
	NS_PUT16(rdlen, r->cp);
	memcpy(r->cp, rd, rdlen);
	r->cp += rdlen;
	r->count[sect]++;
}

static void r_soa(struct reply *r, __u32 ttl, __u32 minimum)
{
	__u8 rd[2 + 5 * 4] = {0}; /* mname and rname the root, then five numbers */
	__u8 *p = rd + 2 + 4 * 4;

	NS_PUT32(minimum, p);
	r_rr(r, ns_s_ns, ns_t_soa, ttl, rd, sizeof(rd));
}

static size_t r_end(struct reply *r)
{
	__u8 *p = r->buf + 4;

	for (int i = 0; i < 4; i++)
		NS_PUT16(r->count[i], p);
	return (size_t)(r->cp - r->buf);
}

static const __u8 addr[4] = {192, 0, 2, 1};

static void test_positive(void **state)
{
	struct ln_dns_ttls t;
	struct reply r;
	__u8 opt[1] = {0};
	size_t n;

	(void)state;
	r_init(&r, ns_r_noerror, false);
	r_rr(&r, ns_s_an, ns_t_a, 300, addr, 4);
	r_rr(&r, ns_s_an, ns_t_a, 120, addr, 4);
	r_soa(&r, 5, 5); /* authority of a positive answer: aged, but not its TTL */
	r_rr(&r, ns_s_ar, ns_t_opt, 0x8000, opt, 0); /* OPT: its "TTL" is flags, left alone */
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 120);
	assert_int_equal(t.n, 3);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 60, &t), 60);
}

static void test_negative(void **state)
{
	struct ln_dns_ttls t;
	struct reply r;
	size_t n;

	(void)state;
	r_init(&r, ns_r_nxdomain, false);
	r_soa(&r, 900, 60);
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 60);
	r_init(&r, ns_r_noerror, false); /* no data */
	r_soa(&r, 30, 600);
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 30);
	r_init(&r, ns_r_nxdomain, false); /* no SOA: not kept */
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 0);
}

static void test_not_kept(void **state)
{
	struct ln_dns_ttls t;
	struct reply r;
	size_t n;

	(void)state;
	r_init(&r, ns_r_servfail, false);
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 0);
	r_init(&r, ns_r_noerror, true); /* truncated */
	r_rr(&r, ns_s_an, ns_t_a, 300, addr, 4);
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 0);
	r_init(&r, ns_r_noerror, false); /* TTL 0 */
	r_rr(&r, ns_s_an, ns_t_a, 0, addr, 4);
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 0);
	r_init(&r, ns_r_noerror, false);
	for (int i = 0; i <= LN_DNS_MAX_TTLS; i++)
		r_rr(&r, ns_s_an, ns_t_a, 300, addr, 4);
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), -E2BIG);
	assert_int_equal(ln_dns_reply_ttls(r.buf, 11, 3600, &t), -EBADMSG);
}

static void test_age(void **state)
{
	struct ln_dns_ttls t;
	struct reply r;
	__u8 aged[4096];
	ns_msg h;
	ns_rr rr;
	size_t n;

	(void)state;
	r_init(&r, ns_r_noerror, false);
	r_rr(&r, ns_s_an, ns_t_a, 300, addr, 4);
	r_rr(&r, ns_s_an, ns_t_a, 10, addr, 4);
	n = r_end(&r);
	assert_int_equal(ln_dns_reply_ttls(r.buf, n, 3600, &t), 10);
	memcpy(aged, r.buf, n);
	ln_dns_reply_age(aged, r.buf, &t, 20);
	assert_int_equal(ns_initparse(aged, (int)n, &h), 0);
	assert_int_equal(ns_parserr(&h, ns_s_an, 0, &rr), 0);
	assert_int_equal(ns_rr_ttl(rr), 280);
	assert_int_equal(ns_parserr(&h, ns_s_an, 1, &rr), 0);
	assert_int_equal(ns_rr_ttl(rr), 0); /* never below 0 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positive),
	    cmocka_unit_test(test_negative),
	    cmocka_unit_test(test_not_kept),
	    cmocka_unit_test(test_age),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
