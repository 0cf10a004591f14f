// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the patterns a new child cgroup is matched against by name (cg_children). */
#include "rules_test_util.h"

static const struct ln_binding bindings[] = {
	{ .cgroup = "guard/ctr-*", .policy_id = 1 },
	{ .cgroup = "guard/pods/*/ctr-*", .policy_id = 2 },
	{ .cgroup = "guard/app", .policy_id = 3 },
	{ .unit = "u.service", .policy_id = 4 },
	{ .cgroup = "deep/**", .policy_id = 5 },
	{ .cgroup = "guard/ctr-9", .policy_id = 6 },
};
#define N_BINDINGS (sizeof(bindings) / sizeof(bindings[0]))

static bool home_guard(const char *unit, const char *parent, void *ud)
{
	return !strcmp(parent, "guard/sys") && !strcmp(unit, "u.service");
}

static struct ln_cg_children ch;

static int children(const char *parent)
{
	return ln_cg_children_of(bindings, N_BINDINGS, parent, home_guard, NULL, &ch);
}

static void expect(__u32 i, const char *pattern, __u32 policy_id, __u32 flags)
{
	assert_true(i < ch.n);
	assert_string_equal(ch.p[i].pattern, pattern);
	assert_int_equal(ch.p[i].flags, flags);
	if (flags & LN_CHILD_BIND)
		assert_int_equal(ch.p[i].policy_id, policy_id);
}

static void test_children_order(void **state)
{
	(void)state;
	/* exact paths first (they win), then globs in load order; a unit only at its home */
	assert_int_equal(children("guard"), 4);
	expect(0, "app", 3, LN_CHILD_BIND);
	expect(1, "ctr-9", 6, LN_CHILD_BIND);
	expect(2, "ctr-*", 1, LN_CHILD_BIND);
	expect(3, "pods", 0, LN_CHILD_WATCH);
}

static void test_children_levels(void **state)
{
	(void)state;
	/* the root: the first component of every binding below it */
	assert_int_equal(children(""), 2);
	expect(0, "guard", 0, LN_CHILD_WATCH);
	/* deep, then a "**" component: binds deep itself and may bind below it */
	expect(1, "deep", 5, LN_CHILD_BIND | LN_CHILD_WATCH);
	assert_int_equal(children("guard/pods"), 1);
	expect(0, "*", 0, LN_CHILD_WATCH);
	assert_int_equal(children("guard/pods/p1"), 1);
	expect(0, "ctr-*", 2, LN_CHILD_BIND);
	/* nothing binds below these */
	assert_int_equal(children("guard/pods/p1/ctr-1"), 0);
	assert_int_equal(children("guard/app"), 0);
	assert_int_equal(children("other"), 0);
}

static void test_children_units_and_double_star(void **state)
{
	(void)state;
	/* a unit, where its cgroup was found */
	assert_int_equal(children("guard/sys"), 1);
	expect(0, "u.service", 4, LN_CHILD_BIND);
	/* a "**" glob keeps new children pending */
	assert_int_equal(children("deep"), 1);
	expect(0, "*", 0, LN_CHILD_PENDING);
	assert_int_equal(children("deep/x/y"), 1);
}

static void test_children_limits(void **state)
{
	char name[LN_CG_PATTERN_LEN + 1];

	(void)state;
	memset(&ch, 0, sizeof(ch));
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(ln_cg_children_add(&ch, name, strlen(name), 1, LN_CHILD_BIND), -E2BIG);
	for (int i = 0; i < LN_CG_PATTERNS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(ln_cg_children_add(&ch, name, strlen(name), 1, LN_CHILD_BIND), 0);
	}
	/* the same one again is no new one; a ninth does not fit */
	assert_int_equal(ln_cg_children_add(&ch, "c0", 2, 1, LN_CHILD_BIND), 0);
	assert_int_equal(ln_cg_children_add(&ch, "c9", 2, 1, LN_CHILD_BIND), -E2BIG);
}

static struct ln_cg_children gc;

/* What a new child of a new child of @parent is, when the first matched pattern @i. */
static int grandchildren(const char *parent, __u32 i)
{
	int n = children(parent);

	assert_true(n >= 0);
	n = ln_cg_grandchildren_of(bindings, N_BINDINGS, parent, &ch, i, &gc);
	memcpy(&ch, &gc, sizeof(ch)); /* for expect() */
	return n;
}

static void test_grandchildren(void **state)
{
	(void)state;
	/* guard/pods/NEW/NEW: the new pod matched "*" (pattern 0), its child is a ctr-* */
	assert_int_equal(grandchildren("guard/pods", 0), 1);
	expect(0, "ctr-*", 2, LN_CHILD_BIND);
	/* guard/NEW/NEW: a new "pods" (pattern 3 of guard); app, ctr-9, ctr-* only bind */
	assert_int_equal(grandchildren("guard", 3), 1);
	expect(0, "*", 0, LN_CHILD_WATCH);
	assert_int_equal(grandchildren("guard", 2), 0);
	/* the root: a new guard (pattern 0), in lookup order (exact paths first) */
	assert_int_equal(grandchildren("", 0), 4);
	expect(0, "app", 3, LN_CHILD_BIND);
	expect(1, "ctr-9", 6, LN_CHILD_BIND);
	expect(2, "ctr-*", 1, LN_CHILD_BIND);
	expect(3, "pods", 0, LN_CHILD_WATCH);
	/* a new deep (pattern 1): its "**" keeps its children pending */
	assert_int_equal(grandchildren("", 1), 1);
	expect(0, "*", 0, LN_CHILD_PENDING);
	/* no such pattern, or nothing watches two levels below */
	assert_int_equal(grandchildren("", 7), 0);
	assert_int_equal(grandchildren("guard/pods/p1", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_children_order),
		cmocka_unit_test(test_children_levels),
		cmocka_unit_test(test_children_units_and_double_star),
		cmocka_unit_test(test_children_limits),
		cmocka_unit_test(test_grandchildren),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
