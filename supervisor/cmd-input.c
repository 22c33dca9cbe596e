/*
 * cmd-input.c: `smsup call` and `smsup send`: one input (the words joined
 * by single spaces, or stdin with `-`), or with -l every line of stdin as
 * an input, pipelined, answers printed in input order. Built on the
 * client library (client/conn.c, smsup/client.h).
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup/client.h"
#include "msg.h"
#include "smsup.h"

#define CMD_INPUT_WINDOW	4096	/* inputs in flight with -l */

static int	cmd_input_exec(const char *, int, char **);

const struct cmd_entry cmd_call_entry = {
	"call", "[-t seconds] NAME INPUT... | NAME - | -l NAME", cmd_input_exec
};
const struct cmd_entry cmd_send_entry = {
	"send", "[-t seconds] NAME INPUT... | NAME - | -l NAME", cmd_input_exec
};

struct cmd_slot {
	int		 done;
	int		 status;
	char		*data;
	size_t		 len;
};

/* Print one answer; returns 1 if it was an error. */
static int
cmd_input_print(int call, uint64_t id, int status, const char *data,
    size_t len, int lines)
{
	if (status == SMSUP_CLIENT_OK && call) {
		fwrite(data, 1, len, stdout);
		fputc('\n', stdout);
		return 0;
	}
	if (status == SMSUP_CLIENT_OK)
		return 0;
	if (lines)
		fprintf(stderr, "smsup: line %llu: %.*s\n",
		    (unsigned long long)id, (int)len, data);
	else
		fprintf(stderr, "smsup: %.*s\n", (int)len, data);
	return 1;
}

static int
cmd_input_read_all(int fd, struct buf *b)
{
	ssize_t	 n;

	for (;;) {
		if (buf_reserve(b, 65536) == -1)
			return -1;
		n = read(fd, b->data + b->len, b->cap - b->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		b->len += (size_t)n;
		if (b->len > FRAME_MAX_DEFAULT) {
			errno = EFBIG;
			return -1;
		}
	}
}

/* The stream: answers kept until every earlier one is in. */
struct cmd_stream {
	struct cmd_slot	 slots[CMD_INPUT_WINDOW];
	int		 call;
	uint64_t	 printed;	/* the next to print */
	int		 failed;
	uint64_t	 late;		/* timed out */
	uint64_t	 lost;		/* unanswered when the connection ended */
};

static void
cmd_input_answer(struct smsup_client *c, uint64_t id, int status,
    const char *data, size_t len, void *arg)
{
	struct cmd_stream	*st = arg;
	struct cmd_slot		*s = &st->slots[id % CMD_INPUT_WINDOW];

	(void)c;
	if (status == SMSUP_CLIENT_TIMEOUT)
		st->late++;
	if (status == SMSUP_CLIENT_LOST)
		st->lost++;
	if (status == SMSUP_CLIENT_TIMEOUT || status == SMSUP_CLIENT_LOST)
		return;
	s->done = 1;
	s->status = status;
	s->len = len;
	if ((s->data = malloc(len + 1)) == NULL)
		fatal("malloc");
	memcpy(s->data, data, len);
	while ((s = &st->slots[st->printed % CMD_INPUT_WINDOW])->done) {
		st->failed |= cmd_input_print(st->call, st->printed, s->status,
		    s->data, s->len, 1);
		free(s->data);
		memset(s, 0, sizeof *s);
		st->printed++;
	}
}

/* Queue the complete lines of in (all at eof), up to limit in flight. */
static int
cmd_input_lines(struct smsup_client *c, struct cmd_stream *st,
    struct buf *in, int eof, const char *name)
{
	uint8_t		*nl;
	size_t		 len;
	int		 rc;

	while (smsup_client_pending(c) < CMD_INPUT_WINDOW &&
	    buf_used(in) > 0) {
		nl = memchr(buf_head(in), '\n', buf_used(in));
		if (nl == NULL && !eof)
			break;
		len = nl ? (size_t)(nl - buf_head(in)) : buf_used(in);
		rc = st->call ? smsup_client_call_async(c, name, buf_head(in),
		    len, cmd_input_answer, st, NULL) :
		    smsup_client_send_async(c, name, buf_head(in), len,
		    cmd_input_answer, st, NULL);
		if (rc != SMSUP_CLIENT_OK)
			return rc;
		buf_consume(in, len + (nl ? 1 : 0));
	}
	return SMSUP_CLIENT_OK;
}

/* -l: stream the lines of stdin through one connection. */
static int
cmd_input_stream(struct smsup_client *c, int call, const char *name)
{
	struct cmd_stream	*st;
	struct buf		 lines = { 0 };
	struct pollfd		 pfd[2];
	struct cmd_slot		*s;
	uint64_t		 queued;
	ssize_t			 n;
	int			 eof = 0, partial, rc, dead = 0;

	if ((st = calloc(1, sizeof *st)) == NULL)
		fatal("calloc");
	st->call = call;
	st->printed = 1;
	for (;;) {
		if (cmd_input_lines(c, st, &lines, eof, name) ==
		    SMSUP_CLIENT_LOST || dead)
			break;
		if (st->lost || st->late)
			break;
		if (eof && buf_used(&lines) == 0 &&
		    smsup_client_pending(c) == 0)
			break;
		/* Read ahead 1 MiB, or until a whole line is in. */
		partial = buf_used(&lines) > 0 && memchr(buf_head(&lines), '\n',
		    buf_used(&lines)) == NULL;
		if (partial && buf_used(&lines) > FRAME_MAX_DEFAULT) {
			fprintf(stderr, "smsup: line %llu: longer than %u "
			    "bytes\n", (unsigned long long)(st->printed +
			    smsup_client_pending(c)), FRAME_MAX_DEFAULT);
			st->failed = 1;
			eof = 1;
			buf_reset(&lines);
		}
		pfd[0].fd = !eof && (buf_used(&lines) < (1u << 20) || partial) ?
		    STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = smsup_client_fd(c);
		pfd[1].events = (short)smsup_client_events(c);
		rc = poll(pfd, 2, smsup_client_timeout_ms(c));
		if (rc == -1 && errno != EINTR)
			fatal("poll");
		if (rc > 0 && pfd[0].revents) {
			if (buf_reserve(&lines, 65536) == -1)
				fatal("malloc");
			n = read(STDIN_FILENO, lines.data + lines.len,
			    lines.cap - lines.len);
			if (n > 0)
				lines.len += (size_t)n;
			else if (n == 0 || errno != EINTR)
				eof = 1;
		}
		if (smsup_client_process(c) != SMSUP_CLIENT_OK)
			dead = 1;
	}
	fflush(stdout);
	queued = smsup_client_pending(c);
	if (st->late)
		fprintf(stderr, "smsup: no answer within %gs after %llu "
		    "answers; %llu inputs unanswered (they may still be "
		    "applied)\n", client_timeout,
		    (unsigned long long)(st->printed - 1),
		    (unsigned long long)(queued + st->late));
	else if (st->lost || dead)
		fprintf(stderr, "smsup: lost the supervisor after %llu answers; "
		    "%llu inputs unanswered\n",
		    (unsigned long long)(st->printed - 1),
		    (unsigned long long)(queued + st->lost));
	rc = st->late || st->lost || dead || st->failed ? EXIT_FAIL : 0;
	for (s = st->slots; s < st->slots + CMD_INPUT_WINDOW; s++)
		free(s->data);
	buf_free(&lines);
	smsup_client_close(c);
	free(st);
	return rc;
}

static int
cmd_input_exec(const char *path, int argc, char **argv)
{
	const struct cmd_entry	*e = cmd_find(argv[0]);
	struct buf		 input = { 0 };
	struct smsup_client	*c;
	const char		*name;
	char			 err[512], *out = NULL;
	size_t			 len = 0;
	int			 ch, i, call, lines = 0, rc;

	call = strcmp(argv[0], "call") == 0;
	while ((ch = getopt(argc, argv, "lt:")) != -1) {
		switch (ch) {
		case 'l':
			lines = 1;
			break;
		case 't':
			if (units_parse_seconds(optarg, 86400,
			    &client_timeout) == -1) {
				fprintf(stderr, "smsup: bad value '%s' for -t "
				    "(seconds, up to 86400)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			return cmd_usage(e);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (lines && argc != 1) || (!lines && argc < 2))
		return cmd_usage(e);
	name = argv[0];
	if (!image_name_valid(name)) {
		fprintf(stderr, "smsup: invalid machine name '%s'\n", name);
		return EXIT_USAGE;
	}
	if (!lines && argc == 2 && strcmp(argv[1], "-") == 0) {
		if (cmd_input_read_all(STDIN_FILENO, &input) == -1) {
			fprintf(stderr, "smsup: stdin: %s\n", errno == EFBIG ?
			    "input larger than the cap" : strerror(errno));
			buf_free(&input);
			return EXIT_FAIL;
		}
	} else
		for (i = 1; i < argc; i++) {
			if (i > 1)
				buf_add(&input, " ", 1);
			buf_add(&input, argv[i], strlen(argv[i]));
		}
	if ((c = smsup_client_open(path, &rc, err, sizeof err)) == NULL) {
		fprintf(stderr, "smsup: %s\n", err);
		buf_free(&input);
		return rc == SMSUP_CLIENT_NOSERVER ? EXIT_NOSERVER : EXIT_FAIL;
	}
	smsup_client_set_timeout(c, client_timeout);
	if (lines)
		return cmd_input_stream(c, call, name);
	rc = call ? smsup_client_call(c, name, buf_head(&input),
	    buf_used(&input), &out, &len) : smsup_client_send(c, name,
	    buf_head(&input), buf_used(&input), &out, &len);
	smsup_client_close(c);
	buf_free(&input);
	if (rc == SMSUP_CLIENT_TIMEOUT) {
		free(out);
		return client_timed_out("the input may still be applied");
	}
	if (rc == SMSUP_CLIENT_LOST) {
		fprintf(stderr, "smsup: the supervisor closed the connection "
		    "without answering\n");
		free(out);
		return EXIT_FAIL;
	}
	if (rc != SMSUP_CLIENT_OK && rc != SMSUP_CLIENT_ERROR) {
		fprintf(stderr, "smsup: %s\n", out != NULL ? out :
		    smsup_client_strerror(rc));
		free(out);
		return EXIT_FAIL;
	}
	rc = cmd_input_print(call, 1, rc, out, len, 0);
	free(out);
	return rc ? EXIT_FAIL : 0;
}
