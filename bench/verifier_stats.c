// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel verifier spends on each program of a BPF object: opens it with libbpf,
 * asks for the verifier's statistics (log level 4), loads it (nothing attached) and prints
 * per program its verification time, instructions processed, states and verified_insns.
 * Usage: verifier_stats OBJECT [-x PROG]... [-r ROUNDS] [-l PROG]
 *   -x PROG    leave PROG unloaded (to compare); a program this kernel refuses on its own
 *              (lsm_cgroup without the BPF LSM...) is left out by itself, as the agent does
 *   -r ROUNDS  load the object ROUNDS times (default 1); each figure is the median
 *   -l PROG    instead: PROG's whole verifier log (level 1: every instruction processed, with
 *              its source line) to stdout, to see where the instructions go
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_PROGS 64
#define MAX_ROUNDS 15
#define LOG_SIZE (1 << 16)

struct prog_stats {
	const char *name;
	long usec[MAX_ROUNDS];
	long insns, peak_states, total_states, verified;
};

static int probing; /* libbpf's warnings are expected then */

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN && !probing ? vfprintf(stderr, fmt, ap) : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long log_num(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int is_skipped(const char *name, char *const *skip, int n_skip)
{
	for (int i = 0; i < n_skip; i++)
		if (!strcmp(name, skip[i]))
			return 1;
	return 0;
}

#define LN_ATTACH_UNIX_CONNECT 49 /* libbpf 1.1 cannot name it (agent/unix_guard.c) */
#define FULL_LOG_SIZE ((1u << 30) - 1) /* the most the kernel takes */

struct opts {
	const char *path, *full_log; /* -l PROG */
	char *skip[MAX_PROGS];
	int n_skip, rounds;
	char *log; /* its buffer */
};

/* The log (and level) each program loads with; @n: the index among the loaded ones. */
static void set_log(struct bpf_program *p, struct opts *o, int n)
{
	static char logs[MAX_PROGS][LOG_SIZE];

	if (!strcmp(bpf_program__name(p), "ln_connect_unix"))
		bpf_program__set_expected_attach_type(p, LN_ATTACH_UNIX_CONNECT);
	if (o->full_log && !strcmp(bpf_program__name(p), o->full_log)) {
		bpf_program__set_log_level(p, 2);
		bpf_program__set_log_buf(p, o->log, FULL_LOG_SIZE);
		return;
	}
	logs[n][0] = 0;
	bpf_program__set_log_level(p, 4 /* BPF_LOG_STATS */);
	bpf_program__set_log_buf(p, logs[n], LOG_SIZE);
}

static void read_stats(struct bpf_program *p, struct prog_stats *st, int round)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	size_t size;
	const char *log = bpf_program__log_buf(p, &size);

	if (!round)
		st->name = strdup(bpf_program__name(p));
	st->usec[round] = log_num(log, "verification time ");
	st->insns = log_num(log, "processed ");
	st->total_states = log_num(log, "total_states ");
	st->peak_states = log_num(log, "peak_states ");
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		st->verified = info.verified_insns;
}

/* One load of the object: each loaded program's figures into @st[] (round @round). */
static int load_round(struct opts *o, struct prog_stats *st, int *n_st, int round,
		      double *load_ms)
{
	struct bpf_object *obj = bpf_object__open_file(o->path, NULL);
	struct bpf_program *p;
	int n = 0, r;
	double t0;

	if (!obj)
		return -errno;
	bpf_object__for_each_program(p, obj) {
		if (n == MAX_PROGS || is_skipped(bpf_program__name(p), o->skip, o->n_skip))
			bpf_program__set_autoload(p, false);
		else
			set_log(p, o, n++);
	}
	t0 = now_ms();
	r = bpf_object__load(obj);
	*load_ms = now_ms() - t0;
	n = 0;
	bpf_object__for_each_program(p, obj)
		if (r >= 0 && bpf_program__autoload(p))
			read_stats(p, &st[n++], round);
	*n_st = n;
	bpf_object__close(obj);
	return r;
}

/* Whether the kernel loads program @name of the object on its own. */
static int loads_alone(const struct opts *o, const char *name)
{
	struct bpf_object *obj = bpf_object__open_file(o->path, NULL);
	struct bpf_program *p;
	int r;

	if (!obj)
		return 0;
	bpf_object__for_each_program(p, obj) {
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), name));
		if (!strcmp(bpf_program__name(p), "ln_connect_unix"))
			bpf_program__set_expected_attach_type(p, LN_ATTACH_UNIX_CONNECT);
	}
	r = bpf_object__load(obj);
	bpf_object__close(obj);
	return r == 0;
}

/* After a failed load: the programs the kernel refuses on their own, into the skip list. */
static void skip_refused(struct opts *o)
{
	struct bpf_object *obj = bpf_object__open_file(o->path, NULL);
	struct bpf_program *p;

	if (!obj)
		return;
	probing = 1;
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);

		if (o->n_skip == MAX_PROGS || is_skipped(name, o->skip, o->n_skip) ||
		    loads_alone(o, name))
			continue;
		o->skip[o->n_skip++] = strdup(name);
		fprintf(stderr, "verifier_stats: %s left out: this kernel refuses it\n", name);
	}
	probing = 0;
	bpf_object__close(obj);
}

static long median(long *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_long);
	return v[n / 2];
}

static void print_stats(struct prog_stats *st, int n, int rounds)
{
	long sum_us = 0, sum_insns = 0, sum_states = 0;

	printf("%-22s %10s %10s %10s %10s %10s\n", "program", "verify_us", "insns",
	       "tot_states", "peak_st", "verified");
	for (int i = 0; i < n; i++) {
		long us = median(st[i].usec, rounds);

		printf("%-22s %10ld %10ld %10ld %10ld %10ld\n", st[i].name, us, st[i].insns,
		       st[i].total_states, st[i].peak_states, st[i].verified);
		sum_us += us;
		sum_insns += st[i].insns;
		sum_states += st[i].total_states;
	}
	printf("%-22s %10ld %10ld %10ld\n", "total", sum_us, sum_insns, sum_states);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int opt;

	o->rounds = 1;
	while ((opt = getopt(argc, argv, "x:r:l:")) != -1) {
		if (opt == 'x' && o->n_skip < MAX_PROGS)
			o->skip[o->n_skip++] = optarg;
		else if (opt == 'r')
			o->rounds = atoi(optarg);
		else if (opt == 'l')
			o->full_log = optarg;
		else
			return -EINVAL;
	}
	if (optind != argc - 1 || o->rounds < 1 || o->rounds > MAX_ROUNDS)
		return -EINVAL;
	o->path = argv[optind];
	if (o->full_log) {
		o->rounds = 1;
		o->log = malloc(FULL_LOG_SIZE);
		if (!o->log)
			return -ENOMEM;
		o->log[0] = 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct prog_stats st[MAX_PROGS];
	double load_ms[MAX_ROUNDS];
	struct opts o = { 0 };
	int n = 0, r;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: verifier_stats OBJECT [-x PROG]... [-r ROUNDS] [-l PROG]\n");
		return 2;
	}
	libbpf_set_print(quiet_print);
	for (int i = 0; i < o.rounds; i++) {
		probing = !i && !o.full_log; /* a refused program is told below */
		r = load_round(&o, st, &n, i, &load_ms[i]);
		probing = 0;
		if (r < 0 && !i && !o.full_log) {
			skip_refused(&o);
			r = load_round(&o, st, &n, i, &load_ms[i]);
		}
		if (o.full_log)
			fputs(o.log, stdout);
		if (r < 0) {
			fprintf(stderr, "verifier_stats: loading %s: %s\n", o.path, strerror(-r));
			return 1;
		}
	}
	if (o.full_log)
		return 0;
	print_stats(st, n, o.rounds);
	qsort(load_ms, o.rounds, sizeof(*load_ms), cmp_double);
	printf("object load (maps + every program), median of %d: %.1f ms\n", o.rounds,
	       load_ms[o.rounds / 2]);
	return 0;
}
