/*
 * backlog.c: backpressure. A machine with too many inputs accepted and not
 * answered (MACHINE_BACKLOG_INPUTS), or too many bytes of them waiting for
 * its worker (MACHINE_BACKLOG_BYTES), holds the clients that send it more:
 * they are read no more, so they block, until the machine is down to half.
 * (A client that does not read its answers is held by peer.c itself.)
 */
#include "smsup.h"

/* Bytes of accepted inputs not yet taken by the worker. */
static size_t
backlog_bytes(const struct machine *m)
{
	size_t	 n = buf_used(&m->held);

	if (m->worker != NULL && m->worker->peer != NULL)
		n += buf_used(peer_wbuf(m->worker->peer));
	return n;
}

/*
 * Client c just gave m an input: if m is that far behind (a slow worker,
 * an upgrade holding inputs), c is read no more until m catches up, so a
 * flood blocks its sender instead of growing our memory.
 */
void
backlog_throttle(struct machine *m, struct client *c)
{
	struct pending	 w = { c, 0, 0 };

	if (m->pending.n < MACHINE_BACKLOG_INPUTS &&
	    backlog_bytes(m) < MACHINE_BACKLOG_BYTES)
		return;
	if (queue_push(&m->producers, &w) == -1)
		return;
	server_client_ref(c);
	server_client_hold(c, 1);
}

/* Release the held clients once m is down to half (or all: m is gone). */
void
backlog_release(struct machine *m, int all)
{
	struct pending	*w;

	if (m->producers.n == 0 || (!all &&
	    (m->pending.n > MACHINE_BACKLOG_INPUTS / 2 ||
	    backlog_bytes(m) > MACHINE_BACKLOG_BYTES / 2)))
		return;
	while ((w = queue_head(&m->producers)) != NULL) {
		server_client_hold(w->client, -1);
		server_client_unref(w->client);
		queue_pop(&m->producers);
	}
}
