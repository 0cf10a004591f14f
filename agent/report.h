/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one event path: producers (the ring buffer consumer, the DNS glue)
 * fill one record and call ln_report() once; it is written to every sink —
 * the stdout line, the journald entry, the control socket's subscribers —
 * from one field list. A new sink (history, web, metrics) is added here.
 */
#ifndef LSNITCH_REPORT_H
#define LSNITCH_REPORT_H

#include <stdbool.h>
#include <linux/types.h>

#include "lsnitch.h"

struct ln_manager;

enum ln_record_kind {
	LN_RECORD_CONNECT,    /* a verdict of a connect/sendmsg hook */
	LN_RECORD_DNS,        /* a name the resolver proxy blocked (or would block) */
	LN_RECORD_SUPPRESSED, /* how many repeats the rate limit held back */
};

/*
 * Every field an event can carry. A NULL string or a negative number is
 * absent: it is left out of every sink. The destination is the address and
 * port; for a DNS record, the name.
 */
struct ln_record {
	enum ln_record_kind kind;
	bool deny;              /* a denial or would-be denial: warning priority */
	const char *verdict;    /* "deny", "allow", "would-deny" */
	const char *proto;      /* "tcp", "udp", ..., "dns" */
	const char *dest;       /* "127.0.0.1:80", "[::1]:80" */
	const char *socket;     /* a socket-kind refusal: "inet/raw/udp", no destination */
	const char *addr;
	long long port, pid, tid, uid, gid;
	const char *comm;
	const char *qtype;      /* DNS: "A", "AAAA", "TYPE65" ... */
	const char *client;     /* DNS: the asking socket */
	const char *server;     /* DNS: the server asked, "127.0.0.53:53" */
	const char *cgroup;     /* relative to the cgroup2 root, "/a/b" */
	const char *unit;       /* the systemd unit of the cgroup, "-" if none */
	const char *container;  /* the container id the cgroup's name gives (ln_cgroup_container) */
	const char *exe;        /* the executable: an exe policy's exe= path, else /proc/PID/exe */
	long long cgroup_id;
	const char *policy;     /* "-": the implicit policy */
	const char *rule;       /* "file:line", "-" */
	const char *reason;     /* ln_reason_name() */
	const char *hook;
	const char *name;       /* the DNS name of the destination */
	long long count;        /* LN_RECORD_SUPPRESSED: events held back */
	long long repeats;      /* events like this one held back before it (the kernel's count) */
};

/* A record with every number absent, of @kind. */
#define LN_RECORD_INIT(k)                                                                 \
	{ .kind = (k), .port = -1, .pid = -1, .tid = -1, .uid = -1, .gid = -1,            \
	  .cgroup_id = -1, .count = -1, .repeats = -1 }

/*
 * Repeats are rate-limited: at most LN_REPEAT_BURST events a second for the
 * same (process, cgroup, rule, reason, verdict, hook), whatever the
 * destination. The kernel holds most back (LN_EVENT_BURST) and the next one
 * let through carries their number (repeats=); what the agent holds back
 * and the kernel's total are reported once a second as one
 * LN_RECORD_SUPPRESSED record.
 */
#define LN_REPEAT_BURST LN_EVENT_BURST

/* Where events go; decided once at start (see ln_report_init()). */
struct ln_report_sinks {
	bool line;    /* the stdout line */
	bool journal; /* the structured journald entry */
};

/*
 * Under systemd, stdout may itself be the journal (JOURNAL_STREAM names the
 * stream, systemd.exec(5)): then only the structured entry is written, not
 * the same event twice.
 */
void ln_report_init(struct ln_report_sinks *s);
void ln_report(struct ln_manager *m, const struct ln_record *r);

#endif /* LSNITCH_REPORT_H */
