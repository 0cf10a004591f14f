// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the domain list parser, then the domain set built from it and its lookups. */
#include "fuzz_common.h"
#include "domain_set.h"

/* The rule id of the first entry named @name: what the set keeps for it. */
static __u32 first_rule_id(const struct ln_domainlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return l->v[i].rule_id;
	return 0;
}

/* Each listed name finds itself (first occurrence) and covers a subdomain of it. */
static void check_entries(const struct ln_domain_set *s, const struct ln_domainlist *l)
{
	char sub[LN_MAX_LINE_LEN + 8];

	for (size_t i = 0; i < l->n && i < 256; i++) {
		const char *name = l->v[i].name;

		FUZZ_ASSERT(ln_domain_set_lookup(s, name) == first_rule_id(l, name));
		snprintf(sub, sizeof(sub), "x.%s.", name);
		FUZZ_ASSERT(ln_domain_set_lookup(s, sub) != 0);
	}
}

/* Every input line, as it is, looked up as a name. */
static void lookup_lines(const struct ln_domain_set *s, const uint8_t *data, size_t size)
{
	char name[LN_MAX_LINE_LEN + 1];
	const uint8_t *p = data, *end = data + size, *nl;
	size_t n;

	for (int k = 0; p < end && k < 256; k++, p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		n = (size_t)(nl - p) < sizeof(name) - 1 ? (size_t)(nl - p) : sizeof(name) - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		ln_domain_set_lookup(s, name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ln_error err = {""};
	struct ln_domain_set *s = NULL;
	const struct ln_domainlist *lists[3];
	struct ln_sources src = {0};
	struct ln_domainlist l = {0};
	int rc;

	if (size > 262144)
		return -1;
	rc = ln_domainlist_parse_file(&l, &src, fuzz_write("domains.txt", data, size), &err);
	FUZZ_ASSERT(rc <= 0 && (!rc || err.msg[0]));
	for (size_t i = 0; i < l.n; i++)
		FUZZ_ASSERT(ln_hostname_is_valid(l.v[i].name) && l.v[i].rule_id);
	/* the set is built from what parsed so far, even after an error */
	lists[0] = &l;
	lists[1] = NULL;
	lists[2] = &l;
	rc = ln_domain_set_build(&s, lists, 3);
	FUZZ_ASSERT(rc == 0 || rc == -ENOMEM);
	if (!rc) {
		FUZZ_ASSERT(ln_domain_set_size(s) <= l.n);
		check_entries(s, &l);
		lookup_lines(s, data, size);
	}
	ln_domain_set_free(s);
	ln_domainlist_free(&l);
	ln_sources_free(&src);
	return 0;
}
