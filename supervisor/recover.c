/*
 * recover.c: how a machine gets its state back. A machine is deterministic,
 * so its latest snapshot plus the inputs accepted since (the journal) is
 * its state: a new worker loads the snapshot and is given the journal
 * again, its outputs dropped.
 *
 * The journal holds, in order, every input accepted since the snapshot
 * that is or will be applied: the ones answered, then the pending ones.
 * An input that will never be applied (a call answered with an error, an
 * input its worker died in) is struck off it (and off the journal file)
 * before anyone is told, so it is never applied later.
 *
 * When a worker dies (not asked to), the supervisor works out which input
 * it died in: the one its CRASH frame names, or its progress page
 * (progress.h) if it could not say (SIGKILL, a step that never ends).
 * Only that input is dropped, as its cause: answered with an error if it
 * is a call, struck off the journal, logged, traced and kept in the
 * machine's dropped file (store.c). Every other input it had, whether it
 * applied it or not (its state died with it), goes to the next worker:
 * the journal first, then the pending inputs, in order. A worker that
 * died in no input (killed while idle, while serializing) costs no input
 * at all. When nobody can say (a worker without a progress page, one
 * that broke the protocol, whose garbage may come after inputs it applied
 * later), the inputs it had are replayed carefully: one at a time, each
 * once the one before is answered, so that the one that kills the next
 * worker too is known, and only it is dropped. The same holds
 * while a new worker replays the journal: an input that crashes the
 * replay is dropped, and the machine comes up with everything else. Then,
 * by the restart policy and intensity (at most R restarts in T seconds,
 * with a short backoff), the machine restarts, or is marked failed.
 */
#include <sys/wait.h>

#include <signal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "progress.h"
#include "smsup.h"

#define RECOVER_PERSIST_MAX	(1u << 20)	/* upgrade images written at once */

static const struct frame_limits recover_lim = { FRAME_MAX_DEFAULT,
    FRAME_MAX_DEFAULT };

/* An accepted input joins the journal (and its file). */
int
recover_journal_add(struct machine *m, const uint8_t *frame, size_t len)
{
	if (buf_add(&m->journal, frame, len) == -1)
		return -1;
	if (m->store != NULL) {
		store_append(m->store, frame, len);
		machine_persist_later(m);
	}
	return 0;
}

/*
 * Strike the inputs [from, to] off the journal: they will never be
 * applied. The journal file gets a strike record for each (written before
 * anyone is told: machine_tell).
 */
void
recover_strike(struct machine *m, uint64_t from, uint64_t to)
{
	struct buf	 keep = { 0 };
	struct frame	 f;
	const uint8_t	*p = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), n;
	int		 struck = 0;

	while (frame_parse(p, left, &recover_lim, &f) == FRAME_OK) {
		n = FRAME_HDR_LEN + f.len;
		if (f.id >= from && f.id <= to) {
			struck = 1;
			if (m->store != NULL)
				store_strike(m->store, f.id);
		} else
			buf_add(&keep, p, n);
		p += n;
		left -= n;
	}
	if (!struck) {
		buf_free(&keep);
		return;
	}
	buf_free(&m->journal);
	m->journal = keep;
	machine_persist_later(m);
}

/* The byte offset of the last k frames of b (all frames: 0). */
size_t
recover_tail(const struct buf *b, size_t k)
{
	const uint8_t	*p = buf_head(b);
	size_t		 left = buf_used(b), n = 0, i, *at, off = 0, cut;
	struct frame	 f;

	while (frame_parse(p + off, left - off, &recover_lim, &f) ==
	    FRAME_OK) {
		off += FRAME_HDR_LEN + f.len;
		n++;
	}
	if (k >= n)
		return 0;
	if ((at = calloc(n, sizeof *at)) == NULL)
		return left;
	for (i = 0, off = 0; i < n; i++) {
		at[i] = off;
		frame_parse(p + off, left - off, &recover_lim, &f);
		off += FRAME_HDR_LEN + f.len;
	}
	cut = at[n - k];
	free(at);
	return cut;
}

/*
 * The last k inputs accepted are not after all (`always`: the journal
 * could not take them, and surely does not have them): off pending, held
 * and the journal, the calls among them told why. They were never given
 * to a worker.
 */
void
recover_unaccept(struct machine *m, size_t k, const char *why)
{
	struct pending	*p;
	size_t		 i;

	if (k > m->pending.n)
		k = m->pending.n;
	for (i = 0; i < k; i++) {
		p = queue_at(&m->pending, m->pending.n - 1);
		if (p->client != NULL) {
			server_client_reply(p->client, FRAME_R_ERROR, p->id,
			    why, strlen(why));
			server_client_unref(p->client);
		}
		m->errors++;
		queue_unpush(&m->pending);
	}
	buf_truncate(&m->held, recover_tail(&m->held, k));
	m->nheld = m->nheld > k ? m->nheld - k : 0;
	buf_truncate(&m->journal, recover_tail(&m->journal, k));
	log_warnx("%s: %zu inputs refused: %s", m->name, k, why);
	backlog_release(m, 0);
}

/*
 * A snapshot of the serving worker: the state after input seq. It
 * replaces the previous one, and the journal keeps only what follows.
 */
void
recover_snapshot(struct machine *m, uint64_t seq, const uint8_t *img,
    size_t len)
{
	recover_base(m, seq, img, len, -1, 1);
}

/*
 * m's base is now the state after input seq: the journal keeps only the
 * inputs that follow (a large one gives its memory back), and producers
 * held for its size may go on.
 */
void
recover_trim(struct machine *m, uint64_t seq)
{
	struct frame	 f;

	m->snap_seq = seq;
	/* The buffer compacts itself when it needs the room. */
	while (frame_parse(buf_head(&m->journal), buf_used(&m->journal),
	    &recover_lim, &f) == FRAME_OK && f.id <= seq)
		buf_consume(&m->journal, FRAME_HDR_LEN + f.len);
	if (m->journal.cap > (4u << 20) &&
	    buf_used(&m->journal) < m->journal.cap / 4) {
		struct buf	 small = { 0 };

		if (buf_add(&small, buf_head(&m->journal),
		    buf_used(&m->journal)) == 0) {
			buf_free(&m->journal);
			m->journal = small;
		}
	}
	backlog_trimmed(m);
}

/*
 * persist: 0 an upgrade's image (written after the upgrade), 1 a regular
 * snapshot (written at most once an interval), 2 a final one (written).
 */

/*
 * The same, for the image an upgrade moves: the new worker's state is
 * this image migrated, so a restart must start from it, not from an older
 * snapshot. It is not written in the upgrade's pause: a small one once
 * the upgrade is over (recover_persist_base), a large one by the next
 * regular snapshot.
 */
void
recover_base(struct machine *m, uint64_t seq, const uint8_t *img, size_t len,
    int fd, int persist)
{
	struct image	 hdr;
	int		 rc;

	if ((rc = image_decode(img, len, &hdr)) != IMAGE_OK ||
	    strcmp(hdr.name, m->type) != 0 ||
	    strcmp(hdr.version, m->version) != 0 || seq < m->snap_seq ||
	    seq > m->applied_seq) {
		log_warnx("%s: ignored a bad snapshot (#%llu): %s", m->name,
		    (unsigned long long)seq, rc != IMAGE_OK ?
		    image_strerror(rc) : "wrong machine, version or input");
		return;
	}
	/* An image that came by descriptor stays there (base.c). */
	if ((fd != -1 ? base_set_fd(m, fd, len) :
	    base_set_bytes(m, img, len)) == -1) {
		log_warnx("%s: out of memory for a snapshot", m->name);
		return;
	}
	recover_trim(m, seq);
	if (m->store == NULL)
		return;
	if (!persist) {
		if (len < RECOVER_PERSIST_MAX) {
			m->base_unsaved = 1;
			machine_persist_later(m);
		}
		return;
	}
	/*
	 * On disk at most once a snapshot interval: the journal file keeps
	 * every input since the last snapshot written, so the disk stays
	 * consistent with whatever snapshot it has.
	 */
	if (persist == 1 && units_now() - m->persisted_at <
	    (uint64_t)m->opts.snap_ms * 1000000u)
		return;
	m->persisted_at = units_now();
	base_store(m, seq);
	snapfork_offer(m);
}

/* The answer to a snapshot the supervisor asked for (serial.c). */
void
recover_asked_snapshot(struct machine *m, uint64_t seq, const struct frame *f)
{
	if (f->type == FRAME_W_IMAGE) {
		recover_base(m, seq, f->payload, f->len, f->fd, 1);
		return;
	}
	log_warnx("%s: could not take the snapshot asked for: %.*s", m->name,
	    (int)f->len, f->payload);
	snprintf(m->snap_failed, sizeof m->snap_failed, "%.*s", (int)f->len,
	    f->payload);
	if (m->snap_failed[0] == '\0')
		snprintf(m->snap_failed, sizeof m->snap_failed, "no reason");
}

/* Write the base an upgrade left, once the upgrade is over. */
void
recover_persist_base(struct machine *m)
{
	if (!m->base_unsaved || m->store == NULL || m->upgrade != NULL)
		return;
	m->base_unsaved = 0;
	m->persisted_at = units_now();
	base_store(m, m->snap_seq);
}

/* Snapshot settings, the image cap and whether its states are traced. */
void
recover_config(struct machine *m, struct child *c)
{
	struct buf	*w = peer_wbuf(c->peer);
	size_t		 at;

	at = frame_begin(w, FRAME_S_CONFIG, 0, 0);
	msg_put_u32(w, m->opts.snap_inputs);
	msg_put_u32(w, m->opts.snap_ms);
	msg_put_u64(w, m->opts.image_max);
	msg_put_u32(w, (m->ntracers_state > 0 ? CONFIG_TRACE_STATE : 0) |
	    (snapfork_wanted(m, c) ? CONFIG_FORK : 0));
	frame_end(w, at);
	peer_kick(c->peer);
}

/*
 * A starting worker said hello: configure it, and give it the snapshot to
 * load (migrating it if it is of another version) or have it init. -1
 * with err set if this binary cannot take the saved state.
 */
int
recover_start(struct machine *m, struct child *c, char *err, size_t len)
{
	struct image	 hdr;
	char		 list[512];
	int		 rc;

	recover_config(m, c);
	if (base_len(m) == 0) {
		if (m->opts.has_init_arg && !(c->caps & HELLO_CAP_ARG)) {
			snprintf(err, len, "it has an init argument, and %s "
			    "was built before init arguments (rebuild it "
			    "against this smsup's worker library)", m->path);
			return -1;
		}
		if (m->opts.has_init_arg)
			peer_send(c->peer, FRAME_S_ARG, ARG_INIT,
			    m->opts.init_arg, strlen(m->opts.init_arg));
		peer_send(c->peer, FRAME_S_INIT, 0, NULL, 0);
		return 0;
	}
	if ((rc = base_header(m, &hdr)) != IMAGE_OK) {
		snprintf(err, len, "its saved state is not a valid image");
		return -1;
	}
	if (strcmp(hdr.name, c->type) != 0) {
		snprintf(err, len, "its saved state is of machine %s, and %s "
		    "is machine %s (start afresh with: smsup run --fresh %s)",
		    hdr.name, m->path, c->type, m->name);
		return -1;
	}
	if (strcmp(hdr.version, c->version) != 0 &&
	    !child_accepts(c, hdr.version)) {
		snprintf(err, len, "its saved state is version %s, and version "
		    "%s does not migrate from it (it accepts: %s; start afresh "
		    "with: smsup run --fresh %s)", hdr.version, c->version,
		    child_accepted(c, list, sizeof list), m->name);
		return -1;
	}
	if (strcmp(hdr.version, c->version) != 0)
		log_info("%s: migrating its saved state from version %s to %s",
		    m->name, hdr.version, c->version);
	if (m->snap_fd != -1 && (c->caps & HELLO_CAP_FD))
		log_info("%s: its state (%zu bytes) goes to the worker by "
		    "descriptor", m->name, m->snap_len);
	if (base_send_load(m, c) == -1) {
		snprintf(err, len, "cannot give its saved state to the worker");
		return -1;
	}
	return 0;
}

/*
 * The new worker is ready: give it the journal's inputs that were answered
 * already (outputs dropped). The pending ones follow as held inputs.
 */
void
recover_replay(struct machine *m)
{
	struct pending	*p = queue_head(&m->pending);
	struct frame	 f;
	struct buf	*w = peer_wbuf(m->worker->peer);
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), n, count = 0;
	uint64_t	 first = p != NULL ? p->seq : UINT64_MAX;

	m->discard_last = m->snap_seq;
	/* Careful: one at a time (recover_drip, from machine_flush). */
	if (m->careful_until != 0)
		return;
	while (frame_parse(q, left, &recover_lim, &f) == FRAME_OK &&
	    f.id < first) {
		n = FRAME_HDR_LEN + f.len;
		buf_add(w, q, n);
		q += n;
		left -= n;
		count++;
	}
	if (count == 0)
		return;
	m->discard += count;
	peer_kick(m->worker->peer);
	deadline_owed(m);
	log_info("%s: replaying %zu inputs since its snapshot (#%llu)",
	    m->name, count, (unsigned long long)m->snap_seq);
}

/* The journal's frame of input seq, or NULL. */
static const uint8_t *
recover_journal_find(struct machine *m, uint64_t seq, struct frame *f)
{
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), n;

	while (frame_parse(q, left, &recover_lim, f) == FRAME_OK) {
		if (f->id == seq)
			return q;
		if (f->id > seq)
			break;
		n = FRAME_HDR_LEN + f->len;
		q += n;
		left -= n;
	}
	return NULL;
}

/* The index in pending of the forwarded input seq, or -1. */
static ssize_t
recover_forwarded_at(struct machine *m, uint64_t seq)
{
	size_t	 lo = 0, hi = m->forwarded, mid;
	uint64_t v;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		v = queue_at(&m->pending, mid)->seq;
		if (v == seq)
			return (ssize_t)mid;
		if (v < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The replayed input the worker was to answer next, or 0. */
static uint64_t
recover_replay_next(struct machine *m)
{
	struct pending	*p = queue_head(&m->pending);
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal);
	struct frame	 f;

	if (m->discard == 0)
		return 0;
	while (frame_parse(q, left, &recover_lim, &f) == FRAME_OK) {
		if (p != NULL && f.id >= p->seq)
			break;
		if (f.id > m->discard_last)
			return f.id;
		q += FRAME_HDR_LEN + f.len;
		left -= FRAME_HDR_LEN + f.len;
	}
	return 0;
}

/* Whether seq is an input the worker had and had not answered. */
static int
recover_outstanding(struct machine *m, uint64_t seq)
{
	struct pending	*p = queue_head(&m->pending);
	struct frame	 f;

	if (recover_forwarded_at(m, seq) >= 0)
		return 1;
	return m->discard > 0 && seq > m->discard_last &&
	    (p == NULL || seq < p->seq) &&
	    recover_journal_find(m, seq, &f) != NULL;
}

/* The last input the worker had been given (replayed or not), or 0. */
static uint64_t
recover_last_given(struct machine *m)
{
	struct pending	*p = queue_head(&m->pending);
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal);
	struct frame	 f;
	uint64_t	 last = 0;

	if (m->forwarded > 0)
		return queue_at(&m->pending, m->forwarded - 1)->seq;
	if (m->discard == 0)
		return 0;
	while (frame_parse(q, left, &recover_lim, &f) == FRAME_OK &&
	    (p == NULL || f.id < p->seq)) {
		last = f.id;
		q += FRAME_HDR_LEN + f.len;
		left -= FRAME_HDR_LEN + f.len;
	}
	return last;
}

/*
 * The input worker c (NULL: unknown) died in, 0 if none: what its CRASH
 * frame or its progress page says. If nobody can say (no page, a page
 * naming an input it did not have, a protocol broken), and it had inputs:
 * in a careful replay, the one input it had; else 0, with *careful set to
 * the last input it had, for the careful replay to find it.
 */
uint64_t
recover_suspect(struct machine *m, struct child *c, uint64_t *careful)
{
	struct pending	*p;
	uint64_t	 seq = 0;
	int		 said = -1;

	*careful = 0;
	if (c != NULL && c->crash_seq != 0) {
		seq = c->crash_seq;
		said = 1;
	} else if (c != NULL)
		said = child_progress(c, &seq);
	if (said == 1 && recover_outstanding(m, seq))
		return seq;
	if (said == 0 && (c == NULL || c->broke[0] == '\0'))
		return 0;
	if (m->careful_until != 0) {
		if ((seq = recover_replay_next(m)) != 0)
			return seq;
		p = m->forwarded > 0 ? queue_head(&m->pending) : NULL;
		return p != NULL ? p->seq : 0;
	}
	*careful = recover_last_given(m);
	return 0;
}

/*
 * Careful replay: give the worker the next input if it has answered the
 * one before (from the journal, then the held ones), until the last one
 * the dead worker had; then back to giving them all at once.
 */
void
recover_drip(struct machine *m)
{
	struct pending	*p = queue_head(&m->pending);
	struct frame	 f;
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), n;
	struct buf	*w;

	/* One thing at a time: an input, or a serialize request. */
	if (m->careful_until == 0 || m->worker == NULL ||
	    m->worker->peer == NULL || !m->ready || m->state != MS_RUNNING ||
	    m->suspended || m->discard > 0 || m->forwarded > 0 ||
	    m->nserial > 0)
		return;
	w = peer_wbuf(m->worker->peer);
	while (frame_parse(q, left, &recover_lim, &f) == FRAME_OK &&
	    (p == NULL || f.id < p->seq)) {
		n = FRAME_HDR_LEN + f.len;
		if (f.id > m->discard_last) {
			if (f.id > m->careful_until)
				goto done;
			buf_add(w, q, n);
			m->discard = 1;
			upgrade_forwarded(m, q, n);
			peer_kick(m->worker->peer);
			deadline_owed(m);
			return;
		}
		q += n;
		left -= n;
	}
	/* With always, not one that is not on disk yet (persist.c). */
	if (m->nheld > m->undurable && p != NULL &&
	    p->seq <= m->careful_until && frame_parse(buf_head(&m->held),
	    buf_used(&m->held), &recover_lim, &f) == FRAME_OK) {
		n = FRAME_HDR_LEN + f.len;
		buf_add(w, buf_head(&m->held), n);
		upgrade_forwarded(m, buf_head(&m->held), n);
		buf_consume(&m->held, n);
		m->nheld--;
		m->forwarded = 1;
		peer_kick(m->worker->peer);
		deadline_owed(m);
		return;
	}
	if (m->nheld > 0 && p != NULL && p->seq <= m->careful_until)
		return;		/* the next one waits for the disk */
done:
	log_info("%s: careful replay over: every input up to #%llu answered",
	    m->name, (unsigned long long)m->careful_until);
	m->careful_until = 0;
	recover_caught_up(m);
	machine_flush(m);
}

/*
 * Drop input seq, which the worker died in: its caller (if it is a call
 * the worker had not answered) is told tell, and it is struck off the
 * journal, logged, traced and kept in the dropped file.
 */
void
recover_drop(struct machine *m, uint64_t seq, const char *why,
    const char *tell)
{
	struct pending	*p;
	struct frame	 f;
	const uint8_t	*in = NULL;
	struct buf	 vis = { 0 };
	ssize_t		 at;
	size_t		 len = 0;
	int		 answered;

	if (recover_journal_find(m, seq, &f) != NULL) {
		in = f.payload;
		len = f.len;
	}
	at = recover_forwarded_at(m, seq);
	answered = at < 0;
	store_vis(&vis, in, len > 64 ? 64 : len);
	log_warnx("%s: dropped input #%llu%s: %s (input: %.*s%s)", m->name,
	    (unsigned long long)seq, answered ? " (replayed from the "
	    "journal)" : "", why, (int)buf_used(&vis),
	    (const char *)buf_head(&vis), len > 64 ? "..." : "");
	buf_free(&vis);
	inspect_note(m, "dropped input #%llu: %s", (unsigned long long)seq,
	    why);
	if (m->store != NULL)
		store_dropped(m->store, seq, why, in, len);
	m->dropped++;
	/* Off the journal before the caller hears of it. */
	recover_strike(m, seq, seq);
	if (at < 0)
		return;
	p = queue_at(&m->pending, (size_t)at);
	if (p->client != NULL) {
		machine_tell(m, p->client, p->id, tell);
		server_client_unref(p->client);
	}
	m->errors++;
	queue_remove(&m->pending, (size_t)at);
	m->forwarded--;
}

/*
 * The pending inputs, not one of them applied, when the machine fails or
 * goes: a call is answered with why and struck off the journal (it is
 * never applied); a send, acknowledged already, stays in the journal, to
 * be applied when the machine runs again. While the machine is failed it
 * keeps them, held; once it is removed (removing) they are in its state
 * directory for its next start, or lost with durability none. Returns
 * how many sends were kept (or lost).
 */
size_t
recover_release(struct machine *m, const char *why, int removing)
{
	struct pqueue	 keep = { 0 };
	struct buf	 journal = { 0 }, held = { 0 };
	struct pending	*p;
	struct frame	 f;
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), n, i = 0, sends = 0;
	size_t		 undurable = 0, first_undurable;
	int		 struck = 0;

	/* With always, the last m->undurable are not on disk yet. */
	first_undurable = m->pending.n - (m->undurable < m->pending.n ?
	    m->undurable : m->pending.n);

	while (frame_parse(q, left, &recover_lim, &f) == FRAME_OK) {
		n = FRAME_HDR_LEN + f.len;
		while ((p = queue_at(&m->pending, i)) != NULL && p->seq < f.id)
			i++;
		if (p != NULL && p->seq == f.id && p->client != NULL)
			struck = 1;
		else {
			buf_add(&journal, q, n);
			if (p != NULL && p->seq == f.id)
				buf_add(&held, q, n);
		}
		q += n;
		left -= n;
	}
	for (i = 0; (p = queue_head(&m->pending)) != NULL; i++) {
		if (p->client == NULL && i >= first_undurable)
			undurable++;
		if (p->client != NULL) {
			if (m->store != NULL)
				store_strike(m->store, p->seq);
			machine_tell(m, p->client, p->id, why);
			server_client_unref(p->client);
			m->errors++;
		} else {
			sends++;
			if (!removing)
				queue_push(&keep, p);
		}
		queue_pop(&m->pending);
	}
	/* The journal loses the calls before the callers hear of it. */
	buf_free(&m->journal);
	m->journal = journal;
	if (struck)
		machine_persist_later(m);
	queue_free(&m->pending);
	m->pending = keep;
	buf_free(&m->held);
	if (removing)
		buf_free(&held);
	m->held = held;
	m->nheld = m->pending.n;
	m->undurable = removing ? 0 : undurable;
	m->forwarded = 0;
	m->discard = 0;
	return sends;
}

/* Put the journal's frames of the first k pending inputs before held. */
static void
recover_requeue(struct machine *m, size_t k)
{
	struct buf	 held = { 0 };
	struct frame	 f;
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), n, i = 0;

	/* The pending inputs are in the journal, in the same order. */
	while (i < k && frame_parse(q, left, &recover_lim, &f) == FRAME_OK) {
		n = FRAME_HDR_LEN + f.len;
		if (f.id == queue_at(&m->pending, i)->seq) {
			buf_add(&held, q, n);
			i++;
		}
		q += n;
		left -= n;
	}
	if (i < k)
		log_warnx("%s: %zu pending inputs missing from the journal",
		    m->name, k - i);
	buf_add(&held, buf_head(&m->held), buf_used(&m->held));
	buf_free(&m->held);
	m->held = held;
	m->nheld += k;
}

/* Restarts within the window (their times are in m->rtimes). */
static unsigned
recover_recent(struct machine *m, uint64_t now)
{
	uint64_t	 window = (uint64_t)(m->opts.restart_window * 1e9);
	unsigned	 i, n = 0;

	for (i = 0; i < SMSUP_MAX_RESTARTS && i < m->nrestarts; i++)
		if (now - m->rtimes[i] < window)
			n++;
	return n;
}

/* Whether the worker has not caught up: not ready, or still replaying. */
static int
recover_behind(const struct machine *m)
{
	return !m->ready || m->discard > 0 || m->careful_until != 0;
}

/* Once the worker has caught up, its start is a success. */
void
recover_caught_up(struct machine *m)
{
	if (recover_behind(m))
		return;
	m->start_fails = 0;
	m->replay_drops = 0;
}

/*
 * The worker c (NULL: one that was never heard of) is gone without being
 * asked, or broke the protocol and is to be killed (kill). Drop the input
 * it died in, give the others to the next worker, then restart or fail.
 */
void
recover_crashed(struct machine *m, struct child *c, const char *why,
    int kill)
{
	uint64_t	 suspect, careful, now;
	unsigned	 recent;
	size_t		 again;
	double		 delay;
	int		 clean, behind, replayed, outside;
	pid_t		 pid = c != NULL ? c->pid : 0;
	char		 tell[768], dropped[96] = "no input lost";

	suspect = recover_suspect(m, c, &careful);
	/* Died before it caught up: the same binary on the same state. */
	behind = recover_behind(m);
	if (behind)
		m->start_fails++;
	/* Dying in an input a worker applied before is not the input's doing. */
	replayed = suspect != 0 && recover_forwarded_at(m, suspect) < 0;
	clean = c != NULL && c->exited && WIFEXITED(c->status) &&
	    WEXITSTATUS(c->status) == 0 && c->broke[0] == '\0' &&
	    c->killed[0] == '\0';
	/* A SIGKILL we did not send: from outside (the OOM killer, kill). */
	outside = c != NULL && c->exited && WIFSIGNALED(c->status) &&
	    WTERMSIG(c->status) == SIGKILL && c->broke[0] == '\0' &&
	    c->killed[0] == '\0';
	if (kill && c != NULL)
		child_kill(c);
	m->worker = NULL;
	m->ready = 0;
	serial_reset(m);
	deadline_stop(m);
	/* Without a child, why says which worker it was. */
	if (pid != 0)
		snprintf(m->last_crash, sizeof m->last_crash, "worker (pid %ld) "
		    "%s", (long)pid, why);
	else
		snprintf(m->last_crash, sizeof m->last_crash, "worker %s", why);

	if (replayed && suspect <= m->proven_seq) {
		snprintf(dropped, sizeof dropped, "no input lost (it died "
		    "replaying #%llu, which a worker applied before)",
		    (unsigned long long)suspect);
	} else if (replayed && m->replay_drops > 0 && !m->clustered) {
		/*
		 * A second input that kills it in one replay: a worker that
		 * dies on whatever it is given is broken, not its inputs.
		 */
		machine_fail(m, "%s replaying input #%llu, after one dropped "
		    "in the same replay: no more are dropped (the worker, "
		    "not its inputs, looks broken; smsup restart drops one "
		    "more)", m->last_crash, (unsigned long long)suspect);
		return;
	} else if (suspect != 0 && m->clustered &&
	    (outside || suspect != m->strike_seq)) {
		/*
		 * A machine of a cluster drops an input only if the worker
		 * dies of it twice, by itself: a worker killed from outside
		 * on one node (SIGKILL: the OOM killer, a stray kill) must
		 * not make that node drop what the others apply. It goes
		 * again, alone; a SIGKILL never counts.
		 */
		if (!outside)
			m->strike_seq = suspect;
		if (suspect > m->careful_until)
			m->careful_until = suspect;
		snprintf(dropped, sizeof dropped, "input #%llu given again, "
		    "alone (%s)", (unsigned long long)suspect, outside ?
		    "killed from outside" : "a second death in it drops it");
	} else if (suspect != 0) {
		snprintf(tell, sizeof tell, "machine %s crashed applying this "
		    "input (%s); it was not applied", m->name, why);
		recover_drop(m, suspect, m->last_crash, tell);
		if (replayed)
			m->replay_drops++;
		snprintf(dropped, sizeof dropped, "input #%llu dropped",
		    (unsigned long long)suspect);
	} else if (careful > m->careful_until) {
		m->careful_until = careful;
		snprintf(dropped, sizeof dropped, "no input lost; those up to "
		    "#%llu replayed one at a time", (unsigned long long)careful);
	}
	m->discard = 0;
	/* What it had, applied or not, goes to the next worker. */
	if ((again = m->forwarded) > 0) {
		recover_requeue(m, again);
		m->forwarded = 0;
	}

	if (m->opts.restart == RESTART_TEMPORARY ||
	    (m->opts.restart == RESTART_TRANSIENT && clean)) {
		machine_fail(m, "%s (restart policy %s: not restarted)",
		    m->last_crash, m->opts.restart == RESTART_TEMPORARY ?
		    "temporary" : "transient");
		return;
	}
	/*
	 * A worker that dies before it has caught up (before it is ready,
	 * or replaying the inputs it is given again) more times in a row
	 * than the intensity allows restarts will not come up, however
	 * slowly it fails (its migration of the saved state dies, say).
	 */
	/*
	 * A machine of a cluster is not failed by how fast it crashed: a
	 * node replaying the log meets in milliseconds the crashes the
	 * others met in minutes, and one node's machine failed alone would
	 * skip what the others apply. It restarts, 1 s apart at most.
	 */
	if (m->start_fails > m->opts.max_restarts && !m->clustered) {
		machine_fail(m, "died before it caught up %u times in a row; "
		    "last: %s", m->start_fails, m->last_crash);
		return;
	}
	now = units_now();
	recent = recover_recent(m, now);
	if (recent >= m->opts.max_restarts && !m->clustered) {
		machine_fail(m, "restarted %u times in %gs; last: %s", recent,
		    m->opts.restart_window, m->last_crash);
		return;
	}
	m->rtimes[m->nrestarts % SMSUP_MAX_RESTARTS] = now;
	m->nrestarts++;
	m->restarts++;
	/*
	 * Backoff: 0, 10, 20, 40 ... ms, at most 1 s, and at most T/2R, so
	 * that a worker that can never come up (a migration of the saved
	 * state that always dies) does reach R restarts in T and fail,
	 * its calls answered, rather than restart for ever.
	 */
	delay = recent == 0 ? 0 : 0.01 * (double)(1u << (recent - 1));
	if (delay > 1)
		delay = 1;
	if (m->opts.max_restarts > 0 && !m->clustered &&
	    delay > m->opts.restart_window / (2. * m->opts.max_restarts))
		delay = m->opts.restart_window / (2. * m->opts.max_restarts);
	log_warnx("%s: %s; %s, %zu inputs for the next worker; restart %u in "
	    "%.0fms, from snapshot #%llu and the inputs since", m->name,
	    m->last_crash, dropped, again, m->restarts, delay * 1000, (unsigned long long)m->snap_seq);
	inspect_note(m, "%s; %s; restart %u in %.0fms", m->last_crash,
	    dropped, m->restarts, delay * 1000);
	machine_schedule_restart(m, delay);
}
