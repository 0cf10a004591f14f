// SPDX-License-Identifier: GPL-2.0
/* Unit tests: cgroup globs, the unit tree rule, and which binding decides a cgroup. */
#include "rules_test_util.h"

static void expect_glob(const char *pattern, const char *path, bool want)
{
	if (ln_cgroup_glob_match(pattern, path) != want)
		fail_msg("glob \"%s\" vs \"%s\": expected %s", pattern, path,
			 want ? "a match" : "no match");
}

static void test_glob_star(void **state)
{
	(void)state;
	expect_glob("system.slice/docker-*.scope", "system.slice/docker-abc123.scope", true);
	expect_glob("system.slice/docker-*.scope", "system.slice/docker-.scope", true);
	expect_glob("system.slice/docker-*.scope", "system.slice/docker-a/b.scope", false);
	expect_glob("system.slice/docker-*.scope", "system.slice/docker-abc.scope/inner", false);
	expect_glob("system.slice/docker-*.scope", "system.slice", false);
	expect_glob("system.slice/docker-*.scope", "system.slice/podman-1.scope", false);
	expect_glob("machine.slice/libpod-*.scope", "machine.slice/libpod-1.scope", true);
	expect_glob("*/docker-*.scope", "system.slice/docker-1.scope", true);
	expect_glob("*/docker-*.scope", "a/b/docker-1.scope", false);
	expect_glob("*.slice", "user.slice", true);
	expect_glob("*", "user.slice", true);
	expect_glob("*", "user.slice/x", false);
	expect_glob("a*b*c", "aXXbYYc", true);
	expect_glob("a*b*c", "abc", true);
	expect_glob("a*b*c", "aXXbYY", false);
	expect_glob("a*", "a", true);
	expect_glob("*a", "bba", true);
	expect_glob("*a", "bab", false);
	expect_glob("user-100?.slice", "user-1000.slice", true);
	expect_glob("user-100?.slice", "user-100.slice", false);
	expect_glob("user-100?.slice", "user-10000.slice", false);
}

static void test_glob_double_star(void **state)
{
	(void)state;
	expect_glob("kubepods.slice/**", "kubepods.slice", true);
	expect_glob("kubepods.slice/**", "kubepods.slice/a", true);
	expect_glob("kubepods.slice/**", "kubepods.slice/a/b/c", true);
	expect_glob("kubepods.slice/**", "kubepods.sliceX/a", false);
	expect_glob("kubepods.slice/**", "system.slice/kubepods.slice", false);
	expect_glob("**/kubepods.slice", "kubepods.slice", true);
	expect_glob("**/kubepods.slice", "a/b/kubepods.slice", true);
	expect_glob("**/kubepods.slice", "a/b/kubepods.slice/c", false);
	expect_glob("system.slice/**/demo.service", "system.slice/demo.service", true);
	expect_glob("system.slice/**/demo.service", "system.slice/a/b/demo.service", true);
	expect_glob("system.slice/**/demo.service", "system.slice/a/b/demo.service/x", false);
	expect_glob("system.slice/**/demo.service", "user.slice/demo.service", false);
	expect_glob("**", "a", true);
	expect_glob("**", "a/b/c", true);
	expect_glob("**/*.scope", "a/b/c.scope", true);
	expect_glob("**/*.scope", "a/b/c.scope/d", false);
	expect_glob("a/**/b/**/c", "a/x/b/y/z/c", true);
	expect_glob("a/**/b/**/c", "a/b/c", true);
	expect_glob("a/**/b/**/c", "a/c", false);
	/* "**" inside a component is two stars: no crossing of '/' */
	expect_glob("a**b", "aXb", true);
	expect_glob("a**b", "aX/Yb", false);
}

static void test_glob_literal(void **state)
{
	(void)state;
	expect_glob("system.slice/nginx.service", "system.slice/nginx.service", true);
	expect_glob("system.slice/nginx.service", "system.slice/nginx.service/x", false);
	expect_glob("system.slice/nginx.service", "system.slice", false);
	expect_glob("system.slice", "system.slice/nginx.service", false);
	expect_glob("a\\x2db.service", "a\\x2db.service", true);
	expect_glob("a\\*", "a\\bc", true);
	expect_glob("[ab]", "a", false);
	expect_glob("[ab]", "[ab]", true);
	assert_true(ln_cgroup_is_glob("a/*"));
	assert_true(ln_cgroup_is_glob("a/**"));
	assert_true(ln_cgroup_is_glob("a?"));
	assert_false(ln_cgroup_is_glob("system.slice/nginx.service"));
}

static void expect_parent(const char *pattern, const char *path, bool want)
{
	if (ln_cgroup_glob_parent(pattern, path) != want)
		fail_msg("glob \"%s\": \"%s\" expected %sa glob parent", pattern, path,
			 want ? "" : "not ");
}

/* Glob parents: where a new child must wait for the agent (fail closed). */
static void test_glob_parent(void **state)
{
	(void)state;
	expect_parent("t/guard/ctr-*", "t/guard", true);
	expect_parent("t/guard/ctr-*", "t", true); /* t/guard may be new too */
	expect_parent("t/guard/ctr-*", "", true);
	expect_parent("t/guard/ctr-*", "t/guard/ctr-1", false);
	expect_parent("t/guard/ctr-*", "t/other", false);
	expect_parent("t/*/app-*", "t", true);
	expect_parent("t/*/app-*", "t/x", true);
	expect_parent("t/*/app-*", "t/x/app-1", false);
	expect_parent("k/**", "k", true);
	expect_parent("k/**", "k/a/b/c", true);
	expect_parent("k/**", "j", false);
	expect_parent("k/**", "", true);
	expect_parent("k/**/x-*", "k/a", true);
	expect_parent("*/docker-*.scope", "", true);
	expect_parent("*/docker-*.scope", "system.slice", true);
	expect_parent("*/docker-*.scope", "system.slice/docker-1.scope", false);
}

static void test_unit_tree_rule(void **state)
{
	(void)state;
	assert_true(ln_cgroup_unit_tree_match("demo.service", "system.slice/demo.service"));
	assert_true(ln_cgroup_unit_tree_match("demo.service",
					      "lsnitch-test-1/guard/system.slice/demo.service"));
	assert_true(ln_cgroup_unit_tree_match("demo.service", "system.slice/a/b/demo.service"));
	assert_true(ln_cgroup_unit_tree_match(
		"demo.service", "user.slice/user-1000.slice/user@1000.service/app.slice/demo.service"));
	assert_true(ln_cgroup_unit_tree_match("run-u7.scope", "system.slice/run-u7.scope"));
	assert_false(ln_cgroup_unit_tree_match("demo.service", "demo.service"));
	assert_false(ln_cgroup_unit_tree_match("demo.service", "machine.slice/demo.service"));
	assert_false(ln_cgroup_unit_tree_match("demo.service", "system.slice/demo.service/sub"));
	assert_false(ln_cgroup_unit_tree_match("demo.service", "system.slice/demo.serviceX"));
	assert_false(ln_cgroup_unit_tree_match("demo.service", "system.slice/xdemo.service"));
	assert_false(ln_cgroup_unit_tree_match("demo.service", "system.slicex/demo.service"));
	/* slices: the name at any depth */
	assert_true(ln_cgroup_unit_tree_match("user-1000.slice", "user.slice/user-1000.slice"));
	assert_true(ln_cgroup_unit_tree_match("machine.slice", "machine.slice"));
	assert_true(ln_cgroup_unit_tree_match("machine.slice", "x/y/machine.slice"));
	assert_false(ln_cgroup_unit_tree_match("machine.slice", "machine.slice/x"));
}

static const struct ln_binding bindings[] = {
	{ .cgroup = "machine.slice/**", .policy_id = 1 },
	{ .cgroup = "machine.slice/libpod-*.scope", .policy_id = 2 },
	{ .unit = "libpod-7.scope", .policy_id = 3 },
	{ .cgroup = "machine.slice/libpod-9.scope", .policy_id = 4 },
	{ .unit = "demo.service", .policy_id = 5 },
	{ .cgroup = "system.slice/*.service", .policy_id = 6 },
};
#define N_BINDINGS (sizeof(bindings) / sizeof(bindings[0]))

static long lookup(const char *path)
{
	return ln_binding_lookup(bindings, N_BINDINGS, path, NULL, NULL);
}

static void test_binding_precedence(void **state)
{
	(void)state;
	/* globs: the first in load order */
	assert_int_equal(lookup("machine.slice/libpod-1.scope"), 0);
	assert_int_equal(lookup("machine.slice"), 0);
	assert_int_equal(lookup("machine.slice/x/y"), 0);
	/* an exact path beats every glob, whatever the order */
	assert_int_equal(lookup("machine.slice/libpod-9.scope"), 3);
	/* a unit beats a glob (the tree rule: machine.slice is not system/user.slice) */
	assert_int_equal(lookup("machine.slice/libpod-7.scope"), 0);
	assert_int_equal(lookup("system.slice/libpod-7.scope"), 2);
	assert_int_equal(lookup("system.slice/demo.service"), 4);
	assert_int_equal(lookup("system.slice/other.service"), 5);
	assert_int_equal(lookup("system.slice/other.service/sub"), -1);
	assert_int_equal(lookup("user.slice"), -1);
	assert_int_equal(ln_binding_lookup(bindings, 0, "machine.slice", NULL, NULL), -1);
}

static bool unit_never(const char *unit, const char *path, void *ud)
{
	(*(int *)ud)++;
	return false;
}

static void test_binding_unit_callback(void **state)
{
	int calls = 0;

	(void)state;
	/* the agent's callback decides units (systemd); globs still apply */
	assert_int_equal(ln_binding_lookup(bindings, N_BINDINGS, "system.slice/demo.service",
					   unit_never, &calls),
			 5);
	assert_true(calls > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob_star),
		cmocka_unit_test(test_glob_double_star),
		cmocka_unit_test(test_glob_literal),
		cmocka_unit_test(test_glob_parent),
		cmocka_unit_test(test_unit_tree_rule),
		cmocka_unit_test(test_binding_precedence),
		cmocka_unit_test(test_binding_unit_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
