/* SPDX-License-Identifier: GPL-2.0 */
/* The lsnitch CLI's parts: the connection to the agent, the error printer, the commands. */
#ifndef LSNITCH_CLI_H
#define LSNITCH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Exit statuses (lsnitch(8), EXIT STATUS). */
enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2, EXIT_DENIED = 3 };

extern const char default_socket_path[];
extern const char *socket_path; /* --socket */
extern bool json_output;        /* --json */

/*
 * The one error printer: a JSON object on stdout with --json, a line on stderr
 * otherwise; the message made printable() either way.
 */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * @s (@len bytes) with every control character (C0, DEL, C1) and every byte
 * that is not UTF-8 as the text \xNN; to free. NULL if out of memory.
 */
char *printable(const char *s, size_t len);
/* Every string in @o, however deep, made printable(): for the human output. */
void make_printable(json_object *o);

/* One connection to the agent: requests and answers are one JSON object per line each. */
struct conn {
	int fd;
	char *buf; /* what was read past the last answer */
	size_t len, cap;
};
#define CONN_INIT { .fd = -1 }

/* Connect to the agent at socket_path: 0, or -errno (reported). */
int conn_open(struct conn *c);
/*
 * The next object the agent sends (its strings made printable() unless
 * --json); NULL at its end or on error (reported).
 */
json_object *conn_read(struct conn *c);
/*
 * Send @req (consumed) and read the answer; NULL on error (reported). An agent
 * that refuses the connection says why and hangs up: that is the answer.
 */
json_object *conn_ask(struct conn *c, json_object *req);
void conn_close(struct conn *c);

json_object *new_request(const char *cmd);
json_object *get(json_object *o, const char *key);
const char *get_str(json_object *o, const char *key, const char *dflt);
bool is_ok(json_object *o);
void print_json(json_object *o);

/* lsnitch explain ARGS (after "explain"): the exit status. */
int do_explain(int argc, char **argv);
/* lsnitch history, top (history.c) and learn (learn.c): the flow history database. */
int do_history(int argc, char **argv);
int do_top(int argc, char **argv);
int do_learn(int argc, char **argv);

#endif /* LSNITCH_CLI_H */
