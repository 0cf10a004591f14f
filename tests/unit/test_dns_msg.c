// SPDX-License-Identifier: GPL-2.0
/* Unit tests: DNS query parsing, reply checks (id, question), CNAME chains, proxy answers. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <cmocka.h>

#include "dns_msg.h"

/* Builds replies in tests only: header, question, records, names compressed with dn_comp(). */
struct msgb {
	__u8 buf[65536];
	__u8 *cp;
	const __u8 *dnptrs[64];
	int qd, an;
};

static void mb_init(struct msgb *m, __u16 id, bool qr, int rcode)
{
	HEADER *hp = (HEADER *)m->buf;

	memset(m, 0, sizeof(*m));
	hp->id = htons(id);
	hp->qr = qr;
	hp->rd = 1;
	hp->ra = qr;
	hp->rcode = rcode;
	m->cp = m->buf + NS_HFIXEDSZ;
	m->dnptrs[0] = m->buf;
}

static void mb_name(struct msgb *m, const char *name)
{
	int n = dn_comp(name, m->cp, (int)(m->buf + sizeof(m->buf) - m->cp), (__u8 **)m->dnptrs,
			(__u8 **)&m->dnptrs[63]);

	assert_true(n > 0);
	m->cp += n;
}

static void mb_question(struct msgb *m, const char *name, int type, int class)
{
	mb_name(m, name);
	NS_PUT16(type, m->cp);
	NS_PUT16(class, m->cp);
	m->qd++;
}

static void mb_rr(struct msgb *m, const char *name, int type, __u32 ttl, const void *rd,
		  size_t rdlen)
{
	mb_name(m, name);
	NS_PUT16(type, m->cp);
	NS_PUT16(ns_c_in, m->cp);
	NS_PUT32(ttl, m->cp);
	NS_PUT16(rdlen, m->cp);
	memcpy(m->cp, rd, rdlen);
	m->cp += rdlen;
	m->an++;
}

static void mb_a(struct msgb *m, const char *name, const char *addr, __u32 ttl)
{
	__u8 a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		mb_rr(m, name, ns_t_a, ttl, a, 4);
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
		mb_rr(m, name, ns_t_aaaa, ttl, a, 16);
	}
}

static void mb_cname(struct msgb *m, const char *name, const char *target)
{
	__u8 *rdlen;

	mb_name(m, name);
	NS_PUT16(ns_t_cname, m->cp);
	NS_PUT16(ns_c_in, m->cp);
	NS_PUT32(300, m->cp);
	rdlen = m->cp;
	m->cp += 2;
	mb_name(m, target);
	ns_put16((unsigned int)(m->cp - rdlen - 2), rdlen);
	m->an++;
}

static size_t mb_end(struct msgb *m)
{
	HEADER *hp = (HEADER *)m->buf;

	hp->qdcount = htons(m->qd);
	hp->ancount = htons(m->an);
	return (size_t)(m->cp - m->buf);
}

/* A query as the glibc resolver makes it. */
static size_t mkquery(__u8 *buf, size_t size, const char *name, int type)
{
	int n = res_mkquery(ns_o_query, name, ns_c_in, type, NULL, 0, NULL, buf, (int)size);

	assert_true(n > 0);
	return (size_t)n;
}

static void parse_ok(const char *name, int type, struct ln_dns_query *q)
{
	__u8 buf[512];
	size_t n = mkquery(buf, sizeof(buf), name, type);

	assert_int_equal(ln_dns_query_parse(buf, n, q), 0);
}

static void test_query_parse(void **state)
{
	struct ln_dns_query q;
	__u8 buf[512];
	size_t n;

	(void)state;
	n = mkquery(buf, sizeof(buf), "WWW.Example.COM.", ns_t_aaaa);
	assert_int_equal(ln_dns_query_parse(buf, n, &q), 0);
	assert_int_equal(q.id, ns_get16(buf));
	assert_string_equal(q.qname, "www.example.com");
	assert_int_equal(q.qtype, ns_t_aaaa);
	assert_int_equal(q.qclass, ns_c_in);
	assert_true(q.rd);
	/* the question is kept as sent, case included */
	assert_int_equal(q.qwire_len, n - NS_HFIXEDSZ);
	assert_memory_equal(q.qwire, buf + NS_HFIXEDSZ, q.qwire_len);

	parse_ok("example.com", ns_t_a, &q);
	assert_string_equal(q.qname, "example.com");
	parse_ok(".", ns_t_ns, &q);
	assert_string_equal(q.qname, "");
	parse_ok("odd\\.label.example", ns_t_a, &q);
	assert_string_equal(q.qname, "odd\\.label.example");
}

static void test_query_malformed(void **state)
{
	struct ln_dns_query q;
	__u8 buf[512], bad[600];
	size_t n, i;
	HEADER *hp = (HEADER *)bad;

	(void)state;
	n = mkquery(buf, sizeof(buf), "www.example.com", ns_t_a);
	for (i = 0; i < n; i++)
		assert_int_equal(ln_dns_query_parse(buf, i, &q), -EBADMSG);
	/* trailing garbage */
	memcpy(bad, buf, n);
	bad[n] = 0;
	assert_int_equal(ln_dns_query_parse(bad, n + 1, &q), -EBADMSG);
	/* a response */
	memcpy(bad, buf, n);
	hp->qr = 1;
	assert_int_equal(ln_dns_query_parse(bad, n, &q), -EINVAL);
	/* another opcode */
	memcpy(bad, buf, n);
	hp->opcode = ns_o_notify;
	assert_int_equal(ln_dns_query_parse(bad, n, &q), -EOPNOTSUPP);
	/* no question; two questions */
	memcpy(bad, buf, n);
	hp->qdcount = 0;
	assert_int_equal(ln_dns_query_parse(bad, NS_HFIXEDSZ, &q), -EOPNOTSUPP);
	memcpy(bad, buf, n);
	memcpy(bad + n, buf + NS_HFIXEDSZ, n - NS_HFIXEDSZ);
	hp->qdcount = htons(2);
	assert_int_equal(ln_dns_query_parse(bad, 2 * n - NS_HFIXEDSZ, &q), -EOPNOTSUPP);
	/* the count says two, one is there */
	memcpy(bad, buf, n);
	hp->qdcount = htons(2);
	assert_int_equal(ln_dns_query_parse(bad, n, &q), -EBADMSG);
	/* a compression pointer to itself, and one past the end */
	memcpy(bad, buf, NS_HFIXEDSZ);
	bad[12] = 0xc0;
	bad[13] = 12;
	memset(bad + 14, 0, 4);
	bad[15] = 1;
	bad[17] = 1;
	assert_int_equal(ln_dns_query_parse(bad, 18, &q), -EBADMSG);
	bad[13] = 200;
	assert_int_equal(ln_dns_query_parse(bad, 18, &q), -EBADMSG);
	/* a label running past the end */
	bad[12] = 40;
	assert_int_equal(ln_dns_query_parse(bad, 18, &q), -EBADMSG);
	/* too big to be a message */
	assert_int_equal(ln_dns_query_parse(buf, 70000, &q), -EBADMSG);
}

/* A reply to @q from a well-behaved server: question echoed (in @qname's case). */
static void reply_for(struct msgb *m, const struct ln_dns_query *q, const char *qname, __u16 id)
{
	mb_init(m, id, true, ns_r_noerror);
	mb_question(m, qname, q->qtype, q->qclass);
}

static void test_reply_check(void **state)
{
	struct ln_dns_query q;
	struct msgb m;
	size_t n;

	(void)state;
	parse_ok("www.example.com", ns_t_a, &q);
	reply_for(&m, &q, "www.example.com", 0x1234);
	mb_a(&m, "www.example.com", "192.0.2.1", 300);
	n = mb_end(&m);
	assert_int_equal(ln_dns_reply_check(m.buf, n, &q, 0x1234), 0);
	/* wrong id */
	assert_int_equal(ln_dns_reply_check(m.buf, n, &q, 0x1235), -EINVAL);
	/* truncated */
	assert_int_equal(ln_dns_reply_check(m.buf, n - 1, &q, 0x1234), -EBADMSG);
	assert_int_equal(ln_dns_reply_check(m.buf, 5, &q, 0x1234), -EBADMSG);
	/* QR clear: a query, not an answer */
	((HEADER *)m.buf)->qr = 0;
	assert_int_equal(ln_dns_reply_check(m.buf, n, &q, 0x1234), -EINVAL);

	/* the name in another case is the same name (0x20 randomization) */
	reply_for(&m, &q, "WwW.ExAmPlE.cOm.", 7);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), 0);
	/* another name, type, class */
	reply_for(&m, &q, "www.example.org", 7);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), -EINVAL);
	reply_for(&m, &q, "ww.example.com", 7);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), -EINVAL);
	mb_init(&m, 7, true, 0);
	mb_question(&m, "www.example.com", ns_t_aaaa, ns_c_in);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), -EINVAL);
	mb_init(&m, 7, true, 0);
	mb_question(&m, "www.example.com", ns_t_a, ns_c_chaos);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), -EINVAL);
	/* two questions */
	mb_init(&m, 7, true, 0);
	mb_question(&m, "www.example.com", ns_t_a, ns_c_in);
	mb_question(&m, "www.example.com", ns_t_a, ns_c_in);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), -EINVAL);
	/* no question: a bare FORMERR passes, an answer does not */
	mb_init(&m, 7, true, ns_r_formerr);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), 0);
	mb_init(&m, 7, true, ns_r_noerror);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), -EINVAL);
	mb_init(&m, 7, true, ns_r_refused);
	mb_a(&m, "www.example.com", "192.0.2.1", 300);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 7), -EINVAL);

	/* the root: "" in our form, "." to the parser */
	parse_ok(".", ns_t_ns, &q);
	reply_for(&m, &q, ".", 9);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 9), 0);
	reply_for(&m, &q, "com", 9);
	assert_int_equal(ln_dns_reply_check(m.buf, mb_end(&m), &q, 9), -EINVAL);
}

static struct ln_dns_answer *answer_new(void)
{
	struct ln_dns_answer *a = malloc(sizeof(*a));

	assert_non_null(a);
	return a;
}

static void assert_addr(const struct ln_dns_answer_addr *d, const char *text, __u32 ttl)
{
	struct ln_prefix p;

	assert_int_equal(ln_prefix_parse(text, &p), 0);
	assert_int_equal(d->addr.len, 128);
	assert_memory_equal(d->addr.addr, p.addr, LN_ADDR_LEN);
	assert_int_equal(d->ttl, ttl);
}

static void test_answer_simple(void **state)
{
	struct ln_dns_answer *a = answer_new();
	struct ln_dns_query q;
	struct msgb m;

	(void)state;
	parse_ok("www.example.com", ns_t_a, &q);
	reply_for(&m, &q, "www.example.com", 1);
	mb_a(&m, "www.example.com", "192.0.2.1", 300);
	mb_a(&m, "WWW.example.com", "192.0.2.2", 20);
	mb_a(&m, "other.example", "198.51.100.66", 300); /* not ours: ignored */
	mb_a(&m, "www.example.com", "2001:db8::5", 7);   /* AAAA in an A answer: still the name's */
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
	assert_int_equal(a->n_names, 1);
	assert_string_equal(a->names[0], "www.example.com");
	assert_int_equal(a->n_addrs, 3);
	assert_addr(&a->addrs[0], "192.0.2.1", 300);
	assert_addr(&a->addrs[1], "192.0.2.2", 20);
	assert_addr(&a->addrs[2], "2001:db8::5", 7);
	assert_int_equal(a->rcode, ns_r_noerror);
	assert_false(a->truncated);

	/* AAAA, NXDOMAIN, TC */
	parse_ok("v6.example", ns_t_aaaa, &q);
	reply_for(&m, &q, "v6.example", 1);
	mb_a(&m, "v6.example", "2001:db8::1", 60);
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
	assert_int_equal(a->n_addrs, 1);
	assert_addr(&a->addrs[0], "2001:db8::1", 60);
	mb_init(&m, 1, true, ns_r_nxdomain);
	((HEADER *)m.buf)->tc = 1;
	mb_question(&m, "v6.example", ns_t_aaaa, ns_c_in);
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
	assert_int_equal(a->rcode, ns_r_nxdomain);
	assert_true(a->truncated);
	assert_int_equal(a->n_addrs, 0);

	/* an A record of the wrong size */
	reply_for(&m, &q, "v6.example", 1);
	mb_rr(&m, "v6.example", ns_t_a, 60, "\1\2\3", 3);
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), -EBADMSG);
	free(a);
}

static void test_answer_cname(void **state)
{
	struct ln_dns_answer *a = answer_new();
	struct ln_dns_query q;
	struct msgb m;

	(void)state;
	parse_ok("Alias.Example", ns_t_a, &q);
	reply_for(&m, &q, "alias.example", 1);
	mb_cname(&m, "alias.example", "Mid.Cdn.Example");
	mb_cname(&m, "mid.cdn.example", "target.cdn.example");
	mb_a(&m, "target.cdn.example", "192.0.2.7", 30);
	mb_a(&m, "unrelated.example", "192.0.2.66", 30);
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
	assert_int_equal(a->n_names, 3);
	assert_string_equal(a->names[0], "alias.example");
	assert_string_equal(a->names[1], "mid.cdn.example");
	assert_string_equal(a->names[2], "target.cdn.example");
	assert_int_equal(a->n_addrs, 1);
	assert_addr(&a->addrs[0], "192.0.2.7", 30);

	/* out of order: still followed */
	reply_for(&m, &q, "alias.example", 1);
	mb_a(&m, "target.example", "192.0.2.8", 30);
	mb_cname(&m, "mid.example", "target.example");
	mb_cname(&m, "alias.example", "mid.example");
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
	assert_int_equal(a->n_names, 3);
	assert_string_equal(a->names[2], "target.example");
	assert_int_equal(a->n_addrs, 1);

	/* a CNAME not on the chain is not followed; a chain to nowhere ends (NXDOMAIN) */
	mb_init(&m, 1, true, ns_r_nxdomain);
	mb_question(&m, "alias.example", ns_t_a, ns_c_in);
	mb_cname(&m, "elsewhere.example", "blocked.example");
	mb_cname(&m, "alias.example", "gone.example");
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
	assert_int_equal(a->n_names, 2);
	assert_string_equal(a->names[1], "gone.example");
	assert_int_equal(a->n_addrs, 0);

	/* loops: to itself, and back to the question */
	reply_for(&m, &q, "alias.example", 1);
	mb_cname(&m, "alias.example", "alias.example");
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), -ELOOP);
	reply_for(&m, &q, "alias.example", 1);
	mb_cname(&m, "alias.example", "b.example");
	mb_cname(&m, "b.example", "c.example");
	mb_cname(&m, "c.example", "ALIAS.example");
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), -ELOOP);

	/* a CNAME whose rdata is not exactly one name */
	reply_for(&m, &q, "alias.example", 1);
	mb_rr(&m, "alias.example", ns_t_cname, 60, "\1x\0\0", 4);
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), -EBADMSG);
	free(a);
}

/* 16 hops are followed, 17 are too many. */
static void test_answer_cname_hops(void **state)
{
	struct ln_dns_answer *a = answer_new();
	struct ln_dns_query q;
	char from[32], to[32];
	struct msgb m;
	int hops, i;

	(void)state;
	parse_ok("h0.example", ns_t_a, &q);
	for (hops = 16; hops <= 17; hops++) {
		reply_for(&m, &q, "h0.example", 1);
		for (i = 0; i < hops; i++) {
			snprintf(from, sizeof(from), "h%d.example", i);
			snprintf(to, sizeof(to), "h%d.example", i + 1);
			mb_cname(&m, from, to);
		}
		mb_a(&m, to, "192.0.2.9", 5);
		if (hops == 16) {
			assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
			assert_int_equal(a->n_names, 17);
			assert_string_equal(a->names[16], "h16.example");
			assert_int_equal(a->n_addrs, 1);
		} else {
			assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), -ELOOP);
		}
	}
	free(a);
}

static void test_answer_many_addrs(void **state)
{
	struct ln_dns_answer *a = answer_new();
	struct ln_dns_query q;
	struct msgb m;
	char addr[32];
	int i;

	(void)state;
	parse_ok("many.example", ns_t_a, &q);
	reply_for(&m, &q, "many.example", 1);
	for (i = 0; i < LN_DNS_MAX_ADDRS + 10; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256, i % 256);
		mb_a(&m, "many.example", addr, 1);
	}
	assert_int_equal(ln_dns_answer_parse(m.buf, mb_end(&m), &q, a), 0);
	assert_int_equal(a->n_addrs, LN_DNS_MAX_ADDRS);
	assert_int_equal(a->n_addrs_dropped, 10);
	free(a);
}

/* Checks a built reply with the ns_* parser: header bits, question, answer count. */
static void check_built(const __u8 *buf, int n, const struct ln_dns_query *q, int rcode, int an)
{
	ns_msg h;
	ns_rr rr;

	assert_true(n > 0);
	assert_int_equal(ns_initparse(buf, n, &h), 0);
	assert_int_equal(ns_msg_id(h), q->id);
	assert_int_equal(ns_msg_getflag(h, ns_f_qr), 1);
	assert_int_equal(ns_msg_getflag(h, ns_f_ra), 1);
	assert_int_equal(ns_msg_getflag(h, ns_f_rd), q->rd);
	assert_int_equal(ns_msg_getflag(h, ns_f_opcode), ns_o_query);
	assert_int_equal(ns_msg_getflag(h, ns_f_rcode), rcode);
	assert_int_equal(ns_msg_count(h, ns_s_qd), 1);
	assert_int_equal(ns_msg_count(h, ns_s_an), an);
	assert_int_equal(ns_msg_count(h, ns_s_ns), 0);
	assert_int_equal(ns_msg_count(h, ns_s_ar), 0);
	assert_int_equal(ns_parserr(&h, ns_s_qd, 0, &rr), 0);
	assert_memory_equal(buf + NS_HFIXEDSZ, q->qwire, q->qwire_len);
	assert_int_equal(ln_dns_reply_check(buf, (size_t)n, q, q->id), 0);
}

static void test_reply_build(void **state)
{
	struct ln_dns_answer *a = answer_new();
	struct ln_dns_query q;
	__u8 buf[600], qbuf[512];
	size_t qn;
	int n;

	(void)state;
	parse_ok("Ads.Example", ns_t_a, &q);
	check_built(buf, ln_dns_reply_build(&q, LN_DNS_REPLY_NXDOMAIN, buf, sizeof(buf)), &q,
		    ns_r_nxdomain, 0);
	check_built(buf, ln_dns_reply_build(&q, LN_DNS_REPLY_REFUSED, buf, sizeof(buf)), &q,
		    ns_r_refused, 0);
	check_built(buf, ln_dns_reply_build(&q, LN_DNS_REPLY_SERVFAIL, buf, sizeof(buf)), &q,
		    ns_r_servfail, 0);
	n = ln_dns_reply_build(&q, LN_DNS_REPLY_ZERO, buf, sizeof(buf));
	check_built(buf, n, &q, ns_r_noerror, 1);
	assert_int_equal(ln_dns_answer_parse(buf, (size_t)n, &q, a), 0);
	assert_int_equal(a->n_addrs, 1);
	assert_addr(&a->addrs[0], "0.0.0.0", LN_DNS_ZERO_TTL);

	parse_ok("ads.example", ns_t_aaaa, &q);
	n = ln_dns_reply_build(&q, LN_DNS_REPLY_ZERO, buf, sizeof(buf));
	check_built(buf, n, &q, ns_r_noerror, 1);
	assert_int_equal(ln_dns_answer_parse(buf, (size_t)n, &q, a), 0);
	assert_int_equal(a->n_addrs, 1);
	assert_addr(&a->addrs[0], "::", LN_DNS_ZERO_TTL);

	parse_ok("ads.example", ns_t_txt, &q);
	check_built(buf, ln_dns_reply_build(&q, LN_DNS_REPLY_ZERO, buf, sizeof(buf)), &q,
		    ns_r_noerror, 0);

	/* RD clear in the query: clear in the answer */
	qn = mkquery(qbuf, sizeof(qbuf), "ads.example", ns_t_a);
	((HEADER *)qbuf)->rd = 0;
	assert_int_equal(ln_dns_query_parse(qbuf, qn, &q), 0);
	assert_false(q.rd);
	check_built(buf, ln_dns_reply_build(&q, LN_DNS_REPLY_NXDOMAIN, buf, sizeof(buf)), &q,
		    ns_r_nxdomain, 0);

	/* too small a buffer, unknown kind */
	assert_int_equal(ln_dns_reply_build(&q, LN_DNS_REPLY_NXDOMAIN, buf, 20), -ENOSPC);
	assert_int_equal(ln_dns_reply_build(&q, LN_DNS_REPLY_ZERO, buf, qn), -ENOSPC);
	assert_int_equal(ln_dns_reply_build(&q, (enum ln_dns_reply_kind)9, buf, sizeof(buf)),
			 -ENOSPC);
	free(a);
}

/* A query with an OPT record (EDNS): the proxy's replies carry one too. */
static void test_reply_edns(void **state)
{
	__u8 qbuf[512], buf[600];
	struct ln_dns_query q;
	ns_msg h;
	ns_rr rr;
	int qn, n;

	(void)state;
	qn = res_mkquery(ns_o_query, "ads.example", ns_c_in, ns_t_a, NULL, 0, NULL, qbuf,
			 sizeof(qbuf));
	assert_true(qn > 0);
	parse_ok("ads.example", ns_t_a, &q);
	assert_false(q.edns);
	n = ln_dns_reply_build(&q, LN_DNS_REPLY_NXDOMAIN, buf, sizeof(buf));
	assert_int_equal(ns_initparse(buf, n, &h), 0);
	assert_int_equal(ns_msg_count(h, ns_s_ar), 0);
	/* the same query with an OPT record: root name, type OPT, class 4096, TTL 0, no data */
	memcpy(qbuf + qn, "\0\0\x29\x10\0\0\0\0\0\0\0", 11);
	qn += 11;
	((HEADER *)qbuf)->arcount = htons(1);
	assert_int_equal(ln_dns_query_parse(qbuf, (size_t)qn, &q), 0);
	assert_true(q.edns);
	for (int kind = LN_DNS_REPLY_NXDOMAIN; kind <= LN_DNS_REPLY_SERVFAIL; kind++) {
		n = ln_dns_reply_build(&q, (enum ln_dns_reply_kind)kind, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(ns_initparse(buf, n, &h), 0);
		assert_int_equal(ns_msg_count(h, ns_s_ar), 1);
		assert_int_equal(ns_parserr(&h, ns_s_ar, 0, &rr), 0);
		assert_int_equal(ns_rr_type(rr), ns_t_opt);
		assert_int_equal(ns_rr_class(rr), LN_DNS_EDNS_SIZE);
		assert_int_equal(ns_rr_rdlen(rr), 0);
		assert_int_equal(ln_dns_reply_check(buf, (size_t)n, &q, q.id), 0);
	}
}

/* Other opcodes get NOTIMP, several questions FORMERR, responses nothing. */
static void test_error_build(void **state)
{
	__u8 qbuf[512], out[64];
	struct ln_dns_query q;
	HEADER *hp = (HEADER *)qbuf, *op = (HEADER *)out;
	size_t qn;

	(void)state;
	qn = mkquery(qbuf, sizeof(qbuf), "example.com", ns_t_a);
	hp->opcode = ns_o_notify;
	assert_int_equal(ln_dns_query_parse(qbuf, qn, &q), -EOPNOTSUPP);
	assert_int_equal(ln_dns_error_build(qbuf, qn, out, sizeof(out)), LN_DNS_HDR_LEN);
	assert_int_equal(op->id, hp->id);
	assert_true(op->qr);
	assert_int_equal(op->opcode, ns_o_notify);
	assert_int_equal(op->rcode, ns_r_notimpl);
	hp->opcode = ns_o_query;
	hp->qdcount = 0;
	assert_int_equal(ln_dns_query_parse(qbuf, LN_DNS_HDR_LEN, &q), -EOPNOTSUPP);
	assert_int_equal(ln_dns_error_build(qbuf, LN_DNS_HDR_LEN, out, sizeof(out)),
			 LN_DNS_HDR_LEN);
	assert_int_equal(op->rcode, ns_r_formerr);
	hp->qr = 1;
	assert_int_equal(ln_dns_error_build(qbuf, qn, out, sizeof(out)), -EBADMSG);
	assert_int_equal(ln_dns_error_build(qbuf, 11, out, sizeof(out)), -EBADMSG);
	hp->qr = 0;
	assert_int_equal(ln_dns_error_build(qbuf, qn, out, 4), -ENOSPC);
}

static void test_set_id(void **state)
{
	__u8 buf[512];
	size_t n;

	(void)state;
	n = mkquery(buf, sizeof(buf), "example.com", ns_t_a);
	assert_int_equal(ln_dns_set_id(buf, n, 0xbeef), 0);
	assert_int_equal(ns_get16(buf), 0xbeef);
	assert_int_equal(ln_dns_set_id(buf, 11, 1), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query_parse),	     cmocka_unit_test(test_query_malformed),
	    cmocka_unit_test(test_reply_check),	     cmocka_unit_test(test_answer_simple),
	    cmocka_unit_test(test_answer_cname),     cmocka_unit_test(test_answer_cname_hops),
	    cmocka_unit_test(test_answer_many_addrs), cmocka_unit_test(test_reply_build),
	    cmocka_unit_test(test_set_id),	     cmocka_unit_test(test_reply_edns),
	    cmocka_unit_test(test_error_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
