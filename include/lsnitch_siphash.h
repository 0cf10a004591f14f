/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SipHash-2-4 of a message of whole 32-bit words: the DNS slot hash, keyed with
 * the agent's random key so nobody can aim a set of servers at the same slots.
 * Compiled by the BPF programs and by the host (tests check the reference vectors).
 */
#ifndef LSNITCH_SIPHASH_H
#define LSNITCH_SIPHASH_H

#include <linux/types.h>

#ifndef LN_INLINE
#define LN_INLINE static inline __attribute__((always_inline))
#endif

#define LN_SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

LN_INLINE void ln_sip_round(__u64 *v)
{
	v[0] += v[1];
	v[1] = LN_SIP_ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = LN_SIP_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = LN_SIP_ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = LN_SIP_ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = LN_SIP_ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = LN_SIP_ROTL(v[2], 32);
}

LN_INLINE void ln_sip_block(__u64 *v, __u64 m)
{
	v[3] ^= m;
	ln_sip_round(v);
	ln_sip_round(v);
	v[0] ^= m;
}

/*
 * SipHash-2-4 of @n_words little-endian 32-bit words @w (n_words even, at most
 * 6: 24 bytes, the size of a slot owner) under @key; equal to the reference
 * siphash() of the same bytes on a little-endian machine.
 */
LN_INLINE __u64 ln_siphash_words(const __u64 *key, const __u32 *w, int n_words)
{
	__u64 v[4] = {key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
		      key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL};
	int i;

	for (i = 0; i < 6 && i < n_words; i += 2)
		ln_sip_block(v, (__u64)w[i] | (__u64)w[i + 1] << 32);
	ln_sip_block(v, (__u64)(n_words * 4) << 56);
	v[2] ^= 0xff;
	ln_sip_round(v);
	ln_sip_round(v);
	ln_sip_round(v);
	ln_sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

#endif /* LSNITCH_SIPHASH_H */
