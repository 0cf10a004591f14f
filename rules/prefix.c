// SPDX-License-Identifier: GPL-2.0
/* Address prefixes (16 bytes, IPv4 mapped), their text forms, and hostname syntax. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules_internal.h"

static const __u8 v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void prefix_clear_host_bits(struct ln_prefix *p)
{
	unsigned int i;

	for (i = 0; i < LN_ADDR_LEN; i++) {
		unsigned int bit = i * 8;

		if (bit >= p->len)
			p->addr[i] = 0;
		else if (bit + 8 > p->len)
			p->addr[i] &= (__u8)(0xff00 >> (p->len - bit));
	}
}

int ln_parse_decimal(const char *s, size_t max_digits, int max)
{
	long v = 0;

	if (!*s || strlen(s) > max_digits || max_digits > 9)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? (int)v : -1;
}

int ln_prefix_parse(const char *s, struct ln_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	int len = -1;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr + 12) == 1) {
		memcpy(p->addr, v4_mapped, sizeof(v4_mapped));
		len = slash ? ln_parse_decimal(slash + 1, 3, 32) : 32;
		if (len < 0)
			return -EINVAL;
		len += LN_V4_MAPPED_PREFIX;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		len = slash ? ln_parse_decimal(slash + 1, 3, 128) : 128;
		if (len < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	p->len = len;
	prefix_clear_host_bits(p);
	return 0;
}

bool ln_prefix_is_v4(const struct ln_prefix *p)
{
	return p->len >= LN_V4_MAPPED_PREFIX && !memcmp(p->addr, v4_mapped, sizeof(v4_mapped));
}

const char *ln_prefix_format(const struct ln_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	bool v4 = ln_prefix_is_v4(p);

	if (v4)
		inet_ntop(AF_INET, p->addr + 12, a, sizeof(a));
	else
		inet_ntop(AF_INET6, p->addr, a, sizeof(a));
	if (p->len == 128)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, v4 ? p->len - LN_V4_MAPPED_PREFIX : p->len);
	return buf;
}

const char *ln_addr_format(const __u8 addr[LN_ADDR_LEN], char *buf, size_t len)
{
	struct ln_prefix p = {.len = 128};

	memcpy(p.addr, addr, LN_ADDR_LEN);
	return ln_prefix_format(&p, buf, len);
}

bool ln_prefix_contains(const struct ln_prefix *p, const struct ln_prefix *q)
{
	unsigned int full = p->len / 8, rest = p->len % 8;
	__u8 mask;

	if (p->len > q->len)
		return false;
	if (memcmp(p->addr, q->addr, full))
		return false;
	if (!rest)
		return true;
	mask = (__u8)(0xff00 >> rest);
	return (p->addr[full] & mask) == (q->addr[full] & mask);
}

/*
 * LDH labels plus '_' (seen in real lists and SRV-style names), 1..63 each, 253 in
 * all, one optional trailing dot. A label may not start with '-'. The last label
 * may not be all digits, so "10.0.0.256" is not taken for a name.
 */
bool ln_hostname_is_valid(const char *name)
{
	size_t n = strlen(name), label = 0;
	bool digits_only = true;
	const char *s;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (s = name; s < name + n; s++) {
		char c = *s;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			digits_only = true;
			continue;
		}
		if (c >= '0' && c <= '9') {
			/* digits keep digits_only as is */
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
			digits_only = false;
		} else if (c == '-') {
			if (label == 0)
				return false;
			digits_only = false;
		} else {
			return false;
		}
		if (++label > 63)
			return false;
	}
	return label > 0 && !digits_only;
}
