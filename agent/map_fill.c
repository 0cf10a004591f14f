// SPDX-License-Identifier: GPL-2.0
/*
 * How full the generation's BPF maps are (status "maps", /metrics): entries counted by key walk,
 * at most once per MAP_FILL_TTL_S and generation; a status asked meanwhile gets that count.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <json-c/json.h>

#include "agent.h"
#include "lsnitch.skel.h"

/*
 * A walk is a syscall per entry, on the loop: scrapes and status pollers share one count this
 * long, whoever asks. What fills at run time (DNS verdicts, flows, the repeat limiter, bound
 * cgroups) is a trend watched over minutes; the rest changes with a generation, which starts a
 * new count.
 */
#define MAP_FILL_TTL_S 30

static struct {
	const void *gen;  /* the generation counted */
	time_t at;        /* CLOCK_MONOTONIC seconds */
	json_object *maps;
} cache;

/* Map types whose entries come and go: the ones that can fill up. */
static bool is_fillable(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_LPM_TRIE || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* The entries of map @fd, walking its keys (one syscall per entry); -errno on failure. */
static long long map_count(int fd, __u32 key_size)
{
	void *a = calloc(2, key_size ? key_size : 1), *b;
	void *cur = NULL, *next = a;
	long long n = 0;

	if (!a)
		return -ENOMEM;
	b = (char *)a + key_size;
	while (!bpf_map_get_next_key(fd, cur, next)) {
		n++;
		cur = next;
		next = next == a ? b : a;
	}
	free(a);
	return errno == ENOENT ? n : -errno;
}

static json_object *map_fill_count(const struct ln_manager *m)
{
	const struct bpf_object_skeleton *s = m->gen->skel->skeleton;
	json_object *a = json_object_new_array();

	/*
	 * By the skeleton's names: a reused map (load_split.c, a reload) has the kernel's,
	 * cut to 15 characters.
	 */
	for (int i = 0; i < s->map_cnt; i++) {
		struct bpf_map *map = *s->maps[i].map;
		int fd = bpf_map__fd(map);
		long long n;
		json_object *o;

		if (fd < 0 || !is_fillable(bpf_map__type(map)))
			continue;
		n = map_count(fd, bpf_map__key_size(map));
		if (n < 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(s->maps[i].name));
		json_object_object_add(o, "entries", json_object_new_int64(n));
		json_object_object_add(o, "max", json_object_new_int64(bpf_map__max_entries(map)));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *ln_map_fill(const struct ln_manager *m)
{
	struct timespec now;

	if (!m->gen || !m->gen->skel)
		return json_object_new_array();
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!cache.maps || cache.gen != m->gen || now.tv_sec - cache.at >= MAP_FILL_TTL_S) {
		json_object_put(cache.maps);
		cache.maps = map_fill_count(m);
		cache.gen = m->gen;
		cache.at = now.tv_sec;
	}
	return json_object_get(cache.maps);
}
