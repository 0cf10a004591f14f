// SPDX-License-Identifier: GPL-2.0
/* How full the generation's BPF maps are (status "maps"): entries counted by key walk. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "agent.h"
#include "lsnitch.skel.h"

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

json_object *ln_map_fill(const struct ln_manager *m)
{
	json_object *a = json_object_new_array();
	struct bpf_map *map;

	if (!m->gen || !m->gen->skel)
		return a;
	bpf_object__for_each_map(map, m->gen->skel->obj) {
		int fd = bpf_map__fd(map);
		long long n;
		json_object *o;

		if (fd < 0 || !is_fillable(bpf_map__type(map)))
			continue;
		n = map_count(fd, bpf_map__key_size(map));
		if (n < 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(bpf_map__name(map)));
		json_object_object_add(o, "entries", json_object_new_int64(n));
		json_object_object_add(o, "max", json_object_new_int64(bpf_map__max_entries(map)));
		json_object_array_add(a, o);
	}
	return a;
}
