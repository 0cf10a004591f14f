/* SPDX-License-Identifier: GPL-2.0 */
/* The manager: owns the event loop, the generation in force, reloads, signals, the watchdog. */
#ifndef LSNITCH_MANAGER_H
#define LSNITCH_MANAGER_H

#include "agent.h"

/* Set up enforcement for @opts, run until SIGTERM/SIGINT/SIGQUIT; the exit status. */
int ln_manager_main(const struct ln_opts *opts);

/*
 * Re-read everything and put it in force atomically; on any error the policy
 * in force stays, and @err says what failed. Logs either way.
 */
int ln_manager_reload(struct ln_manager *m, struct ln_error *err);

#endif /* LSNITCH_MANAGER_H */
