// SPDX-License-Identifier: GPL-2.0
/* lsnitch-web's side of the control socket: one connection per question (cli/conn.c's code). */
#include "../cli/lsnitch.h" /* struct conn, conn_ask() */
#include "web.h"

json_object *web_agent_ask(const char *cmd, json_object *req)
{
	struct conn c = CONN_INIT;
	json_object *o = NULL;

	if (!req)
		req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (conn_open(&c) == 0)
		o = conn_ask(&c, req);
	else
		json_object_put(req);
	conn_close(&c);
	return o;
}
