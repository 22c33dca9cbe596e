/*
 * rehearse.c: `smsup upgrade --dry-run NAME[=PATH]`, an upgrade rehearsed
 * on the live state beside the running worker, which is never paused or
 * changed. A new worker of the binary is given what a restart would be:
 * the machine's restart base (its last snapshot, taken without a pause,
 * or its initial state) to migrate, then the inputs of its journal since
 * (at most REHEARSE_INPUTS, outputs discarded); then it is asked for its
 * image, which goes to the client with the counts (by descriptor when
 * large: the supervisor holds no copy), and it is killed. The client
 * renders the image as JSON (cmd-upgrade.c).
 */
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "smsup.h"

#define REHEARSE_INPUTS	10000	/* inputs replayed at most */

enum rehearse_phase { RH_HELLO, RH_MIGRATE, RH_REPLAY, RH_IMAGE };

/* Whether it has the base yet (asked of the machine, SER_REHEARSE). */
enum rehearse_base { RB_WAIT, RB_READY };

struct rehearsal {
	LIST_ENTRY(rehearsal)	 entry;
	struct machine		*m;
	struct child		*c;
	struct client		*client;
	uint64_t		 id;
	enum rehearse_phase	 phase;
	enum rehearse_base	 base;
	int			 hello;		/* it said hello, checked */
	ev_timer		 timer;
	char			 path[PATH_MAX];
	char			 from[SMSUP_VERSION_MAX + 1];
	char			 to[SMSUP_VERSION_MAX + 1];
	int			 has_extra;
	char			 extra[OPTS_ARG_MAX + 1];
	uint64_t		 base_seq;	/* the snapshot's last input */
	int			 init;		/* no snapshot: from init */
	struct buf		 inputs;	/* INPUT frames to replay */
	uint64_t		 n, sent, answered, errors, more;
	double			 timeout;	/* each phase; upgrade -t */
};

static LIST_HEAD(, rehearsal) rehearsals = LIST_HEAD_INITIALIZER(rehearsals);

static void	rehearse_frame(struct child *, const struct frame *);
static void	rehearse_gone(struct child *, const char *);

static const struct frame_limits rehearse_lim = { FRAME_MAX_DEFAULT,
    FRAME_MAX_DEFAULT };

/* What the rehearsal did, for the report: "..., 37 inputs replayed". */
static void
rehearse_counts(struct rehearsal *r, char *out, size_t len)
{
	int	 n;

	n = snprintf(out, len, "%s: rehearsed %s -> %s on %s (#%llu) and the "
	    "%llu inputs since: %llu replayed, %llu answered with an error",
	    r->m->name, r->from, r->to, r->init ? "its initial state" :
	    "its last snapshot", (unsigned long long)r->base_seq,
	    (unsigned long long)(r->n + r->more),
	    (unsigned long long)r->answered, (unsigned long long)r->errors);
	if (r->more > 0 && n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, " (%llu more not replayed: "
		    "at most %d are)", (unsigned long long)r->more,
		    REHEARSE_INPUTS);
}

/* Done: the child killed, the client answered unless it already was. */
static void
rehearse_free(struct rehearsal *r)
{
	ev_timer_stop(EV_DEFAULT, &r->timer);
	if (r->c != NULL)
		child_kill(r->c);
	if (r->client != NULL)
		server_client_unref(r->client);
	LIST_REMOVE(r, entry);
	buf_free(&r->inputs);
	free(r);
}

/* It failed: before the replay an error, after it the counts too. */
static void
rehearse_fail(struct rehearsal *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rehearse_fail(struct rehearsal *r, const char *fmt, ...)
{
	struct buf	 b = { 0 };
	va_list		 ap;
	char		 why[640], counts[512];

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	log_info("%s: rehearsal of %s: %s", r->m->name, r->path, why);
	if (r->phase < RH_REPLAY)
		server_client_replyf(r->client, FRAME_R_ERROR, r->id,
		    "%s: rehearsal of %s failed: %s; nothing was changed",
		    r->m->name, r->path, why);
	else {
		rehearse_counts(r, counts, sizeof counts);
		msg_put_u32(&b, 0);
		snprintf(counts + strlen(counts), sizeof counts -
		    strlen(counts), "; then %s", why);
		msg_put_str(&b, counts);
		msg_put_str(&b, "");
		server_client_reply(r->client, FRAME_R_DRYRUN, r->id,
		    buf_head(&b), buf_used(&b));
		buf_free(&b);
	}
	rehearse_free(r);
}

static void
rehearse_arm(struct rehearsal *r, double seconds)
{
	ev_timer_stop(EV_DEFAULT, &r->timer);
	if (seconds <= 0)
		return;
	ev_timer_set(&r->timer, seconds, 0.);
	ev_timer_start(EV_DEFAULT, &r->timer);
}

static void
rehearse_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rehearsal	*r = w->data;
	static const char *what[] = { "to say hello", "to migrate",
	    "to answer the next input", "for its image" };

	(void)loop;
	(void)revents;
	if (r->phase == RH_HELLO && r->hello && r->base == RB_WAIT)
		rehearse_fail(r, "timed out waiting for the machine's snapshot");
	else
		rehearse_fail(r, "timed out waiting %s", what[r->phase]);
}

/* The replay's time: each answer within the machine's step deadline. */
static double
rehearse_step_timeout(const struct rehearsal *r)
{
	return r->m->opts.step_timeout > 0 ? r->m->opts.step_timeout :
	    r->timeout;
}

/* The version of m's base image into out; -1 if it is not one. */
static int
rehearse_base_version(struct machine *m, char *out, size_t len)
{
	struct image	 hdr;

	if (base_header(m, &hdr) != IMAGE_OK)
		return -1;
	snprintf(out, len, "%s", hdr.version);
	return 0;
}

/* Whether m's base is a snapshot of its running version. */
static int
rehearse_base_usable(struct machine *m)
{
	char	 v[SMSUP_VERSION_MAX + 1];

	return base_len(m) > 0 && rehearse_base_version(m, v, sizeof v) == 0 &&
	    strcmp(v, m->version) == 0;
}

/* Its HELLO: the same machine. Then the base, once there is one. */
static void rehearse_load(struct rehearsal *);

static void
rehearse_hello(struct rehearsal *r, const struct frame *f)
{
	struct machine	*m = r->m;
	struct child	*c = r->c;
	char		 err[256];

	if (child_hello(c, f, err, sizeof err) == -1) {
		rehearse_fail(r, "%s", err);
		return;
	}
	if (strcmp(c->type, m->type) != 0) {
		rehearse_fail(r, "%s is machine %s, not %s", r->path, c->type,
		    m->type);
		return;
	}
	snprintf(r->to, sizeof r->to, "%s", c->version);
	r->hello = 1;
	if (r->base == RB_READY)
		rehearse_load(r);
}

/*
 * It said hello and the base is there: a version that takes it, the base
 * to migrate, and a copy of the inputs since as they are now.
 */
static void
rehearse_load(struct rehearsal *r)
{
	struct machine	*m = r->m;
	struct child	*c = r->c;
	struct buf	*w = peer_wbuf(c->peer);
	struct frame	 in;
	const uint8_t	*q = buf_head(&m->journal);
	size_t		 left = buf_used(&m->journal), at, n;
	char		 list[512];

	if (base_len(m) > 0 && rehearse_base_version(m, r->from,
	    sizeof r->from) == -1) {
		rehearse_fail(r, "the machine's snapshot is not a valid image");
		return;
	}
	if (strcmp(c->version, r->from) != 0 &&
	    !child_accepts(c, r->from)) {
		rehearse_fail(r, "version %s does not migrate from %s (it "
		    "accepts: %s)", c->version, r->from,
		    child_accepted(c, list, sizeof list));
		return;
	}
	if ((r->has_extra || (base_len(m) == 0 && m->opts.has_init_arg)) &&
	    !(c->caps & HELLO_CAP_ARG)) {
		rehearse_fail(r, "%s was built before init arguments and "
		    "--extra", r->path);
		return;
	}
	/* No snapshots, no traced states: it only answers. */
	at = frame_begin(w, FRAME_S_CONFIG, 0, 0);
	msg_put_u32(w, 0);
	msg_put_u32(w, 0);
	msg_put_u64(w, m->opts.image_max);
	msg_put_u32(w, 0);
	frame_end(w, at);
	r->base_seq = m->snap_seq;
	r->init = base_len(m) == 0;
	if (base_len(m) == 0) {
		if (m->opts.has_init_arg)
			peer_send(c->peer, FRAME_S_ARG, ARG_INIT,
			    m->opts.init_arg, strlen(m->opts.init_arg));
		peer_send(c->peer, FRAME_S_INIT, 0, NULL, 0);
	} else {
		if (r->has_extra)
			peer_send(c->peer, FRAME_S_ARG, ARG_EXTRA, r->extra,
			    strlen(r->extra));
		if (base_send_load(m, c) == -1) {
			rehearse_fail(r, "cannot give it the machine's state");
			return;
		}
	}
	while (frame_parse(q, left, &rehearse_lim, &in) == FRAME_OK) {
		n = FRAME_HDR_LEN + in.len;
		if (r->n == REHEARSE_INPUTS)
			r->more++;
		else if (buf_add(&r->inputs, q, n) == -1) {
			rehearse_fail(r, "out of memory for the inputs");
			return;
		} else
			r->n++;
		q += n;
		left -= n;
	}
	peer_kick(c->peer);
	r->phase = RH_MIGRATE;
	rehearse_arm(r, r->timeout);
}

/* The snapshot m was asked for came (it is m's base now), or failed. */
void
rehearse_snapshot(struct machine *m, const struct frame *f)
{
	struct rehearsal	*r, *next;

	for (r = LIST_FIRST(&rehearsals); r != NULL; r = next) {
		next = LIST_NEXT(r, entry);
		if (r->m != m || r->base != RB_WAIT)
			continue;
		if (f->type != FRAME_W_IMAGE && f->type != FRAME_W_IMAGE_FD) {
			rehearse_fail(r, "the machine could not take a "
			    "snapshot: %.*s", (int)f->len, f->payload);
			continue;
		}
		r->base = RB_READY;
		if (r->hello)
			rehearse_load(r);
	}
}

/* Ask for its image (by descriptor when large). */
static void
rehearse_ask_image(struct rehearsal *r)
{
	uint8_t	 p[12];

	msg_setle64(p, r->m->opts.image_max);
	msg_setle32(p + 8, SERIALIZE_FD);
	r->phase = RH_IMAGE;
	peer_send(r->c->peer, FRAME_S_SERIALIZE, 0, p, sizeof p);
	rehearse_arm(r, r->timeout);
}

/* Its image: to the client, by the descriptor it came in if it can. */
static void
rehearse_image(struct rehearsal *r, const struct frame *f)
{
	struct buf	 b = { 0 };
	struct image	 img;
	struct stat	 st;
	const uint8_t	*p = f->payload;
	char		 counts[512];
	uint64_t	 len = f->len;
	uint8_t		 type = FRAME_R_DRYRUN;
	void		*map = MAP_FAILED;
	int		 rc;

	/* By descriptor: u64 length, a sealed memfd at least that long. */
	if (f->type == FRAME_W_IMAGE_FD) {
		if (f->len != 8 || f->fd == -1 || fstat(f->fd, &st) == -1 ||
		    (len = msg_le64(f->payload)) == 0 ||
		    (uint64_t)st.st_size < len || len > SIZE_MAX ||
		    (map = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED,
		    f->fd, 0)) == MAP_FAILED) {
			rehearse_fail(r, "it sent a bad IMAGE_FD");
			return;
		}
		p = map;
	}
	rc = image_decode(p, (size_t)len, &img);
	if (map != MAP_FAILED)
		munmap(map, (size_t)len);
	if (rc != IMAGE_OK) {
		rehearse_fail(r, "it sent a bad image: %s", image_strerror(rc));
		return;
	}
	rehearse_counts(r, counts, sizeof counts);
	msg_put_u32(&b, 1);
	msg_put_str(&b, counts);
	msg_put_str(&b, r->c->fields);
	if (f->type == FRAME_W_IMAGE_FD) {
		msg_put_u64(&b, len);
		type = FRAME_R_DRYRUN_FD;
	} else
		buf_add(&b, f->payload, f->len);
	if (buf_used(&b) == 0)
		server_client_replyf(r->client, FRAME_R_ERROR, r->id,
		    "out of memory");
	else if (type == FRAME_R_DRYRUN)
		server_client_reply(r->client, type, r->id, buf_head(&b),
		    buf_used(&b));
	else if (server_client_reply_fd(r->client, type, r->id,
	    buf_head(&b), buf_used(&b), f->fd) == -1)
		server_client_replyf(r->client, FRAME_R_ERROR, r->id,
		    "%s; its image is too large to send without a descriptor",
		    counts);
	buf_free(&b);
	log_info("%s", counts);
	rehearse_free(r);
}

static void
rehearse_frame(struct child *c, const struct frame *f)
{
	struct rehearsal	*r = c->arg;

	if (r->phase == RH_HELLO && f->type == FRAME_W_HELLO && !c->hello)
		rehearse_hello(r, f);
	else if (r->phase == RH_MIGRATE && f->type == FRAME_W_READY) {
		r->phase = RH_REPLAY;
		if (r->n == 0) {
			rehearse_ask_image(r);
			return;
		}
		if (buf_add(peer_wbuf(c->peer), buf_head(&r->inputs),
		    buf_used(&r->inputs)) == -1) {
			rehearse_fail(r, "out of memory for the inputs");
			return;
		}
		r->sent = r->n;
		peer_kick(c->peer);
		rehearse_arm(r, rehearse_step_timeout(r));
	} else if (r->phase == RH_MIGRATE && f->type == FRAME_W_FAIL)
		rehearse_fail(r, "migration from %s failed: %.*s", r->from,
		    (int)f->len, f->payload);
	else if (r->phase == RH_REPLAY && (f->type == FRAME_W_OUTPUT ||
	    f->type == FRAME_W_ERROR)) {
		r->answered++;
		r->errors += f->type == FRAME_W_ERROR;
		if (r->answered == r->sent)
			rehearse_ask_image(r);
		else
			rehearse_arm(r, rehearse_step_timeout(r));
	} else if (r->phase == RH_IMAGE && (f->type == FRAME_W_IMAGE ||
	    f->type == FRAME_W_IMAGE_FD))
		rehearse_image(r, f);
	else if (r->phase == RH_IMAGE && f->type == FRAME_W_FAIL)
		rehearse_fail(r, "it could not serialize its state: %.*s",
		    (int)f->len, f->payload);
	else
		rehearse_fail(r, "it sent an unexpected %s frame",
		    frame_type_name(f->type));
}

/* The i-th input replayed (from 0): its frame, or -1. */
static int
rehearse_input(const struct rehearsal *r, uint64_t i, struct frame *f)
{
	const uint8_t	*q = buf_head(&r->inputs);
	size_t		 left = buf_used(&r->inputs), n;

	while (frame_parse(q, left, &rehearse_lim, f) == FRAME_OK) {
		if (i-- == 0)
			return 0;
		n = FRAME_HDR_LEN + f->len;
		q += n;
		left -= n;
	}
	return -1;
}

/* It died: in which input, if it was replaying. */
static void
rehearse_gone(struct child *c, const char *why)
{
	struct rehearsal	*r = c->arg;
	struct frame		 f;
	uint64_t		 i;
	char			 text[80];
	size_t			 k;

	r->c = NULL;
	if (r->phase != RH_REPLAY) {
		rehearse_fail(r, "the new worker (pid %ld) %s", (long)c->pid,
		    why);
		return;
	}
	/* The one it named, else the first not answered (they go in order). */
	for (i = 0; rehearse_input(r, i, &f) == 0; i++)
		if (c->crash_seq != 0 ? f.id == c->crash_seq : i == r->answered)
			break;
	text[0] = '\0';
	if (rehearse_input(r, i, &f) == 0) {
		for (k = 0; k < f.len && k < 60; k++)
			text[k] = f.payload[k] < 0x20 || f.payload[k] >= 0x7f ?
			    '?' : (char)f.payload[k];
		snprintf(text + k, sizeof text - k, "%s", f.len > 60 ? "..." :
		    "");
	}
	rehearse_fail(r, "it crashed on input #%llu (%s): %s",
	    (unsigned long long)(c->crash_seq != 0 ? c->crash_seq : f.id),
	    text, why);
}

/*
 * Rehearse an upgrade of machine m to the binary at path (or its own):
 * the answer comes when it is done. -1 with err set if it cannot start.
 */
int
rehearse_start(struct machine *m, const char *path, const char *extra,
    double timeout, struct client *client, uint64_t id, char *err,
    size_t len)
{
	struct rehearsal	*r;

	if (m->state != MS_RUNNING || !m->ready) {
		snprintf(err, len, "%s is %s: nothing to rehearse on",
		    m->name, machine_state_name(m));
		return -1;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	r->m = m;
	r->timeout = timeout > 0 ? timeout : m->opts.upgrade_timeout;
	r->client = client;
	r->id = id;
	snprintf(r->path, sizeof r->path, "%s", path[0] != '\0' ? path :
	    m->path);
	snprintf(r->from, sizeof r->from, "%s", m->version);
	if (extra != NULL) {
		r->has_extra = 1;
		snprintf(r->extra, sizeof r->extra, "%s", extra);
	}
	ev_init(&r->timer, rehearse_timer_cb);
	r->timer.data = r;
	r->base = RB_READY;
	if (!rehearse_base_usable(m)) {
		if (serial_request(m, SER_REHEARSE) == -1) {
			snprintf(err, len, "%s: cannot ask its worker for a "
			    "snapshot", m->name);
			free(r);
			return -1;
		}
		r->base = RB_WAIT;
	}
	if ((r->c = child_spawn(r->path, m->name, &m->opts, rehearse_frame,
	    rehearse_gone, r, err, len)) == NULL) {
		free(r);
		return -1;
	}
	server_client_ref(client);
	LIST_INSERT_HEAD(&rehearsals, r, entry);
	rehearse_arm(r, r->timeout);
	log_info("%s: rehearsing an upgrade from version %s: spawned %s (pid "
	    "%ld)", m->name, r->from, r->path, (long)r->c->pid);
	return 0;
}

/* Machine m is going: its rehearsals end with an error. */
void
rehearse_machine_gone(struct machine *m)
{
	struct rehearsal	*r, *next;

	for (r = LIST_FIRST(&rehearsals); r != NULL; r = next) {
		next = LIST_NEXT(r, entry);
		if (r->m == m)
			rehearse_fail(r, "the machine was stopped");
	}
}
