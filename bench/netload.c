// SPDX-License-Identifier: GPL-2.0
/*
 * Bulk TCP and UDP packet-rate load for the egress bench (run-egress-bench.sh).
 * Usage: netload tcp-sink|udp-sink ADDR PORT        discard what arrives, forever
 *        netload tcp-send ADDR PORT SECONDS         prints "MBIT/S bytes"
 *        netload udp-send ADDR PORT SECONDS SIZE    prints "PACKETS/S packets"
 * The senders count what the kernel accepted: the cost measured is the
 * sending side's, where the cgroup egress program runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 17];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static socklen_t parse_addr(const char *addr, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(port));
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(port));
		return sizeof(*sin6);
	}
	fprintf(stderr, "netload: %s: not an address\n", addr);
	exit(2);
}

static int open_sock(const struct sockaddr_storage *ss, int type)
{
	int fd = socket(ss->ss_family, type, 0);

	if (fd < 0) {
		perror("netload: socket");
		exit(1);
	}
	return fd;
}

static int sink(const struct sockaddr_storage *ss, socklen_t len, int type)
{
	int one = 1, fd = open_sock(ss, type), c;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const void *)ss, len) < 0 || (type == SOCK_STREAM && listen(fd, 8) < 0)) {
		perror("netload: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (type == SOCK_DGRAM)
		for (;;)
			recv(fd, buf, sizeof(buf), 0);
	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		while (recv(c, buf, sizeof(buf), 0) > 0)
			;
		close(c);
	}
}

/* Sends for @secs seconds; returns the bytes (TCP) or datagrams (UDP) accepted. */
static double send_for(int fd, double secs, size_t size)
{
	double end = now_s() + secs, n = 0;
	long i = 0;
	ssize_t r;

	for (;;) {
		/* The clock every 64 calls: cheap next to the sends. */
		if ((++i & 63) == 0 && now_s() >= end)
			break;
		r = send(fd, buf, size, 0);
		if (r < 0 && errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED) {
			perror("netload: send");
			exit(1);
		}
		if (r > 0)
			n += size == sizeof(buf) ? (double)r : 1;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	double secs, n;
	int fd, udp;

	if (argc < 4) {
		fprintf(stderr, "usage: netload tcp-sink|udp-sink|tcp-send|udp-send ADDR PORT "
				"[SECONDS [SIZE]]\n");
		return 2;
	}
	len = parse_addr(argv[2], argv[3], &ss);
	udp = strncmp(argv[1], "udp", 3) == 0;
	if (strstr(argv[1], "sink"))
		return sink(&ss, len, udp ? SOCK_DGRAM : SOCK_STREAM);
	if (argc < (udp ? 6 : 5))
		return 2;
	secs = atof(argv[4]);
	fd = open_sock(&ss, udp ? SOCK_DGRAM : SOCK_STREAM);
	if (connect(fd, (const void *)&ss, len) < 0) {
		perror("netload: connect");
		return 1;
	}
	n = send_for(fd, secs, udp ? (size_t)atoi(argv[5]) : sizeof(buf));
	if (udp)
		printf("%.0f %.0f\n", n / secs, n);
	else
		printf("%.1f %.0f\n", n * 8 / secs / 1e6, n);
	return 0;
}
