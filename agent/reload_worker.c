// SPDX-License-Identifier: GPL-2.0
/* One slow job at a time on a thread of its own, its end handed back to the event loop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "reload_worker.h"

struct ln_worker {
	sd_event_source *src;
	int efd;
	pthread_t thread;
	bool busy;
	ln_worker_fn work, done;
	void *job;
};

/* Signals are the loop's (signalfd): the thread never takes one. */
int ln_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

static void *worker_main(void *arg)
{
	struct ln_worker *w = arg;
	uint64_t one = 1;

	w->work(w->job);
	/* An eventfd write of 1 cannot fail short of an overflow after 2^64 jobs. */
	(void)!write(w->efd, &one, sizeof(one));
	return NULL;
}

/* The job is over: join its thread and finish it here, on the loop. */
static void worker_reap(struct ln_worker *w)
{
	uint64_t n;

	pthread_join(w->thread, NULL);
	(void)!read(w->efd, &n, sizeof(n));
	w->busy = false;
	w->done(w->job);
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ln_worker *w = userdata;

	if (w->busy)
		worker_reap(w);
	return 0;
}

int ln_worker_new(sd_event *e, struct ln_worker **out)
{
	struct ln_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	r = sd_event_add_io(e, &w->src, w->efd, EPOLLIN, on_done, w);
	if (r < 0) {
		close(w->efd);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

int ln_worker_run(struct ln_worker *w, ln_worker_fn work, ln_worker_fn done, void *job)
{
	int r;

	if (w->busy)
		return -EBUSY;
	w->work = work;
	w->done = done;
	w->job = job;
	r = ln_thread_start(&w->thread, worker_main, w);
	if (r < 0)
		return r;
	w->busy = true;
	return 0;
}

bool ln_worker_busy(const struct ln_worker *w)
{
	return w && w->busy;
}

void ln_worker_free(struct ln_worker *w)
{
	if (!w)
		return;
	if (w->busy)
		worker_reap(w);
	sd_event_source_disable_unref(w->src);
	close(w->efd);
	free(w);
}
