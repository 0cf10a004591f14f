// SPDX-License-Identifier: GPL-2.0
/* Unit tests: exe= policies (parsing, scopes, what is compiled) and container ids. */
#include "rules_test_util.h"

static int load(struct ln_config *c, const char *text, struct ln_error *err)
{
	const char *ini = write_file("exe.ini", text);
	int rc;

	ln_config_init(c);
	rc = ln_config_load_ini(c, ini, false, err);
	return rc ? rc : ln_config_validate(c, err);
}

static void expect_error(const char *text, const char *needle)
{
	struct ln_error err = {""};
	struct ln_config c;

	assert_int_not_equal(load(&c, text, &err), 0);
	if (!strstr(err.msg, needle))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, needle);
	ln_config_free(&c);
}

static void test_exe_compiled(void **state)
{
	struct ln_error err = {""};
	struct ln_compiled cc;
	struct ln_config c;

	(void)state;
	if (load(&c,
		 "[policy session]\ncgroup = a/b\ncgroup = a/c\n"
		 "[policy curl]\ncgroup = a/c\ncgroup = a/b\nexe = /usr/bin/curl\n"
		 "exe = /usr/local/bin/curl\ndefault = deny\n"
		 "[policy other]\ncgroup = x\n",
		 &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ln_exe_scope(&c, &c.policies[1]), 0);
	if (ln_compile(&c, NULL, NULL, NULL, NULL, &cc, &err))
		fail_msg("%s", err.msg);
	/* the exe policy binds nothing: two cgroups of session, one of other */
	assert_int_equal(cc.n_bindings, 3);
	assert_int_equal(cc.n_exes, 2);
	assert_string_equal(cc.exes[1].path, "/usr/local/bin/curl");
	assert_int_equal(cc.exes[1].scope_id, 1);
	assert_int_equal(cc.exes[1].policy_id, 2);
	assert_int_equal(LN_RULE_ID_LINE(cc.exes[1].rule_id), 8);
	assert_true(cc.policies[1].flags & LN_POLICY_HAS_EXE);
	assert_true(cc.policies[2].flags & LN_POLICY_IS_EXE);
	assert_false(cc.policies[3].flags & (LN_POLICY_HAS_EXE | LN_POLICY_IS_EXE));
	assert_int_equal(ln_exe_select(&cc, 1, "/usr/bin/curl"), 2);
	assert_int_equal(ln_exe_select(&cc, 1, "/usr/bin/wget"), 1);
	assert_int_equal(ln_exe_select(&cc, 3, "/usr/bin/curl"), 3);
	assert_int_equal(ln_exe_select(&cc, 1, NULL), 1);
	ln_compiled_free(&cc);
	ln_config_free(&c);
}

static void test_exe_errors(void **state)
{
	(void)state;
	expect_error("[policy p]\ncgroup = a\nexe = bin/curl\n", "exe.ini:3: exe \"bin/curl\" is "
							       "not an absolute path");
	expect_error("[policy p]\ncgroup = a\nexe = /usr/bin/*\n",
		     "exe.ini:3: exe \"/usr/bin/*\": globs are not supported");
	expect_error("[policy p]\ncgroup = a\nexe = /usr/bin/curl\n",
		     "exe.ini:2: exe policy \"p\": no policy without exe= binds cgroup \"a\"");
	expect_error("[policy s]\ncgroup = a\ncgroup = b\n[policy p]\ncgroup = a\nexe = /bin/x\n",
		     "exe.ini:4: exe policy \"p\" must name the same cgroups as policy \"s\"");
	expect_error("[policy s]\ncgroup = a\n[policy p]\ncgroup = a\nexe = /bin/x\n"
		     "[policy q]\ncgroup = a\nexe = /bin/y\nexe = /bin/x\n",
		     "exe.ini:9: exe \"/bin/x\" already has policy \"p\" in this scope at ");
	expect_error("[policy p]\nexe = /bin/x\n", "policy \"p\" has no cgroup= line");
}

/* Two exe policies of one scope, and a cgroup bound by both a scope and its exe policy. */
static void test_exe_ok_shapes(void **state)
{
	struct ln_error err = {""};
	struct ln_config c;

	(void)state;
	if (load(&c,
		 "[policy p]\nexe = /bin/x\ncgroup = a/*\n[policy s]\ncgroup = a/*\n"
		 "[policy q]\ncgroup = a/*\nexe = /bin/y\n[policy t]\ncgroup = b\n"
		 "[policy u]\ncgroup = b\nexe = /bin/x\n",
		 &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ln_exe_scope(&c, &c.policies[0]), 1);
	assert_int_equal(ln_exe_scope(&c, &c.policies[2]), 1);
	assert_int_equal(ln_exe_scope(&c, &c.policies[4]), 3);
	ln_config_free(&c);
}

static void expect_container(const char *path, const char *id)
{
	char out[80] = "";
	bool found = ln_cgroup_container(path, out, sizeof(out));

	if (!id) {
		if (found)
			fail_msg("%s: found \"%s\"", path, out);
		return;
	}
	if (!found || strcmp(out, id))
		fail_msg("%s: \"%s\", expected \"%s\"", path, found ? out : "(none)", id);
}

static void test_container_id(void **state)
{
	const char *id = "4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f";

	(void)state;
	expect_container("/system.slice/docker-4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f"
			 "4f3a9c2d1b7e6a5f.scope", id);
	expect_container("machine.slice/libpod-4f3a9c2d1b7e.scope/container", "4f3a9c2d1b7e");
	expect_container("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
			 "cri-containerd-abcdef0123456789.scope", "abcdef0123456789");
	expect_container("kubepods.slice/x/crio-abcdef0123456789.scope", "abcdef0123456789");
	expect_container("/docker/abcdef0123456789abcdef", "abcdef0123456789abcdef");
	/* nested: the inner container */
	expect_container("/docker/abcdef0123456789/docker/0123456789abcdef", "0123456789abcdef");
	expect_container("system.slice/docker.service", NULL);
	expect_container("system.slice/docker-xyz.scope", NULL);
	expect_container("system.slice/docker-abc.scope", NULL); /* too short */
	expect_container("user.slice/abcdef0123456789abcdef", NULL); /* not below a runtime */
	expect_container("", NULL);
	expect_container("/", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exe_compiled),
	    cmocka_unit_test(test_exe_errors),
	    cmocka_unit_test(test_exe_ok_shapes),
	    cmocka_unit_test(test_container_id),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
