// SPDX-License-Identifier: GPL-2.0
/* Control socket protocol: command dispatch, request parsing, cgroup lookups, source lines. */
#include "rules_test_util.h"
#include <netinet/in.h>
#include <json-c/json.h>

#include "control_proto.h"

/* The test's own command context: which command ran, what explain parsed. */
struct ln_ctl_ctx {
	const char *ran;
	struct ln_ctl_explain ex;
};

static int run_status(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		      struct ln_error *err)
{
	ctx->ran = "status";
	*reply = json_object_new_object();
	return 0;
}

static int run_reload(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		      struct ln_error *err)
{
	ctx->ran = "reload";
	return ln_err(err, -EIO, "reload failed");
}

static int run_explain(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		       struct ln_error *err)
{
	ctx->ran = "explain";
	return ln_ctl_parse_explain(req, &ctx->ex, err);
}

static int run_events(struct ln_ctl_ctx *ctx, json_object *req, json_object **reply,
		      struct ln_error *err)
{
	ctx->ran = "events";
	return LN_CTL_SUBSCRIBE;
}

static const struct ln_ctl_cmd cmds[] = {
	{ "status", run_status },
	{ "reload", run_reload },
	{ "explain", run_explain },
	{ "events", run_events },
};

static int dispatch(const char *s, struct ln_ctl_ctx *ctx, struct ln_error *err)
{
	json_object *reply = NULL;
	int r;

	memset(ctx, 0, sizeof(*ctx));
	r = ln_ctl_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), ctx, s, strlen(s), &reply,
			    err);
	json_object_put(reply);
	return r;
}

static void test_dispatch(void **state)
{
	struct ln_ctl_ctx ctx;
	struct ln_error err = {};
	json_object *reply;

	(void)state;
	assert_int_equal(dispatch("{\"cmd\":\"status\"}", &ctx, &err), 0);
	assert_string_equal(ctx.ran, "status");
	assert_int_equal(dispatch(" { \"cmd\" : \"events\" } ", &ctx, &err), LN_CTL_SUBSCRIBE);
	assert_string_equal(ctx.ran, "events");
	assert_int_equal(dispatch("{\"cmd\":\"status\",\"extra\":1}", &ctx, &err), 0);
	assert_string_equal(ctx.ran, "status");
	/* a command's own error comes back as it is */
	assert_int_equal(dispatch("{\"cmd\":\"reload\"}", &ctx, &err), -EIO);
	assert_string_equal(ctx.ran, "reload");
	assert_string_equal(err.msg, "reload failed");
	/* names are exact: no prefix, no case folding; nothing runs */
	assert_int_equal(dispatch("{\"cmd\":\"stat\"}", &ctx, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown cmd \"stat\"");
	assert_null(ctx.ran);
	assert_int_equal(dispatch("{\"cmd\":\"Status\"}", &ctx, &err), -EINVAL);
	assert_null(ctx.ran);
	/* an empty table knows no command */
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(ln_ctl_dispatch(cmds, 0, &ctx, "{\"cmd\":\"status\"}", 16, &reply, &err),
			 -EINVAL);
	assert_null(reply);
	assert_string_equal(err.msg, "unknown cmd \"status\"");
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "", "not a JSON object: incomplete" },
		{ "{\"cmd\":\"status\"", "not a JSON object: incomplete" },
		{ "{\"cmd\":\"status\"} x", "trailing characters after the JSON object" },
		{ "{\"cmd\":\"status\"}{\"cmd\":\"status\"}",
		  "trailing characters after the JSON object" },
		{ "{\"cmd\":\"status\"}]", "trailing characters after the JSON object" },
		/* NUL is never cut short: not in a value, not in a key */
		{ "{\"cmd\":\"explain\",\"policy\":\"a\\u0000b\",\"addr\":\"::1\",\"port\":1}",
		  "a string contains NUL (\\u0000): not allowed" },
		{ "{\"cmd\":\"status\\u0000x\"}", "a string contains NUL (\\u0000): not allowed" },
		{ "{\"c\\u0000md\":\"status\"}", "a string contains NUL (\\u0000): not allowed" },
		/* bytes that are not UTF-8: stray, overlong, a surrogate, past U+10FFFF, cut */
		{ "{\"cmd\":\"explain\",\"policy\":\"\xff\",\"addr\":\"::1\",\"port\":1}",
		  "the request is not valid UTF-8" },
		{ "{\"cmd\":\"status\",\"x\":\"\xc0\xaf\"}", "the request is not valid UTF-8" },
		{ "{\"cmd\":\"status\",\"x\":\"\xed\xa0\x80\"}", "the request is not valid UTF-8" },
		{ "{\"cmd\":\"status\",\"x\":\"\xf4\x90\x80\x80\"}",
		  "the request is not valid UTF-8" },
		{ "{\"cmd\":\"status\",\"x\":\"\xe2\x82\"}", "the request is not valid UTF-8" },
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
		struct ln_ctl_ctx ctx;
		struct ln_error err = {};

		assert_int_equal(dispatch(cases[i].in, &ctx, &err), -EINVAL);
		if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].in, err.msg, cases[i].msg);
	}
}

/* What is not an error: a NUL spelled out as text, UTF-8, trailing white space. */
static void test_parse_strings(void **state)
{
	struct ln_ctl_ctx ctx;
	struct ln_error err = {};

	(void)state;
	/* "\\u0000" is a backslash and the text u0000, no NUL */
	assert_int_equal(dispatch("{\"cmd\":\"explain\",\"policy\":\"a\\\\u0000b\","
				  "\"addr\":\"::1\",\"port\":1}", &ctx, &err), 0);
	assert_string_equal(ctx.ex.policy, "a\\u0000b");
	assert_int_equal(dispatch("{\"cmd\":\"explain\",\"policy\":\"caf\xc3\xa9-\xe2\x82\xac-"
				  "\xf0\x9f\x94\xa5\",\"addr\":\"::1\",\"port\":1}",
				  &ctx, &err), 0);
	assert_string_equal(ctx.ex.policy, "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x94\xa5");
	assert_int_equal(dispatch("{\"cmd\":\"status\"} \t ", &ctx, &err), 0);
	assert_string_equal(ctx.ran, "status");
}

/* A NUL byte as it is, which a C string cannot show. */
static void test_parse_nul_byte(void **state)
{
	static const char line[] = "{\"cmd\":\"status\0\"}";
	struct ln_ctl_ctx ctx = {};
	struct ln_error err = {};
	json_object *reply = NULL;

	(void)state;
	assert_int_equal(ln_ctl_dispatch(cmds, 4, &ctx, line, sizeof(line) - 1, &reply, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "a NUL byte in the request: not allowed");
	assert_null(ctx.ran);
	assert_null(reply);
}

static void test_utf8_char_len(void **state)
{
	static const struct {
		const char *s;
		size_t want;
	} cases[] = {
		{ "a", 1 }, { "\x7f", 1 }, { "\xc3\xa9", 2 }, { "\xc2\x80", 2 },
		{ "\xe2\x82\xac", 3 }, { "\xef\xbf\xbd", 3 }, { "\xed\x9f\xbf", 3 },
		{ "\xf0\x9f\x94\xa5", 4 }, { "\xf4\x8f\xbf\xbf", 4 },
		/* stray continuation, overlong forms, surrogates, past U+10FFFF, cut short */
		{ "\x80", 0 }, { "\xbf", 0 }, { "\xc0\xaf", 0 }, { "\xc1\xbf", 0 },
		{ "\xe0\x80\xaf", 0 }, { "\xf0\x80\x80\xaf", 0 }, { "\xed\xa0\x80", 0 },
		{ "\xed\xbf\xbf", 0 }, { "\xf4\x90\x80\x80", 0 }, { "\xf5\x80\x80\x80", 0 },
		{ "\xff", 0 }, { "\xe2\x82", 0 }, { "\xe2\x28\xa1", 0 }, { "\xc3", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ln_utf8_char_len(cases[i].s, strlen(cases[i].s)) != cases[i].want)
			fail_msg("case %zu: want %zu", i, cases[i].want);
}

struct sink {
	char buf[256];
	size_t len;
	int fail_at; /* the put call that fails (1-based), 0: none */
	int calls;
};

static int sink_put(void *ud, const char *s, size_t len)
{
	struct sink *k = ud;

	if (++k->calls == k->fail_at)
		return -ENOMEM;
	assert_true(k->len + len < sizeof(k->buf));
	memcpy(k->buf + k->len, s, len);
	k->len += len;
	k->buf[k->len] = '\0';
	return 0;
}

/* The reply json-c writes for @s, as the agent sends it: valid JSON, UTF-8. */
static const char *reply_text(const char *s, struct sink *k)
{
	json_object *o = json_object_new_object(), *back;
	const char *text;

	json_object_object_add(o, "error", json_object_new_string(s));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	memset(k, 0, sizeof(*k));
	assert_int_equal(ln_json_utf8_write(text, strlen(text), sink_put, k), 0);
	json_object_put(o);
	/* what a client reads back: the same keys, and UTF-8 by its own check */
	back = json_tokener_parse(k->buf);
	assert_non_null(back);
	json_object_put(back);
	for (size_t i = 0, n; i < k->len; i += n)
		assert_true((n = ln_utf8_char_len(k->buf + i, k->len - i)) > 0);
	return k->buf;
}

static void test_reply_utf8(void **state)
{
	struct sink k;

	(void)state;
	/* valid text goes out as it is, control characters as json-c escapes them */
	assert_string_equal(reply_text("caf\xc3\xa9 \x1b[31m", &k),
			    "{\"error\":\"caf\xc3\xa9 \\u001b[31m\"}");
	/* bytes that are not UTF-8 become the text \xNN: the path stays recognisable */
	assert_string_equal(reply_text("/etc/l\xffsnitch/x\xc3.txt: bad", &k),
			    "{\"error\":\"/etc/l\\\\xffsnitch/x\\\\xc3.txt: bad\"}");
	assert_string_equal(reply_text("\xed\xa0\x80\xc0\xaf", &k),
			    "{\"error\":\"\\\\xed\\\\xa0\\\\x80\\\\xc0\\\\xaf\"}");
	/* a cut sequence at the very end */
	assert_string_equal(reply_text("ok \xe2\x82", &k), "{\"error\":\"ok \\\\xe2\\\\x82\"}");
	/* the first error of the writer is returned */
	memset(&k, 0, sizeof(k));
	k.fail_at = 2;
	assert_int_equal(ln_json_utf8_write("\"a\xff" "b\"", 5, sink_put, &k), -ENOMEM);
	assert_string_equal(k.buf, "\"a");
}

static void test_admit(void **state)
{
	struct ln_error err = {};

	(void)state;
	assert_int_equal(ln_ctl_admit(0, 0, &err), 0);
	assert_int_equal(ln_ctl_admit(10, LN_CTL_MAX_PER_PEER - 1, &err), 0);
	/* one process: its share, no more */
	assert_int_equal(ln_ctl_admit(10, LN_CTL_MAX_PER_PEER, &err), -EBUSY);
	assert_string_equal(err.msg, "too many connections from this process (limit 8)");
	/* the last slots: only for a process that holds none */
	assert_int_equal(ln_ctl_admit(LN_CTL_MAX_CLIENTS - LN_CTL_RESERVED, 1, &err), -EBUSY);
	assert_string_equal(err.msg,
			    "too many connections: the last 4 are kept for other processes");
	assert_int_equal(ln_ctl_admit(LN_CTL_MAX_CLIENTS - LN_CTL_RESERVED - 1, 1, &err), 0);
	assert_int_equal(ln_ctl_admit(LN_CTL_MAX_CLIENTS - 1, 0, &err), 0);
	assert_int_equal(ln_ctl_admit(LN_CTL_MAX_CLIENTS, 0, &err), -EBUSY);
	assert_string_equal(err.msg, "too many connections (limit 64)");
}

static void test_deadline(void **state)
{
	(void)state;
	/* a client: LN_CTL_IDLE_SEC after the last byte, pending output or not */
	assert_int_equal(ln_ctl_deadline(false, 0, 5000000), 15000000);
	assert_int_equal(ln_ctl_deadline(false, 100, 5000000), 15000000);
	/* a subscriber waits for events as long as it takes; one that takes none, not */
	assert_int_equal(ln_ctl_deadline(true, 0, 5000000), 0);
	assert_int_equal(ln_ctl_deadline(true, 1, 5000000), 65000000);
}

static void test_parse_too_long(void **state)
{
	static char big[LN_CTL_MAX_REQUEST + 2];
	struct ln_ctl_ctx ctx;
	struct ln_error err = {};

	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	assert_int_equal(dispatch(big, &ctx, &err), -EINVAL);
	assert_string_equal(err.msg, "request longer than 4096 bytes");
	assert_null(ctx.ran);
}

static void test_parse_explain(void **state)
{
	static const __u8 v4[LN_ADDR_LEN] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 2 };
	static const __u8 v6[LN_ADDR_LEN] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct ln_ctl_ctx ctx;
	struct ln_ctl_explain *req = &ctx.ex;
	struct ln_error err = {};

	(void)state;
	assert_int_equal(dispatch("{\"cmd\":\"explain\",\"policy\":\"web\",\"addr\":\"127.0.0.2\","
				  "\"port\":443}", &ctx, &err), 0);
	assert_string_equal(ctx.ran, "explain");
	assert_string_equal(req->policy, "web");
	assert_string_equal(req->cgroup, "");
	assert_memory_equal(req->addr, v4, LN_ADDR_LEN);
	assert_int_equal(req->port, 443);
	assert_int_equal(req->proto, IPPROTO_TCP);

	assert_int_equal(dispatch("{\"cmd\":\"explain\",\"cgroup\":\"system.slice/x.service\","
				  "\"addr\":\"2001:db8::1\",\"port\":0,\"proto\":\"udp\"}", &ctx,
				  &err), 0);
	assert_string_equal(req->policy, "");
	assert_string_equal(req->cgroup, "system.slice/x.service");
	assert_memory_equal(req->addr, v6, LN_ADDR_LEN);
	assert_int_equal(req->port, 0);
	assert_int_equal(req->proto, IPPROTO_UDP);

	/* a v4-mapped address is the IPv4 one */
	assert_int_equal(dispatch("{\"cmd\":\"explain\",\"policy\":\"w\","
				  "\"addr\":\"::ffff:127.0.0.2\",\"port\":65535}", &ctx, &err), 0);
	assert_memory_equal(req->addr, v4, LN_ADDR_LEN);
	assert_int_equal(req->port, 65535);
}

static int resolve_none(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	return 0;
}

/* The bindings of @c, as the agent compiles them. */
static void compile_bindings(const struct ln_config *c, struct ln_compiled *cc)
{
	struct ln_error err = {};

	if (ln_compile(c, resolve_none, NULL, NULL, NULL, cc, &err) < 0)
		fail_msg("%s", err.msg);
}

#define POLICY_OF(root, path) \
	ln_ctl_cgroup_policy(cc.bindings, cc.n_bindings, (root), (path), NULL, NULL, m, sizeof(m))

static void test_cgroup_policy(void **state)
{
	struct ln_config c;
	struct ln_compiled cc = {};
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
	compile_bindings(&c, &cc);

	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "/sys/fs/cgroup/system.slice/nginx.service"),
			 1);
	assert_string_equal(m, "system.slice/nginx.service");
	/* below: the nearest ancestor wins */
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "system.slice/nginx.service/a/b/"), 1);
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "/system.slice/nginx.service/worker/x"), 2);
	assert_string_equal(m, "system.slice/nginx.service/worker");
	/* a sibling with a common string prefix is not below */
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "system.slice/nginx.service2"), 0);
	assert_string_equal(m, "");
	/* globs */
	assert_int_equal(POLICY_OF("/sys/fs/cgroup/",
				   "/sys/fs/cgroup/system.slice/docker-ab12.scope/init"), 3);
	assert_string_equal(m, "system.slice/docker-ab12.scope");
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "user.slice/user-1000.slice"), 4);
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "/"), 0);
	/* '*' stays within one component, as the agent's glob matching has it */
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "system.slice/docker-a/b.scope"), 0);
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "init.scope"), 0);
	ln_compiled_free(&cc);
	ln_config_free(&c);
}

/* As the agent binds: an exact path beats a glob listed before it. */
static void test_cgroup_policy_precedence(void **state)
{
	struct ln_config c;
	struct ln_compiled cc = {};
	struct ln_error err = {};
	char m[256];
	const char *ini;

	(void)state;
	ini = write_file("q.ini", "[policy any-service]\n"
				  "cgroup = system.slice/*.service\n"
				  "[policy nginx]\n"
				  "cgroup = system.slice/nginx.service\n");
	ln_config_init(&c);
	if (ln_config_load_ini(&c, ini, false, &err))
		fail_msg("%s", err.msg);
	compile_bindings(&c, &cc);
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "system.slice/nginx.service/w"), 2);
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "system.slice/sshd.service"), 1);
	ln_compiled_free(&cc);
	ln_config_free(&c);
}

static void test_cgroup_policy_unit(void **state)
{
	struct ln_config c;
	struct ln_compiled cc = {};
	struct ln_error err = {};
	char m[256];

	(void)state;
	write_file("units/nginx.service.ini", "[policy]\ndefault = deny\n");
	ln_config_init(&c);
	if (ln_config_load_units_dir(&c, tpath("units"), &err))
		fail_msg("%s", err.msg);
	compile_bindings(&c, &cc);
	assert_int_equal(c.n_policies, 1);
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "/sys/fs/cgroup/system.slice/nginx.service/x"),
			 1);
	assert_string_equal(m, "system.slice/nginx.service");
	assert_int_equal(POLICY_OF("/sys/fs/cgroup", "system.slice/nginx.services"), 0);
	ln_compiled_free(&cc);
	ln_config_free(&c);
}

/* ln_policy_guarded() of a policy with the cgroups (or, if @unit, the unit) given. */
static bool guarded(const char *unit, const char *cgs, const char *attach)
{
	char cgbuf[512], atbuf[512], *cgv[8], *atv[8], *save;
	struct ln_policy p = { .name = "p", .unit = (char *)unit, .cgroups = cgv };
	size_t n_attach = 0;

	snprintf(cgbuf, sizeof(cgbuf), "%s", cgs);
	snprintf(atbuf, sizeof(atbuf), "%s", attach);
	for (char *t = strtok_r(cgbuf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		cgv[p.n_cgroups++] = t;
	for (char *t = strtok_r(atbuf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		atv[n_attach++] = t;
	return ln_policy_guarded(&p, "/sys/fs/cgroup", atv, n_attach);
}

static void test_policy_guarded(void **state)
{
	static const struct {
		const char *cgroups, *attach;
		bool want;
	} cases[] = {
		/* at or below an attach point */
		{ "a/b", "/sys/fs/cgroup/a", true },
		{ "a/b", "/sys/fs/cgroup/a/b", true },
		{ "a/b", "/sys/fs/cgroup/a/", true },
		{ "a/b", "/sys/fs/cgroup", true },
		{ "a/b", "/sys/fs/cgroup/", true },
		/* an ancestor of an attach point: the kernel finds it walking down */
		{ "a/b", "/sys/fs/cgroup/a/b/c", true },
		/* elsewhere */
		{ "a/b", "/sys/fs/cgroup/x", false },
		{ "a/b", "/sys/fs/cgroup/a/c", false },
		{ "a/bc", "/sys/fs/cgroup/a/b", false },
		{ "a/b", "/sys/fs/cgroup/a/bc", false },
		/* several attach points, several cgroups: any pair will do */
		{ "a/b", "/sys/fs/cgroup/x /sys/fs/cgroup/a", true },
		{ "x/y a/b", "/sys/fs/cgroup/a", true },
		{ "x/y z", "/sys/fs/cgroup/a /sys/fs/cgroup/b", false },
		/* globs: their fixed leading components decide, either way round */
		{ "a/*/x", "/sys/fs/cgroup/a", true },
		{ "a/*/x", "/sys/fs/cgroup/a/b/c", true },
		{ "a/*/x", "/sys/fs/cgroup/b", false },
		{ "a/b*", "/sys/fs/cgroup/a/c", true },
		{ "a/b*", "/sys/fs/cgroup/ab", false },
		{ "a/**/x", "/sys/fs/cgroup/a/q/r", true },
		{ "a/**/x", "/sys/fs/cgroup/q", false },
		{ "a/x?/y", "/sys/fs/cgroup/a/x1/y/z", true },
		{ "*/x", "/sys/fs/cgroup/q", true },
		{ "**", "/sys/fs/cgroup/q/r", true },
		/* nothing attached, nothing guarded */
		{ "a/b", "", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (guarded(NULL, cases[i].cgroups, cases[i].attach) != cases[i].want)
			fail_msg("cgroups \"%s\", attach \"%s\": want %s", cases[i].cgroups,
				 cases[i].attach, cases[i].want ? "guarded" : "not guarded");
	/* systemd decides where a unit's cgroup is: any attach point may hold it */
	assert_true(guarded("nginx.service", "", "/sys/fs/cgroup/lsnitch-test"));
	assert_true(guarded("user-1000.slice", "", "/sys/fs/cgroup/system.slice"));
	assert_false(guarded("nginx.service", "", ""));
}

static void test_cgroup_guarded(void **state)
{
	char *attach[] = { "/sys/fs/cgroup/a/b/", "/sys/fs/cgroup/c" };

	(void)state;
	assert_true(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 2, "/sys/fs/cgroup/a/b"));
	assert_true(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 2, "a/b/x/"));
	assert_true(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 2, "/c/d"));
	assert_false(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 2, "/sys/fs/cgroup/a"));
	assert_false(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 2, "a/bc"));
	assert_false(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 2, "/"));
	assert_false(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 0, "c"));
	attach[0] = "/sys/fs/cgroup";
	assert_true(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 1, "/"));
	assert_true(ln_ctl_cgroup_guarded("/sys/fs/cgroup", attach, 1, "x/y"));
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
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_strings),
		cmocka_unit_test(test_parse_nul_byte),
		cmocka_unit_test(test_utf8_char_len),
		cmocka_unit_test(test_reply_utf8),
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_parse_too_long),
		cmocka_unit_test(test_parse_explain),
		cmocka_unit_test(test_cgroup_policy),
		cmocka_unit_test(test_cgroup_policy_precedence),
		cmocka_unit_test(test_cgroup_policy_unit),
		cmocka_unit_test(test_policy_guarded),
		cmocka_unit_test(test_cgroup_guarded),
		cmocka_unit_test(test_source_line),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
