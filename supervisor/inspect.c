/*
 * inspect.c: looking inside running machines. `smsup state` queries (a
 * SERIALIZE with a token, in order with the inputs: the state after every
 * input accepted before it) and traces (`smsup trace`, `smsup run -v`):
 * one event per answered input with its client, input, output and, if
 * asked, the new state, plus upgrades, restarts and stops.
 *
 * Nothing here runs for a machine nobody traces: the hooks in machine.c
 * test m->ntracers first, and workers send their states after each input
 * only while someone traces with states (CONFIG_TRACE_STATE).
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "smsup.h"

#define INSPECT_BACKLOG_MAX	(8u << 20)	/* unread trace bytes */
#define INSPECT_IMAGES_MAX	8	/* images queries wait for at once */
#define INSPECT_INLINE_MAX	(16u << 20)	/* an image copied for a client */
#define INSPECT_PENDING_MAX	(16u << 20)	/* inputs kept for traces */

struct tracer {
	TAILQ_ENTRY(tracer)	 entry;
	struct machine		*m;
	struct client		*client;	/* NULL: the foreground log */
	uint64_t		 id;		/* of the TRACE request */
	int			 state;		/* with new states */
	uint64_t		 dropped;	/* events it was too slow for */
};

#ifndef TAILQ_FOREACH_SAFE	/* glibc's sys/queue.h lacks it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

static TAILQ_HEAD(, tracer) tracers = TAILQ_HEAD_INITIALIZER(tracers);
static int	inspect_foreground;	/* run -v: every machine, states */

/* State queries ------------------------------------------------------- */

/*
 * Whether the next query can share the image the last one sent waits
 * for: no input has been given to the worker since it was asked.
 */
static int
inspect_joins(struct machine *m)
{
	return m->queries_sent > 0 && m->query_images > 0 &&
	    serial_last_given(m) == m->query_given;
}

/*
 * Send the queries not sent yet, if the worker may have them now: one
 * SERIALIZE for each run of queries with no input between them (a client
 * asking 300 at once costs one image).
 */
void
inspect_flush(struct machine *m)
{
	struct pending	*q;

	if (m->queries.n == m->queries_sent || m->worker == NULL ||
	    m->worker->peer == NULL || !m->ready || m->suspended ||
	    m->state != MS_RUNNING)
		return;
	while (m->queries_sent < m->queries.n) {
		q = queue_at(&m->queries, m->queries_sent);
		if (inspect_joins(m))
			q->seq = 1;
		else if (serial_request(m, SER_QUERY) == 0) {
			q->seq = 0;
			m->query_images++;
			m->query_given = serial_last_given(m);
		} else
			break;
		m->queries_sent++;
	}
}

/* STATE: answered with the image once the worker has made it. */
int
inspect_query(struct machine *m, struct client *c, uint64_t id, char *err,
    size_t len)
{
	struct pending	 q = { c, id, 0 };

	if (m->state == MS_FAILED || m->state == MS_STOPPING) {
		snprintf(err, len, "%s is %s: it has no running state", m->name,
		    machine_state_name(m));
		return -1;
	}
	/* Images of 1 GiB each, made one after another: a bound. */
	if (m->query_images + (m->queries.n - m->queries_sent) >=
	    INSPECT_IMAGES_MAX && !(m->queries.n == m->queries_sent &&
	    inspect_joins(m))) {
		snprintf(err, len, "%s is making %d state images for queries "
		    "already: ask again once they are answered", m->name,
		    INSPECT_IMAGES_MAX);
		return -1;
	}
	if (queue_push(&m->queries, &q) == -1) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	server_client_ref(c);
	inspect_flush(m);
	return 0;
}

/* Hand the client q the image's memfd: -1 if it takes no descriptor. */
static int
inspect_query_fd(struct pending *q, const char *fields, size_t len, int fd)
{
	struct buf	 b = { 0 };
	int		 rc = -1;

	if (msg_put_str(&b, fields) == 0 && msg_put_u64(&b, len) == 0)
		rc = server_client_reply_fd(q->client, FRAME_R_STATE_FD, q->id,
		    buf_head(&b), buf_used(&b), fd);
	buf_free(&b);
	return rc;
}

/*
 * Answer the oldest query with the worker's image p (len bytes; in the
 * memfd fd unless it is -1) or its failure. A client that takes
 * descriptors gets the memfd; one that does not, the bytes.
 */
static void
inspect_query_done(struct machine *m, uint8_t type, const void *p,
    size_t len, int fd)
{
	struct pending	*q = queue_head(&m->queries);
	struct buf	 b = { 0 };
	const char	*fields = m->worker != NULL ? m->worker->fields : "";

	if (type != FRAME_R_STATE)
		server_client_reply(q->client, type, q->id, p, len);
	else if (fd != -1 && len > INSPECT_INLINE_MAX &&
	    !server_client_takes_fds(q->client))
		/* Copied into our memory for this client: not that large. */
		server_client_replyf(q->client, FRAME_R_ERROR, q->id, "the "
		    "state image is %zu MiB: past %u MiB it is only passed as "
		    "a descriptor (STATE flag 1, as smsup state asks)",
		    len >> 20, INSPECT_INLINE_MAX >> 20);
	else if (fd == -1 || inspect_query_fd(q, fields, len, fd) == -1) {
		if (msg_put_str(&b, fields) == 0 && buf_add(&b, p, len) == 0)
			server_client_reply(q->client, type, q->id,
			    buf_head(&b), buf_used(&b));
		else
			server_client_replyf(q->client, FRAME_R_ERROR, q->id,
			    "out of memory");
		buf_free(&b);
	}
	server_client_unref(q->client);
	queue_pop(&m->queries);
	m->queries_sent--;
}

/*
 * The worker's answer to the oldest query it was sent (serial.c), and to
 * those that share its image.
 */
void
inspect_answer_query(struct machine *m, const struct frame *f)
{
	if (m->queries_sent == 0)
		return;
	if (m->query_images > 0)
		m->query_images--;
	do
		inspect_query_done(m, f->type == FRAME_W_IMAGE ?
		    FRAME_R_STATE : FRAME_R_ERROR, f->payload, f->len, f->fd);
	while (m->queries_sent > 0 && queue_head(&m->queries)->seq == 1);
}

/*
 * The worker is gone: the queries it had not answered go to the next one
 * (after the inputs it is given again), unless the machine fails.
 */
void
inspect_worker_lost(struct machine *m, const char *why)
{
	(void)why;
	m->queries_sent = 0;
	m->query_images = 0;
}

/* Traces --------------------------------------------------------------- */

static void
inspect_count(struct machine *m, int delta, int state)
{
	int	 before = m->ntracers_state;

	m->ntracers += delta;
	if (state)
		m->ntracers_state += delta;
	if ((before > 0) != (m->ntracers_state > 0) && m->worker != NULL &&
	    m->worker->peer != NULL && m->worker->hello)
		recover_config(m, m->worker);
	if (m->ntracers == 0) {
		buf_free(&m->trace_in);
		buf_free(&m->trace_ev);
		m->trace_ev_seq = 0;
	}
}

/* Render one R_TRACE payload as a line (the client and run -v share it). */
static void
inspect_vis(struct buf *out, const uint8_t *p, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, max = len > 200 ? 200 : len;
	char			 e[4];

	for (i = 0; i < max; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			buf_add(out, &p[i], 1);
			continue;
		}
		if (p[i] == '\n')
			buf_add(out, "\\n", 2);
		else if (p[i] == '\\')
			buf_add(out, "\\\\", 2);
		else {
			e[0] = '\\'; e[1] = 'x'; e[2] = hex[p[i] >> 4];
			e[3] = hex[p[i] & 15];
			buf_add(out, e, 4);
		}
	}
	if (max < len)
		buf_add(out, "...", 3);
}

int
inspect_line(const uint8_t *p, size_t len, struct buf *out)
{
	struct msg_reader	 r;
	struct image		 img;
	const uint8_t		*in, *output, *image;
	size_t			 inlen, outlen, imglen;
	uint32_t		 kind, ok;
	uint64_t		 seq;
	char			 name[SMSUP_NAME_MAX + 1], from[64];
	char			 fields[1024], err[256], num[32];

	msg_init(&r, p, len);
	msg_get_u32(&r, &kind);
	msg_get_u64(&r, &seq);
	msg_get_str(&r, name, sizeof name);
	msg_get_str(&r, from, sizeof from);
	msg_get_bytes(&r, &in, &inlen);
	msg_get_u32(&r, &ok);
	msg_get_bytes(&r, &output, &outlen);
	msg_get_str(&r, fields, sizeof fields);
	msg_get_bytes(&r, &image, &imglen);
	if (msg_end(&r) == -1)
		return -1;
	buf_add(out, name, strlen(name));
	if (kind != TRACE_INPUT) {
		buf_add(out, ": ", 2);
		inspect_vis(out, output, outlen);
		return buf_add(out, "\n", 1);
	}
	snprintf(num, sizeof num, " #%" PRIu64 " ", seq);
	buf_add(out, num, strlen(num));
	buf_add(out, from, strlen(from));
	buf_add(out, ": ", 2);
	inspect_vis(out, in, inlen);
	buf_add(out, ok ? "  Output: " : "  Error: ", ok ? 10 : 9);
	inspect_vis(out, output, outlen);
	if (imglen > 0) {
		buf_add(out, "  New state: ", 13);
		if (image_decode(image, imglen, &img) != IMAGE_OK ||
		    tpljson_render(img.tpl, img.tpl_len, fields, out, err,
		    sizeof err) == -1)
			buf_add(out, "(undecodable)", 13);
	}
	return buf_add(out, "\n", 1);
}

/*
 * Send event ev to m's tracers. If it carries a state image, cut is where
 * the image field starts: tracers without states get it empty.
 */
static void
inspect_emit(struct machine *m, const struct buf *evs, size_t cut)
{
	struct tracer		*t, *next;
	struct buf		 line = { 0 }, note = { 0 }, bare = { 0 };
	const struct buf	*ev;
	char			 msg[64];

	TAILQ_FOREACH_SAFE(t, &tracers, entry, next) {
		if (t->m != m)
			continue;
		ev = evs;
		if (cut > 0 && !t->state) {
			if (buf_used(&bare) == 0 &&
			    (buf_add(&bare, buf_head(evs), cut) == -1 ||
			    msg_put_u32(&bare, 0) == -1))
				continue;
			ev = &bare;
		}
		if (t->client == NULL) {
			if (inspect_line(buf_head(ev), buf_used(ev), &line) ==
			    0) {
				fwrite(buf_head(&line), 1, buf_used(&line),
				    stdout);
				fflush(stdout);
			}
			buf_reset(&line);
			continue;
		}
		if (server_client_backlog(t->client) > INSPECT_BACKLOG_MAX) {
			t->dropped++;
			continue;
		}
		if (t->dropped > 0) {
			snprintf(msg, sizeof msg, "%" PRIu64 " events dropped "
			    "(the trace read too slowly)", t->dropped);
			inspect_event(&note, m, TRACE_NOTE, 0, "", NULL, 0, 1,
			    msg, strlen(msg), NULL, 0);
			server_client_reply(t->client, FRAME_R_TRACE, t->id,
			    buf_head(&note), buf_used(&note));
			buf_reset(&note);
			t->dropped = 0;
		}
		server_client_reply(t->client, FRAME_R_TRACE, t->id,
		    buf_head(ev), buf_used(ev));
	}
	buf_free(&line);
	buf_free(&note);
	buf_free(&bare);
}

/* The payload of one R_TRACE. */
void
inspect_event(struct buf *b, struct machine *m, uint32_t kind, uint64_t seq,
    const char *from, const void *in, size_t inlen, int ok, const void *out,
    size_t outlen, const void *image, size_t imglen)
{
	msg_put_u32(b, kind);
	msg_put_u64(b, seq);
	msg_put_str(b, m->name);
	msg_put_str(b, from);
	msg_put_bytes(b, in, inlen);
	msg_put_u32(b, (uint32_t)ok);
	msg_put_bytes(b, out, outlen);
	msg_put_str(b, m->worker != NULL ? m->worker->fields : "");
	msg_put_bytes(b, image, imglen);
}

/* An upgrade, restart or stop, for whoever traces m. */
void
inspect_note(struct machine *m, const char *fmt, ...)
{
	struct buf	 b = { 0 };
	va_list		 ap;
	char		 text[1024];
	size_t		 skip = 0, n = strlen(m->name);

	notify_changed();	/* every note changes the service's summary */
	if (m->ntracers == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* Reports start with the machine's name, which the line has. */
	if (strncmp(text, m->name, n) == 0 && strncmp(text + n, ": ", 2) == 0)
		skip = n + 2;
	inspect_event(&b, m, TRACE_NOTE, 0, "", NULL, 0, 1, text + skip,
	    strlen(text + skip), NULL, 0);
	inspect_emit(m, &b, 0);
	buf_free(&b);
}

/* An accepted input: kept until its answer, for the trace line. */
void
inspect_input(struct machine *m, struct client *c, int call, uint64_t seq,
    const void *in, size_t len)
{
	char	 from[64];

	if (buf_used(&m->trace_in) > INSPECT_PENDING_MAX)
		return;
	if (c != NULL && server_client_pid(c) > 0)
		snprintf(from, sizeof from, "%s from pid %ld", call ? "call" :
		    "send", (long)server_client_pid(c));
	else
		snprintf(from, sizeof from, "%s", call ? "call" : "send");
	msg_put_u64(&m->trace_in, seq);
	msg_put_str(&m->trace_in, from);
	msg_put_bytes(&m->trace_in, in, len);
}

static void
inspect_emit_pending(struct machine *m)
{
	if (m->trace_ev_seq == 0)
		return;
	inspect_emit(m, &m->trace_ev, m->trace_ev_cut);
	buf_reset(&m->trace_ev);
	m->trace_ev_seq = 0;
	m->trace_ev_cut = 0;
}

/* The worker answered input f->id: the event, or half of it. */
void
inspect_answer(struct machine *m, const struct frame *f)
{
	struct msg_reader	 r;
	const uint8_t		*in = NULL;
	size_t			 inlen = 0, used = 0;
	uint64_t		 seq = 0;
	char			 from[64] = "input";

	inspect_emit_pending(m);
	/* Records of inputs answered before the trace began go first. */
	while (buf_used(&m->trace_in) > 0) {
		msg_init(&r, buf_head(&m->trace_in), buf_used(&m->trace_in));
		msg_get_u64(&r, &seq);
		msg_get_str(&r, from, sizeof from);
		msg_get_bytes(&r, &in, &inlen);
		if (r.err || seq > f->id) {
			in = NULL;
			inlen = 0;
			snprintf(from, sizeof from, "input");
			break;
		}
		used = r.off;
		if (seq == f->id)
			break;
		buf_consume(&m->trace_in, used);
		used = 0;
		in = NULL;
	}
	buf_reset(&m->trace_ev);
	inspect_event(&m->trace_ev, m, TRACE_INPUT, f->id, from, in, inlen,
	    f->type == FRAME_W_OUTPUT, f->payload, f->len, NULL, 0);
	if (used > 0)
		buf_consume(&m->trace_in, used);
	m->trace_ev_seq = f->id;
	if (m->ntracers_state == 0)
		inspect_emit_pending(m);
}

/* W_STATE: the state after input f->id completes its event. */
void
inspect_state(struct machine *m, const struct frame *f)
{
	if (m->trace_ev_seq != f->id || m->ntracers == 0)
		return;
	/* The event ends with an empty image: replace it. */
	m->trace_ev.len -= 4;
	m->trace_ev_cut = buf_used(&m->trace_ev);
	msg_put_bytes(&m->trace_ev, f->payload, f->len);
	inspect_emit_pending(m);
}

/* TRACE: follow machine m (or, for run -v, with c NULL, every machine). */
int
inspect_trace(struct machine *m, struct client *c, uint64_t id, int state)
{
	struct tracer	*t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return -1;
	t->m = m;
	t->client = c;
	t->id = id;
	t->state = state;
	TAILQ_INSERT_TAIL(&tracers, t, entry);
	if (c != NULL)
		server_client_ref(c);
	inspect_count(m, 1, state);
	return 0;
}

static void
inspect_untrace(struct tracer *t)
{
	TAILQ_REMOVE(&tracers, t, entry);
	inspect_count(t->m, -1, t->state);
	if (t->client != NULL)
		server_client_unref(t->client);
	free(t);
}

/* run -v: every machine is traced, with its states, on stdout. */
void
inspect_foreground_on(void)
{
	inspect_foreground = 1;
}

void
inspect_machine_new(struct machine *m)
{
	if (inspect_foreground)
		inspect_trace(m, NULL, 0, 1);
}

/* A client hung up: its traces end. */
void
inspect_client_gone(struct client *c)
{
	struct tracer	*t, *next;

	TAILQ_FOREACH_SAFE(t, &tracers, entry, next)
		if (t->client == c)
			inspect_untrace(t);
}

/* Every query of m gets an error: the machine failed or is gone. */
void
inspect_queries_fail(struct machine *m, const char *why)
{
	char	 msg[600];

	snprintf(msg, sizeof msg, "%s: worker gone before answering (%s)",
	    m->name, why);
	m->queries_sent = m->queries.n;
	m->query_images = 0;
	while (m->queries_sent > 0)
		inspect_query_done(m, FRAME_R_ERROR, msg, strlen(msg), -1);
}

/* Machine m is removed: its traces end, its queries get errors. */
void
inspect_machine_gone(struct machine *m, const char *why)
{
	struct tracer	*t, *next;
	struct buf	 b = { 0 };

	notify_changed();
	inspect_event(&b, m, TRACE_END, 0, "", NULL, 0, 1, why, strlen(why),
	    NULL, 0);
	inspect_emit_pending(m);
	inspect_emit(m, &b, 0);
	buf_free(&b);
	TAILQ_FOREACH_SAFE(t, &tracers, entry, next)
		if (t->m == m)
			inspect_untrace(t);
	inspect_queries_fail(m, why);
	queue_free(&m->queries);
}

/* A traced state (W_STATE) of m's worker. */
int
inspect_worker_frame(struct machine *m, const struct frame *f)
{
	if (f->type != FRAME_W_STATE)
		return 0;
	inspect_state(m, f);
	return 1;
}
