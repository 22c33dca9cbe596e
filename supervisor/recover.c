/*
 * recover.c: how a machine gets its state back. A machine is deterministic,
 * so its latest snapshot plus the inputs accepted since (the journal) is
 * its state: a new worker loads the snapshot and is given the journal
 * again, its outputs dropped.
 *
 * The journal holds, in order, every input accepted since the snapshot
 * that is or will be applied: the ones answered, then the pending ones.
 * An input answered with an error is struck off it (and off the journal
 * file) before the error is sent, so it is never applied later.
 *
 * When a worker dies (not asked to): the input it died in (named by its
 * CRASH frame) is answered with an error and not replayed, as are all the
 * inputs it had if it could not say (SIGKILL); the others it had are sent
 * again. Then, by the restart policy and intensity (at most R restarts in
 * T seconds, with a short backoff), the machine restarts from snapshot and
 * journal, or is marked failed.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
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

/* Strike the inputs [from, to] off the journal: they get errors. */
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
		if (f.id >= from && f.id <= to)
			struck = 1;
		else
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
	if (m->store != NULL)
		store_rewrite(m->store, &m->journal);
}

/*
 * A snapshot of the serving worker: the state after input seq. It
 * replaces the previous one, and the journal keeps only what follows.
 */
void
recover_snapshot(struct machine *m, uint64_t seq, const uint8_t *img,
    size_t len)
{
	recover_base(m, seq, img, len, 1);
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
    int persist)
{
	struct image	 hdr;
	struct frame	 f;
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
	buf_reset(&m->snapshot);
	if (buf_add(&m->snapshot, img, len) == -1) {
		log_warnx("%s: out of memory for a snapshot", m->name);
		return;
	}
	m->snap_seq = seq;
	/* The buffer compacts itself when it needs the room. */
	while (frame_parse(buf_head(&m->journal), buf_used(&m->journal),
	    &recover_lim, &f) == FRAME_OK && f.id <= seq)
		buf_consume(&m->journal, FRAME_HDR_LEN + f.len);
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
	store_snapshot(m->store, seq, img, len, &m->journal);
}

/* Write the base an upgrade left, once the upgrade is over. */
void
recover_persist_base(struct machine *m)
{
	if (!m->base_unsaved || m->store == NULL || m->upgrade != NULL)
		return;
	m->base_unsaved = 0;
	m->persisted_at = units_now();
	store_snapshot(m->store, m->snap_seq, buf_head(&m->snapshot),
	    buf_used(&m->snapshot), &m->journal);
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
	msg_put_u32(w, m->ntracers_state > 0 ? CONFIG_TRACE_STATE : 0);
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

	recover_config(m, c);
	if (buf_used(&m->snapshot) == 0) {
		peer_send(c->peer, FRAME_S_INIT, 0, NULL, 0);
		return 0;
	}
	if (image_decode(buf_head(&m->snapshot), buf_used(&m->snapshot),
	    &hdr) != IMAGE_OK) {
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
	peer_send(c->peer, FRAME_S_LOAD, 0, buf_head(&m->snapshot),
	    buf_used(&m->snapshot));
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
	log_info("%s: replaying %zu inputs since its snapshot (#%llu)",
	    m->name, count, (unsigned long long)m->snap_seq);
}

/* Move the journal's frames of seqs [from, to] to the front of held. */
static void
recover_requeue(struct machine *m, uint64_t from, uint64_t to, size_t count)
{
	struct buf	 held = { 0 };
	struct frame	 f;
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), n;

	while (frame_parse(q, left, &recover_lim, &f) == FRAME_OK) {
		n = FRAME_HDR_LEN + f.len;
		if (f.id >= from && f.id <= to)
			buf_add(&held, q, n);
		q += n;
		left -= n;
	}
	buf_add(&held, buf_head(&m->held), buf_used(&m->held));
	buf_free(&m->held);
	m->held = held;
	m->nheld += count;
}

/* Error the first k pending inputs (they were with the dead worker). */
static void
recover_error_head(struct machine *m, size_t k, uint64_t crash_seq,
    const char *why)
{
	struct pending	*p;
	uint64_t	 from = 0, to = 0;
	char		 msg[640];
	size_t		 i;

	for (i = 0; i < k && (p = queue_head(&m->pending)) != NULL; i++) {
		if (i == 0)
			from = p->seq;
		to = p->seq;
		if (p->seq == crash_seq)
			snprintf(msg, sizeof msg, "machine %s crashed applying "
			    "this input (%s); it was not applied", m->name,
			    why);
		else
			snprintf(msg, sizeof msg, "machine %s crashed (%s) "
			    "before answering this input; it was not applied",
			    m->name, why);
		if (p->client != NULL) {
			server_client_reply(p->client, FRAME_R_ERROR, p->id,
			    msg, strlen(msg));
			server_client_unref(p->client);
		}
		m->errors++;
		m->forwarded--;
		queue_pop(&m->pending);
	}
	/* Off the journal before any of those errors is written out. */
	if (k > 0)
		recover_strike(m, from, to);
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

/*
 * The worker c (NULL: already killed for misbehaving) is gone without
 * being asked. Answer what it had, then restart or fail.
 */
void
recover_crashed(struct machine *m, struct child *c, const char *why)
{
	struct pending	*p;
	uint64_t	 crash_seq = c != NULL ? c->crash_seq : 0, now;
	uint64_t	 first, last;
	unsigned	 recent;
	size_t		 k, again;
	double		 delay;
	int		 clean;
	pid_t		 pid = c != NULL ? c->pid : 0;

	m->worker = NULL;
	m->ready = 0;
	m->discard = 0;
	clean = c != NULL && WIFEXITED(c->status) &&
	    WEXITSTATUS(c->status) == 0 && c->broke[0] == '\0';
	/* Without a child, why says which worker it was. */
	if (c != NULL)
		snprintf(m->last_crash, sizeof m->last_crash, "worker (pid %ld) "
		    "%s", (long)pid, why);
	else
		snprintf(m->last_crash, sizeof m->last_crash, "worker %s", why);

	/* The one it died in, or all it had if it could not tell. */
	p = m->forwarded > 0 ? queue_head(&m->pending) : NULL;
	k = p == NULL ? 0 : crash_seq != 0 && p->seq == crash_seq ? 1 :
	    m->forwarded;
	recover_error_head(m, k, crash_seq, why);
	/* What it had after that goes to the next worker. */
	if ((again = m->forwarded) > 0) {
		first = queue_head(&m->pending)->seq;
		last = queue_at(&m->pending, again - 1)->seq;
		recover_requeue(m, first, last, again);
		m->forwarded = 0;
	}

	if (m->opts.restart == RESTART_TEMPORARY ||
	    (m->opts.restart == RESTART_TRANSIENT && clean)) {
		machine_fail(m, "%s (restart policy %s: not restarted)",
		    m->last_crash, m->opts.restart == RESTART_TEMPORARY ?
		    "temporary" : "transient");
		return;
	}
	now = units_now();
	recent = recover_recent(m, now);
	if (recent >= m->opts.max_restarts) {
		machine_fail(m, "restarted %u times in %gs; last: %s", recent,
		    m->opts.restart_window, m->last_crash);
		return;
	}
	m->rtimes[m->nrestarts % SMSUP_MAX_RESTARTS] = now;
	m->nrestarts++;
	m->restarts++;
	delay = recent == 0 ? 0 : 0.01 * (double)(1u << (recent - 1));
	if (delay > 1)
		delay = 1;
	log_warnx("%s: %s; %zu inputs answered with an error; restart %u in "
	    "%.0fms, from snapshot #%llu and the inputs since", m->name,
	    m->last_crash, k, m->restarts, delay * 1000,
	    (unsigned long long)m->snap_seq);
	inspect_note(m, "%s; restart %u in %.0fms", m->last_crash, m->restarts,
	    delay * 1000);
	machine_schedule_restart(m, delay);
}
