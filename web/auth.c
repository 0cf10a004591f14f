// SPDX-License-Identifier: GPL-2.0
/* The login secret, the sessions with their CSRF tokens, and failed-login rate limiting. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "web.h"

#define SESSION_MAX 64
#define SESSION_TTL (12 * 3600) /* seconds since the login */
#define LOGIN_FREE 5            /* failed logins from one address before it waits */
#define LOGIN_WAIT_MAX 300      /* the longest wait, in seconds */
#define PEER_MAX 256

struct session {
	char id[WEB_TOKEN_HEX + 1];
	char csrf[WEB_TOKEN_HEX + 1];
	time_t until;
};

struct peer {
	struct in6_addr addr;
	unsigned int failed;
	time_t until; /* no login before this */
	time_t last;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct session sessions[SESSION_MAX];
static struct peer peers[PEER_MAX];

static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int web_random_hex(char *hex, size_t n)
{
	unsigned char b[64];

	if (n > sizeof(b))
		return -EINVAL;
	if (getrandom(b, n, 0) != (ssize_t)n)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", b[i]);
	return 0;
}

static int secret_make(const char *path, char *secret, size_t len)
{
	int fd, r = web_random_hex(secret, WEB_TOKEN_HEX / 2);
	char line[WEB_TOKEN_HEX + 2];

	if (r < 0)
		return r;
	/* O_EXCL: never overwrite one made meanwhile; 0640: root and the web group read it */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	snprintf(line, sizeof(line), "%s\n", secret);
	if (fchmod(fd, 0640) < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		r = errno ? -errno : -EIO;
	close(fd);
	if (r < 0)
		unlink(path);
	return r;
}

int web_secret_load(const char *path, char *secret, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	size_t n;
	int r;

	if (!f && errno == ENOENT) {
		r = secret_make(path, secret, len);
		if (r < 0)
			snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-r));
		return r;
	}
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (!fgets(secret, len, f))
		secret[0] = '\0';
	fclose(f);
	n = strcspn(secret, "\r\n");
	secret[n] = '\0';
	if (n < 16) {
		snprintf(err, errlen, "%s: the secret must be at least 16 characters", path);
		return -EINVAL;
	}
	return 0;
}

bool web_secret_is(const char *s)
{
	size_t a = strlen(s), b = strlen(web.secret);
	unsigned char d = a != b;

	for (size_t i = 0; i < b; i++)
		d |= (unsigned char)web.secret[i] ^ (unsigned char)(i < a ? s[i] : 0);
	return d == 0;
}

int web_session_new(char *id, char *csrf)
{
	time_t t = now();
	struct session *s = NULL;
	int r = -ENOSPC;

	pthread_mutex_lock(&lock);
	/* a free slot, else the one closest to expiry */
	for (size_t i = 0; i < SESSION_MAX; i++)
		if (!s || sessions[i].until < s->until)
			s = &sessions[i];
	if (web_random_hex(s->id, WEB_TOKEN_HEX / 2) == 0 &&
	    web_random_hex(s->csrf, WEB_TOKEN_HEX / 2) == 0) {
		s->until = t + SESSION_TTL;
		memcpy(id, s->id, sizeof(s->id));
		memcpy(csrf, s->csrf, sizeof(s->csrf));
		r = 0;
	} else {
		memset(s, 0, sizeof(*s));
	}
	pthread_mutex_unlock(&lock);
	return r;
}

static struct session *session_find(const char *id)
{
	time_t t = now();

	if (strlen(id) != WEB_TOKEN_HEX)
		return NULL;
	for (size_t i = 0; i < SESSION_MAX; i++)
		if (sessions[i].until > t && !memcmp(sessions[i].id, id, WEB_TOKEN_HEX))
			return &sessions[i];
	return NULL;
}

bool web_session_get(const char *id, char *csrf)
{
	struct session *s;

	pthread_mutex_lock(&lock);
	s = session_find(id);
	if (s)
		memcpy(csrf, s->csrf, sizeof(s->csrf));
	pthread_mutex_unlock(&lock);
	return s != NULL;
}

void web_session_end(const char *id)
{
	struct session *s;

	pthread_mutex_lock(&lock);
	s = session_find(id);
	if (s)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&lock);
}

/* IPv4 as v4-mapped: one key for both families. */
static void peer_key(const struct sockaddr *sa, struct in6_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa && sa->sa_family == AF_INET6) {
		*a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
	} else if (sa && sa->sa_family == AF_INET) {
		a->s6_addr[10] = a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* @sa's entry, or the one least recently used; under the lock. */
static struct peer *peer_find(const struct sockaddr *sa, bool make)
{
	struct in6_addr a;
	struct peer *p = NULL;

	peer_key(sa, &a);
	for (size_t i = 0; i < PEER_MAX; i++) {
		if (!memcmp(&peers[i].addr, &a, sizeof(a)) && peers[i].last)
			return &peers[i];
		if (!p || peers[i].last < p->last)
			p = &peers[i];
	}
	if (!make)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->addr = a;
	return p;
}

unsigned int web_login_wait(const struct sockaddr *peer)
{
	time_t t = now();
	struct peer *p;
	unsigned int w = 0;

	pthread_mutex_lock(&lock);
	p = peer_find(peer, false);
	if (p && p->until > t)
		w = p->until - t;
	pthread_mutex_unlock(&lock);
	return w;
}

void web_login_result(const struct sockaddr *peer, bool ok)
{
	time_t t = now();
	struct peer *p;

	pthread_mutex_lock(&lock);
	p = peer_find(peer, !ok);
	if (p && ok) {
		memset(p, 0, sizeof(*p));
	} else if (p) {
		p->last = t;
		/* the first few free, then 2, 4, 8... seconds between tries */
		if (++p->failed >= LOGIN_FREE) {
			unsigned int shift = p->failed - LOGIN_FREE + 1;
			unsigned int w = shift > 8 ? LOGIN_WAIT_MAX : 1u << shift;

			p->until = t + (w > LOGIN_WAIT_MAX ? LOGIN_WAIT_MAX : w);
		}
	}
	pthread_mutex_unlock(&lock);
}
