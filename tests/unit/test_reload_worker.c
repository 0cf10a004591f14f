// SPDX-License-Identifier: GPL-2.0
/* The reload worker: the job runs off the loop, its end on the loop; one at a time. */
#include "rules_test_util.h"
#include <pthread.h>
#include <unistd.h>

#include "reload_worker.h"

struct job {
	pthread_t loop, worker;
	int stage;     /* 1 worked, 2 done */
	bool done_on_loop;
	sd_event *e;
	useconds_t work_us;
};

static void work(void *arg)
{
	struct job *j = arg;

	usleep(j->work_us);
	j->worker = pthread_self();
	j->stage = 1;
}

static void done(void *arg)
{
	struct job *j = arg;

	j->done_on_loop = pthread_equal(pthread_self(), j->loop);
	j->stage = 2;
	if (j->e)
		sd_event_exit(j->e, 0);
}

static void test_job_off_loop_done_on_loop(void **state)
{
	struct job j = { .loop = pthread_self(), .work_us = 20000 };
	struct ln_worker *w;

	assert_int_equal(sd_event_new(&j.e), 0);
	assert_int_equal(ln_worker_new(j.e, &w), 0);
	assert_int_equal(ln_worker_run(w, work, done, &j), 0);
	assert_true(ln_worker_busy(w));
	/* one job at a time */
	assert_int_equal(ln_worker_run(w, work, done, &j), -EBUSY);
	assert_int_equal(sd_event_loop(j.e), 0);
	assert_int_equal(j.stage, 2);
	assert_false(pthread_equal(j.worker, j.loop));
	assert_true(j.done_on_loop);
	assert_false(ln_worker_busy(w));
	ln_worker_free(w);
	sd_event_unref(j.e);
}

/* Freed while a job runs: waits for it and finishes it there. */
static void test_free_waits_for_the_job(void **state)
{
	struct job j = { .loop = pthread_self(), .work_us = 50000 };
	struct ln_worker *w;
	sd_event *e;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(ln_worker_new(e, &w), 0);
	assert_int_equal(ln_worker_run(w, work, done, &j), 0);
	ln_worker_free(w);
	assert_int_equal(j.stage, 2);
	ln_worker_free(NULL);
	sd_event_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_off_loop_done_on_loop),
		cmocka_unit_test(test_free_waits_for_the_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
