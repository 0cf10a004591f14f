// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of any DNS relay, for make bench: a bare UDP relay with no checks,
 * recvmmsg/sendmmsg both ways, one thread, one upstream socket. A client's query
 * gets a free upstream id (its slot in a table of who asked); the reply gets the
 * client's id back. What lsnitch's proxy adds beyond this is its own cost.
 * Usage: dns_relay LISTEN_ADDR PORT UPSTREAM_ADDR UPSTREAM_PORT   (runs until killed)
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 32
#define MSG 1500

static struct sockaddr_in who[65536]; /* by upstream id: the asking client */
static unsigned short their_id[65536];
static unsigned char buf[BATCH][MSG];
static struct sockaddr_in addr[BATCH];
static struct iovec iov[BATCH];
static struct mmsghdr m[BATCH];

static int sock(const char *ip, int port, int do_bind)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = 1 << 20;

	inet_pton(AF_INET, ip, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (fd < 0 ||
	    (do_bind ? bind(fd, (void *)&a, sizeof(a)) : connect(fd, (void *)&a, sizeof(a))) < 0) {
		perror(ip);
		exit(1);
	}
	return fd;
}

static int recv_batch(int fd)
{
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){buf[i], MSG};
		m[i].msg_hdr = (struct msghdr){.msg_name = &addr[i],
					       .msg_namelen = sizeof(addr[i]),
					       .msg_iov = &iov[i],
					       .msg_iovlen = 1};
	}
	return recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
}

int main(int argc, char **argv)
{
	unsigned short next = 0;
	int cl, up, n;

	if (argc != 5) {
		fprintf(stderr, "usage: dns_relay LISTEN_ADDR PORT UPSTREAM_ADDR UPSTREAM_PORT\n");
		return 2;
	}
	cl = sock(argv[1], atoi(argv[2]), 1);
	up = sock(argv[3], atoi(argv[4]), 0);
	for (;;) {
		struct pollfd p[2] = {{cl, POLLIN, 0}, {up, POLLIN, 0}};

		poll(p, 2, -1);
		while (p[0].revents && (n = recv_batch(cl)) > 0) {
			for (int i = 0; i < n; i++) { /* to upstream: our id, the client noted */
				unsigned short id = next++;

				who[id] = addr[i];
				memcpy(&their_id[id], buf[i], 2);
				memcpy(buf[i], &id, 2);
				iov[i].iov_len = m[i].msg_len;
				m[i].msg_hdr.msg_name = NULL;
				m[i].msg_hdr.msg_namelen = 0;
			}
			sendmmsg(up, m, n, 0);
		}
		while (p[1].revents && (n = recv_batch(up)) > 0) {
			for (int i = 0; i < n; i++) { /* to the client: its id back */
				unsigned short id;

				memcpy(&id, buf[i], 2);
				memcpy(buf[i], &their_id[id], 2);
				addr[i] = who[id];
				iov[i].iov_len = m[i].msg_len;
				m[i].msg_hdr.msg_namelen = sizeof(addr[i]);
			}
			sendmmsg(cl, m, n, 0);
		}
	}
}
