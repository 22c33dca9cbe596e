/*
 * smsup/client.h: talk to machines that smsup(1) runs, from a program, as
 * `smsup call` and `smsup send` do. See smsup-client(3).
 *
 * One connection to a supervisor carries any number of calls and sends
 * at once (pipelined); each gets exactly one answer through its callback:
 * the machine's output, its acceptance, an error, a timeout or the loss
 * of the connection. The connection's descriptor can be polled from any
 * event loop (poll, epoll, libev, libuv): smsup_client_events() says what
 * to wait for, smsup_client_timeout_ms() how long, and
 * smsup_client_process() does what can be done without blocking. Or
 * block: smsup_client_call(), smsup_client_wait().
 */
#ifndef SMSUP_CLIENT_H
#define SMSUP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* What became of a request (and of the client calls that return one). */
enum {
	SMSUP_CLIENT_OK = 0,		/* answered: the output, or accepted */
	SMSUP_CLIENT_ERROR = 1,		/* answered with an error: the text */
	SMSUP_CLIENT_TIMEOUT = 2,	/* no answer in time: it may still be
					   applied */
	SMSUP_CLIENT_LOST = 3,		/* the connection ended first: it may
					   have been applied */
	SMSUP_CLIENT_NOSERVER = 4,	/* no supervisor on the socket */
	SMSUP_CLIENT_SYSTEM = 5,	/* a system call failed (errno) */
	SMSUP_CLIENT_INVALID = 6,	/* a bad argument */
	SMSUP_CLIENT_PROTOCOL = 7,	/* the supervisor said something wrong */
};

#define SMSUP_CLIENT_INPUT_MAX	(16u << 20)	/* bytes of an input */

struct smsup_client;

/*
 * The answer to request id: status SMSUP_CLIENT_OK with the output of a
 * call (empty for a send), or another status with a text saying why.
 * data (len bytes, NUL-terminated) is valid during the callback only.
 */
typedef void	smsup_client_cb(struct smsup_client *, uint64_t id, int status,
		    const char *data, size_t len, void *arg);

/*
 * The control socket, as smsup(1) finds it: socket if not NULL, else
 * $SMSUP_SOCKET, else $XDG_RUNTIME_DIR/smsup/control.sock, else
 * $TMPDIR/smsup-UID/control.sock. 0, or -1 if it does not fit in out.
 */
int		 smsup_client_socket(const char *socket, char *out, size_t len);

/* Connect (socket: as above). NULL with the reason in err on failure. */
struct smsup_client *smsup_client_open(const char *socket, int *status,
		    char *err, size_t errlen);
/* Close; the requests still pending get SMSUP_CLIENT_LOST first. */
void		 smsup_client_close(struct smsup_client *);

/* Each request's answer within this many seconds (0: no limit). */
void		 smsup_client_set_timeout(struct smsup_client *, double);

/*
 * Queue a call (its output comes back) or a send (the machine accepted
 * it: it will be applied) of input (len bytes) to machine; *id (if not
 * NULL) is the request's id, given to cb. Nothing is written until
 * smsup_client_process() or a wait. A status other than OK if it cannot
 * be queued (cb is then not called).
 */
int		 smsup_client_call_async(struct smsup_client *, const char *,
		    const void *, size_t, smsup_client_cb *, void *,
		    uint64_t *);
int		 smsup_client_send_async(struct smsup_client *, const char *,
		    const void *, size_t, smsup_client_cb *, void *,
		    uint64_t *);

/* For an event loop: the descriptor, and POLLIN | POLLOUT as needed. */
int		 smsup_client_fd(const struct smsup_client *);
int		 smsup_client_events(const struct smsup_client *);
/* Milliseconds until the next request times out; -1 if none can. */
int		 smsup_client_timeout_ms(const struct smsup_client *);
/*
 * Write and read what can be without blocking, run the callbacks of the
 * answers in, and time out what is late. SMSUP_CLIENT_OK, or LOST once
 * the connection is gone (every pending request has had its callback).
 */
int		 smsup_client_process(struct smsup_client *);
/* Requests sent or queued, not yet answered. */
size_t		 smsup_client_pending(const struct smsup_client *);
/* Block until at most max requests are pending; OK, or LOST. */
int		 smsup_client_wait(struct smsup_client *, size_t max);

/*
 * One call or send, blocking: the status; *out (if not NULL) is the
 * output or the error's text, malloc'd and NUL-terminated, its length in
 * *outlen (if not NULL).
 */
int		 smsup_client_call(struct smsup_client *, const char *,
		    const void *, size_t, char **, size_t *);
int		 smsup_client_send(struct smsup_client *, const char *,
		    const void *, size_t, char **, size_t *);

/* A status in words ("no answer in time"). */
const char	*smsup_client_strerror(int);
/* Why the last call that failed did (the connection, the socket). */
const char	*smsup_client_error(const struct smsup_client *);

#endif
