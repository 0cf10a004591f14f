// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the host list parser, then the packed blocklists built from it. */
#include "fuzz_common.h"

/* What the list parsed to, printed and parsed again, is the same prefix. */
static void check_round_trip(const struct ln_prefix *p)
{
	struct ln_prefix q;
	char buf[64];

	FUZZ_ASSERT(p->len <= 128);
	ln_prefix_format(p, buf, sizeof(buf));
	FUZZ_ASSERT(ln_prefix_parse(buf, &q) == 0);
	FUZZ_ASSERT(q.len == p->len && !memcmp(q.addr, p->addr, LN_ADDR_LEN));
}

/* Every entry is blocked in the global set; other addresses are looked up without harm. */
static void check_compiled(const struct ln_config *c, const uint8_t *data, size_t size)
{
	struct ln_error err = {""};
	struct ln_compiled cc;
	__u8 addr[LN_ADDR_LEN];
	size_t i;

	if (ln_compile(c, fuzz_resolve, NULL, fuzz_warn, NULL, &cc, &err)) {
		FUZZ_ASSERT(err.msg[0]);
		return;
	}
	for (i = 0; i < c->hosts.n; i++)
		FUZZ_ASSERT(ln_packed_lookup(&cc.packed, LN_SET_GLOBAL, c->hosts.v[i].pfx.addr));
	for (i = 0; i + 17 <= size && i < 64 * 17; i += 17) {
		fuzz_addr(data + i, 17, addr);
		ln_packed_lookup(&cc.packed, LN_SET_GLOBAL, addr);
		ln_packed_lookup(&cc.packed, data[i], addr);
	}
	ln_compiled_free(&cc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ln_error err = {""};
	struct ln_config c;
	size_t i;
	int rc;

	if (size > 262144)
		return -1;
	ln_config_init(&c);
	rc = ln_config_add_hosts(&c, fuzz_write("hosts.txt", data, size), &err);
	FUZZ_ASSERT(rc <= 0 && (!rc || err.msg[0]));
	for (i = 0; i < c.hosts.n; i++)
		check_round_trip(&c.hosts.v[i].pfx);
	for (i = 0; i < c.hosts.n_names; i++)
		FUZZ_ASSERT(ln_hostname_is_valid(c.hosts.names[i].name));
	if (!rc)
		check_compiled(&c, data, size);
	ln_config_free(&c);
	return 0;
}
