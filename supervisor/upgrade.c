/*
 * upgrade.c: replacing a machine's worker with a new binary, keeping its
 * state and every input.
 *
 *	phase    event                    -> action
 *	SPAWN    (start)                  -> spawn the new binary; the old
 *	                                     worker keeps serving
 *	SPAWN    new HELLO, acceptable    -> suspend: hold new inputs, send
 *	                                     SERIALIZE to the old worker after
 *	                                     the inputs it already has -> DRAIN
 *	SPAWN    new HELLO, same version  -> nothing to do (unless forced)
 *	SPAWN    new HELLO, not accepted  -> refuse (the old never paused)
 *	DRAIN    old IMAGE                -> LOAD it into the new -> MIGRATE
 *	MIGRATE  new READY                -> commit: retire the old, forward
 *	                                     the held inputs to the new
 *	any      new FAIL, new exit,      -> roll back: kill the new, forward
 *	         old FAIL, timeout           the held inputs to the old
 *	any      old exit                 -> the machine fails (machine.c)
 *
 * Since a worker answers in order, the image the old worker sends after
 * SERIALIZE holds exactly the inputs forwarded before it: nothing is
 * applied twice and nothing is skipped, whichever way the upgrade ends.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsup.h"

enum upgrade_phase {
	UP_SPAWN,
	UP_DRAIN,
	UP_MIGRATE,
};

struct upgrade {
	struct machine		*m;
	struct child		*new;
	enum upgrade_phase	 phase;
	int			 force;
	int			 hup;
	struct client		*client;
	uint64_t		 id;
	char			 path[PATH_MAX];
	char			 from[SMSUP_VERSION_MAX + 1];
	double			 timeout;
	ev_timer		 timer;
	uint64_t		 t_start;
	uint64_t		 t_suspend;
	uint64_t		 t_image;
	size_t			 image_len;
};

static void	upgrade_new_frame(struct child *, const struct frame *);
static void	upgrade_new_gone(struct child *, const char *);
static void	upgrade_timer_cb(struct ev_loop *, ev_timer *, int);

const char *
upgrade_phase_name(const struct machine *m)
{
	switch (m->upgrade->phase) {
	case UP_SPAWN:
		return "upgrading";
	case UP_DRAIN:
		return "suspended";
	case UP_MIGRATE:
		return "migrating";
	}
	return "?";
}

static void
upgrade_arm(struct upgrade *up)
{
	ev_timer_stop(EV_DEFAULT, &up->timer);
	ev_timer_set(&up->timer, up->timeout, 0.);
	ev_timer_start(EV_DEFAULT, &up->timer);
}

/* Forget the upgrade; then start the follow-up a SIGHUP asked for. */
static void
upgrade_free(struct upgrade *up)
{
	struct machine	*m = up->m;
	char		 err[256];

	ev_timer_stop(EV_DEFAULT, &up->timer);
	if (up->new != NULL)
		child_kill(up->new);
	if (up->client != NULL)
		server_client_unref(up->client);
	m->upgrade = NULL;
	free(up);
	if (m->upgrade_again && m->state == MS_RUNNING &&
	    !server_shutting_down) {
		m->upgrade_again = 0;
		log_info("%s: starting the upgrade requested meanwhile",
		    m->name);
		if (upgrade_start(m, NULL, 0, 1, SMSUP_UPGRADE_TIMEOUT, NULL,
		    0, err, sizeof err) == -1)
			log_warnx("%s: upgrade: %s", m->name, err);
	}
}

static void
upgrade_reply(struct upgrade *up, uint8_t type, const char *text)
{
	if (up->client != NULL)
		server_client_reply(up->client, type, up->id, text,
		    strlen(text));
}

/* Roll back: the old worker resumes with its state and the held inputs. */
static void
upgrade_fail(struct upgrade *up, const char *fmt, ...)
{
	struct machine	*m = up->m;
	va_list		 ap;
	char		 why[512], msg[768];

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (up->new != NULL) {
		child_kill(up->new);
		up->new = NULL;
	}
	m->suspended = 0;
	machine_flush(m);
	snprintf(msg, sizeof msg, "%s: upgrade failed: %s; version %s keeps "
	    "serving", m->name, why, m->version);
	log_warnx("%s", msg);
	upgrade_reply(up, FRAME_R_ERROR, msg);
	upgrade_free(up);
}

/* Called off (shutdown): roll back, the old worker resumes. */
void
upgrade_cancel(struct machine *m, const char *why)
{
	upgrade_fail(m->upgrade, "%s", why);
}

/* The machine failed during the upgrade (machine.c resumes nothing). */
void
upgrade_abort(struct machine *m, const char *why)
{
	struct upgrade	*up = m->upgrade;
	char		 msg[512];

	m->suspended = 0;
	snprintf(msg, sizeof msg, "%s: upgrade aborted: %s", m->name, why);
	upgrade_reply(up, FRAME_R_ERROR, msg);
	upgrade_free(up);
}

/*
 * Start upgrading m to the binary at path (NULL: its own path). hup: a
 * SIGHUP asked, so the same version is not worth a word and a running
 * upgrade gets one follow-up. Returns 0 if the upgrade is under way (c,
 * if any, is answered at its end), 1 if there is nothing to do, -1 with err
 * set.
 */
int
upgrade_start(struct machine *m, const char *path, int force, int hup,
    double timeout, struct client *c, uint64_t id, char *err, size_t len)
{
	struct upgrade	*up;

	if (m->upgrade != NULL) {
		if (hup) {
			m->upgrade_again = 1;
			log_info("%s: upgrade in progress; another one will "
			    "follow it", m->name);
			return 1;
		}
		snprintf(err, len, "%s: upgrade in progress", m->name);
		return -1;
	}
	if (m->state != MS_RUNNING || !m->ready) {
		snprintf(err, len, "%s is %s: nothing to upgrade", m->name,
		    machine_state_name(m));
		return -1;
	}
	if ((up = calloc(1, sizeof *up)) == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	up->m = m;
	up->force = force;
	up->hup = hup;
	up->timeout = timeout > 0 ? timeout : SMSUP_UPGRADE_TIMEOUT;
	up->t_start = units_now();
	snprintf(up->path, sizeof up->path, "%s", path ? path : m->path);
	snprintf(up->from, sizeof up->from, "%s", m->version);
	up->new = child_spawn(up->path, m->name, upgrade_new_frame,
	    upgrade_new_gone, up, err, len);
	if (up->new == NULL) {
		free(up);
		return -1;
	}
	ev_init(&up->timer, upgrade_timer_cb);
	up->timer.data = up;
	upgrade_arm(up);
	if (c != NULL) {
		up->client = c;
		up->id = id;
		server_client_ref(c);
	}
	m->upgrade = up;
	log_info("%s: upgrading from version %s: spawned %s (pid %ld)",
	    m->name, m->version, up->path, (long)up->new->pid);
	return 0;
}

/* SIGHUP: upgrade every machine whose binary reports another version. */
void
upgrade_hup(void)
{
	struct machine	*m;
	char		 err[512];

	TAILQ_FOREACH(m, &machines, entry) {
		if (m->state != MS_RUNNING)
			continue;
		if (upgrade_start(m, NULL, 0, 1, SMSUP_UPGRADE_TIMEOUT, NULL, 0,
		    err, sizeof err) == -1)
			log_warnx("%s: SIGHUP: %s", m->name, err);
	}
}

/* The new binary said who it is: go on, stop here, or refuse. */
static void
upgrade_hello(struct upgrade *up, const struct frame *f)
{
	struct machine	*m = up->m;
	struct child	*c = up->new;
	char		 err[256], list[512] = "";
	uint32_t	 i;

	if (child_hello(c, f, err, sizeof err) == -1) {
		upgrade_fail(up, "%s: %s", up->path, err);
		return;
	}
	if (strcmp(c->type, m->type) != 0) {
		upgrade_fail(up, "%s is machine %s, not %s", up->path, c->type,
		    m->type);
		return;
	}
	if (strcmp(c->version, m->version) == 0 && !up->force) {
		snprintf(err, sizeof err, "%s: already at version %s",
		    m->name, m->version);
		if (up->hup)
			log_debug("%s", err);
		else
			log_info("%s", err);
		upgrade_reply(up, FRAME_R_OK, err);
		upgrade_free(up);
		return;
	}
	if (strcmp(c->version, m->version) != 0 &&
	    !child_accepts(c, m->version)) {
		for (i = 0; i < c->nfrom; i++) {
			if (i > 0)
				strncat(list, ", ", sizeof list - strlen(list)
				    - 1);
			strncat(list, c->from[i], sizeof list - strlen(list)
			    - 1);
		}
		upgrade_fail(up, "version %s does not migrate from %s (it "
		    "accepts: %s)", c->version, m->version,
		    c->nfrom ? list : "none");
		return;
	}
	/* Suspend: hold new inputs; SERIALIZE follows those forwarded. */
	m->suspended = 1;
	up->t_suspend = units_now();
	up->phase = UP_DRAIN;
	peer_send(m->worker->peer, FRAME_S_SERIALIZE, 0, NULL, 0);
	upgrade_arm(up);
}

static void
upgrade_commit(struct upgrade *up)
{
	struct machine	*m = up->m;
	struct child	*old = m->worker, *c = up->new;
	uint64_t	 now, pause;
	size_t		 held = m->nheld;
	char		 msg[512], p[32], mig[32], total[32];

	up->new = NULL;
	child_retire(old);
	machine_adopt(m, c);
	m->suspended = 0;
	machine_flush(m);
	now = units_now();
	pause = now - up->t_suspend;
	m->last_pause = pause;
	m->upgrades++;
	units_duration(pause, p, sizeof p);
	units_duration(now - up->t_image, mig, sizeof mig);
	units_duration(now - up->t_start, total, sizeof total);
	snprintf(msg, sizeof msg, "%s: upgraded %s -> %s (pid %ld): pause %s "
	    "(migrate %s), %zu inputs held, state %zu bytes, total %s",
	    m->name, up->from, m->version, (long)c->pid, p, mig, held,
	    up->image_len, total);
	log_info("%s", msg);
	upgrade_reply(up, FRAME_R_OK, msg);
	upgrade_free(up);
}

static void
upgrade_new_frame(struct child *c, const struct frame *f)
{
	struct upgrade	*up = c->arg;

	if (up->phase == UP_SPAWN && f->type == FRAME_W_HELLO && !c->hello)
		upgrade_hello(up, f);
	else if (up->phase == UP_MIGRATE && f->type == FRAME_W_READY)
		upgrade_commit(up);
	else if (up->phase == UP_MIGRATE && f->type == FRAME_W_FAIL)
		upgrade_fail(up, "migration from %s failed: %.*s", up->from,
		    (int)f->len, f->payload);
	else
		upgrade_fail(up, "new worker sent an unexpected %s frame",
		    frame_type_name(f->type));
}

static void
upgrade_new_gone(struct child *c, const char *why)
{
	struct upgrade	*up = c->arg;
	static const char *what[] = {
		"before saying hello (is it an smsup worker?)",
		"while the old one serialized",
		"during the migration",
	};

	up->new = NULL;
	upgrade_fail(up, "new worker (pid %ld) %s %s", (long)c->pid, why,
	    what[up->phase]);
}

/*
 * A frame from the old worker during the upgrade: its image or its
 * failure to make one. Returns 1 if taken, 0 to let machine.c judge it.
 */
int
upgrade_old_frame(struct machine *m, const struct frame *f)
{
	struct upgrade	*up = m->upgrade;
	struct image	 img;
	int		 rc;

	if (up->phase != UP_DRAIN)
		return 0;
	if (f->type == FRAME_W_FAIL) {
		upgrade_fail(up, "the running worker could not serialize its "
		    "state: %.*s", (int)f->len, f->payload);
		return 1;
	}
	if (f->type != FRAME_W_IMAGE || m->forwarded != 0)
		return 0;
	if ((rc = image_decode(f->payload, f->len, &img)) != IMAGE_OK) {
		upgrade_fail(up, "the running worker's %s", image_strerror(rc));
		return 1;
	}
	if (strcmp(img.name, m->type) != 0 ||
	    strcmp(img.version, m->version) != 0) {
		upgrade_fail(up, "the running worker's image is of %s %s, not "
		    "%s %s", img.name, img.version, m->type, m->version);
		return 1;
	}
	up->t_image = units_now();
	up->image_len = f->len;
	up->phase = UP_MIGRATE;
	if (peer_send(up->new->peer, FRAME_S_LOAD, 0, f->payload, f->len) ==
	    -1) {
		upgrade_fail(up, "cannot send the state to the new worker");
		return 1;
	}
	upgrade_arm(up);
	return 1;
}

static void
upgrade_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upgrade	*up = w->data;
	static const char *what[] = {
		"the new worker to say hello",
		"the running worker's state",
		"the migration",
	};

	(void)loop;
	(void)revents;
	upgrade_fail(up, "timed out after %gs waiting for %s", up->timeout,
	    what[up->phase]);
}
