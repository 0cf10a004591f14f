// SPDX-License-Identifier: GPL-2.0
/* The DNS proxy's outgoing datagrams: held while a batch is read, then one sendmmsg() each. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dp_internal.h"

/*
 * Between dp_tx_begin() and dp_tx_end() (one batch of datagrams read with
 * dp_recv_batch()), the queries forwarded upstream and the answers relayed
 * to clients are not sent one by one: they wait in p->tx, pointing into
 * p->rx, which holds until the next batch is read. Everything the agent must
 * see first (the answer recorded, the name checked) is done before a message
 * is queued: only the send() moves, to the end of the batch.
 */
void dp_tx_begin(struct ln_dns_proxy *p)
{
	p->tx.on = true;
}

/* Sends @msg on @fd now, to @to (NULL: the connected peer); 0 or -errno. */
int dp_tx_now(int fd, const struct dp_dest *to, const __u8 *msg, size_t len)
{
	ssize_t n;

	if (to)
		n = sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&to->addr, to->addr_len);
	else
		n = send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return n < 0 ? -errno : 0;
}

/*
 * Sends @msg (in p->rx) on @fd as dp_tx_now(), or at the batch's end; @u:
 * the query upstream it is (failed if it cannot be sent), or NULL. A
 * failure is returned only when sent now.
 */
int dp_tx(struct ln_dns_proxy *p, int fd, const struct dp_dest *to, const __u8 *msg, size_t len,
	  struct dp_upstream *u)
{
	struct dp_tx *t = &p->tx;
	struct mmsghdr *m;

	if (!t->on)
		return dp_tx_now(fd, to, msg, len);
	if (t->n == DP_TX_MAX)
		dp_tx_send(p);
	m = &t->m[t->n];
	t->iov[t->n] = (struct iovec){(void *)msg, len};
	m->msg_hdr = (struct msghdr){.msg_iov = &t->iov[t->n], .msg_iovlen = 1};
	if (to) {
		memcpy(&t->addr[t->n], &to->addr, to->addr_len);
		m->msg_hdr.msg_name = &t->addr[t->n];
		m->msg_hdr.msg_namelen = to->addr_len;
	}
	t->fd[t->n] = fd;
	t->u[t->n] = u;
	t->n++;
	return 0;
}

/* Entry @i could not be sent: a query upstream ends now (SERVFAIL), as unqueued it would. */
static void dp_tx_failed(struct ln_dns_proxy *p, unsigned int i)
{
	if (!p->tx.u[i])
		return;
	p->stats.forwarded--;
	p->up->fail(p->tx.u[i]);
}

/* @u goes: its message, if queued, is sent all the same (its answer will find nobody). */
void dp_tx_forget(struct ln_dns_proxy *p, const struct dp_upstream *u)
{
	for (unsigned int i = 0; i < p->tx.n; i++)
		if (p->tx.u[i] == u)
			p->tx.u[i] = NULL;
}

/* Sends what is queued, a run of one socket at a time; a message that fails: its query fails. */
void dp_tx_send(struct ln_dns_proxy *p)
{
	struct dp_tx *t = &p->tx;
	unsigned int i = 0, j;
	int n;

	while (i < t->n) {
		for (j = i + 1; j < t->n && t->fd[j] == t->fd[i]; j++)
			;
		n = sendmmsg(t->fd[i], &t->m[i], j - i, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			n = 0;
		i += (unsigned int)n;
		if (i < j)
			dp_tx_failed(p, i++);
	}
	t->n = 0;
}

void dp_tx_end(struct ln_dns_proxy *p)
{
	dp_tx_send(p);
	p->tx.on = false;
}
