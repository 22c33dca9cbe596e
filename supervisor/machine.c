/*
 * machine.c: machines, their lifecycle and their inputs.
 *
 * Lifecycle (event -> action), one worker at a time serving:
 *
 *	state       event                   -> next state, action
 *	STARTING    HELLO                   -> STARTING, send CONFIG, then LOAD
 *	                                       the snapshot or INIT (recover.c)
 *	STARTING    READY                   -> RUNNING, replay the journal,
 *	                                       forward held inputs, answer run
 *	STARTING    snapshot not loadable   -> FAILED, error every input
 *	RUNNING     input                   -> journal it; forward (or hold)
 *	RUNNING     OUTPUT/ERROR            -> answer the oldest pending input
 *	RUNNING     SNAPSHOT                -> new base; journal trimmed
 *	RUNNING     IMAGE, FAIL (a token)   -> to whoever asked (serial.c)
 *	RUNNING     no answer in time       -> killed (deadline.c), then as
 *	                                       an exit
 *	STARTING,   exit, crash, protocol   -> RESTARTING (recover.c: the input
 *	RUNNING     error, start timeout       it died in dropped, the others
 *	                                       kept; by policy and intensity)
 *	                                       or FAILED
 *	RESTARTING  backoff over            -> STARTING, same binary
 *	RUNNING     stop                    -> STOPPING, SERIALIZE, STOP
 *	STOPPING    IMAGE                   -> final snapshot
 *	STOPPING    exit                    -> removed, answer stop waiters
 *	any         failed, removed         -> calls pending get errors (not
 *	                                       applied); sends stay journaled
 *	FAILED      run, restart            -> STARTING, from snapshot+journal
 *
 * Upgrades (upgrade.c) suspend and resume a RUNNING machine.
 *
 * Invariants: every accepted input is in `pending`, in acceptance order,
 * until it is answered, and in the journal until a snapshot covers it or
 * it is struck off as never to be applied (recover.c); a call gets one
 * answer, an error meaning that its input was not applied; a send, once
 * acknowledged, is applied unless its worker dies in it (logged, kept in
 * the dropped file); the first `forwarded` pending inputs have
 * been written to the worker, the others wait as encoded INPUT frames in
 * `held` (held is empty whenever the machine is forwarding). The worker
 * answers in order, so each answer matches the head of `pending` by
 * sequence number.
 */
#include <sys/mman.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "smsup.h"

struct machines	machines = TAILQ_HEAD_INITIALIZER(machines);

static void	machine_timer_cb(struct ev_loop *, ev_timer *, int);

struct machine *
machine_find(const char *name)
{
	struct machine	*m;

	TAILQ_FOREACH(m, &machines, entry)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

int
machine_count(void)
{
	struct machine	*m;
	int		 n = 0;

	TAILQ_FOREACH(m, &machines, entry)
		n++;
	return n;
}

const char *
machine_state_name(const struct machine *m)
{
	switch (m->state) {
	case MS_STARTING:
		return "starting";
	case MS_RUNNING:
		if (m->upgrade != NULL)
			return upgrade_phase_name(m);
		return "running";
	case MS_STOPPING:
		return "stopping";
	case MS_RESTARTING:
		return "restarting";
	case MS_FAILED:
		return "failed";
	}
	return "?";
}

/* Answer and drop every run/stop waiter. */
static void
machine_answer_waiters(struct machine *m, uint8_t type, const char *text)
{
	struct pending	*w;

	while ((w = queue_head(&m->waiters)) != NULL) {
		if (w->client != NULL) {
			server_client_reply(w->client, type, w->id, text,
			    strlen(text));
			server_client_unref(w->client);
		}
		queue_pop(&m->waiters);
	}
}

void
machine_wait(struct machine *m, struct client *c, uint64_t id)
{
	struct pending	 w = { c, id, 0 };

	if (queue_push(&m->waiters, &w) == -1) {
		server_client_replyf(c, FRAME_R_ERROR, id, "out of memory");
		return;
	}
	server_client_ref(c);
}

/*
 * The pending inputs when the machine fails or goes (removing): calls get
 * why and are never applied, sends stay journaled (recover_release).
 */
static void
machine_release_pending(struct machine *m, const char *why, int removing)
{
	size_t	 sends;

	sends = recover_release(m, why, removing);
	if (removing && sends > 0) {
		if (m->store != NULL)
			log_info("%s: %zu accepted inputs wait in its journal "
			    "for its next start", m->name, sends);
		else
			log_warnx("%s: %zu accepted inputs lost with it "
			    "(durability none)", m->name, sends);
	} else if (sends > 0)
		log_info("%s: %zu accepted inputs wait for it to run again",
		    m->name, sends);
	backlog_release(m, 0);
}

static void
machine_insert(struct machine *m)
{
	struct machine	*at;

	TAILQ_FOREACH(at, &machines, entry)
		if (strcmp(at->name, m->name) > 0)
			break;
	if (at != NULL)
		TAILQ_INSERT_BEFORE(at, m, entry);
	else
		TAILQ_INSERT_TAIL(&machines, m, entry);
}

static void
machine_remove(struct machine *m)
{
	char	 msg[256];

	ev_timer_stop(EV_DEFAULT, &m->timer);
	deadline_stop(m);
	if (m->worker != NULL)
		child_kill(m->worker);
	m->worker = NULL;
	inspect_machine_gone(m, "stopped");
	rehearse_machine_gone(m);
	snprintf(msg, sizeof msg, "machine %s was stopped before it applied "
	    "this input; it was not applied", m->name);
	machine_release_pending(m, msg, 1);
	backlog_release(m, 1);
	queue_free(&m->producers);
	machine_answer_waiters(m, FRAME_R_ERROR, "machine removed");
	TAILQ_REMOVE(&machines, m, entry);
	persist_close(m);
	queue_free(&m->pending);
	queue_free(&m->waiters);
	buf_free(&m->held);
	buf_free(&m->trace_in);
	buf_free(&m->trace_ev);
	buf_free(&m->journal);
	base_free(m);
	serial_free(m);
	upgrade_report_free(m);
	free(m->again_path);
	free(m->path);
	free(m);
	server_machine_gone();
}

/* Remove m now, its worker killed (a cluster's snapshot replaces it). */
void
machine_discard(struct machine *m, const char *why)
{
	log_info("%s: removed: %s", m->name, why);
	machine_remove(m);
}

static int
machine_spawn(struct machine *m, char *err, size_t len)
{
	m->worker = child_spawn(m->path, m->name, &m->opts,
	    machine_worker_frame, machine_worker_gone, m, err, len);
	if (m->worker == NULL)
		return -1;
	m->ready = 0;
	m->suspended = 0;
	m->state = MS_STARTING;
	m->why[0] = '\0';
	ev_timer_stop(EV_DEFAULT, &m->timer);
	ev_timer_set(&m->timer, SMSUP_START_TIMEOUT, 0.);
	ev_timer_start(EV_DEFAULT, &m->timer);
	log_info("%s: starting %s (pid %ld)", m->name, m->path,
	    (long)m->worker->pid);
	return 0;
}

/* Start again after a crash, in delay seconds (recover.c). */
void
machine_schedule_restart(struct machine *m, double delay)
{
	m->state = MS_RESTARTING;
	ev_timer_stop(EV_DEFAULT, &m->timer);
	ev_timer_set(&m->timer, delay, 0.);
	ev_timer_start(EV_DEFAULT, &m->timer);
}

/*
 * The init argument in force: the one given for a machine started from
 * nothing (saved with it, before any input), else the one it was first
 * started with, whatever this `run` says.
 */
static int
machine_init_arg(struct machine *m, int saved, char *err, size_t len)
{
	char	 arg[OPTS_ARG_MAX + 1];
	int	 rc;

	if (!saved) {
		if (store_put_init_arg(m->store, m->opts.has_init_arg ?
		    m->opts.init_arg : NULL) == -1) {
			snprintf(err, len, "cannot save its init argument: %s",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if ((rc = store_get_init_arg(m->store, arg, sizeof arg)) == -1) {
		snprintf(err, len, "cannot read its init argument: %s",
		    strerror(errno));
		return -1;
	}
	if (m->opts.has_init_arg && (rc == 0 ||
	    strcmp(arg, m->opts.init_arg) != 0))
		log_warnx("%s: --init-arg not used: the machine resumes from "
		    "its saved state (start afresh with --fresh)", m->name);
	m->opts.has_init_arg = rc == 1;
	memset(m->opts.init_arg, 0, sizeof m->opts.init_arg);
	if (rc == 1)
		memcpy(m->opts.init_arg, arg, strlen(arg));
	return 0;
}

/*
 * Open the machine's store and take its saved state: snapshot, journal
 * and the next sequence number. --fresh moves it aside first.
 */
static int
machine_open_store(struct machine *m, char *err, size_t len)
{
	char		 moved[PATH_MAX];
	struct store_image fi;
	uint64_t	 last;
	int		 rc;

	if (m->opts.fresh) {
		if ((rc = store_aside(m->name, moved, sizeof moved)) == -1) {
			snprintf(err, len, "cannot move its saved state aside: "
			    "%s", strerror(errno));
			return -1;
		}
		if (rc == 1)
			log_info("%s: starting afresh; its saved state is in %s",
			    m->name, moved);
	}
	if (m->opts.durability == DURABILITY_NONE)
		return 0;
	if ((m->store = store_open(m->name, m->opts.durability, err, len)) ==
	    NULL)
		return -1;
	persist_open(m);
	rc = store_load(m->store, &m->snapshot, &fi, &m->snap_seq,
	    &m->journal, &last, err, len);
	if (rc == -1) {
		store_close(m->store);
		m->store = NULL;
		return -1;
	}
	/* A snapshot file's image stays there: the base is the file. */
	if (fi.fd != -1) {
		if (base_set_file(m, fi.fd, fi.off, fi.len) == -1) {
			snprintf(err, len, "cannot keep its snapshot: %s",
			    strerror(errno));
			close(fi.fd);
			store_close(m->store);
			m->store = NULL;
			return -1;
		}
		close(fi.fd);
	}
	m->next_seq = last + 1;
	m->applied_seq = last;
	if (rc == 1)
		log_info("%s: resuming from its saved state: snapshot #%llu, "
		    "inputs up to #%llu", m->name,
		    (unsigned long long)m->snap_seq, (unsigned long long)last);
	return machine_init_arg(m, rc == 1, err, len);
}

/* A state given (by a cluster's snapshot): no store is read. */
static int
machine_take_given(struct machine *m, const struct machine_given *g,
    char *err, size_t len)
{
	if ((g->base_len > 0 && base_set_bytes(m, g->base, g->base_len) ==
	    -1) || buf_add(&m->journal, g->journal, g->journal_len) == -1) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	m->snap_seq = g->snap_seq;
	m->next_seq = g->last + 1;
	m->applied_seq = g->last;
	return 0;
}

/* Create and start machine name from the binary at path. */
struct machine *
machine_start(const char *name, const char *path,
    const struct machine_opts *opts, char *err, size_t len)
{
	return machine_start_given(name, path, opts, NULL, err, len);
}

/* The same, from the state g if not NULL. */
struct machine *
machine_start_given(const char *name, const char *path,
    const struct machine_opts *opts, const struct machine_given *g,
    char *err, size_t len)
{
	struct machine	*m;

	if ((m = calloc(1, sizeof *m)) == NULL ||
	    (m->path = strdup(path)) == NULL) {
		free(m);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	snprintf(m->name, sizeof m->name, "%s", name);
	m->opts = *opts;
	m->next_seq = 1;	/* 0 means "no input" */
	base_init(m);
	ev_init(&m->timer, machine_timer_cb);
	m->timer.data = m;
	deadline_init(m);
	if ((g != NULL ? machine_take_given(m, g, err, len) :
	    machine_open_store(m, err, len)) == -1 ||
	    machine_spawn(m, err, len) == -1) {
		store_close(m->store);
		buf_free(&m->journal);
		base_free(m);
		free(m->path);
		free(m);
		return NULL;
	}
	machine_insert(m);
	inspect_machine_new(m);
	return m;
}

/* Start a failed machine again, from its snapshot and journal. */
int
machine_restart(struct machine *m, char *err, size_t len)
{
	if (m->state != MS_FAILED) {
		snprintf(err, len, "%s is %s", m->name, machine_state_name(m));
		return -1;
	}
	m->nrestarts = 0;	/* a new budget of restarts */
	m->start_fails = 0;
	m->replay_drops = 0;
	return machine_spawn(m, err, len);
}

/*
 * The worker is gone or unusable: the machine fails, every pending input
 * gets an error, and so does every waiter.
 */
void
machine_fail(struct machine *m, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[640];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof m->why, fmt, ap);
	va_end(ap);
	/* A new worker on probation has an old one to fall back on. */
	if (upgrade_rescue(m, m->worker, msg))
		return;
	memcpy(m->why, msg, sizeof m->why);	/* msg fits: see vsnprintf */
	m->state = MS_FAILED;
	m->ready = 0;
	m->upgrade_again = 0;
	if (m->upgrade != NULL)
		upgrade_abort(m, m->why);
	if (m->worker != NULL) {
		child_kill(m->worker);
		m->worker = NULL;
	}
	serial_reset(m);
	deadline_stop(m);
	ev_timer_stop(EV_DEFAULT, &m->timer);
	log_warnx("%s: failed: %s", m->name, m->why);
	inspect_queries_fail(m, m->why);
	inspect_note(m, "failed: %s", m->why);
	backlog_release(m, 1);
	snprintf(msg, sizeof msg, "machine %s failed: %s; this input was not "
	    "applied", m->name, m->why);
	machine_release_pending(m, msg, 0);
	snprintf(msg, sizeof msg, "machine %s failed: %s", m->name, m->why);
	machine_answer_waiters(m, FRAME_R_ERROR, msg);
}

static int
machine_forwarding(const struct machine *m)
{
	return m->state == MS_RUNNING && m->ready && !m->suspended &&
	    m->worker != NULL && m->worker->peer != NULL &&
	    m->careful_until == 0;
}

/* The held inputs but the last m->undurable ones go to the worker. */
static void
machine_flush_durable(struct machine *m, struct buf *w)
{
	size_t	 cut, k;

	if (m->nheld <= m->undurable)
		return;
	k = m->nheld - m->undurable;
	cut = recover_tail(&m->held, m->undurable);
	upgrade_forwarded(m, buf_head(&m->held), cut);
	if (buf_add(w, buf_head(&m->held), cut) == -1) {
		machine_fail(m, "out of memory forwarding inputs");
		return;
	}
	buf_consume(&m->held, cut);
	m->forwarded += k;
	m->nheld -= k;
	peer_kick(m->worker->peer);
	deadline_owed(m);
	inspect_flush(m);
}

/* Send the held inputs to the worker, in order, if it may have them. */
void
machine_flush(struct machine *m)
{
	struct buf	*w, tmp;

	if (m->careful_until != 0) {
		recover_drip(m);
		return;
	}
	if (!machine_forwarding(m))
		return;
	if (m->nheld == 0) {
		inspect_flush(m);
		return;
	}
	w = peer_wbuf(m->worker->peer);
	/* With always, what is not on disk yet stays (persist.c). */
	if (m->undurable > 0) {
		machine_flush_durable(m, w);
		return;
	}
	upgrade_forwarded(m, buf_head(&m->held), buf_used(&m->held));
	if (buf_used(w) == 0) {
		/* Hand the whole buffer over instead of copying it. */
		tmp = *w;
		*w = m->held;
		m->held = tmp;
		buf_reset(&m->held);
	} else {
		if (buf_add(w, buf_head(&m->held), buf_used(&m->held)) == -1) {
			machine_fail(m, "out of memory forwarding inputs");
			return;
		}
		buf_reset(&m->held);
	}
	m->forwarded += m->nheld;
	m->nheld = 0;
	peer_kick(m->worker->peer);
	deadline_owed(m);
	inspect_flush(m);
}

/*
 * Accept an input for machine m: from here on it will be applied exactly
 * once, or answered with an error. c is who waits for the output (NULL
 * for send). -1 with err set if it is not accepted.
 */
int
machine_input(struct machine *m, struct client *c, uint64_t id,
    const void *data, size_t len, char *err, size_t errlen)
{
	struct pending	 p;
	struct buf	*b;
	int		 always;

	if (m->state == MS_FAILED) {
		snprintf(err, errlen, "machine %s is failed: %s (start it "
		    "again with: smsup run %s)", m->name, m->why, m->name);
		return -1;
	}
	if (m->state == MS_STOPPING) {
		snprintf(err, errlen, "machine %s is stopping", m->name);
		return -1;
	}
	if (len > FRAME_MAX_DEFAULT) {
		snprintf(err, errlen, "input of %zu bytes is larger than the "
		    "cap of %u", len, FRAME_MAX_DEFAULT);
		return -1;
	}
	if (backlog_admit(m, err, errlen) == -1)
		return -1;
	/* With always, only what can be made durable is accepted. */
	always = m->store != NULL &&
	    m->opts.durability == DURABILITY_ALWAYS;
	if (always && !store_healthy(m->store)) {
		snprintf(err, errlen, "machine %s cannot make inputs durable "
		    "now (%s); not accepted", m->name,
		    store_degraded(m->store));
		return -1;
	}
	p.client = c;
	p.id = id;
	p.seq = m->next_seq;
	/* ... and given to the worker only once it is on disk (persist.c). */
	b = machine_forwarding(m) && !always ? peer_wbuf(m->worker->peer) :
	    &m->held;
	if (frame_put(b, FRAME_S_INPUT, p.seq, data, len) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (queue_push(&m->pending, &p) == -1) {
		b->len -= FRAME_HDR_LEN + len;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (recover_journal_add(m, b->data + b->len - FRAME_HDR_LEN - len,
	    FRAME_HDR_LEN + len) == -1) {
		queue_unpush(&m->pending);
		b->len -= FRAME_HDR_LEN + len;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->next_seq++;
	if (c != NULL)
		server_client_ref(c);
	if (always)
		m->undurable++;
	if (b == &m->held)
		m->nheld++;
	else {
		m->forwarded++;
		if (m->upgrade != NULL)
			upgrade_forwarded(m, b->data + b->len - FRAME_HDR_LEN -
			    len, FRAME_HDR_LEN + len);
		peer_kick(m->worker->peer);
		deadline_owed(m);
	}
	return 0;
}

/* The worker answered an input: it must be the oldest forwarded one. */
static void
machine_answer(struct machine *m, const struct frame *f)
{
	struct pending	*p = queue_head(&m->pending);

	/* Inputs replayed (after a restart or a rollback): answered before. */
	if (m->discard > 0) {
		if (f->id <= m->discard_last || (p != NULL && f->id >= p->seq)) {
			machine_worker_broken(m, "answered replayed input #%llu "
			    "out of order", (unsigned long long)f->id);
			return;
		}
		m->discard--;
		m->discard_last = f->id;
		if (f->id > m->proven_seq)
			m->proven_seq = f->id;
		recover_caught_up(m);
		deadline_progress(m);
		if (m->careful_until != 0)
			recover_drip(m);
		return;
	}
	if (p == NULL || m->forwarded == 0 || p->seq != f->id) {
		machine_worker_broken(m, "answered input #%llu out of order",
		    (unsigned long long)f->id);
		return;
	}
	deadline_progress(m);
	m->forwarded--;
	m->inputs++;
	m->applied_seq = p->seq;
	if (p->seq > m->proven_seq)
		m->proven_seq = p->seq;
	recover_caught_up(m);
	if (f->type == FRAME_W_ERROR)
		m->errors++;
	if (m->ntracers > 0)
		inspect_answer(m, f);
	if (p->client != NULL) {
		server_client_reply(p->client, f->type == FRAME_W_OUTPUT ?
		    FRAME_R_OUTPUT : FRAME_R_ERROR, p->id, f->payload, f->len);
		server_client_unref(p->client);
	}
	queue_pop(&m->pending);
	backlog_release(m, 0);
	if (m->upgrade != NULL)
		upgrade_answered(m);
	/* Careful replay: this one is behind us; the next one goes. */
	if (m->careful_until != 0) {
		m->discard_last = f->id;
		recover_drip(m);
	}
}

static void
machine_ready(struct machine *m)
{
	char	 msg[256];

	ev_timer_stop(EV_DEFAULT, &m->timer);
	m->ready = 1;
	m->state = MS_RUNNING;
	m->since = units_now();
	log_info("%s: running %s version %s (pid %ld)", m->name,
	    m->worker->type, m->version, (long)m->worker->pid);
	snapfork_offer(m);
	recover_replay(m);
	recover_caught_up(m);
	machine_flush(m);
	snprintf(msg, sizeof msg, "%s: running version %s (pid %ld)", m->name,
	    m->version, (long)m->worker->pid);
	inspect_note(m, "running version %s (pid %ld)", m->version,
	    (long)m->worker->pid);
	machine_answer_waiters(m, FRAME_R_OK, msg);
}

/*
 * The worker broke the protocol: treated as crashed (restarted or not by
 * the machine's policy), unless one on probation can fall back.
 */
void
machine_worker_broken(struct machine *m, const char *fmt, ...)
{
	struct child	*c = m->worker;
	va_list		 ap;
	char		 why[512], who[600];

	if (c == NULL)
		return;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(who, sizeof who, "broke the protocol: %s", why);
	if (c != NULL && c->broke[0] == '\0')
		snprintf(c->broke, sizeof c->broke, "%s", why);
	inspect_worker_lost(m, why);
	if (upgrade_rescue(m, c, who))
		return;
	if (m->upgrade != NULL)
		upgrade_abort(m, why);
	if (m->state == MS_STOPPING) {
		machine_fail(m, "worker %s while stopping", who);
		return;
	}
	recover_crashed(m, c, who, 1);
}

/*
 * An IMAGE by descriptor: a sealed memfd of the length it says, mapped
 * read-only and handed on as an IMAGE whose frame carries the descriptor,
 * for those who keep or pass on the descriptor rather than the bytes.
 */
static void
machine_image_fd(struct machine *m, const struct frame *f)
{
	struct msg_reader	 r;
	struct frame		 g = *f;
	uint64_t		 len;
	void			*p;
	char			 why[128];

	msg_init(&r, f->payload, f->len);
	msg_get_u64(&r, &len);
	if (msg_end(&r) == -1 || f->fd == -1 || len > FRAME_IMAGE_MAX_DEFAULT ||
	    !base_fd_valid(f->fd, len)) {
		machine_worker_broken(m, "sent an image descriptor that is not "
		    "a sealed memfd of the length it says");
		return;
	}
	g.type = FRAME_W_IMAGE;
	g.len = (uint32_t)len;
	if ((p = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, f->fd, 0)) ==
	    MAP_FAILED) {
		/* Ours, not the worker's: the request fails. */
		snprintf(why, sizeof why, "cannot map its image of %llu bytes: "
		    "%s", (unsigned long long)len, strerror(errno));
		g.type = FRAME_W_FAIL;
		g.payload = (const uint8_t *)why;
		g.len = (uint32_t)strlen(why);
		g.fd = -1;
	} else
		g.payload = p;
	if (!m->ready || !serial_frame(m, &g))
		machine_worker_broken(m, "sent an IMAGE_FD that answers no "
		    "request");
	if (p != MAP_FAILED)
		munmap(p, (size_t)len);
}

void
machine_worker_frame(struct child *c, const struct frame *f)
{
	struct machine	*m = c->arg;
	char		 err[512];

	if (f->type == FRAME_W_STATE && inspect_worker_frame(m, f))
		return;
	if (f->type == FRAME_W_IMAGE_FD) {
		machine_image_fd(m, f);
		return;
	}
	if (f->type == FRAME_W_SNAPSHOT_FILE ||
	    f->type == FRAME_W_SNAPSHOT_FAIL) {
		snapfork_frame(m, c, f);
		return;
	}
	/* Answers to SERIALIZE carry the request's token (serial.c). */
	if (f->type == FRAME_W_IMAGE || (f->type == FRAME_W_FAIL &&
	    f->id != 0)) {
		if (!m->ready || !serial_frame(m, f))
			machine_worker_broken(m, "sent an %s that answers no "
			    "request", frame_type_name(f->type));
		return;
	}
	switch (f->type) {
	case FRAME_W_OUTPUT:
	case FRAME_W_ERROR:
		if (m->ready) {
			machine_answer(m, f);
			return;
		}
		break;
	case FRAME_W_SNAPSHOT:
		/* During an upgrade the base is the image it moves. */
		if (m->ready && m->upgrade == NULL)
			recover_snapshot(m, f->id, f->payload, f->len);
		return;
	case FRAME_W_HELLO:
		if (m->state != MS_STARTING || c->hello)
			break;
		if (child_hello(c, f, err, sizeof err) == -1) {
			machine_worker_broken(m, "%s", err);
			return;
		}
		snprintf(m->type, sizeof m->type, "%s", c->type);
		snprintf(m->version, sizeof m->version, "%s", c->version);
		if (recover_start(m, c, err, sizeof err) == -1)
			machine_fail(m, "%s", err);
		return;
	case FRAME_W_READY:
		if (m->state != MS_STARTING || !c->hello || m->ready)
			break;
		machine_ready(m);
		return;
	case FRAME_W_FAIL:
		if (m->state != MS_STARTING)
			break;
		machine_fail(m, "%s failed: %.*s",
		    base_len(m) ? "loading its saved state" :
		    "init", (int)f->len, f->payload);
		return;
	}
	machine_worker_broken(m, "sent an unexpected %s frame",
	    frame_type_name(f->type));
}

void
machine_worker_gone(struct child *c, const char *why)
{
	struct machine	*m = c->arg;

	uint64_t	 suspect, careful;
	char		 tell[768];

	m->worker = NULL;
	inspect_worker_lost(m, why);
	if (upgrade_rescue(m, c, why))
		return;
	if (m->state == MS_STOPPING) {
		/* Killed, hung in an input: that one is the cause. */
		if (m->forwarded > 0 && (suspect = recover_suspect(m, c,
		    &careful)) != 0) {
			snprintf(tell, sizeof tell, "machine %s was killed "
			    "stopping while it applied this input (%s); it was "
			    "not applied", m->name, why);
			recover_drop(m, suspect, why, tell);
		}
		log_info("%s: stopped (%s)", m->name, why);
		machine_answer_waiters(m, FRAME_R_OK, "stopped");
		machine_remove(m);
		return;
	}
	if (m->upgrade != NULL)
		upgrade_abort(m, why);
	recover_crashed(m, c, why, 0);
}

/* A new worker took over after an upgrade. */
void
machine_adopt(struct machine *m, struct child *c)
{
	m->worker = c;
	c->frame = machine_worker_frame;
	c->gone = machine_worker_gone;
	c->arg = m;
	snprintf(m->version, sizeof m->version, "%s", c->version);
	m->since = units_now();
	m->ready = 1;
	serial_reset(m);
	if (m->ntracers_state > 0)
		recover_config(m, c);
}

static void
machine_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct machine	*m = w->data;
	char		 err[512];

	(void)loop;
	(void)revents;
	switch (m->state) {
	case MS_STARTING:
		if (m->worker != NULL) {
			log_warnx("%s: not ready after %.0fs: killing pid %ld",
			    m->name, SMSUP_START_TIMEOUT,
			    (long)m->worker->pid);
			child_kill(m->worker);
		}
		m->worker = NULL;
		recover_crashed(m, NULL, "was not ready in time", 0);
		break;
	case MS_RESTARTING:
		if (machine_spawn(m, err, sizeof err) == -1)
			machine_fail(m, "cannot restart: %s", err);
		break;
	case MS_STOPPING:
		if (m->worker != NULL) {
			log_warnx("%s: not stopped after %.0fs: killing pid %ld",
			    m->name, SMSUP_STOP_TIMEOUT, (long)m->worker->pid);
			child_kill_why(m->worker, "was killed: not stopped in "
			    "time");
		}
		break;
	default:
		break;
	}
}

/*
 * Stop machine m: it answers what it has, then exits. Returns 1 if it is
 * already gone, 0 if c will be answered when it is, -1 with err set.
 */
int
machine_stop(struct machine *m, struct client *c, uint64_t id, char *err,
    size_t len)
{
	if (m->upgrade != NULL) {
		snprintf(err, len, "%s: upgrade in progress", m->name);
		return -1;
	}
	if (m->state == MS_STOPPING) {
		if (c != NULL)
			machine_wait(m, c, id);
		return 0;
	}
	if (m->state != MS_RUNNING || !m->ready || m->worker == NULL ||
	    m->worker->peer == NULL) {
		log_info("%s: removed (%s)", m->name, machine_state_name(m));
		machine_remove(m);
		return 1;
	}
	m->state = MS_STOPPING;
	if (c != NULL)
		machine_wait(m, c, id);
	/* A careful replay ends: what is held goes before the STOP. */
	if (m->careful_until != 0 && m->nheld > 0) {
		m->careful_until = 0;
		m->state = MS_RUNNING;
		machine_flush(m);
		m->state = MS_STOPPING;
	}
	/* A final snapshot, after the inputs it has, so none is replayed. */
	if (m->store != NULL)
		serial_request(m, SER_STOP);
	peer_send(m->worker->peer, FRAME_S_STOP, 0, NULL, 0);
	ev_timer_stop(EV_DEFAULT, &m->timer);
	ev_timer_set(&m->timer, SMSUP_STOP_TIMEOUT, 0.);
	ev_timer_start(EV_DEFAULT, &m->timer);
	log_info("%s: stopping", m->name);
	return 0;
}
