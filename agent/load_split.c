// SPDX-License-Identifier: GPL-2.0
/* A generation's programs verified on two threads: its maps made once, its programs in halves. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "lsnitch.skel.h"

/*
 * The programs the second object loads: about half the verifier's time (build/bench/
 * verifier_stats: sendmsg4 70 ms, sendmsg6 63, egress 56 against connect4 63, connect6 63,
 * connect_unix 23, sock_create 21, the packet program 21).
 */
static bool in_second_half(const struct bpf_program *p)
{
	static const char *const names[] = { "ln_sendmsg4", "ln_sendmsg6", "ln_egress" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(bpf_program__name(p), names[i]))
			return true;
	return false;
}

/* Every map of @to is @from's: the same object file, so the same maps in the same order. */
static int reuse_maps(struct lsnitch_bpf *to, const struct lsnitch_bpf *from)
{
	const struct bpf_object_skeleton *t = to->skeleton, *f = from->skeleton;

	for (int i = 0; i < t->map_cnt && i < f->map_cnt; i++) {
		int r = bpf_map__reuse_fd(*t->maps[i].map, bpf_map__fd(*f->maps[i].map));

		if (r < 0)
			return r;
	}
	return 0;
}

/* @b loads the second half of what @a was prepared to load, @a the rest. */
static void split_programs(struct lsnitch_bpf *a, struct lsnitch_bpf *b)
{
	const struct bpf_object_skeleton *sa = a->skeleton, *sb = b->skeleton;

	for (int i = 0; i < sa->prog_cnt && i < sb->prog_cnt; i++) {
		struct bpf_program *pa = *sa->progs[i].prog, *pb = *sb->progs[i].prog;
		bool load = bpf_program__autoload(pa), second = in_second_half(pa);

		bpf_program__set_expected_attach_type(pb, bpf_program__expected_attach_type(pa));
		bpf_program__set_autoload(pb, load && second);
		bpf_program__set_autoload(pa, load && !second);
	}
}

/* After both loads: @a's skeleton names @b's programs where @b loaded them. */
static void hand_over(struct lsnitch_bpf *a, const struct lsnitch_bpf *b)
{
	const struct bpf_object_skeleton *sa = a->skeleton, *sb = b->skeleton;

	for (int i = 0; i < sa->prog_cnt && i < sb->prog_cnt; i++)
		if (bpf_program__autoload(*sb->progs[i].prog))
			*sa->progs[i].prog = *sb->progs[i].prog;
}

struct half_load {
	struct lsnitch_bpf *skel;
	int r;
};

static void *load_half(void *arg)
{
	struct half_load *h = arg;

	h->r = lsnitch_bpf__load(h->skel);
	return NULL;
}

/* @a and @b loaded at once, @b on a thread of its own (or after @a if none can be had). */
static int load_both(struct lsnitch_bpf *a, struct lsnitch_bpf *b)
{
	struct half_load h = { .skel = b };
	pthread_t t;
	bool threaded = !pthread_create(&t, NULL, load_half, &h);
	int r = lsnitch_bpf__load(a);

	if (threaded)
		pthread_join(t, NULL);
	else
		load_half(&h);
	return r < 0 ? r : h.r;
}

int ln_load_split(struct ln_generation *g, struct lsnitch_bpf *maps)
{
	struct bpf_program *p;
	int r;

	bpf_object__for_each_program(p, maps->obj)
		bpf_program__set_autoload(p, false);
	r = lsnitch_bpf__load(maps);
	r = r ?: reuse_maps(g->skel, maps);
	if (r < 0)
		return r;
	g->skel_b = lsnitch_bpf__open();
	if (!g->skel_b)
		return -errno;
	split_programs(g->skel, g->skel_b);
	r = reuse_maps(g->skel_b, maps);
	r = r ?: load_both(g->skel, g->skel_b);
	if (r < 0)
		return r;
	hand_over(g->skel, g->skel_b);
	return 0;
}
