// SPDX-License-Identifier: GPL-2.0
/* tracefs held for the tracepoint: mounted where missing, unmounted only if ours and on top. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <cmocka.h>

#include "tracefs.h"

/* A directory of a private mount namespace: nothing done here is seen outside the test. */
static char dir[] = "/tmp/ln-tracefs-XXXXXX";

static long fs_type(void)
{
	struct statfs st;

	return statfs(dir, &st) == 0 ? (long)st.f_type : -1;
}

static void mount_tracefs(void)
{
	assert_int_equal(mount("tracefs", dir, "tracefs", 0, NULL), 0);
}

static void unmount_all(void)
{
	while (umount2(dir, UMOUNT_NOFOLLOW) == 0)
		;
}

static void test_mounts_then_unmounts(void **state)
{
	struct ln_tracefs t = LN_TRACEFS_INIT;

	(void)state;
	assert_int_not_equal(fs_type(), TRACEFS_MAGIC);
	assert_int_equal(ln_tracefs_hold(&t, dir), 0);
	assert_int_equal(fs_type(), TRACEFS_MAGIC);
	assert_true(t.mounted);
	assert_int_equal(ln_tracefs_release(&t, dir), 0);
	assert_int_not_equal(fs_type(), TRACEFS_MAGIC);
	assert_int_equal(t.fd, -1);
}

static void test_found_mount_is_left(void **state)
{
	struct ln_tracefs t = LN_TRACEFS_INIT;

	(void)state;
	mount_tracefs();
	assert_int_equal(ln_tracefs_hold(&t, dir), 0);
	assert_false(t.mounted);
	assert_int_equal(ln_tracefs_release(&t, dir), 0);
	assert_int_equal(fs_type(), TRACEFS_MAGIC);
	assert_int_equal(umount2(dir, 0), 0);
	assert_int_not_equal(fs_type(), TRACEFS_MAGIC); /* one mount: not mounted over */
}

/* A second agent holds what the first mounted: the first's exit leaves it for the second. */
static void test_held_by_another_is_left(void **state)
{
	struct ln_tracefs a = LN_TRACEFS_INIT, b = LN_TRACEFS_INIT;

	(void)state;
	assert_int_equal(ln_tracefs_hold(&a, dir), 0);
	assert_int_equal(ln_tracefs_hold(&b, dir), 0);
	assert_false(b.mounted);
	assert_int_equal(ln_tracefs_release(&a, dir), -EBUSY);
	assert_int_equal(fs_type(), TRACEFS_MAGIC);
	assert_int_equal(ln_tracefs_release(&b, dir), 0);
	assert_int_equal(fs_type(), TRACEFS_MAGIC);
	unmount_all();
}

/* Someone mounted over ours: neither theirs nor the one beneath is taken away. */
static void test_covered_is_left(void **state)
{
	struct ln_tracefs t = LN_TRACEFS_INIT;

	(void)state;
	assert_int_equal(ln_tracefs_hold(&t, dir), 0);
	assert_int_equal(mount("tmpfs", dir, "tmpfs", 0, NULL), 0);
	assert_int_equal(ln_tracefs_release(&t, dir), -ESTALE);
	assert_int_equal(fs_type(), TMPFS_MAGIC);
	unmount_all();
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unmount_all();
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mounts_then_unmounts),
	    cmocka_unit_test(test_found_mount_is_left),
	    cmocka_unit_test(test_held_by_another_is_left),
	    cmocka_unit_test(test_covered_is_left),
	};

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("SKIP: the tracefs tests need root for a private mount namespace\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
