// SPDX-License-Identifier: GPL-2.0
/*
 * Domain set microbenchmark (linked with librules): for each SIZE, builds a
 * set of SIZE generated names ("b<i>.blk<i%1000>.example", the names
 * bench/gen_hosts.py writes for kind "domain") and times ITERS calls of
 * ln_domain_set_lookup() for
 *   hit       a listed name (1 probe)
 *   hit-sub   "www." + a listed name (2 probes)
 *   miss      "m<i>.blk<i%1000>.example", not listed (3 probes)
 *   miss-deep "a.b.c.d.m<i>.blk<i%1000>.example", not listed (7 probes)
 * cycling through 65536 query names spread over the whole set (so a big set
 * misses the caches as it would in use). Baseline, same run: one XXH3_64bits
 * over each query name, the hash one probe costs. Prints one line per
 * (size, kind): "SIZE KIND NS_PER_LOOKUP NS_BASELINE BUILD_MS BYTES_PER_NAME".
 * Usage: domain_lookup_rules ITERS SIZE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "domain_set.h"

#define POOL 65536

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char *xasprintf(const char *fmt, unsigned long a, unsigned long b)
{
	char *s;

	if (asprintf(&s, fmt, a, b) < 0) {
		perror("asprintf");
		exit(1);
	}
	return s;
}

/* Keeps the compiler from dropping the timed loops. */
static volatile unsigned long sink;

static double time_lookups(const struct ln_domain_set *s, char **q, long iters)
{
	unsigned long acc = 0;
	double t0 = now_ns();

	for (long i = 0; i < iters; i++)
		acc += ln_domain_set_lookup(s, q[i & (POOL - 1)]);
	sink += acc;
	return (now_ns() - t0) / iters;
}

static double time_hash(char **q, size_t *len, long iters)
{
	unsigned long acc = 0;
	double t0 = now_ns();

	for (long i = 0; i < iters; i++)
		acc += XXH3_64bits(q[i & (POOL - 1)], len[i & (POOL - 1)]);
	sink += acc;
	return (now_ns() - t0) / iters;
}

static int bench_size(unsigned long n, long iters)
{
	static const char *const kinds[] = {"hit", "hit-sub", "miss", "miss-deep"};
	static const char *const fmts[] = {"b%lu.blk%lu.example", "www.b%lu.blk%lu.example",
					   "m%lu.blk%lu.example", "a.b.c.d.m%lu.blk%lu.example"};
	static const __u32 expect_hit[] = {1, 1, 0, 0};
	struct ln_domainlist l = {0};
	const struct ln_domainlist *lists[] = {&l};
	struct ln_domain_set *s;
	char **q = calloc(POOL, sizeof(*q));
	size_t *len = calloc(POOL, sizeof(*len));
	double t0, build_ms;
	int rc;

	l.v = calloc(n, sizeof(*l.v));
	if (!l.v || !q || !len)
		return -1;
	for (unsigned long i = 0; i < n; i++) {
		l.v[i].name = xasprintf(fmts[0], i, i % 1000);
		l.v[i].rule_id = LN_RULE_ID(1, (i % LN_RULE_MAX_LINE) + 1);
	}
	l.n = l.cap = n;
	t0 = now_ns();
	rc = ln_domain_set_build(&s, lists, 1);
	build_ms = (now_ns() - t0) / 1e6;
	ln_domainlist_free(&l);
	if (rc) {
		fprintf(stderr, "ln_domain_set_build: %d\n", rc);
		return -1;
	}
	for (int k = 0; k < 4; k++) {
		double ns, base;

		for (unsigned long i = 0; i < POOL; i++) {
			/* spread over the set: a multiplicative hash of i, modulo n */
			unsigned long j = (i * 2654435761UL) % n;

			free(q[i]);
			q[i] = xasprintf(fmts[k], j, j % 1000);
			len[i] = strlen(q[i]);
			if (!ln_domain_set_lookup(s, q[i]) != !expect_hit[k]) {
				fprintf(stderr, "%s: %s: unexpected result\n", kinds[k], q[i]);
				return -1;
			}
		}
		time_lookups(s, q, POOL); /* warm up */
		ns = time_lookups(s, q, iters);
		base = time_hash(q, len, iters);
		printf("%lu %s %.1f %.1f %.1f %.1f\n", n, kinds[k], ns, base, build_ms,
		       (double)ln_domain_set_memory(s) / n);
	}
	for (unsigned long i = 0; i < POOL; i++)
		free(q[i]);
	free(q);
	free(len);
	ln_domain_set_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	long iters;

	if (argc < 3 || (iters = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: %s ITERS SIZE...\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		unsigned long n = strtoul(argv[i], NULL, 10);

		if (!n || bench_size(n, iters))
			return 1;
	}
	return 0;
}
