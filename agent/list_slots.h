/* SPDX-License-Identifier: GPL-2.0 */
/*
 * List-only reloads: when a new configuration differs from the one in force only in its
 * host lists' contents, the programs and every other map stay; the lists go into the idle
 * slot of the double-buffered list maps (see struct ln_lists_head), and a flip of
 * lists_sel puts them in force at once.
 */
#ifndef LSNITCH_LIST_SLOTS_H
#define LSNITCH_LIST_SLOTS_H

#include <pthread.h>

#include "agent.h"

struct lsnitch_bpf;

/* list_slots.c: fill slot @slot of @s's list maps with new maps holding @pk. */
int ln_list_slot_fill(struct lsnitch_bpf *s, __u32 slot, const struct ln_packed *pk,
		      struct ln_error *err);
/*
 * A full load's list maps: its outer maps made before the programs load, then slot 0's maps
 * of @pk made, filled and put in on a thread of their own (at once if none can be had) while
 * the caller loads the programs; ln_prefill_wait(): 0 or -errno. @pk stays put meanwhile.
 */
struct ln_slot_maps {
	int pack4, pack6, bloom, heads; /* fds, -1: none */
};
struct ln_prefill {
	pthread_t thread;
	const struct ln_packed *pk;
	struct ln_slot_maps outer; /* our own fds of the outer maps */
	int r;
	bool started;
};
void ln_prefill_start(struct ln_prefill *p, struct lsnitch_bpf *s, const struct ln_packed *pk);
int ln_prefill_wait(struct ln_prefill *p);
/*
 * After the flip to @in_force (holding @pk): the other slot's maps freed, once no program
 * can still read them. Off the loop: it waits for the kernel's RCU grace period.
 */
int ln_list_slot_release(struct lsnitch_bpf *s, __u32 in_force, const struct ln_packed *pk,
			 struct ln_error *err);
/* The slot the programs read: 0 or -errno. */
int ln_list_slot_in_force(struct lsnitch_bpf *s, __u32 *slot);
/* Make the programs read @slot, from their next lookup on. */
int ln_list_slot_flip(struct lsnitch_bpf *s, __u32 slot, struct ln_error *err);

/*
 * list_change.c. Whether compiled @cc of @cfg differs from @cur only in its lists'
 * contents: the same policies (but their list regions), rules, bindings, exe= lines,
 * resolver sockets, NAT64 prefix and domain rules.
 */
bool ln_lists_only_change(const struct ln_generation *cur, const struct ln_config *cfg,
			  const struct ln_compiled *cc);
/*
 * list_reload.c. Off the loop: @g (compiled, no programs of its own) gets @cur's programs
 * and maps lent, its lists in @cur's idle slot. Nothing in force changes.
 */
int ln_lists_build(struct ln_generation *cur, struct ln_generation *g, struct ln_error *err);
/*
 * On the loop: put @g's lists in force (flip), cached verdicts made stale, and @g takes
 * over @old's programs, maps, bound cgroups and exe table. Cannot fail after the flip.
 */
int ln_lists_switch(struct ln_generation *old, struct ln_generation *g, struct ln_error *err);
/*
 * On the loop, after a job: when the generation in force came from a list-only reload, the
 * idle slot's maps are freed on the reload worker's thread (ln_list_slot_release()), and
 * @after(@m, 0 or -errno, message) is called on the loop. 1: started, 0: nothing to free
 * (@after not called), -errno: it could not start (@after was called with it).
 */
typedef void (*ln_lists_released_fn)(struct ln_manager *m, int r, const char *msg);
int ln_lists_release_start(struct ln_manager *m, ln_lists_released_fn after);

#endif /* LSNITCH_LIST_SLOTS_H */
