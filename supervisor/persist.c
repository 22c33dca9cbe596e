/*
 * persist.c: what a machine's store must have before anyone is told. At
 * the end of every turn of the loop (before answers and inputs are
 * written out), each machine with new records writes its journal, and
 * syncs it with `always`; then the replies that waited for it go:
 * acknowledgements of sends (with `always`) and errors for inputs struck
 * off (a call told "not applied" must not be applied after a crash of
 * ours, so its strike is on disk first).
 *
 * With `always`, an input is given to its worker only once it is on
 * disk. If the journal cannot be written, the inputs of that turn are
 * refused (answered with an error, never applied) when the store could
 * cut the journal back to what it held, or else kept, unanswered, until
 * the store works again; new inputs are refused while it does not. A
 * degraded store is written anew from memory every second (store.c)
 * until that works, whatever the durability.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsup.h"

/* Machines with something for their store this turn of the loop. */
static struct machines persist_queue = TAILQ_HEAD_INITIALIZER(persist_queue);

struct persist_reply {
	struct client	*client;
	uint64_t	 id;
	char		*text;
};

static void	persist_retry(void *);

/* Have persist_all see to m's store before the loop sleeps. */
void
machine_persist_later(struct machine *m)
{
	if (m->store == NULL || m->persist_queued)
		return;
	TAILQ_INSERT_TAIL(&persist_queue, m, persist_entry);
	m->persist_queued = 1;
}

static void
persist_done(struct machine *m)
{
	if (!m->persist_queued)
		return;
	TAILQ_REMOVE(&persist_queue, m, persist_entry);
	m->persist_queued = 0;
}

/* The store of a machine that starts: it is retried from m's memory. */
void
persist_open(struct machine *m)
{
	if (m->store != NULL)
		store_set_retry(m->store, persist_retry, m);
}

/*
 * A send to a machine of durability `always` is acknowledged only once its
 * journal record is on disk: hold the acknowledgement until then. Returns
 * 0 if held, -1 if the caller should acknowledge now.
 */
int
machine_ack_durable(struct machine *m, struct client *c, uint64_t id)
{
	struct pending	 w = { c, id, 0 };

	if (m->store == NULL || m->opts.durability != DURABILITY_ALWAYS ||
	    queue_push(&m->durable, &w) == -1)
		return -1;
	server_client_ref(c);
	machine_persist_later(m);
	return 0;
}

/*
 * An error for c about an input struck off: sent once the strike is in
 * the journal (at once without a store).
 */
void
machine_tell(struct machine *m, struct client *c, uint64_t id,
    const char *text)
{
	struct persist_reply	*v;
	char			*t;

	if (m->store == NULL || (t = strdup(text)) == NULL) {
		server_client_reply(c, FRAME_R_ERROR, id, text, strlen(text));
		return;
	}
	if ((v = realloc(m->replies, (m->nreplies + 1) * sizeof *v)) == NULL) {
		free(t);
		server_client_reply(c, FRAME_R_ERROR, id, text, strlen(text));
		return;
	}
	m->replies = v;
	v[m->nreplies].client = c;
	v[m->nreplies].id = id;
	v[m->nreplies].text = t;
	m->nreplies++;
	server_client_ref(c);
	machine_persist_later(m);
}

/* Send the replies that waited, with more said if extra is not NULL. */
static void
persist_replies(struct machine *m, const char *extra)
{
	struct persist_reply	*r;
	size_t			 i;

	for (i = 0; i < m->nreplies; i++) {
		r = &((struct persist_reply *)m->replies)[i];
		if (extra == NULL)
			server_client_reply(r->client, FRAME_R_ERROR, r->id,
			    r->text, strlen(r->text));
		else
			server_client_replyf(r->client, FRAME_R_ERROR, r->id,
			    "%s%s", r->text, extra);
		server_client_unref(r->client);
		free(r->text);
	}
	free(m->replies);
	m->replies = NULL;
	m->nreplies = 0;
}

/* The acknowledgements of sends that waited: accepted, or not. */
static void
persist_acks(struct machine *m, const char *refused)
{
	struct pending	*w;

	while ((w = queue_head(&m->durable)) != NULL) {
		if (refused == NULL)
			server_client_reply(w->client, FRAME_R_ACCEPTED, w->id,
			    NULL, 0);
		else
			server_client_reply(w->client, FRAME_R_ERROR, w->id,
			    refused, strlen(refused));
		server_client_unref(w->client);
		queue_pop(&m->durable);
	}
}

/*
 * Write m's new records; then what waited for them. With `always`, the
 * inputs of the turn go to the worker, or are refused if the journal
 * surely does not have them, or wait if it may.
 */
static void
persist_one(struct machine *m)
{
	char	 why[512];
	int	 rc;

	if (m->store == NULL)
		return;
	rc = store_flush(m->store);
	if (rc == STORE_DONE) {
		m->undurable = 0;
		persist_acks(m, NULL);
		persist_replies(m, NULL);
		if (m->opts.durability == DURABILITY_ALWAYS)
			machine_flush(m);
		return;
	}
	if (m->opts.durability != DURABILITY_ALWAYS) {
		/* batch: acknowledged already; errors wait for the store. */
		return;
	}
	if (rc == STORE_CUT && m->undurable > 0) {
		snprintf(why, sizeof why, "machine %s could not make this "
		    "input durable (%s); it was not accepted and will not be "
		    "applied", m->name, store_degraded(m->store));
		recover_unaccept(m, m->undurable, why);
		m->undurable = 0;
		persist_acks(m, why);
	}
	/* STORE_LOST: they wait, unanswered, for the store to work again. */
}

/*
 * Before the loop sleeps, for the machines that asked: journals first,
 * then every answer and forwarded input is written out, then what may
 * take a while (the bases upgrades left; kept queued until their upgrade
 * is over).
 */
void
machine_persist_all(void)
{
	struct machine	*m, *next;

	TAILQ_FOREACH(m, &persist_queue, persist_entry)
		persist_one(m);
	peer_flush_dirty();
	for (m = TAILQ_FIRST(&persist_queue); m != NULL; m = next) {
		next = TAILQ_NEXT(m, persist_entry);
		recover_persist_base(m);
		if (!m->base_unsaved && m->nreplies == 0 &&
		    queue_head(&m->durable) == NULL)
			persist_done(m);
	}
}

/* A degraded store: write it anew from memory (snapshot and journal). */
static void
persist_retry(void *arg)
{
	struct machine	*m = arg;

	if (base_store(m, m->snap_seq) == -1)
		return;
	m->persisted_at = units_now();
	m->base_unsaved = 0;
	log_info("%s: persistence restored: snapshot #%llu and %zu bytes of "
	    "journal written from memory", m->name,
	    (unsigned long long)m->snap_seq, buf_used(&m->journal));
	persist_one(m);
	machine_persist_later(m);
}

/*
 * m is removed: its last records go to disk and what waited is answered;
 * if the store cannot take them even now, the waiting errors say that
 * the input may be applied at the machine's next start after all.
 */
void
persist_close(struct machine *m)
{
	if (m->store != NULL && !store_healthy(m->store))
		persist_retry(m);
	if (m->store != NULL && store_flush(m->store) == STORE_DONE) {
		persist_acks(m, NULL);
		persist_replies(m, NULL);
	} else {
		persist_acks(m, "its journal could not be written: it may or "
		    "may not be applied at the machine's next start");
		persist_replies(m, m->store != NULL ? " (but its journal "
		    "could not record that: it may be applied at the "
		    "machine's next start)" : NULL);
	}
	persist_done(m);
	queue_free(&m->durable);
	store_close(m->store);
	m->store = NULL;
}
