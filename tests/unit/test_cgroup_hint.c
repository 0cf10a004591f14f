// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the hint for a --cgroup path that is no cgroup v2 directory (hybrid hosts). */
#include "rules_test_util.h"

/* A fake cgroup2 tree: the directories listed in @ud exist. */
static bool fake_cg2(const char *path, void *ud)
{
	for (const char *const *d = ud; *d; d++)
		if (!strcmp(*d, path))
			return true;
	return false;
}

static const char *const hybrid[] = { "/sys/fs/cgroup/unified/system.slice/nginx.service",
				      NULL };

static void test_hint_hybrid(void **state)
{
	char out[512];

	(void)state;
	ln_cgroup_hint("/sys/fs/cgroup/system.slice/nginx.service", "/sys/fs/cgroup/unified",
		       fake_cg2, (void *)hybrid, out, sizeof(out));
	assert_string_equal(out, "cgroup v2 is mounted at /sys/fs/cgroup/unified (a hybrid host): "
				 "did you mean /sys/fs/cgroup/unified/system.slice/nginx.service?");
	/* the v1 systemd hierarchy's path leads there too */
	ln_cgroup_hint("/sys/fs/cgroup/systemd/system.slice/nginx.service",
		       "/sys/fs/cgroup/unified", fake_cg2, (void *)hybrid, out, sizeof(out));
	assert_non_null(strstr(out, "did you mean /sys/fs/cgroup/unified/system.slice/"));
}

static void test_hint_plain(void **state)
{
	char out[512];

	(void)state;
	/* not there either: only where cgroup v2 is */
	ln_cgroup_hint("/sys/fs/cgroup/system.slice/other.service", "/sys/fs/cgroup/unified",
		       fake_cg2, (void *)hybrid, out, sizeof(out));
	assert_string_equal(out, "cgroup v2 is mounted at /sys/fs/cgroup/unified");
	/* a unified host: nothing else to suggest */
	ln_cgroup_hint("/sys/fs/cgroup/nope", "/sys/fs/cgroup", fake_cg2, (void *)hybrid, out,
		       sizeof(out));
	assert_string_equal(out, "cgroup v2 is mounted at /sys/fs/cgroup");
	ln_cgroup_hint("/elsewhere/x", "/sys/fs/cgroup/unified", fake_cg2, (void *)hybrid, out,
		       sizeof(out));
	assert_string_equal(out, "cgroup v2 is mounted at /sys/fs/cgroup/unified");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hint_hybrid),
		cmocka_unit_test(test_hint_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
