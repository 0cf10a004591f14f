/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's control socket: status, reload, explain and live events for the lsnitch CLI. */
#ifndef LSNITCH_CONTROL_H
#define LSNITCH_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rules.h"

struct ln_manager;

/* What the control socket asks of the manager (it never calls up itself). */
struct ln_control_ops {
	/*
	 * Start re-reading every file to put the result in force: 0 (the outcome
	 * comes later, through ln_control_reloaded()), or -errno with the reason
	 * in @err.
	 */
	int (*reload)(void *ud, struct ln_error *err);
};

/*
 * Listen on @path (AF_UNIX stream, mode 0600, its directory created 0700 if
 * missing; a stale socket file is replaced, a live one is -EADDRINUSE). The
 * commands read @m's state; "reload" calls @ops->reload(@ud). @ops must
 * outlive the socket. Returns 0 or -errno with a message in @err.
 */
int ln_control_start(struct ln_manager *m, const char *path, const struct ln_control_ops *ops,
		     void *ud, struct ln_error *err);
/* Close every connection and unlink the socket. Accepts a manager without one. */
void ln_control_stop(struct ln_manager *m);

/*
 * control_listen.c, for ln_control_start(): a listening socket at @path (as
 * that says) and the file's identity, to unlink only our own at the end.
 * With a @group (not (gid_t)-1) the socket is 0660 in that group, and a
 * private (0700) directory holding it becomes 0710 in it: members may connect.
 * Returns the socket, or -errno.
 */
int ln_ctl_listen(const char *path, gid_t group, dev_t *dev, ino_t *ino);
/* --control-group's GROUP (a name or a number) into @gid: 0 or -ENOENT. */
int ln_ctl_group(const char *name, gid_t *gid);
/* Whether the peer on @fd may talk to the agent (root, its own user, @group); *@pid: its pid. */
bool ln_ctl_peer_allowed(int fd, gid_t group, pid_t *pid);

/*
 * The manager tells the control socket how a reload went: the clients that
 * asked for one get their answer, "status" shows it. @msg: the error when
 * @r < 0, else NULL or a warning (a key that needs a restart).
 */
void ln_control_reloaded(struct ln_manager *m, int r, const char *msg);

/*
 * One field of an event, in the order the agent prints them. A NULL @str with
 * is_num false means "absent" (skipped).
 */
struct ln_event_field {
	const char *key;
	const char *str;
	unsigned long long num;
	bool is_num;
};
#define LN_EV_STR(k, s) { .key = (k), .str = (s) }
#define LN_EV_NUM(k, n) { .key = (k), .num = (n), .is_num = true }

/* Whether anyone listens: lets the caller skip building the fields. */
bool ln_control_has_subscribers(const struct ln_manager *m);
/*
 * Send one event to every "events" subscriber as a JSON object. Never blocks:
 * a subscriber whose backlog is full loses the event, and is told how many it
 * lost with the next one it gets.
 */
void ln_control_publish(struct ln_manager *m, const struct ln_event_field *f, size_t n);

#endif /* LSNITCH_CONTROL_H */
