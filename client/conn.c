/*
 * conn.c: the client library (smsup/client.h): one non-blocking
 * connection to a supervisor's control socket, carrying pipelined CALL
 * and SEND requests (smsup-protocol(7)), each given exactly one answer
 * through its callback. Requests get ids in the order they are queued;
 * the pending ones are kept in that order, found by binary search when
 * their answer comes (answers to different machines may come in any
 * order), and dropped from the front once answered, so that a late
 * answer to one that timed out is recognised and ignored.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsup/client.h"
#include "buf.h"
#include "frame.h"
#include "image.h"
#include "msg.h"

#define CONN_READ	65536

struct conn_req {
	uint64_t	 id;
	double		 deadline;	/* monotonic seconds; 0: none */
	smsup_client_cb	*cb;
	void		*arg;
	int		 done;
};

struct smsup_client {
	int		 fd;
	int		 lost;
	double		 timeout;
	uint64_t	 next_id;
	struct buf	 out;		/* frames not yet written */
	struct buf	 in;		/* bytes read, not yet a whole frame */
	struct conn_req	*req;		/* pending, by id: [head, n) */
	size_t		 head, n, cap;
	size_t		 npending;
	double		 soonest;	/* no deadline before this; 0: none */
	int		 busy;		/* in a callback: no closing */
	char		 err[256];
};

static const struct frame_limits conn_lim = {
	FRAME_MAX_DEFAULT + 4096, FRAME_MAX_DEFAULT + 4096
};

static double
conn_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
conn_seterr(struct smsup_client *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

const char *
smsup_client_strerror(int status)
{
	switch (status) {
	case SMSUP_CLIENT_OK:		return "ok";
	case SMSUP_CLIENT_ERROR:	return "answered with an error";
	case SMSUP_CLIENT_TIMEOUT:	return "no answer in time";
	case SMSUP_CLIENT_LOST:		return "lost the supervisor";
	case SMSUP_CLIENT_NOSERVER:	return "no supervisor on the socket";
	case SMSUP_CLIENT_SYSTEM:	return "a system call failed";
	case SMSUP_CLIENT_INVALID:	return "invalid argument";
	case SMSUP_CLIENT_PROTOCOL:	return "protocol error";
	default:			return "unknown status";
	}
}

const char *
smsup_client_error(const struct smsup_client *c)
{
	return c->err;
}

static const char *
conn_tmpdir(void)
{
	const char	*t = getenv("TMPDIR");

	return t != NULL && t[0] == '/' ? t : "/tmp";
}

int
smsup_client_socket(const char *socket, char *out, size_t len)
{
	struct sockaddr_un	 sun;
	const char		*s;
	int			 n;

	if ((s = socket) != NULL || ((s = getenv("SMSUP_SOCKET")) != NULL &&
	    *s != '\0'))
		n = snprintf(out, len, "%s", s);
	else if ((s = getenv("XDG_RUNTIME_DIR")) != NULL && *s == '/')
		n = snprintf(out, len, "%s/smsup/control.sock", s);
	else
		n = snprintf(out, len, "%s/smsup-%ld/control.sock",
		    conn_tmpdir(), (long)getuid());
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

struct smsup_client *
smsup_client_open(const char *socket_path, int *status, char *err,
    size_t errlen)
{
	struct smsup_client	*c;
	struct sockaddr_un	 sun;
	char			 path[sizeof sun.sun_path];
	int			 fd, st = SMSUP_CLIENT_SYSTEM;

	if (status == NULL)
		status = &st;
	if (smsup_client_socket(socket_path, path, sizeof path) == -1) {
		*status = SMSUP_CLIENT_INVALID;
		snprintf(err, errlen, "socket path too long");
		return NULL;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*status = SMSUP_CLIENT_SYSTEM;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		*status = errno == ENOENT || errno == ECONNREFUSED ?
		    SMSUP_CLIENT_NOSERVER : SMSUP_CLIENT_SYSTEM;
		if (*status == SMSUP_CLIENT_NOSERVER)
			snprintf(err, errlen, "no supervisor on %s (start one "
			    "with: smsup run NAME)", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    (c = calloc(1, sizeof *c)) == NULL) {
		*status = SMSUP_CLIENT_SYSTEM;
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->next_id = 1;
	*status = SMSUP_CLIENT_OK;
	return c;
}

void
smsup_client_set_timeout(struct smsup_client *c, double seconds)
{
	c->timeout = seconds > 0 ? seconds : 0;
}

int
smsup_client_fd(const struct smsup_client *c)
{
	return c->fd;
}

int
smsup_client_events(const struct smsup_client *c)
{
	if (c->lost)
		return 0;
	return POLLIN | (buf_used(&c->out) > 0 ? POLLOUT : 0);
}

size_t
smsup_client_pending(const struct smsup_client *c)
{
	return c->npending;
}

/* The pending request of this id, or NULL (answered, timed out, never). */
static struct conn_req *
conn_find(struct smsup_client *c, uint64_t id)
{
	size_t	 lo = c->head, hi = c->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->req[mid].id == id)
			return c->req[mid].done ? NULL : &c->req[mid];
		if (c->req[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Request r is answered: its callback, then the front tidied. */
static void
conn_answer(struct smsup_client *c, struct conn_req *r, int status,
    const char *data, size_t len)
{
	char	 empty[1] = "";

	r->done = 1;
	c->npending--;
	c->busy++;
	r->cb(c, r->id, status, data != NULL ? data : empty, len, r->arg);
	c->busy--;
	while (c->head < c->n && c->req[c->head].done)
		c->head++;
	if (c->head == c->n)
		c->head = c->n = 0;
}

/* Every pending request gets status, with the connection's error. */
static void
conn_fail_all(struct smsup_client *c, int status)
{
	size_t	 i;

	for (i = c->head; i < c->n; i++)
		if (!c->req[i].done)
			conn_answer(c, &c->req[i], status, c->err,
			    strlen(c->err));
	buf_reset(&c->out);
}

/* The connection is gone: every pending request hears it, once. */
static int
conn_lose(struct smsup_client *c, const char *fmt, ...)
{
	va_list	 ap;

	if (!c->lost) {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof c->err, fmt, ap);
		va_end(ap);
		c->lost = 1;
	}
	conn_fail_all(c, SMSUP_CLIENT_LOST);
	return SMSUP_CLIENT_LOST;
}

static int
conn_queue(struct smsup_client *c, uint8_t type, const char *machine,
    const void *input, size_t len, smsup_client_cb *cb, void *arg,
    uint64_t *idp)
{
	struct conn_req	*r;
	struct buf	 p = { 0 };
	size_t		 cap;
	int		 rc;

	if (c == NULL || machine == NULL || cb == NULL ||
	    (input == NULL && len > 0) || !image_name_valid(machine)) {
		if (c != NULL)
			conn_seterr(c, "invalid machine name or input");
		return SMSUP_CLIENT_INVALID;
	}
	if (len > SMSUP_CLIENT_INPUT_MAX) {
		conn_seterr(c, "input of %zu bytes: the cap is %u", len,
		    SMSUP_CLIENT_INPUT_MAX);
		return SMSUP_CLIENT_INVALID;
	}
	if (c->lost) {
		conn_seterr(c, "the connection is lost");
		return SMSUP_CLIENT_LOST;
	}
	if (c->n == c->cap) {
		/*
		 * Slide the live ones to the front before growing, unless a
		 * callback runs: its caller walks the array by index.
		 */
		if (c->head > 0 && c->busy == 0) {
			memmove(c->req, c->req + c->head, (c->n - c->head) *
			    sizeof *c->req);
			c->n -= c->head;
			c->head = 0;
		}
		if (c->n == c->cap) {
			cap = c->cap ? c->cap * 2 : 64;
			if ((r = realloc(c->req, cap * sizeof *r)) == NULL) {
				conn_seterr(c, "out of memory");
				return SMSUP_CLIENT_SYSTEM;
			}
			c->req = r;
			c->cap = cap;
		}
	}
	rc = msg_put_str(&p, machine) == -1 ||
	    msg_put_bytes(&p, input, len) == -1 ||
	    frame_put(&c->out, type, c->next_id, buf_head(&p),
	    buf_used(&p)) == -1;
	buf_free(&p);
	if (rc) {
		conn_seterr(c, "out of memory");
		return SMSUP_CLIENT_SYSTEM;
	}
	r = &c->req[c->n++];
	r->id = c->next_id++;
	r->deadline = c->timeout > 0 ? conn_now() + c->timeout : 0;
	if (r->deadline > 0 && (c->soonest == 0 || r->deadline < c->soonest))
		c->soonest = r->deadline;
	r->cb = cb;
	r->arg = arg;
	r->done = 0;
	c->npending++;
	if (idp != NULL)
		*idp = r->id;
	return SMSUP_CLIENT_OK;
}

int
smsup_client_call_async(struct smsup_client *c, const char *machine,
    const void *input, size_t len, smsup_client_cb *cb, void *arg,
    uint64_t *idp)
{
	return conn_queue(c, FRAME_C_CALL, machine, input, len, cb, arg, idp);
}

int
smsup_client_send_async(struct smsup_client *c, const char *machine,
    const void *input, size_t len, smsup_client_cb *cb, void *arg,
    uint64_t *idp)
{
	return conn_queue(c, FRAME_C_SEND, machine, input, len, cb, arg, idp);
}

int
smsup_client_timeout_ms(const struct smsup_client *c)
{
	double	 now;

	if (c->soonest == 0 || c->npending == 0)
		return -1;
	now = conn_now();
	return c->soonest <= now ? 0 : (int)((c->soonest - now) * 1000) + 1;
}

/*
 * Time out the requests past their deadline (requests queued without a
 * timeout have none), and find the next deadline: a scan only when one
 * is due, so a long pipeline costs nothing per turn.
 */
static void
conn_expire(struct smsup_client *c)
{
	double	 now, next = 0;
	size_t	 i;
	char	 msg[96];

	if (c->soonest == 0 || c->npending == 0 || (now = conn_now()) <
	    c->soonest)
		return;
	for (i = c->head; i < c->n; i++) {
		if (c->req[i].done || c->req[i].deadline == 0)
			continue;
		if (c->req[i].deadline <= now) {
			snprintf(msg, sizeof msg, "no answer within %gs (the "
			    "input may still be applied)", c->timeout);
			conn_answer(c, &c->req[i], SMSUP_CLIENT_TIMEOUT, msg,
			    strlen(msg));
		} else if (next == 0 || c->req[i].deadline < next)
			next = c->req[i].deadline;
	}
	c->soonest = next;
}

/* One answer frame: to its request, unless that one is gone. */
static int
conn_frame(struct smsup_client *c, const struct frame *f)
{
	struct conn_req	*r;
	int		 status;

	if (f->type != FRAME_R_OUTPUT && f->type != FRAME_R_ACCEPTED &&
	    f->type != FRAME_R_ERROR)
		return conn_lose(c, "the supervisor sent an unexpected %s "
		    "answer", frame_type_name(f->type));
	/*
	 * An error for request 0 is for the connection (refused: "permission
	 * denied"): every pending request gets it, and the connection ends.
	 */
	if (f->id == 0 && f->type == FRAME_R_ERROR) {
		conn_seterr(c, "%.*s", (int)f->len, (const char *)f->payload);
		c->lost = 1;
		conn_fail_all(c, SMSUP_CLIENT_ERROR);
		return SMSUP_CLIENT_LOST;
	}
	/* An id never given is the supervisor's confusion, not a late one. */
	if (f->id == 0 || f->id >= c->next_id)
		return conn_lose(c, "the supervisor answered request %llu, "
		    "never asked", (unsigned long long)f->id);
	if ((r = conn_find(c, f->id)) == NULL)
		return SMSUP_CLIENT_OK;		/* timed out: dropped */
	status = f->type == FRAME_R_ERROR ? SMSUP_CLIENT_ERROR :
	    SMSUP_CLIENT_OK;
	conn_answer(c, r, status, (const char *)f->payload, f->len);
	return SMSUP_CLIENT_OK;
}

/* Parse and dispatch the whole frames read. */
static int
conn_dispatch(struct smsup_client *c)
{
	struct frame	 f;
	uint8_t		 save;
	int		 rc;

	while ((rc = frame_parse(buf_head(&c->in), buf_used(&c->in),
	    &conn_lim, &f)) == FRAME_OK) {
		/* NUL-terminate the payload in place, for the callback. */
		save = 0;
		if (buf_used(&c->in) > FRAME_HDR_LEN + f.len) {
			save = ((uint8_t *)f.payload)[f.len];
			((uint8_t *)f.payload)[f.len] = '\0';
		} else if (buf_reserve(&c->in, 1) == 0) {
			/* (reserve may move the bytes: parse again) */
			frame_parse(buf_head(&c->in), buf_used(&c->in),
			    &conn_lim, &f);
			((uint8_t *)f.payload)[f.len] = '\0';
		}
		if (conn_frame(c, &f) != SMSUP_CLIENT_OK)
			return SMSUP_CLIENT_LOST;
		if (buf_used(&c->in) > FRAME_HDR_LEN + f.len)
			((uint8_t *)f.payload)[f.len] = save;
		buf_consume(&c->in, FRAME_HDR_LEN + f.len);
	}
	if (rc < 0)
		return conn_lose(c, "the supervisor sent a malformed frame");
	return SMSUP_CLIENT_OK;
}

int
smsup_client_process(struct smsup_client *c)
{
	ssize_t	 n;

	if (c->lost)
		return SMSUP_CLIENT_LOST;
	/* From a callback: the answers being run are not done yet. */
	if (c->busy)
		return SMSUP_CLIENT_OK;
	while (buf_used(&c->out) > 0) {
		n = send(c->fd, buf_head(&c->out), buf_used(&c->out),
		    MSG_NOSIGNAL);
		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* Answers (refusals) may still be there: read them first. */
		break;
	}
	for (;;) {
		if (buf_reserve(&c->in, CONN_READ + 1) == -1)
			return conn_lose(c, "out of memory");
		n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len -
		    1);
		if (n > 0) {
			c->in.len += (size_t)n;
			if (conn_dispatch(c) != SMSUP_CLIENT_OK)
				return SMSUP_CLIENT_LOST;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return conn_lose(c, n == 0 ? "the supervisor closed the "
		    "connection" : "%s", strerror(errno));
	}
	conn_expire(c);
	return SMSUP_CLIENT_OK;
}

/* Block until the descriptor is ready or the next timeout is due. */
static int
conn_poll(struct smsup_client *c)
{
	struct pollfd	 pfd;

	pfd.fd = c->fd;
	pfd.events = (short)smsup_client_events(c);
	pfd.revents = 0;
	if (poll(&pfd, 1, smsup_client_timeout_ms(c)) == -1 && errno != EINTR)
		return conn_lose(c, "poll: %s", strerror(errno));
	return SMSUP_CLIENT_OK;
}

int
smsup_client_wait(struct smsup_client *c, size_t max)
{
	int	 rc;

	while (c->npending > max) {
		if ((rc = smsup_client_process(c)) != SMSUP_CLIENT_OK)
			return rc;
		if (c->npending > max && (rc = conn_poll(c)) != SMSUP_CLIENT_OK)
			return rc;
	}
	return SMSUP_CLIENT_OK;
}

/* What a blocking call keeps of its answer. */
struct conn_result {
	int	 status;
	char	*text;
	size_t	 len;
	int	 done;
};

static void
conn_result_cb(struct smsup_client *c, uint64_t id, int status,
    const char *data, size_t len, void *arg)
{
	struct conn_result	*res = arg;

	(void)c;
	(void)id;
	res->status = status;
	res->done = 1;
	if ((res->text = malloc(len + 1)) != NULL) {
		memcpy(res->text, data, len);
		res->text[len] = '\0';
		res->len = len;
	}
}

static int
conn_blocking(struct smsup_client *c, uint8_t type, const char *machine,
    const void *input, size_t len, char **out, size_t *outlen)
{
	struct conn_result	 res = { 0 };
	int			 rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = conn_queue(c, type, machine, input, len, conn_result_cb,
	    &res, NULL)) != SMSUP_CLIENT_OK)
		return rc;
	while (!res.done && smsup_client_process(c) == SMSUP_CLIENT_OK &&
	    !res.done)
		conn_poll(c);
	if (res.text == NULL) {
		conn_seterr(c, "out of memory");
		return SMSUP_CLIENT_SYSTEM;
	}
	if (out != NULL)
		*out = res.text;
	else
		free(res.text);
	if (outlen != NULL)
		*outlen = res.len;
	if (res.status != SMSUP_CLIENT_OK && res.text != NULL)
		conn_seterr(c, "%.*s", (int)res.len, res.text);
	return res.status;
}

int
smsup_client_call(struct smsup_client *c, const char *machine,
    const void *input, size_t len, char **out, size_t *outlen)
{
	return conn_blocking(c, FRAME_C_CALL, machine, input, len, out,
	    outlen);
}

int
smsup_client_send(struct smsup_client *c, const char *machine,
    const void *input, size_t len, char **out, size_t *outlen)
{
	return conn_blocking(c, FRAME_C_SEND, machine, input, len, out,
	    outlen);
}

void
smsup_client_close(struct smsup_client *c)
{
	if (c == NULL)
		return;
	conn_lose(c, "the connection was closed");
	close(c->fd);
	buf_free(&c->out);
	buf_free(&c->in);
	free(c->req);
	free(c);
}
