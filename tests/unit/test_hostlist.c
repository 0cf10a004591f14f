// SPDX-License-Identifier: GPL-2.0
/* Unit tests: blocked_hosts.txt parsing, golden entries and exact error messages. */
#include "rules_test_util.h"

#include <sys/resource.h>

#include "rules_internal.h"

struct want_entry {
	const char *text; /* prefix or hostname as stored */
	__u32 line;
};

static void check_entries(const struct ln_hostlist *l, __u32 file, const struct want_entry *pf,
			  size_t n_pf, const struct want_entry *names, size_t n_names)
{
	size_t i;

	assert_int_equal(l->n, n_pf);
	for (i = 0; i < n_pf; i++) {
		assert_string_equal(prefix_str(&l->v[i].pfx), pf[i].text);
		assert_int_equal(l->v[i].rule_id, LN_RULE_ID(file, pf[i].line));
	}
	assert_int_equal(l->n_names, n_names);
	for (i = 0; i < n_names; i++) {
		assert_string_equal(l->names[i].name, names[i].text);
		assert_int_equal(l->names[i].rule_id, LN_RULE_ID(file, names[i].line));
	}
}

static void test_golden(void **state)
{
	static const struct want_entry pf[] = {
	    {"192.0.2.1", 2},  {"198.51.100.0/24", 3}, {"2001:db8::1", 5}, {"2001:db8::/32", 6},
	    {"10.0.0.0/8", 9}, {"203.0.113.9", 11},    {"0.0.0.0/0", 13},
	};
	static const struct want_entry names[] = {
	    {"ads.example.com", 7},
	    {"tracker.example.net", 8},
	    {"x_y.example", 12},
	};
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	const char *path = write_file("hosts.txt", "# blocked hosts\n"
						   "192.0.2.1\n"
						   "  198.51.100.77/24   \n"
						   "\n"
						   "2001:db8::1 # trailing comment\n"
						   "\t2001:db8:1::/32\n"
						   "Ads.Example.COM.\n"
						   "tracker.example.net\r\n"
						   "10.1.2.3/8#no space before comment\n"
						   "   # indented comment\n"
						   "203.0.113.9\n"
						   "x_y.example\n"
						   "0.0.0.0/0");

	(void)state;
	assert_int_equal(ln_hostlist_parse_file(&l, &src, path, &err), 0);
	check_entries(&l, 1, pf, sizeof(pf) / sizeof(pf[0]), names,
		      sizeof(names) / sizeof(names[0]));
	assert_string_equal(ln_sources_path(&src, 1), path);
	ln_hostlist_free(&l);
	ln_hostlist_free(NULL);
	ln_sources_free(&src);
}

static void test_appends_second_file(void **state)
{
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	const char *a = write_file("a.txt", "192.0.2.1\n");
	const char *b = write_file("b.txt", "\n\nexample.org\n192.0.2.2\n");

	(void)state;
	assert_int_equal(ln_hostlist_parse_file(&l, &src, a, &err), 0);
	assert_int_equal(ln_hostlist_parse_file(&l, &src, b, &err), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].rule_id, LN_RULE_ID(2, 4));
	assert_int_equal(l.n_names, 1);
	assert_int_equal(l.names[0].rule_id, LN_RULE_ID(2, 3));
	ln_hostlist_free(&l);
	ln_sources_free(&src);
}

static void expect_error(const char *text, int rc, const char *msg_fmt)
{
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	const char *path = write_file("bad.txt", text);

	assert_int_equal(ln_hostlist_parse_file(&l, &src, path, &err), rc);
	assert_string_equal(err.msg, expect_msg(msg_fmt, "bad.txt"));
	ln_hostlist_free(&l);
	ln_sources_free(&src);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("192.0.2.1\n# ok\n192.0.2.2 192.0.2.3\n", -EINVAL,
		     "%s:3: unexpected \"192.0.2.3\" after \"192.0.2.2\" (one entry per line)");
	expect_error("10.0.0.0/33\n", -EINVAL, "%s:1: bad address or CIDR \"10.0.0.0/33\"");
	expect_error("\n\n2001:db8::/129\n", -EINVAL,
		     "%s:3: bad address or CIDR \"2001:db8::/129\"");
	expect_error("a.com\nbad!name.com\n", -EINVAL,
		     "%s:2: bad address or hostname \"bad!name.com\"");
	expect_error("10.0.0.256\n", -EINVAL, "%s:1: bad address or hostname \"10.0.0.256\"");
	expect_error("0.0.0.0 ads.example.com\n", -EINVAL,
		     "%s:1: unexpected \"ads.example.com\" after \"0.0.0.0\" (one entry per line)");
	expect_error("example.com/24\n", -EINVAL, "%s:1: bad address or CIDR \"example.com/24\"");
}

static void test_line_too_long(void **state)
{
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	char *text = malloc(LN_MAX_LINE_LEN + 32);

	(void)state;
	/* exactly the limit is fine (a comment), one more is not */
	text[0] = '#';
	memset(text + 1, 'x', LN_MAX_LINE_LEN - 1);
	strcpy(text + LN_MAX_LINE_LEN, "\n192.0.2.1\n");
	assert_int_equal(ln_hostlist_parse_file(&l, &src, write_file("long.txt", text), &err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].rule_id, LN_RULE_ID(1, 2));
	ln_hostlist_free(&l);
	ln_sources_free(&src);

	text[0] = '\n';
	text[1] = '#';
	memset(text + 2, 'x', LN_MAX_LINE_LEN);
	strcpy(text + 2 + LN_MAX_LINE_LEN, "\n192.0.2.1\n");
	expect_error(text, -EINVAL, "%s:2: line too long (max 4096)");
	free(text);
}

static void test_missing_file(void **state)
{
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};

	(void)state;
	assert_int_equal(ln_hostlist_parse_file(&l, &src, tpath("nope.txt"), &err), -ENOENT);
	assert_string_equal(err.msg,
			    expect_msg("nope.txt: cannot open: No such file or directory"));
	ln_hostlist_free(&l);
	ln_sources_free(&src);
}

static void test_empty_file(void **state)
{
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};

	(void)state;
	assert_int_equal(ln_hostlist_parse_file(&l, &src, write_file("empty.txt", ""), &err), 0);
	assert_int_equal(l.n + l.n_names, 0);
	ln_hostlist_free(&l);
	ln_sources_free(&src);
}

/* Many lines: the right count and rule ids at the end (speed is measured elsewhere). */
static void test_many_lines(void **state)
{
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	const char *path = tpath("many.txt");
	FILE *f = fopen(path, "w");
	unsigned int i;

	(void)state;
	assert_non_null(f);
	for (i = 0; i < 100000; i++) {
		if (i % 2)
			fprintf(f, "10.%u.%u.%u\n", i >> 16, (i >> 8) & 255, i & 255);
		else
			fprintf(f, "2001:db8::%x:%x/%u\n", i >> 16, i & 0xffff, 112 + i % 17);
	}
	fclose(f);
	if (ln_hostlist_parse_file(&l, &src, path, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(l.n, 100000);
	assert_int_equal(l.v[99999].rule_id, LN_RULE_ID(1, 100000));
	assert_string_equal(prefix_str(&l.v[99999].pfx), "10.1.134.159");
	ln_hostlist_free(&l);
	ln_sources_free(&src);
}

/* Parses @path as a host list, expecting @rc and the message @fmt ("%s": the scratch dir). */
static void expect_file_error(const char *path, int rc, const char *fmt)
{
	struct ln_hostlist l = {0};
	struct ln_sources src = {0};
	struct ln_error err = {""};
	char want[LN_ERR_MAX];

	snprintf(want, sizeof(want), fmt, test_dir);
	assert_int_equal(ln_hostlist_parse_file(&l, &src, path, &err), rc);
	assert_string_equal(err.msg, want);
	ln_hostlist_free(&l);
	ln_sources_free(&src);
}

/* A NUL byte ends no line early: "192.0.2.2\0junk" is an error, not 192.0.2.2. */
static void test_nul_byte(void **state)
{
	static const char one[] = "192.0.2.2\0junk\n";
	static const char two[] = "192.0.2.1\n# fine\nexample.com\0.evil\n";

	(void)state;
	expect_file_error(write_bytes("nul.txt", one, sizeof(one) - 1), -EINVAL,
			  "%s/nul.txt:1: NUL byte in line");
	expect_file_error(write_bytes("nul.txt", two, sizeof(two) - 1), -EINVAL,
			  "%s/nul.txt:3: NUL byte in line");
}

/* A FIFO, a device or a directory is refused at once: opening or reading one would block. */
static void test_not_regular(void **state)
{
	(void)state;
	alarm(5); /* a hang kills the test */
	expect_file_error(make_fifo("fifo.txt"), -EINVAL, "%s/fifo.txt: not a regular file");
	expect_file_error("/dev/zero", -EINVAL, "/dev/zero: not a regular file");
	mkdir(tpath("dir.txt"), 0755);
	expect_file_error(tpath("dir.txt"), -EINVAL, "%s/dir.txt: not a regular file");
	symlink("fifo.txt", tpath("to-fifo.txt"));
	expect_file_error(tpath("to-fifo.txt"), -EINVAL, "%s/to-fifo.txt: not a regular file");
	alarm(0);
}

/* A line over the limit is refused when the limit is passed, not after reading it whole. */
static void test_long_line_bounded(void **state)
{
	struct ln_linefile lf;
	struct ln_sources src = {0};
	struct ln_error err = {""};
	char *text = malloc(LN_MAX_LINE_LEN + 100), *line;
	struct rusage ru;

	(void)state;
	memset(text, 'a', LN_MAX_LINE_LEN + 99);
	text[LN_MAX_LINE_LEN + 99] = '\0';
	/* 4195 'a' and then 1 GB of NUL bytes without a newline */
	write_sparse("huge.txt", text, 1L << 30);
	free(text);
	assert_int_equal(ln_linefile_open(&lf, &src, tpath("huge.txt"), LN_MAX_LINE_LEN, &err), 0);
	assert_int_equal(ln_linefile_next(&lf, &line, &err), -EINVAL);
	assert_string_equal(err.msg, expect_msg("huge.txt:1: line too long (max 4096)"));
	assert_true(ftell(lf.f) < 65536);
	ln_linefile_close(&lf);
	ln_sources_free(&src);
	expect_file_error(tpath("huge.txt"), -EINVAL, "%s/huge.txt:1: line too long (max 4096)");
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	assert_true(ru.ru_maxrss < 256 * 1024); /* KiB: the gigabyte was never in memory */
}

/* A read that fails is an error naming the file, never the end of the list. */
static void test_read_error(void **state)
{
	(void)state;
	/* a regular file whose read fails: address 0 of this process is not mapped */
	expect_file_error("/proc/self/mem", -EIO, "/proc/self/mem: read error: Input/output error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),	 cmocka_unit_test(test_appends_second_file),
	    cmocka_unit_test(test_errors),	 cmocka_unit_test(test_line_too_long),
	    cmocka_unit_test(test_missing_file), cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_many_lines),	 cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_not_regular),	 cmocka_unit_test(test_long_line_bounded),
	    cmocka_unit_test(test_read_error),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
