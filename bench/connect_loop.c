// SPDX-License-Identifier: GPL-2.0
/*
 * connect() cost: re-connects one UDP socket N times (each call runs the
 * cgroup connect hook, no packet is sent) and prints nanoseconds per call.
 * With "send", sendto()s one byte N times from an unconnected UDP socket
 * instead (each runs the sendmsg hook; loopback only). With "spread", each
 * connect() goes to another port (PORT + i % 50000): no two calls in a row ask
 * the same question, so no verdict cache can answer; "send-spread": sendto()s so.
 * Usage: connect_loop ADDR PORT ITERATIONS [send|spread|send-spread]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *sin = (void *)&ss;
	struct sockaddr_in6 *sin6 = (void *)&ss;
	struct timespec t0, t1;
	long iters, denied = 0;
	socklen_t len;
	int fd, send, spread, port;

	send = argc == 5 && (!strcmp(argv[4], "send") || !strcmp(argv[4], "send-spread"));
	spread = argc == 5 && (!strcmp(argv[4], "spread") || !strcmp(argv[4], "send-spread"));
	if (argc != 4 && !(argc == 5 && (send || spread))) {
		fprintf(stderr, "usage: %s ADDR PORT ITERATIONS [send|spread|send-spread]\n",
			argv[0]);
		return 2;
	}
	iters = atol(argv[3]);
	port = atoi(argv[2]);
	if (inet_pton(AF_INET, argv[1], &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(argv[2]));
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, argv[1], &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(argv[2]));
		len = sizeof(*sin6);
	} else {
		fprintf(stderr, "%s: not an address\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++) {
		int r;

		if (spread) /* sin_port and sin6_port are at the same offset */
			sin->sin_port = htons((unsigned short)(port + i % 50000));
		r = send ? (int)sendto(fd, "", 1, 0, (struct sockaddr *)&ss, len)
			 : connect(fd, (struct sockaddr *)&ss, len);
		if (r < 0) {
			if (errno != EPERM) {
				perror(send ? "sendto" : "connect");
				return 1;
			}
			denied++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f ns/connect %ld denied\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / iters, denied);
	close(fd);
	return 0;
}
