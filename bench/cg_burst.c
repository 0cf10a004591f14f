// SPDX-License-Identifier: GPL-2.0
/*
 * Containers appearing and going, paced: mkdir (or rmdir) PARENT/ctr-FIRST ..
 * ctr-LAST at RATE a second, while a second thread watches the agent's
 * cgroup_policy map (by map id) for each cgroup id to be bound (an entry with
 * a policy) or, after rmdir, to be gone. Prints, in microseconds from each
 * mkdir/rmdir call to the first look that saw the change:
 *   n N done D p50_us X p99_us Y max_us Z secs S
 * D < N: some never changed within 30 s of the last call.
 * Usage: cg_burst create|remove PARENT FIRST LAST RATE MAP_ID
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define UNBOUND 1u /* LN_CG_UNBOUND: a mark, not a binding */
#define SETTLE_NS 30000000000LL

struct cg_val {
	__u32 policy_id, flags;
};

static struct {
	int map_fd, create;
	long n;
	__u64 *id;
	long long *t_call, *t_seen;
	atomic_long issued; /* calls made so far: the poller looks only at those */
	atomic_int stop, finished;
} B;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int has_changed(long i)
{
	struct cg_val v;
	int r = bpf_map_lookup_elem(B.map_fd, &B.id[i], &v);

	if (B.create)
		return !r && v.policy_id && !(v.flags & UNBOUND);
	return r < 0 && errno == ENOENT;
}

/* Sweeps the issued, unchanged cgroups every 200 us; the oldest first. */
static void *poller(void *arg)
{
	long first = 0;

	(void)arg;
	while (!atomic_load(&B.stop)) {
		long issued = atomic_load(&B.issued);

		for (long i = first; i < issued; i++) {
			if (B.t_seen[i] || !B.id[i] || !has_changed(i))
				continue;
			B.t_seen[i] = now_ns();
		}
		while (first < issued && (B.t_seen[first] || !B.id[first]))
			first++;
		if (first == B.n) {
			atomic_store(&B.finished, 1);
			break;
		}
		usleep(200);
	}
	return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Makes or removes the cgroups, paced; the ids of the removed ones are read first. */
static int run_calls(const char *parent, long first, int rate)
{
	char path[PATH_MAX];
	long long t0 = now_ns();
	struct stat st;

	for (long i = 0; i < B.n; i++) {
		long long due = t0 + i * 1000000000LL / rate, t;

		while ((t = now_ns()) < due)
			usleep((due - t) / 1000 > 1000 ? 1000 : (due - t) / 1000 + 1);
		snprintf(path, sizeof(path), "%s/ctr-%ld", parent, first + i);
		if (!B.create) {
			if (stat(path, &st) < 0)
				return -errno;
			B.id[i] = st.st_ino;
		}
		B.t_call[i] = now_ns();
		if (B.create ? mkdir(path, 0755) : rmdir(path))
			return -errno;
		if (B.create) { /* on cgroup2 the inode number is the cgroup id */
			if (stat(path, &st) < 0)
				return -errno;
			B.id[i] = st.st_ino;
		}
		atomic_store(&B.issued, i + 1);
	}
	return 0;
}

static void report(long long secs_ns)
{
	long long *lat = calloc(B.n, sizeof(*lat));
	long done = 0;

	if (!lat)
		exit(1);
	for (long i = 0; i < B.n; i++)
		if (B.t_seen[i])
			lat[done++] = (B.t_seen[i] - B.t_call[i]) / 1000;
	qsort(lat, done, sizeof(*lat), cmp_ll);
	printf("n %ld done %ld p50_us %lld p99_us %lld max_us %lld secs %.2f\n", B.n, done,
	       done ? lat[done / 2] : -1, done ? lat[(done * 99) / 100 - (done >= 100)] : -1,
	       done ? lat[done - 1] : -1, secs_ns / 1e9);
	free(lat);
}

int main(int argc, char **argv)
{
	long first, last;
	long long t0;
	pthread_t th;
	int rate, r;

	if (argc != 7 || (strcmp(argv[1], "create") && strcmp(argv[1], "remove"))) {
		fprintf(stderr, "usage: %s create|remove PARENT FIRST LAST RATE MAP_ID\n", argv[0]);
		return 2;
	}
	B.create = !strcmp(argv[1], "create");
	first = atol(argv[3]);
	last = atol(argv[4]);
	rate = atoi(argv[5]);
	B.n = last - first + 1;
	B.map_fd = bpf_map_get_fd_by_id(atoi(argv[6]));
	if (B.n <= 0 || rate <= 0 || B.map_fd < 0) {
		fprintf(stderr, "cg_burst: bad range or rate, or map %s: %s\n", argv[6],
			strerror(errno));
		return 2;
	}
	B.id = calloc(B.n, sizeof(*B.id));
	B.t_call = calloc(B.n, sizeof(*B.t_call));
	B.t_seen = calloc(B.n, sizeof(*B.t_seen));
	if (!B.id || !B.t_call || !B.t_seen || pthread_create(&th, NULL, poller, NULL))
		return 1;
	t0 = now_ns();
	r = run_calls(argv[2], first, rate);
	if (r < 0)
		fprintf(stderr, "cg_burst: %s ctr-%ld: %s\n", argv[1],
			first + atomic_load(&B.issued), strerror(-r));
	for (long long end = now_ns() + SETTLE_NS; now_ns() < end && !atomic_load(&B.finished);)
		usleep(10000);
	atomic_store(&B.stop, 1);
	pthread_join(th, NULL);
	report(now_ns() - t0);
	return r < 0;
}
