// SPDX-License-Identifier: GPL-2.0
/*
 * A flood of connect()s, as fast as one process can: one UDP socket
 * re-connected to ADDR on a new port each time (1024..65535, so no repeat
 * suppression by destination applies; no packet is sent), for SECONDS.
 * Prints "N connects/s D denied". Usage: connect_flood ADDR SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	double t0, secs, t;
	long n = 0, denied = 0;
	int fd;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: %s IPV4ADDR SECONDS\n", argv[0]);
		return 2;
	}
	secs = atof(argv[2]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	t0 = now_s();
	do {
		for (int i = 0; i < 4096; i++, n++) {
			sin.sin_port = htons(1024 + n % 64512);
			if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
				continue;
			if (errno != EPERM) {
				perror("connect");
				return 1;
			}
			denied++;
		}
		t = now_s() - t0;
	} while (t < secs);
	printf("%.0f connects/s %ld denied\n", n / t, denied);
	close(fd);
	return 0;
}
