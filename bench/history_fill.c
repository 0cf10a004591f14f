// SPDX-License-Identifier: GPL-2.0
/*
 * history_fill DB FLOWS MINUTES: writes FLOWS distinct flows in each of
 * MINUTES consecutive minutes (ending now) through the agent's own history
 * code (agent/history.c), in the drain's chunks; prints "rows SECONDS
 * rows_per_s bytes" (bytes: the database file after a checkpoint).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "history.h"

#define CHUNK 1024 /* as agent/flows.c: entries per transaction */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Flow @i as the drain would hand it over: 100 cgroups, addresses 10.x.y.z, 4 ports. */
static void make_row(long i, int64_t when, struct ln_history_row *w, char (*addr)[32],
		     char (*cg)[64])
{
	snprintf(*addr, sizeof(*addr), "10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	snprintf(*cg, sizeof(*cg), "/system.slice/app%ld.service", i % 100);
	*w = (struct ln_history_row){
		.cgroup = *cg, .policy = "bench", .addr = *addr, .name = "", .proto = "tcp",
		.verdict = i % 10 ? "allow" : "would-deny", .reason = i % 10 ? "rule" : "default",
		.rule = "bench.ini:3", .port = 443 + (unsigned int)(i % 4), .count = 1 + i % 7,
		.first = when, .last = when + 30,
	};
}

int main(int argc, char **argv)
{
	static struct ln_history_row rows[CHUNK];
	static char addrs[CHUNK][32], cgs[CHUNK][64];
	struct ln_history_limits lim = { .retention_s = 0x7fffffff };
	struct ln_history *h;
	struct ln_error err = {};
	long flows, minutes, n = 0;
	struct stat st;
	int64_t start;
	double t0;

	if (argc != 4 || (flows = atol(argv[2])) <= 0 || (minutes = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: %s DB FLOWS MINUTES\n", argv[0]);
		return 2;
	}
	if (ln_history_open(argv[1], &lim, &h, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	start = time(NULL) / 60 * 60 - minutes * 60;
	t0 = now_s();
	for (long m = 0; m < minutes; m++) {
		for (long i = 0; i < flows; i++) {
			make_row(i, start + m * 60, &rows[n], &addrs[n], &cgs[n]);
			if (++n < CHUNK && i + 1 < flows)
				continue;
			if (ln_history_add(h, rows, (size_t)n, &err) < 0) {
				fprintf(stderr, "%s\n", err.msg);
				return 1;
			}
			n = 0;
		}
	}
	t0 = now_s() - t0;
	ln_history_close(h); /* the last connection checkpoints the WAL into the file */
	stat(argv[1], &st);
	printf("%ld %.3f %.0f %lld\n", flows * minutes, t0, flows * minutes / t0,
	       (long long)st.st_size);
	return 0;
}
