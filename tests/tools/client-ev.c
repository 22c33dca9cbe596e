/*
 * client-ev.c: the client library driven from a libev loop, for
 * t-client-lib: N calls of INPUT to MACHINE pipelined from an ev_io on
 * the client's descriptor and an ev_timer for its timeouts; every answer
 * is checked to come exactly once (by id), and the counts are printed.
 *
 *	client-ev [-t seconds] N MACHINE INPUT
 *
 * The timeout is set after the first request is queued: that one has
 * none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poll.h>

#include <ev.h>

#include "smsup/client.h"

static struct smsup_client	*cl;
static ev_io			 io;
static ev_timer			 tm;
static unsigned char		*seen;
static unsigned long		 n, counts[8], twice;

static void
answer(struct smsup_client *c, uint64_t id, int status, const char *data,
    size_t len, void *arg)
{
	(void)c;
	(void)data;
	(void)len;
	(void)arg;
	if (id == 0 || id > n || seen[id]++)
		twice++;
	if (status >= 0 && status < 8)
		counts[status]++;
}

/* After every turn: watch what the client wants, or stop once done. */
static void
rearm(struct ev_loop *loop)
{
	int	 ms;

	ev_io_stop(loop, &io);
	ev_timer_stop(loop, &tm);
	if (smsup_client_pending(cl) == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	ev_io_set(&io, smsup_client_fd(cl), EV_READ |
	    (smsup_client_events(cl) & POLLOUT ? EV_WRITE : 0));
	ev_io_start(loop, &io);
	if ((ms = smsup_client_timeout_ms(cl)) >= 0) {
		ev_timer_set(&tm, ms / 1000., 0.);
		ev_timer_start(loop, &tm);
	}
}

static void
turn(struct ev_loop *loop)
{
	if (smsup_client_process(cl) != SMSUP_CLIENT_OK) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	rearm(loop);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)w;
	(void)revents;
	turn(loop);
}

static void
tm_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	turn(loop);
}

int
main(int argc, char **argv)
{
	struct ev_loop	*loop = EV_DEFAULT;
	char		 err[512];
	unsigned long	 i;
	double		 t = 0;
	int		 st;

	if (argc == 6 && strcmp(argv[1], "-t") == 0) {
		t = strtod(argv[2], NULL);
		argv += 2;
		argc -= 2;
	}
	if (argc != 4)
		return 2;
	n = strtoul(argv[1], NULL, 10);
	if ((seen = calloc(n + 1, 1)) == NULL)
		return 1;
	if ((cl = smsup_client_open(NULL, &st, err, sizeof err)) == NULL) {
		fprintf(stderr, "client-ev: %s: %s\n",
		    smsup_client_strerror(st), err);
		return 1;
	}
	/* The first is queued before the timeout is set: it has none. */
	for (i = 0; i < n; i++) {
		if (i == 1)
			smsup_client_set_timeout(cl, t);
		if (smsup_client_call_async(cl, argv[2], argv[3],
		    strlen(argv[3]), answer, NULL, NULL) != SMSUP_CLIENT_OK) {
			fprintf(stderr, "client-ev: %s\n",
			    smsup_client_error(cl));
			return 1;
		}
	}
	ev_init(&io, io_cb);
	ev_init(&tm, tm_cb);
	rearm(loop);
	ev_run(loop, 0);
	smsup_client_close(cl);
	for (i = 1; i <= n; i++)
		if (!seen[i])
			twice++;	/* never answered: as bad */
	printf("%lu ok %lu errors %lu timeouts %lu lost %lu wrong\n",
	    counts[SMSUP_CLIENT_OK], counts[SMSUP_CLIENT_ERROR],
	    counts[SMSUP_CLIENT_TIMEOUT], counts[SMSUP_CLIENT_LOST], twice);
	return 0;
}
