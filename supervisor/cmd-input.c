/*
 * cmd-input.c: `smsup call` and `smsup send`: one input (the words joined
 * by single spaces, or stdin with `-`), or with -l every line of stdin as
 * an input, pipelined, answers printed in input order.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	uint8_t		 type;
	char		*data;
	size_t		 len;
};

/* Print one answer; returns 1 if it was an error. */
static int
cmd_input_print(int call, uint64_t id, uint8_t type, const char *data,
    size_t len, int lines)
{
	if (type == FRAME_R_OUTPUT && call) {
		fwrite(data, 1, len, stdout);
		fputc('\n', stdout);
		return 0;
	}
	if (type == FRAME_R_OUTPUT || type == FRAME_R_ACCEPTED)
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

/* Append INPUT requests for the complete lines of in (all at eof). */
static uint64_t
cmd_input_lines(struct buf *in, int eof, struct buf *out, uint8_t type,
    const char *name, uint64_t next, uint64_t limit)
{
	struct buf	 p = { 0 };
	uint8_t		*nl;
	size_t		 len;

	while (next < limit && buf_used(in) > 0) {
		nl = memchr(buf_head(in), '\n', buf_used(in));
		if (nl == NULL && !eof)
			break;
		len = nl ? (size_t)(nl - buf_head(in)) : buf_used(in);
		buf_reset(&p);
		msg_put_str(&p, name);
		msg_put_bytes(&p, buf_head(in), len);
		frame_put(out, type, next++, buf_head(&p), buf_used(&p));
		buf_consume(in, len + (nl ? 1 : 0));
	}
	buf_free(&p);
	return next;
}

/* -l: stream the lines of stdin through one connection. */
static int
cmd_input_stream(int fd, int call, const char *name)
{
	struct cmd_slot	 slots[CMD_INPUT_WINDOW];
	struct buf	 lines = { 0 }, out = { 0 }, in = { 0 };
	struct pollfd	 pfd[2];
	struct reply	 r;
	struct cmd_slot	*s;
	uint8_t		 type = call ? FRAME_C_CALL : FRAME_C_SEND;
	uint64_t	 next = 1, printed = 1;
	ssize_t		 n;
	int		 eof = 0, failed = 0, partial, rc;

	memset(slots, 0, sizeof slots);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (!eof || printed < next || buf_used(&lines) > 0) {
		next = cmd_input_lines(&lines, eof, &out, type, name, next,
		    printed + CMD_INPUT_WINDOW);
		if (eof && buf_used(&lines) == 0 && printed == next)
			break;
		/* Read ahead 1 MiB, or until a whole line is in. */
		partial = buf_used(&lines) > 0 && memchr(buf_head(&lines), '\n',
		    buf_used(&lines)) == NULL;
		if (partial && buf_used(&lines) > FRAME_MAX_DEFAULT) {
			fprintf(stderr, "smsup: line %llu: longer than %u "
			    "bytes\n", (unsigned long long)next,
			    FRAME_MAX_DEFAULT);
			failed = 1;
			eof = 1;
			buf_reset(&lines);
		}
		pfd[0].fd = !eof && (buf_used(&lines) < (1u << 20) || partial) ?
		    STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = POLLIN | (buf_used(&out) ? POLLOUT : 0);
		rc = poll(pfd, 2, client_timeout > 0 && printed < next &&
		    buf_used(&out) == 0 ? (int)(client_timeout * 1000) : -1);
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (rc == 0) {
			fflush(stdout);
			fprintf(stderr, "smsup: no answer within %gs after %llu "
			    "answers; %llu inputs unanswered (they may still be "
			    "applied)\n", client_timeout,
			    (unsigned long long)(printed - 1),
			    (unsigned long long)(next - printed));
			buf_free(&lines);
			buf_free(&out);
			buf_free(&in);
			return EXIT_FAIL;
		}
		if (pfd[0].revents) {
			if (buf_reserve(&lines, 65536) == -1)
				fatal("malloc");
			n = read(STDIN_FILENO, lines.data + lines.len,
			    lines.cap - lines.len);
			if (n > 0)
				lines.len += (size_t)n;
			else if (n == 0 || errno != EINTR)
				eof = 1;
		}
		if (pfd[1].revents & POLLOUT) {
			/* A supervisor gone is said, not a SIGPIPE. */
			n = send(fd, buf_head(&out), buf_used(&out),
			    MSG_NOSIGNAL);
			if (n > 0)
				buf_consume(&out, (size_t)n);
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				goto lost;
		}
		if (!(pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		/* Take every answer that has arrived. */
		for (;;) {
			rc = client_recv(fd, &in, &r);
			if (rc == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			if (rc != 1)
				goto lost;
			if (r.id < printed || r.id >= next)
				goto lost;
			s = &slots[r.id % CMD_INPUT_WINDOW];
			s->done = 1;
			s->type = r.type;
			s->len = r.len;
			if ((s->data = malloc(r.len + 1)) == NULL)
				fatal("malloc");
			memcpy(s->data, r.data, r.len);
			while ((s = &slots[printed % CMD_INPUT_WINDOW])->done) {
				failed |= cmd_input_print(call, printed,
				    s->type, s->data, s->len, 1);
				free(s->data);
				memset(s, 0, sizeof *s);
				printed++;
			}
		}
	}
	fflush(stdout);
	buf_free(&lines);
	buf_free(&out);
	buf_free(&in);
	return failed ? EXIT_FAIL : 0;
lost:
	fflush(stdout);
	fprintf(stderr, "smsup: lost the supervisor after %llu answers; %llu "
	    "inputs unanswered\n", (unsigned long long)(printed - 1),
	    (unsigned long long)(next - printed));
	for (s = slots; s < slots + CMD_INPUT_WINDOW; s++)
		free(s->data);
	buf_free(&lines);
	buf_free(&out);
	buf_free(&in);
	return EXIT_FAIL;
}

static int
cmd_input_exec(const char *path, int argc, char **argv)
{
	const struct cmd_entry	*e = cmd_find(argv[0]);
	struct buf		 input = { 0 }, p = { 0 }, in = { 0 };
	struct reply		 r;
	const char		*name;
	int			 ch, i, fd, call, lines = 0, rc;

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
	if ((fd = client_open(path)) == -1) {
		buf_free(&input);
		return EXIT_NOSERVER;
	}
	if (lines) {
		rc = cmd_input_stream(fd, call, name);
		close(fd);
		return rc;
	}
	msg_put_str(&p, name);
	msg_put_bytes(&p, buf_head(&input), buf_used(&input));
	rc = client_request(fd, call ? FRAME_C_CALL : FRAME_C_SEND, &p, &in,
	    &r);
	close(fd);
	buf_free(&input);
	buf_free(&p);
	if (rc == -1 && errno == ETIMEDOUT) {
		buf_free(&in);
		return client_timed_out("the input may still be applied");
	}
	if (rc != 1) {
		fprintf(stderr, "smsup: the supervisor closed the connection "
		    "without answering\n");
		buf_free(&in);
		return EXIT_FAIL;
	}
	rc = cmd_input_print(call, 1, r.type, (char *)r.data, r.len, 0);
	buf_free(&in);
	return rc ? EXIT_FAIL : 0;
}
