// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the DNS slot hash (include/lsnitch_siphash.h, compiled into the
 * BPF programs) is SipHash-2-4: the reference vectors for key 00..0f, and
 * every byte of a slot owner changes it, the last address octet included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lsnitch.h"
#include "lsnitch_siphash.h"

static const __u64 ref_key[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

static __u64 hash_bytes(const __u64 *key, const __u8 *b, int n_words)
{
	__u32 w[6];

	memcpy(w, b, (size_t)n_words * 4);
	return ln_siphash_words(key, w, n_words);
}

static void test_reference_vectors(void **state)
{
	__u8 msg[24];

	(void)state;
	for (int i = 0; i < 24; i++)
		msg[i] = (__u8)i;
	/* the SipHash paper's vectors: messages 00, 00..07 (in words), and 00..17 */
	assert_true(hash_bytes(ref_key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(hash_bytes(ref_key, msg, 2) == 0x93f5f5799a932462ULL);
	assert_true(hash_bytes(ref_key, msg, 6) == 0xb8ad50c6f649af94ULL);
}

static void test_every_owner_byte_counts(void **state)
{
	struct ln_dns_owner o = {.addr = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1}, .port = 53,
				 .policy_id = 3};
	const __u8 *b = (const __u8 *)&o;
	__u64 key[2] = {0x1234, 0x5678}, base, other;

	(void)state;
	base = hash_bytes(key, b, sizeof(o) / 4);
	for (size_t i = 0; i < sizeof(o); i++) {
		struct ln_dns_owner x = o;

		((__u8 *)&x)[i] ^= 1;
		assert_true(hash_bytes(key, (const __u8 *)&x, sizeof(x) / 4) != base);
	}
	key[0] ^= 1;
	other = hash_bytes(key, b, sizeof(o) / 4);
	assert_true(other != base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_every_owner_byte_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
