// SPDX-License-Identifier: GPL-2.0
/*
 * The [global] DNS keys on reload: dns and dns-block take effect at once;
 * dns-port is deprecated (the proxy's ports are the kernel's choice): a
 * change is ignored and the reload says so. dns-ttl-min/max are read at every answer; dns-cache
 * applies at once, and the answer cache starts empty on every reload.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "dns_proxy.h"

/* "first; second": every key that was not applied is named. */
static void warn_add(struct ln_error *warn, const char *msg)
{
	char prev[LN_ERR_MAX];

	snprintf(prev, sizeof(prev), "%s", warn->msg);
	ln_err(warn, 0, "%s%s%s", prev, prev[0] ? "; " : "", msg);
}

struct ln_dns_keys ln_dns_keys_in_force(const struct ln_manager *m)
{
	const struct ln_config *c = m->gen->cfg;

	return (struct ln_dns_keys){ .dns = m->dns != NULL, .block = c->dns_block,
				     .port = c->dns_port };
}

void ln_dns_keys_keep(struct ln_manager *m, struct ln_config *next, struct ln_error *warn)
{
	const struct ln_config *cur = m->gen->cfg;
	char msg[160];

	if (next->dns_port == cur->dns_port)
		return;
	snprintf(msg, sizeof(msg), "dns-port %u -> %u ignored: dns-port is deprecated, the "
		 "proxy's ports are chosen by the kernel", cur->dns_port, next->dns_port);
	warn_add(warn, msg);
	next->dns_port = cur->dns_port;
}

void ln_dns_keys_apply(struct ln_manager *m, const struct ln_dns_keys *prev, struct ln_error *warn)
{
	struct ln_config *c = m->gen->cfg;
	struct ln_error err = {};
	char msg[LN_ERR_MAX + 96];

	if (prev->dns && !c->dns) {
		ln_dns_stop(m);
		return;
	}
	if (!prev->dns && c->dns) {
		if (ln_dns_start(m, &err) >= 0)
			return;
		ln_dns_stop(m);
		c->dns = false; /* what status shows is what runs */
		snprintf(msg, sizeof(msg), "dns = yes: the resolver proxy cannot start (%s): "
			 "DNS stays unfiltered", err.msg);
		warn_add(warn, msg);
		return;
	}
	if (m->dns && prev->block != c->dns_block &&
	    ln_dns_proxy_set_block_mode(m->dns, (enum ln_dns_block_mode)c->dns_block) < 0) {
		c->dns_block = prev->block;
		warn_add(warn, "dns-block: bad value, the old one stays in force");
	}
	/* emptied on every reload: what was kept was checked against the old lists and servers */
	if (m->dns && ln_dns_proxy_set_cache(m->dns, c->dns_cache, c->dns_ttl_max) < 0) {
		c->dns_cache = false;
		warn_add(warn, "dns-cache: out of memory, answers are not kept");
	}
}
