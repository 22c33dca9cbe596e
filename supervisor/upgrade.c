/*
 * upgrade.c: replacing machines' workers with new binaries, keeping their
 * state and every input. An upgrade is a group of one or more machines
 * that all commit or all roll back.
 *
 * Each machine of a group goes through these phases:
 *
 *	phase      event                       -> action
 *	SPAWN      (start)                     -> spawn the new binary; the old
 *	                                          worker keeps serving
 *	SPAWN      new HELLO, acceptable       -> ARMED
 *	SPAWN      new HELLO, same version     -> NOOP (unless forced)
 *	SPAWN      new HELLO, not acceptable   -> the group fails
 *	(all ARMED or NOOP)                    -> suspend each: hold new inputs,
 *	                                          send SERIALIZE after the inputs
 *	                                          the old worker has -> DRAIN
 *	DRAIN      old IMAGE (its token)       -> LOAD it into the new -> MIGRATE
 *	MIGRATE    new READY                   -> MIGRATED
 *	(all MIGRATED or NOOP)                 -> commit each: the new worker
 *	                                          serves, the held inputs go to
 *	                                          it; the old one is retired, or
 *	                                          kept suspended -> PROBATION
 *	PROBATION  window closes               -> retire the old worker: done
 *	PROBATION  new worker dies             -> the old worker resumes; the
 *	                                          inputs the new one answered
 *	                                          are replayed into it (their
 *	                                          outputs dropped), the one it
 *	                                          died in is answered with an
 *	                                          error, the rest go to the old
 *	before commit: new FAIL or exit, old   -> the group fails: every new
 *	           FAIL, timeout, bad image       worker is killed, every old one
 *	                                          resumes with its held inputs
 *	any        old worker dies             -> that machine fails (machine.c)
 *	                                          and the rest of the group rolls
 *	                                          back
 *
 * A worker answers in order, so the image the old worker sends after
 * SERIALIZE holds exactly the inputs forwarded before it: nothing is
 * applied twice and nothing is skipped, whichever way the upgrade ends.
 * The SERIALIZE has a token of its own (serial.c): if the upgrade fails
 * or times out before the image comes, the request is abandoned and the
 * late image, recognised by its token, is dropped while the old worker
 * goes on serving.
 */
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "smsup.h"

#define UPGRADE_REPLAY_MAX	(64u << 20)	/* inputs kept on probation */

enum upgrade_phase {
	UP_SPAWN,
	UP_ARMED,
	UP_DRAIN,
	UP_MIGRATE,
	UP_MIGRATED,
	UP_PROBATION,
	UP_NOOP,
	UP_DONE,
};

struct ugroup;
struct upgrade {
	struct machine		*m;
	struct ugroup		*g;
	struct child		*new;
	struct child		*old;	/* kept suspended during probation */
	enum upgrade_phase	 phase;
	struct upgrade_spec	 spec;
	char			 from[SMSUP_VERSION_MAX + 1];
	char			*old_path;	/* the binary before the commit */
	ev_timer		 timer;
	uint64_t		 t_start, t_hello, t_suspend, t_drained;
	uint64_t		 t_image, t_ready, t_commit;
	size_t			 image_len;
	int			 image_fd;	/* it moved by descriptor */
	size_t			 held;
	struct buf		 replay;	/* inputs given in probation */
	char			 report[640];
};

struct ugroup {
	TAILQ_ENTRY(ugroup)	 entry;		/* waiting to start */
	int			 n;
	uint32_t		 flags;
	int			 hup;
	double			 timeout;	/* 0: each machine's own */
	double			 probation;	/* < 0: each machine's own */
	struct client		*client;
	uint64_t		 id;
	int			 failed;
	int			 started;
	int			 holds;		/* not freed while held */
	int			 has_extra;	/* --extra TEXT, for migrate */
	char			 extra[OPTS_ARG_MAX + 1];
	struct upgrade		 up[];		/* n of them */
};

static int	upgrade_running;	/* groups started, not yet done */

static TAILQ_HEAD(, ugroup) upgrade_waiting =
    TAILQ_HEAD_INITIALIZER(upgrade_waiting);

static void	upgrade_new_frame(struct child *, const struct frame *);
static void	upgrade_new_gone(struct child *, const char *);
static void	upgrade_kept_frame(struct child *, const struct frame *);
static void	upgrade_kept_gone(struct child *, const char *);
static void	upgrade_timer_cb(struct ev_loop *, ev_timer *, int);
static void	upgrade_group_fail(struct ugroup *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	upgrade_finish(struct upgrade *, int, const char *);
static int	upgrade_group_start(struct ugroup *, char *, size_t);

const char *
upgrade_phase_name(const struct machine *m)
{
	switch (m->upgrade->phase) {
	case UP_SPAWN:
	case UP_ARMED:
	case UP_NOOP:
		return "upgrading";
	case UP_DRAIN:
		return "suspended";
	case UP_MIGRATE:
	case UP_MIGRATED:
		return "migrating";
	case UP_PROBATION:
		return "probation";
	case UP_DONE:
		break;
	}
	return "running";
}

static double
upgrade_timeout(const struct upgrade *up)
{
	if (up->g->timeout > 0)
		return up->g->timeout;
	return up->m->opts.upgrade_timeout;
}

static double
upgrade_probation(const struct upgrade *up)
{
	if (up->g->probation >= 0)
		return up->g->probation;
	return up->m->opts.probation;
}

static void
upgrade_arm(struct upgrade *up, double seconds)
{
	ev_timer_stop(EV_DEFAULT, &up->timer);
	ev_timer_set(&up->timer, seconds, 0.);
	ev_timer_start(EV_DEFAULT, &up->timer);
}

/* Start the queued groups that can run, then SIGHUP follow-ups. */
static void
upgrade_next(void)
{
	struct ugroup	*g, *next;
	struct machine	*m;
	char		 err[512];
	int		 i, busy;

	for (g = TAILQ_FIRST(&upgrade_waiting); g != NULL; g = next) {
		next = TAILQ_NEXT(g, entry);
		for (i = busy = 0; i < g->n; i++)
			if ((m = machine_find(g->up[i].spec.name)) != NULL &&
			    m->upgrade != NULL)
				busy = 1;
		if (busy)
			continue;
		TAILQ_REMOVE(&upgrade_waiting, g, entry);
		if (upgrade_group_start(g, err, sizeof err) == -1) {
			if (g->client != NULL) {
				server_client_reply(g->client, FRAME_R_ERROR,
				    g->id, err, strlen(err));
				server_client_unref(g->client);
			}
			free(g);
		}
	}
	TAILQ_FOREACH(m, &machines, entry) {
		if (!m->upgrade_again || m->upgrade != NULL ||
		    m->state != MS_RUNNING || server_shutting_down)
			continue;
		m->upgrade_again = 0;
		log_info("%s: starting the upgrade requested meanwhile",
		    m->name);
		upgrade_hup_one(m, m->again_path);
		free(m->again_path);
		m->again_path = NULL;
	}
}

/* The group is over when no member is left: answer and free it. */
static void
upgrade_group_done(struct ugroup *g)
{
	struct buf	 text = { 0 };
	int		 i;

	if (g->holds > 0)
		return;
	for (i = 0; i < g->n; i++)
		if (g->up[i].phase != UP_DONE)
			return;
	for (i = 0; i < g->n; i++) {
		if (g->up[i].report[0] == '\0')
			continue;
		if (text.len > 0)
			buf_add(&text, "\n", 1);
		buf_add(&text, g->up[i].report, strlen(g->up[i].report));
	}
	for (i = 0; i < g->n; i++) {
		buf_free(&g->up[i].replay);
		free(g->up[i].old_path);
	}
	if (g->client != NULL) {
		server_client_reply(g->client, g->failed ? FRAME_R_ERROR :
		    FRAME_R_OK, g->id, text.data, text.len);
		server_client_unref(g->client);
	}
	buf_free(&text);
	if (g->started)
		upgrade_running--;
	free(g);
	upgrade_next();
	/* The last one over: give back what a wave of upgrades took. */
	if (upgrade_running == 0)
		malloc_trim(0);
}

/* Keep the group while walking its members; then free it if it is over. */
static void
upgrade_group_hold(struct ugroup *g)
{
	g->holds++;
}

static void
upgrade_group_release(struct ugroup *g)
{
	if (--g->holds == 0)
		upgrade_group_done(g);
}

/*
 * A member is over: record it (ok: 1 upgraded, 0 failed, 2 nothing to do)
 * and detach it from its machine.
 */
static void
upgrade_finish(struct upgrade *up, int ok, const char *report)
{
	struct machine	*m = up->m;

	if (up->phase == UP_DONE)
		return;
	ev_timer_stop(EV_DEFAULT, &up->timer);
	if (up->new != NULL) {
		child_kill(up->new);
		up->new = NULL;
	}
	if (up->old != NULL) {
		child_retire(up->old);
		up->old = NULL;
	}
	up->phase = UP_DONE;
	if (report != up->report)
		snprintf(up->report, sizeof up->report, "%s", report);
	if (ok == 2) {
		if (up->g->hup)
			log_debug("%s", report);
		else
			log_info("%s", report);
	} else if (ok)
		log_info("%s", report);
	else
		log_warnx("%s", report);
	if (ok != 2 || !up->g->hup)
		upgrade_report_add(m, ok, report);
	if (m->upgrade == up)
		m->upgrade = NULL;
	m->suspended = 0;
	/* Whichever worker serves now gets its file for snapshots. */
	snapfork_offer(m);
	upgrade_group_done(up->g);
}

/* Put the old worker of a suspended member back to work, held inputs too. */
static void
upgrade_resume(struct upgrade *up)
{
	up->m->suspended = 0;
	machine_flush(up->m);
}

/*
 * The group cannot commit: every member that has not committed is rolled
 * back (new worker killed, old one resumed with its state and the held
 * inputs), each with the reason.
 */
static void
upgrade_group_fail(struct ugroup *g, const char *fmt, ...)
{
	struct upgrade	*up;
	va_list		 ap;
	char		 why[512], msg[640];
	int		 i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	g->failed = 1;
	upgrade_group_hold(g);
	for (i = 0; i < g->n; i++) {
		up = &g->up[i];
		switch (up->phase) {
		case UP_DONE:
		case UP_PROBATION:
			continue;
		case UP_NOOP:
			upgrade_finish(up, 2, up->report);
			continue;
		case UP_DRAIN:
		case UP_MIGRATE:
		case UP_MIGRATED:
			/* Its image, if it comes now, goes nowhere. */
			serial_abandon(up->m, SER_UPGRADE);
			if (up->new != NULL) {
				child_kill(up->new);
				up->new = NULL;
			}
			upgrade_resume(up);
			break;
		case UP_SPAWN:
		case UP_ARMED:
			break;
		}
		snprintf(msg, sizeof msg, "%s: upgrade failed: %s; version %s "
		    "keeps serving", up->m->name, why, up->m->version);
		upgrade_finish(up, 0, msg);
	}
	upgrade_group_release(g);
}

/* All members said hello: suspend them all together. */
static void
upgrade_group_suspend(struct ugroup *g)
{
	struct upgrade	*up;
	int		 i;

	upgrade_group_hold(g);
	for (i = 0; i < g->n && !g->failed; i++) {
		up = &g->up[i];
		if (up->phase != UP_ARMED)
			continue;
		up->m->suspended = 1;
		up->t_suspend = units_now();
		up->phase = UP_DRAIN;
		if (up->m->forwarded == 0)
			up->t_drained = up->t_suspend;
		if (serial_request(up->m, SER_UPGRADE) == -1) {
			upgrade_group_fail(g, "cannot ask the running worker of "
			    "%s for its state", up->m->name);
			break;
		}
		upgrade_arm(up, upgrade_timeout(up));
	}
	upgrade_group_release(g);
}

static void
upgrade_commit(struct upgrade *up)
{
	struct machine	*m = up->m;
	struct child	*old = m->worker, *c = up->new;
	double		 probation = upgrade_probation(up);
	char		 p[6][24], total[24];

	up->new = NULL;
	up->held = m->nheld;
	machine_adopt(m, c);
	m->suspended = 0;
	/* The new binary is the machine's now: restarts run it. */
	if (strcmp(up->spec.path, m->path) != 0) {
		char	*path = strdup(up->spec.path);

		if (path != NULL) {
			up->old_path = m->path;
			m->path = path;
		}
	}
	if (probation > 0) {
		/* Keep the old worker, suspended, to fall back on. */
		up->old = old;
		old->frame = upgrade_kept_frame;
		old->gone = upgrade_kept_gone;
		old->arg = up;
		up->phase = UP_PROBATION;
	} else
		child_retire(old);
	machine_flush(m);
	up->t_commit = units_now();
	m->last_pause = up->t_commit - up->t_suspend;
	m->upgrades++;

	units_duration(m->last_pause, p[0], sizeof p[0]);
	units_duration(up->t_hello - up->t_start, p[1], sizeof p[1]);
	units_duration(up->t_drained - up->t_suspend, p[2], sizeof p[2]);
	units_duration(up->t_image - up->t_drained, p[3], sizeof p[3]);
	units_duration(up->t_ready - up->t_image, p[4], sizeof p[4]);
	units_duration(up->t_commit - up->t_ready, p[5], sizeof p[5]);
	units_duration(up->t_commit - up->t_start, total, sizeof total);
	snprintf(up->report, sizeof up->report, "%s: upgraded %s -> %s (pid "
	    "%ld): pause %s (spawn %s, drain %s, serialize %s, migrate %s, "
	    "commit %s), %zu inputs held, state %zu bytes%s, total %s", m->name,
	    up->from, m->version, (long)c->pid, p[0], p[1], p[2], p[3], p[4],
	    p[5], up->held, up->image_len, up->image_fd ? " by descriptor" : "",
	    total);
	if (up->phase == UP_PROBATION) {
		log_info("%s; on probation for %gs", up->report, probation);
		upgrade_arm(up, probation);
		return;
	}
	upgrade_finish(up, 1, up->report);
}

/* Commit when every member has migrated (or has nothing to do). */
static void
upgrade_group_advance(struct ugroup *g)
{
	int	 i, armed = 0, migrated = 0, noop = 0;

	upgrade_group_hold(g);
	for (i = 0; i < g->n; i++) {
		armed += g->up[i].phase == UP_ARMED;
		migrated += g->up[i].phase == UP_MIGRATED;
		noop += g->up[i].phase == UP_NOOP;
	}
	if (armed > 0 && armed + noop == g->n)
		upgrade_group_suspend(g);
	else if (migrated > 0 && migrated + noop == g->n) {
		for (i = 0; i < g->n; i++)
			if (g->up[i].phase == UP_MIGRATED)
				upgrade_commit(&g->up[i]);
	}
	/* Members with nothing to do end when the others commit. */
	if (noop == g->n || (migrated > 0 && migrated + noop == g->n))
		for (i = 0; i < g->n; i++)
			if (g->up[i].phase == UP_NOOP)
				upgrade_finish(&g->up[i], 2, g->up[i].report);
	upgrade_group_release(g);
}

/* The new binary said who it is. */
static void
upgrade_hello(struct upgrade *up, const struct frame *f)
{
	struct machine	*m = up->m;
	struct child	*c = up->new;
	char		 err[256], list[512];

	up->t_hello = units_now();
	if (child_hello(c, f, err, sizeof err) == -1) {
		upgrade_group_fail(up->g, "%s: %s", up->spec.path, err);
		return;
	}
	if (strcmp(c->type, m->type) != 0) {
		upgrade_group_fail(up->g, "%s is machine %s, not %s",
		    up->spec.path, c->type, m->type);
		return;
	}
	if (strcmp(c->version, m->version) == 0 &&
	    !(up->g->flags & UPGRADE_FORCE)) {
		snprintf(up->report, sizeof up->report, "%s: already at "
		    "version %s", m->name, m->version);
		child_kill(up->new);
		up->new = NULL;
		up->phase = UP_NOOP;
		upgrade_group_advance(up->g);
		return;
	}
	if (strcmp(c->version, m->version) != 0 &&
	    !child_accepts(c, m->version)) {
		upgrade_group_fail(up->g, "version %s does not migrate from "
		    "%s (it accepts: %s)", c->version, m->version,
		    child_accepted(c, list, sizeof list));
		return;
	}
	if (up->g->has_extra && !(c->caps & HELLO_CAP_ARG)) {
		upgrade_group_fail(up->g, "%s was built before --extra (rebuild "
		    "it against this smsup's worker library)", up->spec.path);
		return;
	}
	up->phase = UP_ARMED;
	ev_timer_stop(EV_DEFAULT, &up->timer);
	upgrade_group_advance(up->g);
}

static void
upgrade_new_frame(struct child *c, const struct frame *f)
{
	struct upgrade	*up = c->arg;

	if (up->phase == UP_SPAWN && f->type == FRAME_W_HELLO && !c->hello)
		upgrade_hello(up, f);
	else if (up->phase == UP_MIGRATE && f->type == FRAME_W_READY) {
		up->t_ready = units_now();
		up->phase = UP_MIGRATED;
		ev_timer_stop(EV_DEFAULT, &up->timer);
		upgrade_group_advance(up->g);
	} else if (up->phase == UP_MIGRATE && f->type == FRAME_W_FAIL)
		upgrade_group_fail(up->g, "%s%smigration from %s failed: %.*s",
		    up->g->n > 1 ? up->m->name : "", up->g->n > 1 ? ": " : "",
		    up->from, (int)f->len, f->payload);
	else
		upgrade_group_fail(up->g, "new worker of %s sent an unexpected "
		    "%s frame", up->m->name, frame_type_name(f->type));
}

static void
upgrade_new_gone(struct child *c, const char *why)
{
	struct upgrade	*up = c->arg;
	static const char *what[] = {
		"before saying hello (is it an smsup worker?)",
		"while waiting for the group",
		"while the old one serialized",
		"during the migration",
		"while waiting for the group",
	};

	up->new = NULL;
	/* One that said why it could not start is a worker. */
	upgrade_group_fail(up->g, "new worker%s%s (pid %ld) %s %s",
	    up->g->n > 1 ? " of " : "", up->g->n > 1 ? up->m->name : "",
	    (long)c->pid, why, up->phase == UP_SPAWN && c->last[0] != '\0' ?
	    "before saying hello" :
	    what[up->phase <= UP_MIGRATED ? up->phase : 0]);
}

/*
 * The kept old worker has nothing to say during probation, but for a
 * snapshot (or a traced state) it had due: those are dropped.
 */
static void
upgrade_kept_frame(struct child *c, const struct frame *f)
{
	struct upgrade	*up = c->arg;

	/* What it did unasked: a snapshot (or its child's), a traced state. */
	if (f->type == FRAME_W_SNAPSHOT_FILE ||
	    f->type == FRAME_W_SNAPSHOT_FAIL) {
		/* Its file is spent: a rollback gives it another. */
		if (c->snapfd != -1)
			close(c->snapfd);
		c->snapfd = -1;
		return;
	}
	if (f->type == FRAME_W_SNAPSHOT || f->type == FRAME_W_STATE)
		return;
	log_warnx("%s: suspended old worker sent a %s frame: retiring it",
	    up->m->name, frame_type_name(f->type));
	up->old = NULL;
	child_kill(c);
}

static void
upgrade_kept_gone(struct child *c, const char *why)
{
	struct upgrade	*up = c->arg;

	log_warnx("%s: suspended old worker (pid %ld) %s: no fallback left",
	    up->m->name, (long)c->pid, why);
	up->old = NULL;
}

/* Add a frame's worth of inputs given to a worker on probation. */
void
upgrade_forwarded(struct machine *m, const void *p, size_t len)
{
	struct upgrade	*up = m->upgrade;

	if (up == NULL || up->phase != UP_PROBATION)
		return;
	/* Without the log there is no fallback: probation ends. */
	if (buf_used(&up->replay) + len > UPGRADE_REPLAY_MAX) {
		log_warnx("%s: %u MiB of inputs given on probation: probation "
		    "over, version %s stays", m->name, UPGRADE_REPLAY_MAX >> 20,
		    m->version);
		upgrade_finish(up, 1, up->report);
	} else if (buf_add(&up->replay, p, len) == -1) {
		log_warnx("%s: out of memory for the probation log", m->name);
		upgrade_finish(up, 1, up->report);
	}
}

/* An answer from the old worker: note when the drain is over. */
void
upgrade_answered(struct machine *m)
{
	struct upgrade	*up = m->upgrade;

	if (up != NULL && up->phase == UP_DRAIN && m->forwarded == 0)
		up->t_drained = units_now();
}

/*
 * The worker on probation, c (NULL if unknown), died or misbehaved: the
 * old worker takes over again. The input the new one died in (recover.c
 * says which, if any) is dropped. Returns 1 if the machine was rescued,
 * 0 if it was not on probation.
 */
int
upgrade_rescue(struct machine *m, struct child *c, const char *why)
{
	static const struct frame_limits lim = { SIZE_MAX, SIZE_MAX };
	struct upgrade	*up = m->upgrade;
	struct child	*old;
	struct pending	*p;
	struct frame	 f;
	struct buf	*w;
	uint64_t	 first, dropped, careful;
	size_t		 replayed = 0, again = 0, len;
	char		 msg[640], newv[SMSUP_VERSION_MAX + 1];

	if (up == NULL || up->phase != UP_PROBATION || up->old == NULL)
		return 0;
	/* Only an input it surely died in: the old version may take it. */
	dropped = recover_suspect(m, c, &careful);
	snprintf(newv, sizeof newv, "%s", m->version);
	old = up->old;
	up->old = NULL;
	if (m->worker != NULL && m->worker != c)
		child_kill(m->worker);
	else if (c != NULL && c->gone != NULL)
		child_kill(c);
	machine_adopt(m, old);
	m->upgrades--;
	if (up->old_path != NULL) {
		free(m->path);
		m->path = up->old_path;
		up->old_path = NULL;
	}

	/* The input it died in is answered with an error, and dropped. */
	if (dropped != 0) {
		snprintf(msg, sizeof msg, "%s version %s crashed applying this "
		    "input (%s); rolled back to version %s; it was not applied",
		    m->name, newv, why, up->from);
		recover_drop(m, dropped, why, msg);
	}
	p = m->forwarded > 0 ? queue_head(&m->pending) : NULL;
	first = p != NULL ? p->seq : UINT64_MAX;

	/*
	 * Into the old worker, in order: the inputs the dead one answered
	 * (their outputs dropped), then those it had and did not answer.
	 */
	w = peer_wbuf(old->peer);
	while (frame_parse(buf_head(&up->replay), buf_used(&up->replay), &lim,
	    &f) == FRAME_OK) {
		len = FRAME_HDR_LEN + f.len;
		if (f.id != dropped) {
			buf_add(w, buf_head(&up->replay), len);
			if (f.id < first) {
				if (m->discard++ == 0)
					m->discard_last = f.id - 1;
				replayed++;
			} else
				again++;
		}
		buf_consume(&up->replay, len);
	}
	peer_kick(old->peer);
	deadline_owed(m);
	machine_flush(m);
	snprintf(msg, sizeof msg, "%s: rolled back to version %s: version %s "
	    "%s during its probation; %zu inputs replayed into the old worker, "
	    "%zu sent to it again", m->name, up->from, newv, why, replayed,
	    again);
	up->g->failed = 1;
	upgrade_finish(up, 0, msg);
	return 1;
}

/*
 * The old worker's answer to the upgrade's SERIALIZE (serial.c matched its
 * token): its image, or its failure to make one.
 */
void
upgrade_old_image(struct machine *m, const struct frame *f)
{
	struct upgrade	*up = m->upgrade;
	struct image	 img;
	uint8_t		 pos[16];
	int		 rc;

	if (up == NULL || up->phase != UP_DRAIN)
		return;		/* abandoned requests never get here */
	if (f->type == FRAME_W_FAIL) {
		upgrade_group_fail(up->g, "the running worker of %s could not "
		    "serialize its state: %.*s", m->name, (int)f->len,
		    f->payload);
		return;
	}
	if ((rc = image_decode(f->payload, f->len, &img)) != IMAGE_OK) {
		upgrade_group_fail(up->g, "the running worker of %s sent a bad "
		    "image: %s", m->name, image_strerror(rc));
		return;
	}
	if (strcmp(img.name, m->type) != 0 ||
	    strcmp(img.version, m->version) != 0) {
		upgrade_group_fail(up->g, "the running worker's image is of %s "
		    "%s, not %s %s", img.name, img.version, m->type,
		    m->version);
		return;
	}
	/* The new worker may have lost its channel, not yet its life. */
	if (up->new == NULL || up->new->peer == NULL) {
		upgrade_group_fail(up->g, "the new worker of %s is gone",
		    m->name);
		return;
	}
	up->t_image = units_now();
	up->image_len = f->len;
	up->phase = UP_MIGRATE;
	/* From here the restart base is this image (recover.c). */
	recover_base(m, m->applied_seq, f->payload, f->len, f->fd, 0);
	recover_config(m, up->new);
	if (up->g->has_extra)
		peer_send(up->new->peer, FRAME_S_ARG, ARG_EXTRA, up->g->extra,
		    strlen(up->g->extra));
	/* The descriptor it came in, if the new worker takes one. */
	if (f->fd != -1 && (up->new->caps & HELLO_CAP_FD)) {
		msg_setle64(pos, 0);
		msg_setle64(pos + 8, f->len);
		rc = peer_send_fd(up->new->peer, FRAME_S_LOAD_FD, 0, pos,
		    sizeof pos, f->fd);
		up->image_fd = 1;
	} else
		rc = peer_send(up->new->peer, FRAME_S_LOAD, 0, f->payload,
		    f->len);
	if (rc == -1) {
		upgrade_group_fail(up->g, "cannot send the state of %s to the "
		    "new worker", m->name);
		return;
	}
	upgrade_arm(up, upgrade_timeout(up));
}

static void
upgrade_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upgrade	*up = w->data;
	static const char *what[] = {
		"the new worker to say hello",
		"the group",
		"the running worker's state",
		"the migration",
		"the group",
	};

	(void)loop;
	(void)revents;
	if (up->phase == UP_PROBATION) {
		log_info("%s: probation over: version %s stays", up->m->name,
		    up->m->version);
		upgrade_finish(up, 1, up->report);
		return;
	}
	upgrade_group_fail(up->g, "%s%stimed out after %gs waiting for %s",
	    up->g->n > 1 ? up->m->name : "", up->g->n > 1 ? ": " : "",
	    upgrade_timeout(up), what[up->phase <= UP_MIGRATED ? up->phase :
	    0]);
}

/* The machine failed during the upgrade: the rest of the group rolls back. */
void
upgrade_abort(struct machine *m, const char *why)
{
	struct upgrade	*up = m->upgrade;
	struct ugroup	*g = up->g;
	int		 probation = up->phase == UP_PROBATION;
	char		 msg[640];

	snprintf(msg, sizeof msg, "%s: upgrade aborted: %s", m->name, why);
	upgrade_group_hold(g);
	m->suspended = 0;
	upgrade_finish(up, 0, msg);
	if (!probation)
		upgrade_group_fail(g, "machine %s failed: %s", m->name, why);
	upgrade_group_release(g);
}

/* Called off (shutdown): roll back, or end a probation as it stands. */
void
upgrade_cancel(struct machine *m, const char *why)
{
	struct upgrade	*up = m->upgrade;

	if (up->phase == UP_PROBATION)
		upgrade_finish(up, 1, up->report);
	else
		upgrade_group_fail(up->g, "%s", why);
}

/* Spawn every member's new binary; the old workers keep serving. */
static int
upgrade_group_start(struct ugroup *g, char *err, size_t len)
{
	struct upgrade	*up;
	struct machine	*m;
	char		 why[512];
	int		 i;

	for (i = 0; i < g->n; i++) {
		up = &g->up[i];
		if ((m = machine_find(up->spec.name)) == NULL) {
			snprintf(err, len, "no such machine: %s",
			    up->spec.name);
			return -1;
		}
		if (m->upgrade != NULL) {
			snprintf(err, len, "%s: upgrade in progress (smsup "
			    "upgrade -w waits for it)", m->name);
			return -1;
		}
		if (m->state != MS_RUNNING || !m->ready) {
			snprintf(err, len, "%s is %s: nothing to upgrade",
			    m->name, machine_state_name(m));
			return -1;
		}
		up->m = m;
	}
	for (i = 0; i < g->n; i++) {
		up = &g->up[i];
		m = up->m;
		up->g = g;
		up->phase = UP_SPAWN;
		up->t_start = units_now();
		if (up->spec.path[0] == '\0')
			snprintf(up->spec.path, sizeof up->spec.path, "%s",
			    m->path);
		snprintf(up->from, sizeof up->from, "%s", m->version);
		ev_init(&up->timer, upgrade_timer_cb);
		up->timer.data = up;
		m->upgrade = up;
	}
	g->started = 1;
	upgrade_running++;
	for (i = 0; i < g->n; i++) {
		up = &g->up[i];
		up->new = child_spawn(up->spec.path, up->m->name,
		    &up->m->opts, upgrade_new_frame, upgrade_new_gone, up, why,
		    sizeof why);
		if (up->new == NULL) {
			upgrade_group_fail(g, "%s", why);	/* frees g */
			return 0;
		}
		upgrade_arm(up, upgrade_timeout(up));
		log_info("%s: upgrading from version %s: spawned %s (pid %ld)",
		    up->m->name, up->from, up->spec.path, (long)up->new->pid);
	}
	return 0;
}

/*
 * Upgrade the n machines of specs together. c (if any) is answered when
 * it is over; -1 with err set if it cannot start.
 */
int
upgrade_request(const struct upgrade_spec *specs, int n, uint32_t flags,
    double timeout, double probation, const char *extra, struct client *c,
    uint64_t id, char *err, size_t len)
{
	struct ugroup	*g;
	struct machine	*m;
	int		 i, j, busy = 0;

	if (n < 1 || n > SMSUP_UPGRADE_MAX) {
		snprintf(err, len, "an upgrade takes 1 to %d machines",
		    SMSUP_UPGRADE_MAX);
		return -1;
	}
	/* One node alone would leave the others' states behind. */
	if (cluster_server_active()) {
		snprintf(err, len, "the machines of a cluster are not upgraded "
		    "by one node: upgrades committed in the cluster's log are "
		    "not in this version of smsup yet (upgrade --dry-run "
		    "rehearses one)");
		return -1;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(specs[i].name, specs[j].name) == 0) {
				snprintf(err, len, "machine %s named twice",
				    specs[i].name);
				return -1;
			}
		if ((m = machine_find(specs[i].name)) == NULL) {
			snprintf(err, len, "no such machine: %s",
			    specs[i].name);
			return -1;
		}
		busy |= m->upgrade != NULL;
	}
	if ((g = calloc(1, sizeof *g + (size_t)n * sizeof g->up[0])) ==
	    NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	g->n = n;
	g->flags = flags;
	g->timeout = timeout;
	g->probation = probation;
	if (extra != NULL) {
		g->has_extra = 1;
		snprintf(g->extra, sizeof g->extra, "%s", extra);
	}
	for (i = 0; i < n; i++)
		g->up[i].spec = specs[i];
	if (c != NULL) {
		g->client = c;
		g->id = id;
		server_client_ref(c);
	}
	if (busy && (flags & UPGRADE_WAIT)) {
		TAILQ_INSERT_TAIL(&upgrade_waiting, g, entry);
		return 0;
	}
	if (upgrade_group_start(g, err, len) == -1) {
		if (c != NULL)
			server_client_unref(c);
		free(g);
		return -1;
	}
	return 0;
}

/* A SIGHUP upgrade of one machine to the binary at its own path. */
void
upgrade_hup_one(struct machine *m, const char *path)
{
	struct upgrade_spec	 spec;
	struct ugroup		*g;
	char			 err[512];

	if (m->upgrade != NULL) {
		m->upgrade_again = 1;
		/* A reload gave it another binary: that one, next. */
		if (path != NULL && strcmp(path, m->path) != 0) {
			free(m->again_path);
			m->again_path = strdup(path);
		}
		log_info("%s: upgrade in progress; another one will follow it",
		    m->name);
		return;
	}
	memset(&spec, 0, sizeof spec);
	snprintf(spec.name, sizeof spec.name, "%s", m->name);
	if (path != NULL && strcmp(path, m->path) != 0)
		snprintf(spec.path, sizeof spec.path, "%s", path);
	if ((g = calloc(1, sizeof *g + sizeof g->up[0])) == NULL) {
		log_warnx("%s: SIGHUP: out of memory", m->name);
		return;
	}
	g->n = 1;
	g->hup = 1;
	g->probation = -1;
	g->up[0].spec = spec;
	if (upgrade_group_start(g, err, sizeof err) == -1) {
		log_warnx("%s: SIGHUP: %s", m->name, err);
		free(g);
	}
}

/* SIGHUP: upgrade every machine whose binary reports another version. */
void
upgrade_hup(void)
{
	struct machine	*m;

	TAILQ_FOREACH(m, &machines, entry)
		if (m->state == MS_RUNNING && m->ready)
			upgrade_hup_one(m, NULL);
}
