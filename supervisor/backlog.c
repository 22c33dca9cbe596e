/*
 * backlog.c: backpressure and the bounds of what the supervisor holds. A
 * machine with too many inputs accepted and not answered
 * (MACHINE_BACKLOG_INPUTS), too many bytes of them waiting for its worker
 * (MACHINE_BACKLOG_BYTES), or too large a journal in memory, holds the
 * clients that send it more: they are read no more, so they block, until
 * the machine is down to half. (A client that does not read its answers
 * is held by peer.c itself, and so are clients' large frames past a
 * budget.)
 *
 * The journal in memory is every input since the last snapshot: it is
 * bounded by asking the worker for a snapshot once it holds half of
 * JOURNAL_MEM_MIN (or of twice the state, for large states), and holding
 * producers past the bound; all machines' journals together are bounded
 * by JOURNAL_MEM_ALL, past which the largest ones are asked for
 * snapshots. A machine that cannot take a snapshot refuses inputs past
 * its bound rather than hold them forever.
 */
#include <stdio.h>
#include <string.h>

#include "smsup.h"

#define JOURNAL_MEM_MIN		(64u << 20)	/* a machine's, at least */
#define JOURNAL_MEM_ALL		(512u << 20)	/* all machines' */
#define JOURNAL_ASK_MIN		(1u << 20)	/* worth a snapshot */
#define BACKLOG_CHECK		0.5	/* seconds between looks while held */

static size_t	 backlog_total;		/* all journals, this turn */
static ev_tstamp backlog_total_at = -1;
static ev_timer	 backlog_timer;		/* while producers are held */

static void	 backlog_timer_cb(struct ev_loop *, ev_timer *, int);

/* Bytes of accepted inputs not yet taken by the worker. */
static size_t
backlog_bytes(const struct machine *m)
{
	size_t	 n = buf_used(&m->held);

	if (m->worker != NULL && m->worker->peer != NULL)
		n += buf_used(peer_wbuf(m->worker->peer));
	return n;
}

/* The most m's journal may hold in memory. */
size_t
backlog_journal_max(const struct machine *m)
{
	size_t	 twice = 2 * base_len(m);

	return twice > JOURNAL_MEM_MIN ? twice : JOURNAL_MEM_MIN;
}

/* All machines' journals (counted at most once a turn of the loop). */
static size_t
backlog_journals(void)
{
	struct machine	*m;

	if (ev_now(EV_DEFAULT) != backlog_total_at) {
		backlog_total = 0;
		TAILQ_FOREACH(m, &machines, entry)
			backlog_total += buf_used(&m->journal);
		backlog_total_at = ev_now(EV_DEFAULT);
	}
	return backlog_total;
}

/* Ask m's worker for a snapshot, if it may be asked and is worth it. */
static void
backlog_ask(struct machine *m)
{
	/* One at a time: once it comes the journal is short again. */
	if (buf_used(&m->journal) < JOURNAL_ASK_MIN || m->upgrade != NULL ||
	    m->state != MS_RUNNING || !m->ready || m->suspended ||
	    m->careful_until != 0 || serial_pending(m, SER_SNAPSHOT))
		return;
	m->snap_asked = ev_now(EV_DEFAULT);
	if (serial_request(m, SER_SNAPSHOT) == 0)
		log_debug("%s: %zu bytes of inputs since the last snapshot: "
		    "asked for one", m->name, buf_used(&m->journal));
}

/*
 * Whether m may accept one more input: -1 with err set if its journal is
 * past its bound and it cannot take a snapshot.
 */
int
backlog_admit(struct machine *m, char *err, size_t len)
{
	if (m->snap_failed[0] == '\0' ||
	    buf_used(&m->journal) < backlog_journal_max(m))
		return 0;
	backlog_ask(m);
	snprintf(err, len, "machine %s holds %zu MiB of inputs since its last "
	    "snapshot and cannot take one (%s): not accepted until it can",
	    m->name, buf_used(&m->journal) >> 20, m->snap_failed);
	return -1;
}

/*
 * Whether m is that far behind (a slow worker, an upgrade holding inputs,
 * a journal waiting for its snapshot) that it takes no input now: the
 * client that brings one is held (backlog_throttle) and its input waits,
 * unread, so a flood blocks its senders instead of growing our memory.
 * Asked before an input is accepted.
 */
int
backlog_full(struct machine *m)
{
	struct machine	*o;
	size_t		 jmax = backlog_journal_max(m);
	int		 over_all;

	if (buf_used(&m->journal) >= jmax / 2)
		backlog_ask(m);
	if ((over_all = backlog_journals() >= JOURNAL_MEM_ALL))
		TAILQ_FOREACH(o, &machines, entry)
			backlog_ask(o);
	return m->pending.n >= MACHINE_BACKLOG_INPUTS ||
	    backlog_bytes(m) >= MACHINE_BACKLOG_BYTES ||
	    buf_used(&m->journal) >= jmax || over_all;
}

/* Client c is read no more until m is down to half (backlog_release). */
void
backlog_throttle(struct machine *m, struct client *c)
{
	struct pending	 w = { c, 0, 0 };

	if (queue_push(&m->producers, &w) == -1)
		return;
	server_client_ref(c);
	server_client_hold(c, 1);
	/* Held for memory, the machines may need asking again later. */
	if (!ev_is_active(&backlog_timer)) {
		ev_init(&backlog_timer, backlog_timer_cb);
		ev_timer_set(&backlog_timer, BACKLOG_CHECK, BACKLOG_CHECK);
		ev_timer_start(EV_DEFAULT, &backlog_timer);
	}
}

/* While producers are held: ask for snapshots, release what may go. */
static void
backlog_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct machine	*m;
	int		 held = 0, over;

	(void)revents;
	backlog_total_at = -1;
	over = backlog_journals() >= JOURNAL_MEM_ALL / 4 * 3;
	TAILQ_FOREACH(m, &machines, entry) {
		if (m->producers.n == 0)
			continue;
		if (over || buf_used(&m->journal) >= backlog_journal_max(m) / 2)
			backlog_ask(m);
		backlog_release(m, 0);
		held += m->producers.n > 0;
	}
	if (over)
		TAILQ_FOREACH(m, &machines, entry)
			backlog_ask(m);
	if (held == 0)
		ev_timer_stop(loop, w);
}

/* Release the held clients once m is down to half (or all: m is gone). */
void
backlog_release(struct machine *m, int all)
{
	struct pending	*w;

	if (m->producers.n == 0 || (!all &&
	    (m->pending.n > MACHINE_BACKLOG_INPUTS / 2 ||
	    backlog_bytes(m) > MACHINE_BACKLOG_BYTES / 2 ||
	    buf_used(&m->journal) > backlog_journal_max(m) / 2 ||
	    backlog_journals() > JOURNAL_MEM_ALL / 4 * 3)))
		return;
	while ((w = queue_head(&m->producers)) != NULL) {
		server_client_hold(w->client, -1);
		server_client_unref(w->client);
		queue_pop(&m->producers);
	}
}

/* A journal shrank (a snapshot): every machine's producers may go on. */
void
backlog_trimmed(struct machine *m)
{
	struct machine	*o;

	backlog_total_at = -1;
	m->snap_failed[0] = '\0';
	TAILQ_FOREACH(o, &machines, entry)
		if (o->producers.n > 0)
			backlog_release(o, 0);
}
