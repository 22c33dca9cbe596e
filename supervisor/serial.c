/*
 * serial.c: the SERIALIZE requests a machine's serving worker owes an
 * answer to. Each request carries a token of its own as its id; a worker
 * answers requests in order, after the inputs sent before them, so an
 * IMAGE or FAIL must answer the oldest outstanding request, with its
 * token, once every input before it has been answered. The answer goes to
 * whoever asked: a state query (inspect.c), an upgrade (upgrade.c), a
 * stop's final snapshot, a snapshot the supervisor asked for (recover.c),
 * one an upgrade --dry-run starts from (rehearse.c).
 * A request abandoned meanwhile (an upgrade that failed or timed out) has
 * its late answer recognised by its token and discarded.
 */
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "smsup.h"

/* The last input the worker has been given (0: none since its start). */
uint64_t
serial_last_given(struct machine *m)
{
	if (m->forwarded > 0)
		return queue_at(&m->pending, m->forwarded - 1)->seq;
	return m->applied_seq;
}

/*
 * Ask m's worker for its state image, in order with the inputs it has;
 * the answer goes to kind's owner. -1 if the worker cannot be asked.
 */
int
serial_request(struct machine *m, int kind)
{
	struct serial_req	*v;
	struct buf		*w;
	size_t			 at, i, ncap;

	if (m->worker == NULL || m->worker->peer == NULL)
		return -1;
	if (m->nserial == m->serial_cap) {
		ncap = m->serial_cap ? m->serial_cap * 2 : 4;
		if ((v = calloc(ncap, sizeof *v)) == NULL)
			return -1;
		for (i = 0; i < m->nserial; i++)
			v[i] = m->serial[(m->serial_head + i) % m->serial_cap];
		free(m->serial);
		m->serial = v;
		m->serial_cap = ncap;
		m->serial_head = 0;
	}
	v = &m->serial[(m->serial_head + m->nserial) % m->serial_cap];
	v->token = ++m->serial_token;
	v->seq = serial_last_given(m);
	v->kind = kind;
	w = peer_wbuf(m->worker->peer);
	at = frame_begin(w, FRAME_S_SERIALIZE, 0, v->token);
	msg_put_u64(w, m->opts.image_max);
	/* A large image may come in a sealed memfd (base.c). */
	if (m->worker->caps & HELLO_CAP_FD)
		msg_put_u32(w, SERIALIZE_FD);
	if (frame_end(w, at) == -1)
		return -1;
	m->nserial++;
	peer_kick(m->worker->peer);
	deadline_owed(m);
	return 0;
}

/* Whether m's worker owes the answer to a request of this kind. */
int
serial_pending(const struct machine *m, int kind)
{
	size_t	 i;

	for (i = 0; i < m->nserial; i++)
		if (m->serial[(m->serial_head + i) % m->serial_cap].kind ==
		    kind)
			return 1;
	return 0;
}

/* Requests of this kind are no longer wanted: their answers are dropped. */
void
serial_abandon(struct machine *m, int kind)
{
	struct serial_req	*r;
	size_t			 i;

	for (i = 0; i < m->nserial; i++) {
		r = &m->serial[(m->serial_head + i) % m->serial_cap];
		if (r->kind == kind)
			r->kind = SER_ABANDONED;
	}
}

/* The worker is gone or replaced: it owes nothing more. */
void
serial_reset(struct machine *m)
{
	m->nserial = 0;
	m->serial_head = 0;
}

void
serial_free(struct machine *m)
{
	free(m->serial);
	m->serial = NULL;
	m->nserial = m->serial_cap = m->serial_head = 0;
}

/*
 * An IMAGE or FAIL from m's serving worker. 1 if it answers the oldest
 * request (and has been handed on), 0 if it answers nothing: a protocol
 * error for machine.c to judge.
 */
int
serial_frame(struct machine *m, const struct frame *f)
{
	struct serial_req	 r;
	struct pending		*p;

	if (m->nserial == 0)
		return 0;
	r = m->serial[m->serial_head];
	if (r.token != f->id)
		return 0;
	/* Every input given before the request must have been answered. */
	p = m->forwarded > 0 ? queue_head(&m->pending) : NULL;
	if (m->discard > 0 || (p != NULL && p->seq <= r.seq))
		return 0;
	m->serial_head = (m->serial_head + 1) % m->serial_cap;
	if (--m->nserial == 0)
		m->serial_head = 0;
	deadline_progress(m);
	switch (r.kind) {
	case SER_QUERY:
		inspect_answer_query(m, f);
		break;
	case SER_UPGRADE:
		upgrade_old_image(m, f);
		break;
	case SER_STOP:
		if (f->type == FRAME_W_IMAGE)
			recover_base(m, r.seq, f->payload, f->len, f->fd, 2);
		else
			log_warnx("%s: no final snapshot: %.*s", m->name,
			    (int)f->len, f->payload);
		break;
	case SER_SNAPSHOT:
		recover_asked_snapshot(m, r.seq, f);
		break;
	case SER_REHEARSE:
		recover_asked_snapshot(m, r.seq, f);
		rehearse_snapshot(m, f);
		break;
	case SER_ABANDONED:
		log_info("%s: dropped the late %s of an abandoned request "
		    "(%u bytes)", m->name, f->type == FRAME_W_IMAGE ? "image" :
		    "failure", f->len);
		break;
	}
	if (m->careful_until != 0)
		recover_drip(m);
	return 1;
}
