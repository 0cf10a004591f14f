// SPDX-License-Identifier: GPL-2.0
/* Stable names of the ABI's numbers (reasons, hooks, protocols), for every sink and command. */
#include <netinet/in.h>

#include "names.h"

static const char *const reason_names[] = {
	[LN_REASON_NONE] = "none",
	[LN_REASON_RULE] = "rule",
	[LN_REASON_BLOCKLIST] = "blocklist",
	[LN_REASON_DEFAULT] = "default",
	[LN_REASON_DOMAIN] = "domain",
	[LN_REASON_DOMAIN_BLOCKLIST] = "domain-blocklist",
	[LN_REASON_SOCKET_KIND] = "socket-kind",
	[LN_REASON_PENDING] = "pending",
	[LN_REASON_DNS_NO_SLOT] = "dns-no-slot",
	[LN_REASON_DNS_NO_PROXY] = "dns-no-proxy",
	[LN_REASON_DNS_SERVER] = "dns-server",
	[LN_REASON_RESOLVER_SOCKET] = "resolver-socket",
};

static const char *const hook_names[] = {
	[LN_HOOK_CONNECT4] = "connect4",
	[LN_HOOK_CONNECT6] = "connect6",
	[LN_HOOK_SENDMSG4] = "sendmsg4",
	[LN_HOOK_SENDMSG6] = "sendmsg6",
	[LN_HOOK_SOCK_CREATE] = "sock_create",
	[LN_HOOK_PACKET_CREATE] = "packet_create",
	[LN_HOOK_EGRESS] = "egress",
	[LN_HOOK_CONNECT_UNIX] = "connect_unix",
};

static const char *const sock_kind_names[] = {
	[LN_SOCK_RAW] = "raw",
	[LN_SOCK_PACKET] = "packet",
	[LN_SOCK_ICMP] = "icmp",
};

#define NAME_OR(tab, i) ((i) < sizeof(tab) / sizeof(tab[0]) && (tab)[i] ? (tab)[i] : "?")

const char *ln_reason_name(__u8 reason)
{
	return NAME_OR(reason_names, reason);
}

const char *ln_hook_name(__u8 hook)
{
	return NAME_OR(hook_names, hook);
}

const char *ln_sock_kind_name(__u32 kind)
{
	return NAME_OR(sock_kind_names, kind);
}

const char *ln_proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "ip";
	}
}
