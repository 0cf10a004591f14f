/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DNS proxy's heartbeat (the dns_state map's heartbeat_ns): the BPF side
 * redirects to the proxy only while it is fresh (LN_DNS_HEARTBEAT_NS). It is
 * written by a thread of its own, so that event floods, reloads or anything
 * else keeping the event loop busy never let it go stale, while a dead agent
 * (its threads die with it) still lets DNS go direct. A loop stuck for
 * LN_LOOP_STALL_NS counts as dead too: its proxy no longer answers.
 */
#ifndef LSNITCH_HEARTBEAT_H
#define LSNITCH_HEARTBEAT_H

#include <stdbool.h>
#include <linux/types.h>

#include "lsnitch.h"

#define LN_HEARTBEAT_EVERY_S 1
#define LN_LOOP_STALL_NS (15ULL * 1000000000ULL)

struct ln_heartbeat;

/*
 * Write @st, stamped now, into the dns_state map @fd and go on stamping it
 * every second from a thread. Returns 0 or -errno.
 */
int ln_heartbeat_start(int fd, const struct ln_dns_state *st, struct ln_heartbeat **out);
/* Put @st in force (written now, stamped): the thread writes it from now on. */
int ln_heartbeat_set(struct ln_heartbeat *hb, const struct ln_dns_state *st);
/* The loop is alive: call at least every LN_LOOP_STALL_NS. Returns ns since the last call. */
__u64 ln_heartbeat_loop_alive(struct ln_heartbeat *hb);
/* Stop the thread; the map keeps the last stamp (the caller turns DNS off). Accepts NULL. */
void ln_heartbeat_stop(struct ln_heartbeat *hb);

#endif /* LSNITCH_HEARTBEAT_H */
