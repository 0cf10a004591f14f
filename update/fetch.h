/* SPDX-License-Identifier: GPL-2.0 */
/* One conditional HTTP(S) download of a list, bounded in size and time (libcurl). */
#ifndef LSNITCH_UPDATE_FETCH_H
#define LSNITCH_UPDATE_FETCH_H

#include <stdbool.h>

#include "rules.h"

struct fetch_limits {
	long long max_bytes; /* a body past this is refused, however it is sent */
	long timeout_sec;    /* the whole transfer */
};

enum fetch_result {
	FETCH_NEW = 1,		/* a body in the file, its validators in the state */
	FETCH_NOT_MODIFIED = 2, /* 304: the copy in force is current */
};

/* Once per program, before any fetch_list(): 0 or -errno. */
int fetch_global_init(void);
/*
 * Downloads @url into the new file @path, sending @st's ETag / Last-Modified (when
 * @conditional) and recording the new ones in @st. Returns enum fetch_result or -errno with
 * the reason in @err (HTTP status, timeout, truncated or over-size body); @path then holds
 * nothing to use.
 */
int fetch_list(const char *url, const char *path, bool conditional, struct ln_list_state *st,
	       const struct fetch_limits *lim, struct ln_error *err);

#endif /* LSNITCH_UPDATE_FETCH_H */
