// SPDX-License-Identifier: GPL-2.0
/* lsnitch history and lsnitch top: the flow history, aggregated, once or refreshing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rules.h"
#include "lsnitch.h"
#include "histdb.h"

#define TOP_WINDOW_S 60 /* top: rates over the last minute */

static void add_flow_json(const struct hq_flow *f, void *ud)
{
	json_object_array_add(ud, hq_flow_json(f));
}

/* "name (addr)" or "addr", made printable: names came from DNS answers. */
static void dest_text(const struct hq_flow *f, char *buf, size_t len)
{
	char *name = printable(f->name, strlen(f->name));

	if (name && *name)
		snprintf(buf, len, "%s (%s)", name, f->addr);
	else
		snprintf(buf, len, "%s", f->addr);
	free(name);
}

/* What ran: the executable's path (made printable), and [container], or "-". */
static void who_text(const struct hq_flow *f, char *buf, size_t len)
{
	char *exe = printable(f->exe, strlen(f->exe));

	snprintf(buf, len, "%s%s%.12s%s", exe && *exe ? exe : "-", *f->container ? " [" : "",
		 f->container, *f->container ? "]" : "");
	free(exe);
}

static void print_flow(const struct hq_flow *f, void *ud)
{
	char dest[320], when[32], unit[256], pp[24], who[600];
	const int64_t *window = ud;
	char *cg = printable(f->cgroup, strlen(f->cgroup));

	dest_text(f, dest, sizeof(dest));
	who_text(f, who, sizeof(who));
	snprintf(pp, sizeof(pp), "%d/%s", f->port, f->proto);
	if (window)
		printf("%8.2f %8lld  %-10s %-16s %-20s %-40s %-10s %-24s %s\n",
		       (double)f->count / (double)*window, (long long)f->count, f->verdict,
		       f->policy, hq_unit_of(f->cgroup, unit, sizeof(unit)), dest, pp, who,
		       cg ? cg : "?");
	else
		printf("%8lld  %-10s %-16s %-40s %-10s %-8s %-19s %-24s %s %s\n",
		       (long long)f->count, f->verdict, f->policy, dest, pp, f->reason,
		       hq_time(f->last, when, sizeof(when)), who, cg ? cg : "?", f->rule);
	free(cg);
}

/* One answer: the flows of @q as JSON (with the window and what was lost) or a table. */
static int show_flows(sqlite3 *db, const struct hq *q, const int64_t *window)
{
	json_object *o = NULL, *a = NULL;
	struct ln_error err = {};
	int64_t lost = 0;
	int r;

	if (json_output) {
		o = json_object_new_object();
		a = json_object_new_array();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "since", json_object_new_int64(q->since));
		json_object_object_add(o, "until", json_object_new_int64(q->until));
		json_object_object_add(o, "flows", a);
	} else if (window) {
		printf("%8s %8s  %-10s %-16s %-20s %-40s %-10s %-24s %s\n", "RATE/s", "COUNT",
		       "VERDICT", "POLICY", "UNIT", "DESTINATION", "PORT", "EXE [CONTAINER]",
		       "CGROUP");
	} else {
		printf("%8s  %-10s %-16s %-40s %-10s %-8s %-19s %-24s %s\n", "COUNT", "VERDICT",
		       "POLICY", "DESTINATION", "PORT", "REASON", "LAST SEEN (UTC)",
		       "EXE [CONTAINER]", "CGROUP RULE");
	}
	r = hq_run(db, q, json_output ? add_flow_json : print_flow,
		   json_output ? (void *)a : (void *)window, &lost, &err);
	if (r < 0)
		p_err("%s", err.msg);
	if (json_output && r >= 0) {
		json_object_object_add(o, "lost", json_object_new_int64(lost));
		print_json(o);
	} else if (r >= 0 && lost) {
		printf("(%lld verdicts not counted: the kernel's flow table was full)\n",
		       (long long)lost);
	}
	json_object_put(o);
	return r < 0 ? EXIT_ERR : EXIT_OK;
}

int do_history(int argc, char **argv)
{
	struct hq q = {};
	sqlite3 *db;
	int r;

	if (hq_parse("history", argc, argv, HQ_TIME | HQ_WHO | HQ_VERDICT | HQ_DEST, &q) < 0)
		return EXIT_USAGE;
	if (hdb_open(&db) < 0)
		return EXIT_ERR;
	r = show_flows(db, &q, NULL);
	sqlite3_close(db);
	return r;
}

int do_top(int argc, char **argv)
{
	struct hq q = { .limit = 20, .interval = 2 };
	int64_t window = TOP_WINDOW_S;
	sqlite3 *db;
	int r;

	if (hq_parse("top", argc, argv, HQ_WHO | HQ_VERDICT | HQ_DEST | HQ_TOP, &q) < 0)
		return EXIT_USAGE;
	if (hdb_open(&db) < 0)
		return EXIT_ERR;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	for (;;) {
		q.until = time(NULL);
		q.since = q.until - window;
		if (!q.once && !json_output)
			printf("\033[H\033[2Jlsnitch top: busiest flows of the last %llds, every %lds"
			       " (Ctrl-C quits)\n", (long long)window, q.interval);
		r = show_flows(db, &q, &window);
		fflush(stdout);
		if (q.once || r != EXIT_OK)
			break;
		sleep((unsigned int)q.interval);
	}
	sqlite3_close(db);
	return r;
}
