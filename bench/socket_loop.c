// SPDX-License-Identifier: GPL-2.0
/*
 * What the packet-socket programs cost: N getppid() calls (any syscall, the machine-wide
 * tax of a syscall tracepoint), or N socket()+close() of a UDP socket or of an AF_PACKET
 * one (SOCK_DGRAM, protocol 0: no device, no frame). Prints nanoseconds per iteration and
 * how many socket() calls failed.
 * Usage: socket_loop getppid|udp|packet ITERATIONS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long iters, failed = 0;
	int family, fd;
	double t0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s getppid|udp|packet ITERATIONS\n", argv[0]);
		return 2;
	}
	iters = atol(argv[2]);
	family = !strcmp(argv[1], "packet") ? AF_PACKET : AF_INET;
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		if (!strcmp(argv[1], "getppid")) {
			getppid();
			continue;
		}
		fd = socket(family, SOCK_DGRAM, 0);
		if (fd < 0)
			failed++;
		else
			close(fd);
	}
	printf("%.1f ns/iteration, %ld failed\n", (now_ns() - t0) / (iters ? iters : 1), failed);
	return 0;
}
