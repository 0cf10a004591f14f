/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A history database path in a fresh temporary directory for each test
 * (cmocka setup/teardown). Define HISTORY_TEST_TAG (the directory's name) and
 * HISTORY_TEST_DB (the database's path inside it) before including.
 */
#ifndef LSNITCH_HISTORY_TEST_UTIL_H
#define LSNITCH_HISTORY_TEST_UTIL_H

static char dir[64], path[128];
static const struct ln_history_limits lim = { .retention_s = LN_HISTORY_RETENTION_S };

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/lsnitch-unit-" HISTORY_TEST_TAG ".XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/" HISTORY_TEST_DB, dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif /* LSNITCH_HISTORY_TEST_UTIL_H */
