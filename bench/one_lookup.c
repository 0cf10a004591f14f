// SPDX-License-Identifier: GPL-2.0
/*
 * Loads bench/one_lookup.bpf.c (one hash lookup per verdict), fills its maps
 * with the addresses bench/gen_hosts.py writes for kinds v4 and v6, attaches
 * it to a cgroup (bpf_link, multi) and holds it there until SIGTERM.
 * Usage: one_lookup OBJECT CGROUP N_V4 N_V6
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* Batches of 64k: one syscall each. */
static int fill(int fd, size_t n, size_t key_size, void (*key_of)(size_t, void *))
{
	enum { BATCH = 65536 };
	char *keys = malloc(BATCH * key_size);
	__u32 *vals = calloc(BATCH, sizeof(*vals));
	int r = 0;

	if (!keys || !vals)
		r = -ENOMEM;
	for (size_t done = 0; !r && done < n;) {
		__u32 cnt = n - done > BATCH ? BATCH : (__u32)(n - done);

		for (__u32 i = 0; i < cnt; i++)
			key_of(done + i, keys + i * key_size);
		if (bpf_map_update_batch(fd, keys, vals, &cnt, NULL) < 0)
			r = -errno;
		done += cnt;
	}
	free(keys);
	free(vals);
	return r;
}

static void key4(size_t i, void *k)
{
	__u32 a = htonl(0x0a000000u | (__u32)(i & 0xffffff));

	memcpy(k, &a, 4);
}

static void key6(size_t i, void *k)
{
	__u32 w[4] = { htonl(0x20010db8), 0, htonl((__u32)(i >> 16) & 0xffff),
		       htonl((__u32)i & 0xffff) };

	memcpy(k, w, 16);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	size_t n4, n6;
	int cg, r;

	if (argc != 5) {
		fprintf(stderr, "usage: %s OBJECT CGROUP N_V4 N_V6\n", argv[0]);
		return 2;
	}
	n4 = strtoul(argv[3], NULL, 10);
	n6 = strtoul(argv[4], NULL, 10);
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	obj = bpf_object__open_file(argv[1], NULL);
	if (cg < 0 || !obj) {
		perror("one_lookup: open");
		return 1;
	}
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "floor4"), n4 ? n4 : 1);
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "floor6"), n6 ? n6 : 1);
	r = bpf_object__load(obj);
	if (!r)
		r = fill(bpf_object__find_map_fd_by_name(obj, "floor4"), n4, 4, key4);
	if (!r)
		r = fill(bpf_object__find_map_fd_by_name(obj, "floor6"), n6, 16, key6);
	bpf_object__for_each_program(p, obj)
		if (!r && !bpf_program__attach_cgroup(p, cg))
			r = -errno;
	if (r) {
		fprintf(stderr, "one_lookup: %s\n", strerror(-r));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	bpf_object__close(obj);
	return 0;
}
