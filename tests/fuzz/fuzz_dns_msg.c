// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the DNS message parser, reply check and answer walker (rules/dns_msg.c).
 * The first byte picks the mode: even, the rest is a message as it came off the wire; odd,
 * the rest is a recipe for a message (names from a small vocabulary with compression
 * pointers back, forward and into themselves, records whose counts and lengths may lie), so
 * that glibc's ns_* parser is reached with messages that are almost right.
 */
#include <arpa/nameser.h>

#include "fuzz_common.h"
#include "dns_msg.h"

#define MSG_MAX 4096

/* The recipe, read a byte at a time; 0 once used up. */
struct recipe {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct recipe *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

/* The message being built, and where its names start (targets for pointers). */
struct builder {
	uint8_t b[MSG_MAX];
	size_t len;
	uint16_t names[32];
	size_t n_names;
};

static void put(struct builder *m, const void *p, size_t n)
{
	if (m->len + n > MSG_MAX)
		n = MSG_MAX - m->len;
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put16(struct builder *m, uint16_t v)
{
	uint8_t b[2] = {v >> 8, v & 0xff};

	put(m, b, 2);
}

/* A compression pointer: to a name seen before, to an arbitrary offset, or to itself. */
static void put_pointer(struct builder *m, struct recipe *r)
{
	uint8_t how = take(r), lo = take(r);
	uint16_t to;

	if (how % 4 == 0 && m->n_names)
		to = m->names[lo % m->n_names];
	else if (how % 4 == 1)
		to = m->len; /* a loop: the pointer points at itself */
	else if (how % 4 == 2)
		to = m->len + lo; /* forward */
	else
		to = ((how & 0x3f) << 8) | lo;
	put16(m, 0xc000 | (to & 0x3fff));
}

static void put_label(struct builder *m, struct recipe *r, uint8_t op)
{
	static const char *const vocab[] = {"a",   "b", "www",	   "example", "com",  "test",
					    "cdn", "A", "Example", "x-y",     "_srv", "\\."};
	uint8_t n;

	if (op % 8 < 6) {
		const char *w = vocab[take(r) % (sizeof(vocab) / sizeof(vocab[0]))];

		n = strlen(w);
		put(m, &n, 1);
		put(m, w, n);
		return;
	}
	/* raw: any length byte (64..255 are not labels), then bytes of the recipe */
	n = take(r);
	put(m, &n, 1);
	for (uint8_t i = 0; i < (n & 0x3f); i++) {
		uint8_t c = take(r);

		put(m, &c, 1);
	}
}

/* A name: labels, ended by the root or by a pointer. */
static void put_name(struct builder *m, struct recipe *r)
{
	if (m->n_names < sizeof(m->names) / sizeof(m->names[0]))
		m->names[m->n_names++] = m->len;
	for (int i = 0; i < 12; i++) {
		uint8_t op = take(r);

		if (op % 16 == 15) {
			put_pointer(m, r);
			return;
		}
		if (op % 16 >= 12 || !r->n)
			break;
		put_label(m, r, op);
	}
	put(m, "", 1);
}

static const uint16_t types[] = {ns_t_a, ns_t_aaaa, ns_t_cname, ns_t_cname, ns_t_txt, ns_t_opt};

/* A record (or, @question, a question): owner, type, class, and for records TTL and data. */
static void put_record(struct builder *m, struct recipe *r, int question)
{
	uint8_t sel = take(r);
	uint16_t type = types[sel % (sizeof(types) / sizeof(types[0]))];
	size_t rdlen_at, start;

	put_name(m, r);
	put16(m, type);
	put16(m, sel & 0x80 ? take(r) : ns_c_in);
	if (question)
		return;
	put16(m, take(r));
	put16(m, take(r) << 8 | take(r));
	rdlen_at = m->len;
	put16(m, 0);
	start = m->len;
	if (type == ns_t_cname)
		put_name(m, r);
	else
		for (uint8_t i = 0, n = type == ns_t_a	    ? 4
					: type == ns_t_aaaa ? 16
							    : take(r) % 32;
		     i < n; i++) {
			uint8_t c = take(r);

			put(m, &c, 1);
		}
	/* the record's length: right, or what the recipe says */
	if (rdlen_at + 2 <= MSG_MAX) {
		uint16_t len = sel & 0x40 ? take(r) : (uint16_t)(m->len - start);

		m->b[rdlen_at] = len >> 8;
		m->b[rdlen_at + 1] = len & 0xff;
	}
}

static size_t build(struct builder *m, struct recipe *r)
{
	uint8_t flags = take(r), counts = take(r);
	int qd = counts & 1 ? 0 : 1, an = (counts >> 1) % 24, ns = (counts >> 6) % 3;

	m->len = m->n_names = 0;
	put16(m, take(r) << 8 | take(r));
	/* QR, opcode QUERY (mostly), RD, TC, rcode */
	put16(m, (flags & 0x80 ? 0x8000 : 0) | (flags & 0x40 ? 0x7800 : 0) | (flags & 0x3f) << 4 |
		     (flags & 0xf));
	put16(m, flags & 0x20 ? take(r) % 4 : qd);
	put16(m, flags & 0x10 ? take(r) : an);
	put16(m, ns);
	put16(m, 0);
	for (int i = 0; i < qd; i++)
		put_record(m, r, 1);
	for (int i = 0; i < an + ns && m->len < MSG_MAX; i++)
		put_record(m, r, 0);
	return m->len;
}

/* The proxy's own answers to a query it parsed are well formed and read back as they should. */
static void check_own_replies(const struct ln_dns_query *q)
{
	static struct ln_dns_answer a;
	struct ln_dns_query q2;
	uint8_t out[600];
	int n;

	for (int kind = LN_DNS_REPLY_NXDOMAIN; kind <= LN_DNS_REPLY_SERVFAIL; kind++) {
		n = ln_dns_reply_build(q, kind, out, sizeof(out));
		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(ln_dns_reply_check(out, n, q, q->id) == 0);
		FUZZ_ASSERT(ln_dns_query_parse(out, n, &q2) == -EINVAL);
		FUZZ_ASSERT(ln_dns_answer_parse(out, n, q, &a) == 0);
		FUZZ_ASSERT(a.n_names == 1 && a.n_addrs <= 1);
		FUZZ_ASSERT(ln_dns_reply_build(q, kind, out, n - 1) == -ENOSPC);
	}
}

/* The answer cache's view of @msg: TTL offsets inside it, aging writes only there. */
static void exercise_ttls(const uint8_t *msg, size_t len)
{
	static uint8_t aged[65536];
	struct ln_dns_ttls t;
	int rc = ln_dns_reply_ttls(msg, len, 3600, &t);

	FUZZ_ASSERT(rc >= 0 || rc == -EBADMSG || rc == -E2BIG);
	FUZZ_ASSERT(rc <= 3600 && t.n <= LN_DNS_MAX_TTLS);
	if (rc <= 0 || len > sizeof(aged))
		return;
	for (size_t i = 0; i < t.n; i++)
		FUZZ_ASSERT(t.off[i] + 4u <= len);
	memcpy(aged, msg, len);
	ln_dns_reply_age(aged, msg, &t, 7);
}

/* @msg read as a reply to @q: whatever it holds, the results stay in bounds. */
static void exercise_reply(const uint8_t *msg, size_t len, const struct ln_dns_query *q)
{
	static struct ln_dns_answer a;
	int rc;

	rc = ln_dns_reply_check(msg, len, q, len >= 2 ? msg[0] << 8 | msg[1] : 0);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
	rc = ln_dns_answer_parse(msg, len, q, &a);
	FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ELOOP);
	FUZZ_ASSERT(a.n_names <= LN_DNS_MAX_CHAIN && a.n_addrs <= LN_DNS_MAX_ADDRS);
	for (size_t i = 0; i < a.n_names; i++)
		FUZZ_ASSERT(strlen(a.names[i]) < LN_DNS_NAME_LEN);
	exercise_ttls(msg, len);
}

/* The question most seeds ask: www.example.com A IN. */
static const struct ln_dns_query *fixed_query(void)
{
	static const uint8_t msg[] = {0x12, 0x34, 1,   0,   0,	 1,   0,   0,	0,   0,	  0,
				      0,    3,	  'w', 'w', 'w', 7,   'e', 'x', 'a', 'm', 'p',
				      'l',  'e',  3,   'c', 'o', 'm', 0,   0,	1,   0,	  1};
	static struct ln_dns_query q;

	if (!q.qwire_len)
		FUZZ_ASSERT(ln_dns_query_parse(msg, sizeof(msg), &q) == 0);
	return &q;
}

/* A query of another opcode or shape gets a header-only response, which is never answered. */
static void check_error_reply(const uint8_t *msg, size_t len)
{
	struct ln_dns_query q;
	uint8_t out[LN_DNS_HDR_LEN];
	int n = ln_dns_error_build(msg, len, out, sizeof(out));

	FUZZ_ASSERT(n == LN_DNS_HDR_LEN);
	FUZZ_ASSERT(out[0] == msg[0] && out[1] == msg[1]);
	FUZZ_ASSERT(ln_dns_query_parse(out, n, &q) == -EINVAL);
	FUZZ_ASSERT(ln_dns_error_build(out, n, out, sizeof(out)) == -EBADMSG);
}

/* @msg as a query, and as a reply to its own question (QR cleared to read it) and to ours. */
static void exercise(const uint8_t *msg, size_t len)
{
	static uint8_t copy[MSG_MAX + 64];
	struct ln_dns_query q;
	int rc = ln_dns_query_parse(msg, len, &q);

	if (!rc) {
		FUZZ_ASSERT(strlen(q.qname) < LN_DNS_NAME_LEN && q.qwire_len >= 5);
		check_own_replies(&q);
	} else if (rc == -EOPNOTSUPP) {
		check_error_reply(msg, len);
	}
	exercise_reply(msg, len, fixed_query());
	if (len < LN_DNS_HDR_LEN || len > sizeof(copy))
		return;
	memcpy(copy, msg, len);
	copy[2] &= 0x7f;
	if (!ln_dns_query_parse(copy, len, &q))
		exercise_reply(msg, len, &q);
	FUZZ_ASSERT(ln_dns_set_id(copy, len, 0x1234) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct builder m;
	struct recipe r;

	if (!size || size > 65536)
		return -1;
	if (data[0] % 2 == 0) {
		exercise(data + 1, size - 1);
		return 0;
	}
	r.p = data + 1;
	r.n = size - 1;
	exercise(m.b, build(&m, &r));
	return 0;
}
