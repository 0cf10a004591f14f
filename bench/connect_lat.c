// SPDX-License-Identifier: GPL-2.0
/*
 * connect() latency: re-connects one UDP socket to ADDR:PORT for SECONDS
 * (each call runs the cgroup connect hook, no packet is sent) and prints the
 * median, 99th percentile and maximum of the calls, in nanoseconds, and their count.
 * Usage: connect_lat ADDR PORT SECONDS
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CALLS (1 << 24)

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	long long *lat, end, t0, t1;
	size_t n = 0;
	int fd;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: %s IPV4-ADDR PORT SECONDS\n", argv[0]);
		return 2;
	}
	sin.sin_port = htons(atoi(argv[2]));
	lat = malloc(MAX_CALLS * sizeof(*lat));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!lat || fd < 0) {
		perror("connect_lat");
		return 1;
	}
	end = now_ns() + (long long)(atof(argv[3]) * 1e9);
	for (t0 = now_ns(); t0 < end && n < MAX_CALLS; t0 = t1) {
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		t1 = now_ns();
		lat[n++] = t1 - t0;
	}
	if (!n)
		return 1;
	qsort(lat, n, sizeof(*lat), cmp_ll);
	printf("%lld %lld %lld %zu\n", lat[n / 2], lat[n * 99 / 100], lat[n - 1], n);
	return 0;
}
