// SPDX-License-Identifier: GPL-2.0
/* The agent's diagnostics on stderr, at LOG_* priorities; libbpf's output follows -v. */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

static bool verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void ln_log_init(bool v)
{
	verbose = v;
	libbpf_set_print(libbpf_print);
}

void ln_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio >= LOG_DEBUG && !verbose)
		return;
	fputs("lsnitch-agent: ", stderr);
	if (prio == LOG_WARNING)
		fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
