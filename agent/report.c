// SPDX-License-Identifier: GPL-2.0
/* The one event path: a record, one field list, every sink (stdout, journald, subscribers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "agent.h"
#include "control.h"
#include "names.h"
#include "report.h"

/* journalctl MESSAGE_ID=... lists every denial (and would-be denial). */
#define LN_MSGID_DENY "3f1c8e4a9b2d4c7e8a6f5b0d1e2c3a49"
#define LN_MSGID_ALLOW "7a2b9c4d1e3f4a5b8c6d0e1f2a3b4c5d"
#define LN_MSGID_DNS_BLOCK "5d2e7f9a0b1c4d3e9f8a7b6c5d4e3f21"
#define LN_MSGID_SUPPRESSED "b41e6c0d2f7a4e9c8d3b5a1f0e2c7d64"

/* ---- the field list: one entry per field, read by every sink ---- */

enum field_flags {
	F_NUM = 1 << 0,     /* a long long, else a const char * */
	F_LINE = 1 << 1,    /* "key=value" on the stdout line */
	F_BARE = 1 << 2,    /* the line's leading words: verdict, proto, destination */
};

struct field {
	const char *key;     /* JSON key; the line's "key=" */
	const char *journal; /* LSNITCH_<journal>= */
	size_t off;
	unsigned int flags;
};

#define OFF(m) offsetof(struct ln_record, m)

static const struct field fields[] = {
	{ "verdict", "VERDICT", OFF(verdict), F_BARE },
	{ "proto", "PROTO", OFF(proto), F_BARE },
	{ "dest", "DEST", OFF(dest), F_BARE },
	{ "socket", "SOCKET", OFF(socket), F_BARE },
	{ "addr", "DEST_ADDR", OFF(addr), 0 },
	{ "port", "DEST_PORT", OFF(port), F_NUM },
	{ "pid", "PID", OFF(pid), F_NUM | F_LINE },
	{ "tid", "TID", OFF(tid), F_NUM | F_LINE },
	{ "comm", "COMM", OFF(comm), F_LINE },
	{ "uid", "UID", OFF(uid), F_NUM | F_LINE },
	{ "gid", "GID", OFF(gid), F_NUM | F_LINE },
	{ "exe", "EXE", OFF(exe), F_LINE },
	{ "qtype", "DNS_QTYPE", OFF(qtype), F_LINE },
	{ "client", "DNS_CLIENT", OFF(client), F_LINE },
	{ "server", "DNS_SERVER", OFF(server), F_LINE },
	{ "cgroup", "CGROUP", OFF(cgroup), F_LINE },
	{ "container", "CONTAINER", OFF(container), F_LINE },
	{ "unit", "UNIT", OFF(unit), 0 },
	{ "cgroup_id", "CGROUP_ID", OFF(cgroup_id), F_NUM },
	{ "policy", "POLICY", OFF(policy), F_LINE },
	{ "rule", "RULE", OFF(rule), F_LINE },
	{ "reason", "REASON", OFF(reason), F_LINE },
	{ "hook", "HOOK", OFF(hook), F_LINE },
	{ "name", "DNS_NAME", OFF(name), F_LINE },
	{ "repeats", "REPEATS", OFF(repeats), F_NUM | F_LINE },
	{ "count", "COUNT", OFF(count), F_NUM },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const kind_names[] = {
	[LN_RECORD_CONNECT] = "connect",
	[LN_RECORD_DNS] = "dns",
	[LN_RECORD_SUPPRESSED] = "suppressed",
};

static const char *field_str(const struct ln_record *r, const struct field *f)
{
	return *(const char *const *)((const char *)r + f->off);
}

static long long field_num(const struct ln_record *r, const struct field *f)
{
	return *(const long long *)((const char *)r + f->off);
}

static bool field_present(const struct ln_record *r, const struct field *f)
{
	return f->flags & F_NUM ? field_num(r, f) >= 0 : field_str(r, f) != NULL;
}

/* The field's value as text, in @buf when it is a number. */
static const char *field_text(const struct ln_record *r, const struct field *f, char *buf,
			      size_t len)
{
	if (!(f->flags & F_NUM))
		return field_str(r, f);
	snprintf(buf, len, "%lld", field_num(r, f));
	return buf;
}

/* ---- sinks ---- */

struct text {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= t->cap - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = t->len + n < t->cap ? t->len + n : t->cap - 1;
}

/*
 * "deny tcp 127.0.0.1:80 pid=... reason=rule hook=connect4 name=x": the
 * leading words, then key=value. A DNS record has the name as destination.
 */
static void format_line(const struct ln_record *r, char *buf, size_t len)
{
	struct text t = { .s = buf, .cap = len };
	char num[32];

	buf[0] = '\0';
	if (r->kind == LN_RECORD_SUPPRESSED) {
		text_add(&t, "suppressed %lld repeated events (the same process, cgroup and rule "
			 "more than %d times a second)", r->count, LN_REPEAT_BURST);
		return;
	}
	for (size_t i = 0; i < N_FIELDS; i++)
		if (fields[i].flags & F_BARE && field_present(r, &fields[i]))
			text_add(&t, "%s%s", t.len ? " " : "", field_str(r, &fields[i]));
	if (!r->dest && r->name)
		text_add(&t, " %s", r->name);
	for (size_t i = 0; i < N_FIELDS; i++) {
		const struct field *f = &fields[i];

		if (!(f->flags & F_LINE) || !field_present(r, f))
			continue;
		if (f->off == offsetof(struct ln_record, name) && !r->dest)
			continue; /* already the destination */
		text_add(&t, " %s=%s", f->key, field_text(r, f, num, sizeof(num)));
	}
}

static const char *message_id(const struct ln_record *r)
{
	switch (r->kind) {
	case LN_RECORD_DNS:
		return LN_MSGID_DNS_BLOCK;
	case LN_RECORD_SUPPRESSED:
		return LN_MSGID_SUPPRESSED;
	default:
		return r->deny ? LN_MSGID_DENY : LN_MSGID_ALLOW;
	}
}

/* One structured entry: MESSAGE (the line), MESSAGE_ID, PRIORITY, LSNITCH_* per field. */
static void sink_journal(const struct ln_record *r, const char *line)
{
	char msg[2100], store[N_FIELDS + 2][640], num[32];
	struct iovec iov[N_FIELDS + 3];
	int n = 0;

	snprintf(msg, sizeof(msg), "MESSAGE=%s", line);
	iov[0] = (struct iovec){ .iov_base = msg, .iov_len = strlen(msg) };
	snprintf(store[n], sizeof(store[n]), "MESSAGE_ID=%s", message_id(r));
	snprintf(store[++n], sizeof(store[n]), "PRIORITY=%d", r->deny ? LOG_WARNING : LOG_INFO);
	for (size_t i = 0; i < N_FIELDS; i++)
		if (field_present(r, &fields[i]))
			snprintf(store[++n], sizeof(store[n]), "LSNITCH_%s=%s", fields[i].journal,
				 field_text(r, &fields[i], num, sizeof(num)));
	for (int i = 0; i <= n; i++)
		iov[i + 1] = (struct iovec){ .iov_base = store[i], .iov_len = strlen(store[i]) };
	sd_journal_sendv(iov, n + 2);
}

/* The JSON event for control-socket subscribers, with the line as "message". */
static void sink_subscribers(struct ln_manager *m, const struct ln_record *r, const char *line)
{
	struct ln_event_field f[N_FIELDS + 2];
	size_t n = 0;

	if (!ln_control_has_subscribers(m))
		return;
	f[n++] = (struct ln_event_field)LN_EV_STR("kind", kind_names[r->kind]);
	f[n++] = (struct ln_event_field)LN_EV_STR("message", line);
	for (size_t i = 0; i < N_FIELDS; i++) {
		if (!field_present(r, &fields[i]))
			continue;
		if (fields[i].flags & F_NUM)
			f[n++] = (struct ln_event_field)LN_EV_NUM(fields[i].key,
								  field_num(r, &fields[i]));
		else
			f[n++] = (struct ln_event_field)LN_EV_STR(fields[i].key,
								  field_str(r, &fields[i]));
	}
	ln_control_publish(m, f, n);
}

void ln_report_init(struct ln_report_sinks *s)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	s->line = true;
	s->journal = true;
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDOUT_FILENO, &st) == 0 &&
	    st.st_dev == dev && st.st_ino == ino)
		s->line = false; /* stdout is the journal: the structured entry says it all */
}

void ln_report(struct ln_manager *m, const struct ln_record *r)
{
	char raw[2048], line[2048];

	/* Paths and names come from files and the kernel: no raw control bytes in a log. */
	format_line(r, raw, sizeof(raw));
	ln_printable(line, sizeof(line), raw);
	if (m->sinks.line) {
		fputs(line, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	if (m->sinks.journal)
		sink_journal(r, line);
	sink_subscribers(m, r, line);
}
