// SPDX-License-Identifier: GPL-2.0
/* lsnitch-web: the web UI and /metrics, a client of the agent's control socket. Options, main(). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/lsnitch.h" /* socket_path */
#include "http.h"

#ifndef LN_WEBROOT
#define LN_WEBROOT "/usr/local/share/lsnitch/webroot"
#endif

struct web_opts web = {
	.listen = "127.0.0.1:3031",
	.secret_file = "/var/lib/lsnitch-web/secret",
	.webroot = LN_WEBROOT,
};

enum MHD_Result web_access(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *upload,
			   size_t *upload_size, void **con_cls);
void web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		   enum MHD_RequestTerminationCode toe);

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lsnitch-web [OPTIONS]\n"
		"The lsnitch web UI and Prometheus metrics, over the agent's control socket.\n\n"
		"  --listen ADDR:PORT   where to listen (default 127.0.0.1:3031; [::1]:PORT for IPv6)\n"
		"  --control PATH       the agent's control socket (default %s)\n"
		"  --secret-file FILE   the login secret, made if missing (default %s)\n"
		"  --webroot DIR        the pages (default %s)\n"
		"  --tls-cert FILE --tls-key FILE   serve HTTPS (PEM)\n"
		"  -h, --help\n",
		default_socket_path, web.secret_file, web.webroot);
}

/* "1.2.3.4:80" or "[::1]:80" into @ss: 0 or -EINVAL. */
static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	const char *colon = strrchr(s, ':');
	char host[64], *end;
	size_t n = colon ? (size_t)(colon - s) : 0;
	unsigned long port;

	if (!colon || n >= sizeof(host))
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[' && n >= 2 && s[n - 1] == ']') {
		memcpy(host, s + 1, n - 2);
		host[n - 2] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -EINVAL;
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "control", required_argument, NULL, 'c' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "webroot", required_argument, NULL, 'w' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int o;

	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'l': web.listen = optarg; break;
		case 'c': socket_path = optarg; break;
		case 's': web.secret_file = optarg; break;
		case 'w': web.webroot = optarg; break;
		case 'C': web.tls_cert = optarg; break;
		case 'K': web.tls_key = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind < argc || !web.tls_cert != !web.tls_key)
		return -EINVAL;
	web.tls = web.tls_cert != NULL;
	return 0;
}

/* A PEM file's text, to free; NULL (said why) on error. */
static char *pem_read(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (f && getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	if (!buf)
		fprintf(stderr, "lsnitch-web: %s: %s\n", path, f ? "cannot read" : strerror(errno));
	if (f)
		fclose(f);
	return buf;
}

static struct MHD_Daemon *start(const struct sockaddr_storage *ss, char *cert, char *key)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_ERROR_LOG;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (web.tls)
		flags |= MHD_USE_TLS;
	/* one thread per client (an event stream blocks on the agent): a bounded number */
	return MHD_start_daemon(flags, 0, NULL, NULL, web_access, NULL,
				MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
				MHD_OPTION_CONNECTION_LIMIT, 64u,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32u,
				MHD_OPTION_CONNECTION_TIMEOUT, 60u,
				MHD_OPTION_NOTIFY_COMPLETED, web_completed, NULL,
				web.tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
				MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	char err[512], *cert = NULL, *key = NULL;
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (parse_args(argc, argv) < 0 || parse_listen(web.listen, &ss) < 0) {
		usage(stderr);
		return 2;
	}
	if (web.tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		fprintf(stderr, "lsnitch-web: this libmicrohttpd has no TLS\n");
		return 1;
	}
	if (web.tls && (!(cert = pem_read(web.tls_cert)) || !(key = pem_read(web.tls_key))))
		return 1;
	if (web_secret_load(web.secret_file, web.secret, sizeof(web.secret), err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "lsnitch-web: %s\n", err);
		return 1;
	}
	/* the signals are taken here; every thread MHD starts inherits the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = start(&ss, cert, key);
	if (!d) {
		fprintf(stderr, "lsnitch-web: cannot listen on %s\n", web.listen);
		return 1;
	}
	fprintf(stderr, "lsnitch-web: listening on %s%s\n", web.listen, web.tls ? " (TLS)" : "");
	sigwait(&set, &sig);
	/* event streams may sit in poll() for seconds: exit without waiting for their threads */
	return 0;
}
