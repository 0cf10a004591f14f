/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's diagnostics on stderr; only main.c and manager.c log (the rest returns or notes). */
#ifndef LSNITCH_LOG_H
#define LSNITCH_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* LOG_DEBUG is shown only when @verbose; libbpf's debug output likewise. */
void ln_log_init(bool verbose);
/* "lsnitch-agent: [warning: ]message" at a LOG_* priority. */
void ln_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* LSNITCH_LOG_H */
