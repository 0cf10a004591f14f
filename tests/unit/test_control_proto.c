// SPDX-License-Identifier: GPL-2.0
/* Control socket protocol: request parsing, cgroup -> policy for explain, source lines. */
#include "rules_test_util.h"
#include <netinet/in.h>

#include "control_proto.h"

static int parse(const char *s, struct ln_ctl_request *req, struct ln_error *err)
{
	return ln_ctl_parse_request(s, strlen(s), req, err);
}

static void test_parse_simple(void **state)
{
	struct ln_ctl_request req;
	struct ln_error err = {};

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"status\"}", &req, &err), 0);
	assert_int_equal(req.cmd, LN_CTL_STATUS);
	assert_int_equal(parse(" { \"cmd\" : \"reload\" } ", &req, &err), 0);
	assert_int_equal(req.cmd, LN_CTL_RELOAD);
	assert_int_equal(parse("{\"cmd\":\"events\",\"extra\":1}", &req, &err), 0);
	assert_int_equal(req.cmd, LN_CTL_EVENTS);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "", "not a JSON object: incomplete" },
		{ "{\"cmd\":\"status\"", "not a JSON object: incomplete" },
		{ "{\"cmd\":\"status\"} x", "not a JSON object" },
		{ "[1,2]", "not a JSON object" },
		{ "{}", "\"cmd\" is missing" },
		{ "{\"cmd\":3}", "\"cmd\" is missing" },
		{ "{\"cmd\":\"frob\"}", "unknown cmd \"frob\"" },
		{ "{\"cmd\":\"explain\",\"addr\":\"127.0.0.1\",\"port\":1}",
		  "explain: give exactly one of \"policy\" and \"cgroup\"" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"cgroup\":\"b\",\"addr\":\"127.0.0.1\","
		  "\"port\":1}",
		  "explain: give exactly one of \"policy\" and \"cgroup\"" },
		{ "{\"cmd\":\"explain\",\"policy\":\"\",\"addr\":\"127.0.0.1\",\"port\":1}",
		  "\"policy\" is empty or too long" },
		{ "{\"cmd\":\"explain\",\"policy\":7,\"addr\":\"127.0.0.1\",\"port\":1}",
		  "\"policy\" must be a string" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"port\":1}", "explain: \"addr\" is missing" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"addr\":\"10.0.0.0/8\",\"port\":1}",
		  "explain: \"10.0.0.0/8\" is not an IPv4 or IPv6 address" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"addr\":\"example.com\",\"port\":1}",
		  "explain: \"example.com\" is not an IPv4 or IPv6 address" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"addr\":\"::1\"}",
		  "explain: \"port\" must be a number 0-65535" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"addr\":\"::1\",\"port\":\"80\"}",
		  "explain: \"port\" must be a number 0-65535" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"addr\":\"::1\",\"port\":65536}",
		  "explain: \"port\" must be a number 0-65535" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"addr\":\"::1\",\"port\":-1}",
		  "explain: \"port\" must be a number 0-65535" },
		{ "{\"cmd\":\"explain\",\"policy\":\"a\",\"addr\":\"::1\",\"port\":1,\"proto\":\"sctp\"}",
		  "explain: \"proto\" must be \"tcp\" or \"udp\", not \"sctp\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ln_ctl_request req;
		struct ln_error err = {};

		assert_int_equal(parse(cases[i].in, &req, &err), -EINVAL);
		if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].in, err.msg, cases[i].msg);
	}
}

static void test_parse_too_long(void **state)
{
	static char big[LN_CTL_MAX_REQUEST + 2];
	struct ln_ctl_request req;
	struct ln_error err = {};

	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	assert_int_equal(parse(big, &req, &err), -EINVAL);
	assert_string_equal(err.msg, "request longer than 4096 bytes");
}

static void test_parse_explain(void **state)
{
	static const __u8 v4[LN_ADDR_LEN] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 2 };
	static const __u8 v6[LN_ADDR_LEN] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct ln_ctl_request req;
	struct ln_error err = {};

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"explain\",\"policy\":\"web\",\"addr\":\"127.0.0.2\","
			       "\"port\":443}", &req, &err), 0);
	assert_int_equal(req.cmd, LN_CTL_EXPLAIN);
	assert_string_equal(req.policy, "web");
	assert_string_equal(req.cgroup, "");
	assert_memory_equal(req.addr, v4, LN_ADDR_LEN);
	assert_int_equal(req.port, 443);
	assert_int_equal(req.proto, IPPROTO_TCP);

	assert_int_equal(parse("{\"cmd\":\"explain\",\"cgroup\":\"system.slice/x.service\","
			       "\"addr\":\"2001:db8::1\",\"port\":0,\"proto\":\"udp\"}", &req, &err),
			 0);
	assert_string_equal(req.policy, "");
	assert_string_equal(req.cgroup, "system.slice/x.service");
	assert_memory_equal(req.addr, v6, LN_ADDR_LEN);
	assert_int_equal(req.port, 0);
	assert_int_equal(req.proto, IPPROTO_UDP);

	/* a v4-mapped address is the IPv4 one */
	assert_int_equal(parse("{\"cmd\":\"explain\",\"policy\":\"w\",\"addr\":\"::ffff:127.0.0.2\","
			       "\"port\":65535}", &req, &err), 0);
	assert_memory_equal(req.addr, v4, LN_ADDR_LEN);
	assert_int_equal(req.port, 65535);
}

static void test_cgroup_policy(void **state)
{
	struct ln_config c;
	struct ln_error err = {};
	char m[256];
	const char *ini;

	(void)state;
	ini = write_file("p.ini", "[policy web]\n"
				  "cgroup = system.slice/nginx.service\n"
				  "[policy inner]\n"
				  "cgroup = system.slice/nginx.service/worker\n"
				  "[policy docker]\n"
				  "cgroup = system.slice/docker-*.scope\n"
				  "[policy users]\n"
				  "cgroup = /user.slice/\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, false, &err))
		fail_msg("%s", err.msg);

	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup",
					      "/sys/fs/cgroup/system.slice/nginx.service", m,
					      sizeof(m)), 1);
	assert_string_equal(m, "system.slice/nginx.service");
	/* below: the nearest ancestor wins */
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup",
					      "system.slice/nginx.service/a/b/", m, sizeof(m)), 1);
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup",
					      "/system.slice/nginx.service/worker/x", m, sizeof(m)),
			 2);
	assert_string_equal(m, "system.slice/nginx.service/worker");
	/* a sibling with a common string prefix is not below */
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup",
					      "system.slice/nginx.service2", m, sizeof(m)), 0);
	assert_string_equal(m, "");
	/* globs */
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup/",
					      "/sys/fs/cgroup/system.slice/docker-ab12.scope/init", m,
					      sizeof(m)), 3);
	assert_string_equal(m, "system.slice/docker-ab12.scope");
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup", "user.slice/user-1000.slice",
					      m, sizeof(m)), 4);
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup", "/", m, sizeof(m)), 0);
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup", "init.scope", m, sizeof(m)), 0);
	ln_config_free(&c);
}

static void test_cgroup_policy_unit(void **state)
{
	struct ln_config c;
	struct ln_error err = {};
	char m[256];

	(void)state;
	write_file("units/nginx.service.ini", "[policy]\ndefault = deny\n");
	ln_config_init(&c);
	if (ln_config_load_units_dir(&c, tpath("units"), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c.n_policies, 1);
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup",
					      "/sys/fs/cgroup/system.slice/nginx.service/x", m,
					      sizeof(m)), 1);
	assert_string_equal(m, "system.slice/nginx.service");
	assert_int_equal(ln_ctl_cgroup_policy(&c, "/sys/fs/cgroup", "system.slice/nginx.services",
					      m, sizeof(m)), 0);
	ln_config_free(&c);
}

static void test_source_line(void **state)
{
	char buf[64], longline[6000];
	const char *f;
	FILE *fp;

	(void)state;
	f = write_file("lines.txt", "first\n\t  second = x  \r\n\nfourth");
	assert_int_equal(ln_ctl_source_line(f, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "first");
	assert_int_equal(ln_ctl_source_line(f, 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "second = x");
	assert_int_equal(ln_ctl_source_line(f, 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ln_ctl_source_line(f, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fourth");
	assert_int_equal(ln_ctl_source_line(f, 5, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ln_ctl_source_line(f, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ln_ctl_source_line(tpath("nope"), 1, buf, sizeof(buf)), -ENOENT);

	/* a line longer than the reader's buffer still counts as one line */
	f = tpath("long.txt");
	fp = fopen(f, "w");
	assert_non_null(fp);
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	fprintf(fp, "%s\nafter\n", longline);
	fclose(fp);
	assert_int_equal(ln_ctl_source_line(f, 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "after");
	assert_int_equal(ln_ctl_source_line(f, 1, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_simple),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_too_long),
		cmocka_unit_test(test_parse_explain),
		cmocka_unit_test(test_cgroup_policy),
		cmocka_unit_test(test_cgroup_policy_unit),
		cmocka_unit_test(test_source_line),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
