// SPDX-License-Identifier: GPL-2.0
/*
 * unix connect() cost: binds a datagram socket at PATH, then re-connects one
 * datagram socket to it N times (each call runs the cgroup connect_unix hook,
 * nothing is sent) and prints nanoseconds per call and how many were refused.
 * Usage: unix_connect_loop PATH ITERATIONS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec t0, t1;
	long iters, denied = 0;
	int srv, fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: %s PATH ITERATIONS\n", argv[0]);
		return 2;
	}
	iters = atol(argv[2]);
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(argv[1]);
	srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (srv < 0 || fd < 0 || bind(srv, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++)
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			denied++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unlink(argv[1]);
	printf("%.1f ns/connect %ld refused\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / iters, denied);
	return 0;
}
