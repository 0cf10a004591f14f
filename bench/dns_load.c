// SPDX-License-Identifier: GPL-2.0
/*
 * DNS load: sends COUNT UDP queries (names taken in turn from NAME-FILE, one
 * per line, type A) to ADDR:PORT with up to CONCURRENCY in flight, one
 * connected socket per flight slot, and prints the median and p99 latency of
 * the answered queries and queries per second. A query unanswered after 2 s
 * counts as lost. Links with libc only (res_mkquery is in glibc >= 2.34).
 * Usage: dns_load ADDR PORT NAME-FILE COUNT CONCURRENCY
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOST_NS 2000000000LL
#define MAX_CONCURRENCY 4096

struct flight {
	int fd;
	unsigned short id;
	long long sent_ns; /* 0: idle */
};

struct load {
	char **names;
	size_t n_names, next_name;
	long count, sent, answered, lost, nxdomain, other_rcode;
	long long *lat;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_addr(const char *a, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(port));
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(port));
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

static int read_names(struct load *ld, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (ld->n_names == cap) {
			cap = cap ? cap * 2 : 1024;
			ld->names = realloc(ld->names, cap * sizeof(*ld->names));
			if (!ld->names)
				break;
		}
		ld->names[ld->n_names++] = strdup(line);
	}
	fclose(f);
	return ld->names && ld->n_names ? 0 : -ENOENT;
}

/* Sends the next query on @fl, if any are left. */
static void send_next(struct load *ld, struct flight *fl)
{
	unsigned char buf[512];
	const char *name;
	int n;

	fl->sent_ns = 0;
	if (ld->sent >= ld->count)
		return;
	name = ld->names[ld->next_name++ % ld->n_names];
	n = res_mkquery(ns_o_query, name, ns_c_in, ns_t_a, NULL, 0, NULL, buf, sizeof(buf));
	if (n < 0)
		return;
	if (getrandom(&fl->id, sizeof(fl->id), 0) != sizeof(fl->id))
		fl->id = (unsigned short)ld->sent;
	memcpy(buf, &(unsigned short){htons(fl->id)}, 2); /* ns_put16() would need -lresolv */
	ld->sent++;
	fl->sent_ns = now_ns();
	if (send(fl->fd, buf, (size_t)n, 0) < 0)
		fl->sent_ns = 0, ld->lost++;
}

static void on_reply(struct load *ld, struct flight *fl)
{
	unsigned char buf[4096];
	ssize_t n = recv(fl->fd, buf, sizeof(buf), MSG_DONTWAIT);
	int rcode;

	if (n < NS_HFIXEDSZ || !fl->sent_ns || (buf[0] << 8 | buf[1]) != fl->id)
		return; /* stale (after a loss) or junk */
	ld->lat[ld->answered++] = now_ns() - fl->sent_ns;
	rcode = buf[3] & 0x0f;
	if (rcode == ns_r_nxdomain)
		ld->nxdomain++;
	else if (rcode != ns_r_noerror)
		ld->other_rcode++;
	send_next(ld, fl);
}

/* Flights waiting longer than LOST_NS: counted lost, reused. */
static void expire(struct load *ld, struct flight *fls, int c)
{
	long long now = now_ns();
	int i;

	for (i = 0; i < c; i++) {
		if (fls[i].sent_ns && now - fls[i].sent_ns > LOST_NS) {
			ld->lost++;
			send_next(ld, &fls[i]);
		}
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int busy(const struct flight *fls, int c)
{
	int i;

	for (i = 0; i < c; i++)
		if (fls[i].sent_ns)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct epoll_event ev, evs[64];
	struct load ld = {0};
	struct flight *fls;
	long long t0, elapsed;
	socklen_t len;
	int c, ep, i, n;

	if (argc != 6) {
		fprintf(stderr, "usage: %s ADDR PORT NAME-FILE COUNT CONCURRENCY\n", argv[0]);
		return 2;
	}
	if (parse_addr(argv[1], argv[2], &ss, &len)) {
		fprintf(stderr, "%s: not an address\n", argv[1]);
		return 2;
	}
	if (read_names(&ld, argv[3])) {
		fprintf(stderr, "%s: no names\n", argv[3]);
		return 2;
	}
	ld.count = atol(argv[4]);
	c = atoi(argv[5]);
	if (ld.count <= 0 || c <= 0 || c > MAX_CONCURRENCY) {
		fprintf(stderr, "COUNT > 0, 0 < CONCURRENCY <= %d\n", MAX_CONCURRENCY);
		return 2;
	}
	ld.lat = calloc((size_t)ld.count, sizeof(*ld.lat));
	fls = calloc((size_t)c, sizeof(*fls));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!ld.lat || !fls || ep < 0)
		return 1;
	for (i = 0; i < c; i++) {
		fls[i].fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fls[i].fd < 0 || connect(fls[i].fd, (struct sockaddr *)&ss, len) < 0) {
			perror("socket/connect");
			return 1;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = &fls[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, fls[i].fd, &ev);
	}
	t0 = now_ns();
	for (i = 0; i < c; i++)
		send_next(&ld, &fls[i]);
	while (busy(fls, c)) {
		n = epoll_wait(ep, evs, 64, 100);
		for (i = 0; i < n; i++)
			on_reply(&ld, evs[i].data.ptr);
		expire(&ld, fls, c);
	}
	elapsed = now_ns() - t0;
	qsort(ld.lat, (size_t)ld.answered, sizeof(*ld.lat), cmp_ll);
	printf("sent %ld answered %ld lost %ld nxdomain %ld other_rcode %ld\n", ld.sent, ld.answered,
	       ld.lost, ld.nxdomain, ld.other_rcode);
	if (ld.answered)
		printf("median_us %.1f p99_us %.1f qps %.0f\n", ld.lat[ld.answered / 2] / 1e3,
		       ld.lat[(size_t)(ld.answered * 0.99)] / 1e3, ld.answered * 1e9 / elapsed);
	for (i = 0; i < c; i++)
		close(fls[i].fd);
	close(ep);
	for (i = 0; i < (int)ld.n_names; i++)
		free(ld.names[i]);
	free(ld.names);
	free(ld.lat);
	free(fls);
	return ld.answered ? 0 : 1;
}
