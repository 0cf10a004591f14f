/* SPDX-License-Identifier: GPL-2.0 */
/* Stable names of the ABI's numbers, shared by every sink and the control socket. */
#ifndef LSNITCH_NAMES_H
#define LSNITCH_NAMES_H

#include <linux/types.h>

#include "lsnitch.h"

const char *ln_reason_name(__u8 reason); /* "rule", "blocklist", ... */
const char *ln_hook_name(__u8 hook);     /* "connect4", ... */
const char *ln_proto_name(__u8 proto);   /* "tcp", "udp", ... */
const char *ln_sock_kind_name(__u32 kind); /* "raw", "packet", "icmp": the keys' prefixes */

#endif /* LSNITCH_NAMES_H */
