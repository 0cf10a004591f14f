/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the libFuzzer targets: a scratch directory, input files, a fake resolver. */
#ifndef LSNITCH_FUZZ_COMMON_H
#define LSNITCH_FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

#define FUZZ_UNUSED __attribute__((unused))
/* Between the parts of a multi-file input: INI, then the host list, then the domain list. */
#define FUZZ_PART_SEP "\n%%\n"

static char fuzz_dir[64];

static FUZZ_UNUSED void fuzz_dir_remove(void)
{
	char cmd[128];

	if (!fuzz_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd))
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

/* The process's scratch directory, made on first use and removed at exit. */
static FUZZ_UNUSED const char *fuzz_scratch(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_dir[0])
		return fuzz_dir;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%.40s/lsnitch-fuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzz_dir_remove);
	return fuzz_dir;
}

/* Writes @len bytes to @name in the scratch directory; returns its path (a static buffer). */
static FUZZ_UNUSED const char *fuzz_write(const char *name, const uint8_t *data, size_t len)
{
	static char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fuzz_scratch(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || close(fd)) {
		perror("fuzz: writing the input");
		abort();
	}
	return path;
}

/*
 * Splits @data at FUZZ_PART_SEP into at most @max parts (the last takes the rest); parts
 * not present are empty. Returns how many were present.
 */
static FUZZ_UNUSED size_t fuzz_split(const uint8_t *data, size_t size, const uint8_t **part,
				     size_t *len, size_t max)
{
	size_t sep = strlen(FUZZ_PART_SEP), n = 0, i;
	const uint8_t *p = data, *end = data + size, *hit;

	for (i = 0; i < max; i++) {
		part[i] = (const uint8_t *)"";
		len[i] = 0;
	}
	while (n < max) {
		hit = n + 1 < max ? memmem(p, end - p, FUZZ_PART_SEP, sep) : NULL;
		part[n] = p;
		len[n++] = hit ? (size_t)(hit - p) : (size_t)(end - p);
		if (!hit)
			break;
		p = hit + sep;
	}
	return n;
}

/*
 * Whether an input may name files outside the scratch directory that are not plain files
 * (a device, a FIFO, /proc): reading /dev/zero or a FIFO hangs, which is issue 8's own
 * finding, not a fuzzing one, so such inputs are skipped.
 */
static FUZZ_UNUSED int fuzz_names_special_file(const uint8_t *data, size_t size)
{
	static const char *const bad[] = {"..", "/dev", "/proc", "/sys", "/run", "/var", "/tmp"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (memmem(data, size, bad[i], strlen(bad[i])))
			return 1;
	return 0;
}

/*
 * A resolver without a network: names ending in ".test" resolve to one IPv4 and one IPv6
 * address made from a hash of the name, "many.test" to @max addresses; the rest to nothing.
 */
static FUZZ_UNUSED int fuzz_resolve(const char *name, struct ln_prefix *out, size_t max, void *ud)
{
	size_t n = strlen(name), i, k = 0;
	uint32_t h = 2166136261u;

	(void)ud;
	if (n < 5 || strcmp(name + n - 5, ".test"))
		return 0;
	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	for (i = 0; i < max && (i < 2 || !strcmp(name, "many.test")); i++, k++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].len = 128;
		if (i % 2 == 0) {
			out[i].addr[10] = out[i].addr[11] = 0xff;
			memcpy(out[i].addr + 12, &h, 4);
			out[i].addr[15] ^= (uint8_t)i;
		} else {
			out[i].addr[0] = 0x20;
			out[i].addr[1] = 0x01;
			out[i].addr[2] = 0x0d;
			out[i].addr[3] = 0xb8;
			memcpy(out[i].addr + 12, &h, 4);
			out[i].addr[11] = (uint8_t)i;
		}
	}
	return (int)k;
}

static FUZZ_UNUSED void fuzz_warn(const char *msg, void *ud)
{
	(void)msg;
	(void)ud;
}

/* An address from @n bytes of @p (zero-padded): v4-mapped when the first byte is even. */
static FUZZ_UNUSED void fuzz_addr(const uint8_t *p, size_t n, __u8 addr[LN_ADDR_LEN])
{
	uint8_t b[LN_ADDR_LEN] = {0};

	memcpy(b, p, n < sizeof(b) ? n : sizeof(b));
	memset(addr, 0, LN_ADDR_LEN);
	if (b[0] % 2 == 0) {
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, b + 1, 4);
	} else {
		memcpy(addr, b, LN_ADDR_LEN);
	}
}

/* Stops the run with a message: an invariant the code under test promises does not hold. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__,  \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif /* LSNITCH_FUZZ_COMMON_H */
