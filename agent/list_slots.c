// SPDX-License-Identifier: GPL-2.0
/* The double-buffered list maps: a slot's new inner maps made and filled, the slot flip. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "list_slots.h"
#include "lsnitch.skel.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal, seen by user space from some map ops */
#endif

/* Array entries in batches (one syscall per 4096). */
static int fill_array(int fd, const void *vals, size_t n, size_t size)
{
	__u32 keys[4096];

	for (size_t done = 0; done < n;) {
		__u32 cnt = n - done > 4096 ? 4096 : (__u32)(n - done);
		const char *at = (const char *)vals + done * size;

		for (__u32 i = 0; i < cnt; i++)
			keys[i] = done + i;
		if (bpf_map_update_batch(fd, keys, at, &cnt, NULL) < 0) {
			if (errno != EINVAL && errno != EOPNOTSUPP && errno != ENOTSUPP)
				return -errno;
			/* Kernels without batch ops on arrays: entry by entry. */
			for (__u32 i = 0; i < cnt; i++)
				if (bpf_map_update_elem(fd, &keys[i], at + i * size, BPF_ANY) < 0)
					return -errno;
		}
		done += cnt;
	}
	return 0;
}

/* A new inner map named @name of exactly @n entries (at least one) of @size bytes from @vals. */
static int inner_make(const char *name, const void *vals, size_t n, size_t size)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP);
	int fd, r;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), size, n ? (__u32)n : 1, &o);
	if (fd < 0)
		return -errno;
	r = fill_array(fd, vals, n, size);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * Inner map @fd (closed here) into slot @slot of outer map @outer. The outer map holds it from then on;
 * the map it replaces goes once no program runs with it (the kernel waits for readers).
 */
static int inner_put(int outer, __u32 slot, int fd)
{
	int r = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(outer, &slot, &fd, BPF_ANY) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A new inner map of @n entries of @size bytes from @vals, put in slot @slot of @outer. */
static int slot_put(struct bpf_map *outer, __u32 slot, const void *vals, size_t n,
		    size_t size)
{
	return inner_put(bpf_map__fd(outer), slot, inner_make(bpf_map__name(outer), vals, n, size));
}

/* Every set's regions with the slot's Bloom mask: bl_heads' entries. */
static struct ln_lists_head *heads_of(const struct ln_packed *pk, __u32 slot, size_t *n)
{
	struct ln_lists_head *h;

	*n = pk->n_sets ? pk->n_sets : 1;
	h = calloc(*n, sizeof(*h));
	if (!h)
		return NULL;
	for (size_t i = 0; i < pk->n_sets; i++)
		h[i].lists = pk->sets[i];
	for (size_t i = 0; i < *n; i++) {
		h[i].bloom_mask = pk->bloom_mask;
		h[i].slot = slot;
	}
	return h;
}

/* A new bl_heads inner map: every set's head, naming slot @naming's Bloom filter and pages. */
static int heads_make(const struct ln_packed *pk, __u32 naming)
{
	struct ln_lists_head *heads;
	size_t n_heads;
	int fd;

	heads = heads_of(pk, naming, &n_heads);
	if (!heads)
		return -ENOMEM;
	fd = inner_make("bl_heads", heads, n_heads, sizeof(*heads));
	free(heads);
	return fd;
}

/* bl_heads' slot @at: every set's head, naming slot @naming's Bloom filter and pages. */
static int heads_put(struct lsnitch_bpf *s, __u32 at, const struct ln_packed *pk, __u32 naming)
{
	return inner_put(bpf_map__fd(s->maps.bl_heads), at, heads_make(pk, naming));
}

static void slot_maps_close(struct ln_slot_maps *mk)
{
	int *fd[] = { &mk->pack4, &mk->pack6, &mk->bloom, &mk->heads };

	for (size_t i = 0; i < sizeof(fd) / sizeof(fd[0]); i++) {
		if (*fd[i] >= 0)
			close(*fd[i]);
		*fd[i] = -1;
	}
}

/* @mk's inner maps holding @pk, their heads naming slot @slot: 0 or -errno (none left open). */
static int slot_maps_make(const struct ln_packed *pk, __u32 slot, struct ln_slot_maps *mk)
{
	int r;

	mk->pack4 = inner_make("bl_pack4", pk->p4, pk->pages4, sizeof(*pk->p4));
	mk->pack6 = inner_make("bl_pack6", pk->p6, pk->pages6, sizeof(*pk->p6));
	mk->bloom = inner_make("bl_bloom", pk->bloom, pk->bloom_words, sizeof(*pk->bloom));
	mk->heads = heads_make(pk, slot);
	r = mk->pack4 < 0 ? mk->pack4 : mk->pack6 < 0 ? mk->pack6 : mk->bloom < 0 ? mk->bloom
									    : mk->heads;
	if (r >= 0)
		return 0;
	slot_maps_close(mk);
	return r;
}

/* @mk's maps into slot @slot of the outer maps @outer, heads last; @mk's fds are closed. */
static int slot_maps_put(const struct ln_slot_maps *outer, __u32 slot, struct ln_slot_maps *mk)
{
	int r;

	r = inner_put(outer->pack4, slot, mk->pack4);
	mk->pack4 = -1;
	r = r ?: inner_put(outer->pack6, slot, mk->pack6);
	mk->pack6 = -1;
	r = r ?: inner_put(outer->bloom, slot, mk->bloom);
	mk->bloom = -1;
	r = r ?: inner_put(outer->heads, slot, mk->heads); /* last: the slot's maps are there */
	mk->heads = -1;
	slot_maps_close(mk);
	return r;
}

int ln_list_slot_fill(struct lsnitch_bpf *s, __u32 slot, const struct ln_packed *pk,
		      struct ln_error *err)
{
	const struct ln_slot_maps outer = {
		bpf_map__fd(s->maps.bl_pack4), bpf_map__fd(s->maps.bl_pack6),
		bpf_map__fd(s->maps.bl_bloom), bpf_map__fd(s->maps.bl_heads),
	};
	struct ln_slot_maps mk;
	int r = slot_maps_make(pk, slot, &mk);

	r = r ?: slot_maps_put(&outer, slot, &mk);
	if (r < 0)
		return ln_err(err, r, "filling the list maps: %s", strerror(-r));
	return 0;
}

/*
 * @s's outer list maps made here, before the programs load (libbpf takes them as made), our
 * own fds of them in @out: slot 0 can then be put in while the verifier runs. A map-in-map
 * update waits for a grace period (synchronize_rcu(), ~15 ms here): four in a row otherwise.
 */
static int outer_make(struct lsnitch_bpf *s, struct ln_slot_maps *out)
{
	struct bpf_map *outer[] = { s->maps.bl_pack4, s->maps.bl_pack6, s->maps.bl_bloom,
				    s->maps.bl_heads };
	const size_t size[] = { sizeof(struct ln_pack4_page), sizeof(struct ln_pack6_page),
				sizeof(__u64), sizeof(struct ln_lists_head) };
	int *fd[] = { &out->pack4, &out->pack6, &out->bloom, &out->heads };

	*out = (struct ln_slot_maps){ -1, -1, -1, -1 };
	for (size_t i = 0; i < sizeof(outer) / sizeof(outer[0]); i++) {
		LIBBPF_OPTS(bpf_map_create_opts, o);
		int inner = inner_make(bpf_map__name(outer[i]), NULL, 0, size[i]), r;

		if (inner < 0)
			return inner;
		o.inner_map_fd = inner;
		*fd[i] = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, bpf_map__name(outer[i]),
					sizeof(__u32), sizeof(__u32), LN_LIST_SLOTS, &o);
		r = *fd[i] < 0 ? -errno : bpf_map__reuse_fd(outer[i], *fd[i]);
		close(inner);
		if (r < 0)
			return r;
	}
	return 0;
}

static void *prefill_run(void *arg)
{
	struct ln_prefill *p = arg;
	struct ln_slot_maps mk;

	p->r = slot_maps_make(p->pk, 0, &mk);
	p->r = p->r ?: slot_maps_put(&p->outer, 0, &mk);
	return NULL;
}

void ln_prefill_start(struct ln_prefill *p, struct lsnitch_bpf *s, const struct ln_packed *pk)
{
	p->pk = pk;
	p->started = false;
	p->r = outer_make(s, &p->outer);
	if (p->r < 0)
		return;
	p->started = !pthread_create(&p->thread, NULL, prefill_run, p);
	if (!p->started) /* no thread to be had: made now */
		prefill_run(p);
}

int ln_prefill_wait(struct ln_prefill *p)
{
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = false;
	slot_maps_close(&p->outer); /* libbpf holds its own */
	return p->r;
}

/*
 * The idle slot keeps no copy of the lists. A verdict that read lists_sel before the flip
 * may still be about to look up the idle slot, so first its bl_heads becomes a copy of the
 * heads in force (naming slot @in_force's maps): a verdict that finds it reads the lists in
 * force. The kernel waits for the programs running (synchronize_rcu) before a map-in-map
 * update returns, so after it none still holds a head naming the idle slot, and its Bloom
 * filter and pages can go: 1-entry maps in their place, the old ones freed by the kernel.
 * (The next list-only reload fills them first and its heads last: none reads them before.)
 */
int ln_list_slot_release(struct lsnitch_bpf *s, __u32 in_force, const struct ln_packed *pk,
			 struct ln_error *err)
{
	__u32 idle = !in_force;
	int r;

	r = heads_put(s, idle, pk, in_force);
	r = r ?: slot_put(s->maps.bl_bloom, idle, NULL, 0, sizeof(*pk->bloom));
	r = r ?: slot_put(s->maps.bl_pack4, idle, NULL, 0, sizeof(*pk->p4));
	r = r ?: slot_put(s->maps.bl_pack6, idle, NULL, 0, sizeof(*pk->p6));
	if (r < 0)
		return ln_err(err, r, "emptying the idle list maps: %s", strerror(-r));
	return 0;
}

int ln_list_slot_in_force(struct lsnitch_bpf *s, __u32 *slot)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.lists_sel), &zero, slot) < 0)
		return -errno;
	return 0;
}

int ln_list_slot_flip(struct lsnitch_bpf *s, __u32 slot, struct ln_error *err)
{
	__u32 zero = 0;

	/* One aligned __u32: a program reads the old slot or the new, nothing between. */
	if (bpf_map_update_elem(bpf_map__fd(s->maps.lists_sel), &zero, &slot, BPF_ANY) < 0)
		return ln_err(err, -errno, "switching the list maps: %s", strerror(errno));
	return 0;
}
