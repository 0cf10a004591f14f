// SPDX-License-Identifier: GPL-2.0
/* The DNS proxy's heartbeat, beaten from a thread of its own so a busy loop never stops it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>

#include "heartbeat.h"
#include "reload_worker.h"

struct ln_heartbeat {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int fd;
	struct ln_dns_state st; /* what is written, heartbeat_ns stamped at each write */
	__u64 loop_ns;          /* the loop's last sign of life */
	bool stop;
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Under hb->lock: the one writer of the dns_state map while the thread runs. */
static int beat(struct ln_heartbeat *hb)
{
	__u32 zero = 0;

	hb->st.heartbeat_ns = mono_ns();
	return bpf_map_update_elem(hb->fd, &zero, &hb->st, BPF_ANY) < 0 ? -errno : 0;
}

static void *heartbeat_main(void *arg)
{
	struct ln_heartbeat *hb = arg;
	struct timespec next;

	pthread_mutex_lock(&hb->lock);
	while (!hb->stop) {
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_sec += LN_HEARTBEAT_EVERY_S;
		pthread_cond_timedwait(&hb->wake, &hb->lock, &next);
		/* A loop stuck for long is as good as gone: let the stamp go stale. */
		if (!hb->stop && mono_ns() - hb->loop_ns < LN_LOOP_STALL_NS)
			beat(hb);
	}
	pthread_mutex_unlock(&hb->lock);
	return NULL;
}

int ln_heartbeat_start(int fd, const struct ln_dns_state *st, struct ln_heartbeat **out)
{
	struct ln_heartbeat *hb = calloc(1, sizeof(*hb));
	pthread_condattr_t ca;
	int r;

	if (!hb)
		return -ENOMEM;
	hb->fd = fd;
	hb->st = *st;
	hb->loop_ns = mono_ns();
	pthread_mutex_init(&hb->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hb->wake, &ca);
	pthread_condattr_destroy(&ca);
	r = beat(hb);
	if (r >= 0)
		r = ln_thread_start(&hb->thread, heartbeat_main, hb);
	if (r < 0) {
		pthread_cond_destroy(&hb->wake);
		pthread_mutex_destroy(&hb->lock);
		free(hb);
		return r;
	}
	*out = hb;
	return 0;
}

int ln_heartbeat_set(struct ln_heartbeat *hb, const struct ln_dns_state *st)
{
	int r;

	pthread_mutex_lock(&hb->lock);
	hb->st = *st;
	r = beat(hb);
	pthread_mutex_unlock(&hb->lock);
	return r;
}

__u64 ln_heartbeat_loop_alive(struct ln_heartbeat *hb)
{
	__u64 now = mono_ns(), gap;

	pthread_mutex_lock(&hb->lock);
	gap = now - hb->loop_ns;
	hb->loop_ns = now;
	pthread_mutex_unlock(&hb->lock);
	return gap;
}

void ln_heartbeat_stop(struct ln_heartbeat *hb)
{
	if (!hb)
		return;
	pthread_mutex_lock(&hb->lock);
	hb->stop = true;
	pthread_cond_signal(&hb->wake);
	pthread_mutex_unlock(&hb->lock);
	pthread_join(hb->thread, NULL);
	pthread_cond_destroy(&hb->wake);
	pthread_mutex_destroy(&hb->lock);
	free(hb);
}
