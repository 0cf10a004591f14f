// SPDX-License-Identifier: GPL-2.0
/* agent/list_change.c: which configuration changes a list-only reload may take. */
#include "rules_test_util.h"
#include "agent.h"
#include "list_slots.h"

struct loaded {
	struct ln_config c;
	struct ln_compiled cc;
};

static int no_resolve(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	(void)name, (void)out, (void)max, (void)ud;
	return 0;
}

/* @ini as lsnitch.ini, @hosts as hosts.txt (the ini may name it), compiled. */
static void load(struct loaded *l, const char *ini, const char *hosts)
{
	struct ln_error err = {};

	write_file("hosts.txt", hosts);
	write_file("other.txt", "192.0.2.9\n");
	ln_config_init(&l->c);
	if (ln_config_load_ini(&l->c, write_file("lsnitch.ini", ini), true, &err) < 0)
		fail_msg("%s", err.msg);
	if (ln_compile(&l->c, no_resolve, NULL, NULL, NULL, &l->cc, &err) < 0)
		fail_msg("%s", err.msg);
}

static void unload(struct loaded *l)
{
	ln_compiled_free(&l->cc);
	ln_config_free(&l->c);
}

#define BASE                                                                                  \
	"[global]\nblocked-hosts = hosts.txt\n"                                               \
	"[policy web]\ncgroup = web\ndefault = allow\ndeny = 198.51.100.1\n"                  \
	"deny-domain = bad.example\n"

/* Whether going from (BASE, @hosts0) to (@ini, @hosts1) may take the list-only path. */
static bool lists_only(const char *hosts0, const char *ini, const char *hosts1)
{
	struct loaded a, b;
	struct ln_generation cur = { .cfg = &a.c, .cc = {}, .skel = (void *)&cur };
	bool r;

	load(&a, BASE, hosts0);
	cur.cc = a.cc;
	load(&b, ini, hosts1);
	r = ln_lists_only_change(&cur, &b.c, &b.cc);
	unload(&b);
	unload(&a);
	return r;
}

static void test_list_contents(void **state)
{
	(void)state;
	assert_true(lists_only("10.0.0.1\n", BASE, "10.0.0.2\n10.0.0.3\n2001:db8::1\n"));
	assert_true(lists_only("10.0.0.1\n", BASE, "10.0.0.1\n"));
	assert_true(lists_only("10.0.0.1\n", BASE, ""));
	/* a list file added to the global lists: contents too */
	assert_true(lists_only("10.0.0.1\n", BASE "[global]\nblocked-hosts = other.txt\n",
			       "10.0.0.1\n"));
}

static void test_anything_else(void **state)
{
	(void)state;
	/* a rule, the default, the cgroup, a domain rule, a new policy, a policy's own list */
	assert_false(lists_only("10.0.0.1\n", BASE "deny = 198.51.100.2\n", "10.0.0.1\n"));
	assert_false(lists_only("10.0.0.1\n", "[global]\nblocked-hosts = hosts.txt\n"
					     "[policy web]\ncgroup = web\ndefault = deny\n"
					     "deny = 198.51.100.1\ndeny-domain = bad.example\n",
				"10.0.0.1\n"));
	assert_false(lists_only("10.0.0.1\n", "[global]\nblocked-hosts = hosts.txt\n"
					     "[policy web]\ncgroup = web2\ndefault = allow\n"
					     "deny = 198.51.100.1\ndeny-domain = bad.example\n",
				"10.0.0.1\n"));
	assert_false(lists_only("10.0.0.1\n", BASE "deny-domain = worse.example\n",
				"10.0.0.1\n"));
	assert_false(lists_only("10.0.0.1\n", BASE "[policy db]\ncgroup = db\n", "10.0.0.1\n"));
	assert_false(lists_only("10.0.0.1\n", BASE "blocked-hosts = other.txt\n", "10.0.0.1\n"));
}

static void test_no_generation(void **state)
{
	struct loaded b;

	(void)state;
	load(&b, BASE, "10.0.0.1\n");
	assert_false(ln_lists_only_change(NULL, &b.c, &b.cc));
	unload(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_contents),
		cmocka_unit_test(test_anything_else),
		cmocka_unit_test(test_no_generation),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
