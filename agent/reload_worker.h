/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slow work off the event loop: one job at a time runs on a thread of its
 * own; when it is done, its second half runs on the loop (woken through an
 * eventfd). Reloads and hostname refreshes build their generation this way,
 * so the DNS proxy, the control socket and the cgroup watcher keep being
 * served however long reading, compiling and loading take.
 */
#ifndef LSNITCH_RELOAD_WORKER_H
#define LSNITCH_RELOAD_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

struct ln_worker;

/* pthread_create() with every signal blocked in the thread (they are the loop's): 0, -errno. */
int ln_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
typedef void (*ln_worker_fn)(void *job);

int ln_worker_new(sd_event *e, struct ln_worker **out);
/*
 * @work(@job) on the worker's thread, then @done(@job) on the loop.
 * -EBUSY while a job runs, or -errno; @done is not called then.
 */
int ln_worker_run(struct ln_worker *w, ln_worker_fn work, ln_worker_fn done, void *job);
bool ln_worker_busy(const struct ln_worker *w);
/* Wait for a running job and call its @done (from here, not the loop); accepts NULL. */
void ln_worker_free(struct ln_worker *w);

#endif /* LSNITCH_RELOAD_WORKER_H */
