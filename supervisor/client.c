/* client.c: the client side of the control socket: connect, send a request, read answers. */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "smsup.h"

double	 client_timeout;	/* -t: seconds to wait for an answer; 0 */

/* Descriptors that came with answers (R_STATE_FD), not yet handed out. */
static int	 client_fds[FDPASS_MAX];
static int	 client_nfds;

/* Connect to the supervisor at path; -1 with errno set if none answers. */
int
client_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Write a whole frame with payload p (may be NULL), blocking. */
int
client_send(int fd, uint8_t type, uint64_t id, const struct buf *p)
{
	struct buf	 b = { 0 };
	ssize_t		 n;
	int		 rc = 0;

	if (frame_put(&b, type, id, p ? buf_head(p) : NULL, p ? buf_used(p) :
	    0) == -1)
		return -1;
	while (buf_used(&b) > 0) {
		/* A supervisor that hung up is an error here, not a SIGPIPE. */
		n = send(fd, buf_head(&b), buf_used(&b), MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		buf_consume(&b, (size_t)n);
	}
	buf_free(&b);
	return rc;
}

/*
 * Read the next answer into r (its data stays valid until the next call
 * with the same buffer). 1 on success, 0 if the supervisor closed, -1 on
 * error.
 */
int
client_recv(int fd, struct buf *in, struct reply *r)
{
	/* State images (R_STATE, R_TRACE) may be as large as workers send. */
	static const struct frame_limits lim = {
		FRAME_MAX_DEFAULT + 4096, FRAME_IMAGE_MAX_DEFAULT + 8192
	};
	struct frame	 f;
	ssize_t		 n;
	int		 rc, i, broken = 0;

	for (;;) {
		rc = frame_parse(buf_head(in), buf_used(in), &lim, &f);
		if (rc == FRAME_OK) {
			r->type = f.type;
			r->id = f.id;
			r->data = (uint8_t *)f.payload;
			r->len = f.len;
			r->fd = -1;
			buf_consume(in, FRAME_HDR_LEN + f.len);
			if (!frame_has_fd(f.type))
				return 1;
			/* It rode on the frame's first byte: it is here. */
			if (client_nfds == 0) {
				errno = EPROTO;
				return -1;
			}
			r->fd = client_fds[0];
			for (i = 1; i < client_nfds; i++)
				client_fds[i - 1] = client_fds[i];
			client_nfds--;
			return 1;
		}
		if (rc < 0) {
			errno = EPROTO;
			return -1;
		}
		if (buf_reserve(in, 65536) == -1)
			return -1;
		n = fdpass_recv(fd, in->data + in->len, in->cap - in->len,
		    client_fds, &client_nfds, FDPASS_MAX, &broken);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    client_timeout > 0)
			errno = ETIMEDOUT;
		if (n == -1)
			return -1;
		if (n == 0)
			return 0;
		in->len += (size_t)n;
	}
}

/* Send one request and read its answer. 1, 0 (closed) or -1. */
int
client_request(int fd, uint8_t type, const struct buf *p, struct buf *in,
    struct reply *r)
{
	/* Even if the send failed, an answer (a refusal) may be there. */
	if (client_send(fd, type, 1, p) == -1 && errno != EPIPE &&
	    errno != ECONNRESET)
		return -1;
	return client_recv(fd, in, r);
}

/* Print an error answer; returns the exit status for it. */
int
client_error(const struct reply *r)
{
	fprintf(stderr, "smsup: %.*s\n", (int)r->len, (const char *)r->data);
	return EXIT_FAIL;
}

/* The answers to a command: given up on after client_timeout. */
void
client_set_timeout(int fd)
{
	struct timeval	 tv;

	if (client_timeout <= 0)
		return;
	tv.tv_sec = (time_t)client_timeout;
	tv.tv_usec = (suseconds_t)((client_timeout - (double)tv.tv_sec) * 1e6);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Say that no answer came in time; the exit status for it. */
int
client_timed_out(const char *what)
{
	fprintf(stderr, "smsup: no answer within %gs%s%s\n", client_timeout,
	    what != NULL ? ": " : "", what != NULL ? what : "");
	return EXIT_FAIL;
}

/* Connect for a command, or say that no supervisor runs. */
int
client_open(const char *path)
{
	int	 fd;

	if ((fd = client_connect(path)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "smsup: no supervisor on %s (start one "
			    "with: smsup run NAME)\n", path);
		else
			fprintf(stderr, "smsup: %s: %s\n", path,
			    strerror(errno));
	} else
		client_set_timeout(fd);
	return fd;
}

/*
 * Connect, send one request, read its answer into r (valid while in is),
 * and close. 0 if the answer is of type want (or want is 0), else the exit
 * status of the failure, said on stderr (an error answer, the text).
 */
int
client_ask(const char *path, uint8_t type, const struct buf *p,
    struct buf *in, struct reply *r, uint8_t want)
{
	int	 fd, rc;

	if ((fd = client_open(path)) == -1)
		return EXIT_NOSERVER;
	rc = client_request(fd, type, p, in, r);
	close(fd);
	if (rc == -1 && errno == ETIMEDOUT)
		return client_timed_out(NULL);
	if (rc != 1) {
		fprintf(stderr, "smsup: the supervisor closed the connection "
		    "without answering\n");
		return EXIT_FAIL;
	}
	if (want != 0 && r->type != want)
		return client_error(r);
	return 0;
}

/*
 * A command of one request and one text answer: print it on stdout (OK)
 * or stderr (error). Returns the exit status.
 */
int
client_simple(const char *path, uint8_t type, const struct buf *p)
{
	struct buf	 in = { 0 };
	struct reply	 r;
	int		 rc;

	if ((rc = client_ask(path, type, p, &in, &r, 0)) != 0) {
		buf_free(&in);
		return rc;
	}
	if (r.type == FRAME_R_OK) {
		if (r.len > 0)
			printf("%.*s\n", (int)r.len, (const char *)r.data);
		rc = 0;
	} else
		rc = client_error(&r);
	buf_free(&in);
	return rc;
}
