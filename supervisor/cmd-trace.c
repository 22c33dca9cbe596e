/*
 * cmd-trace.c: `smsup trace [--no-state] NAME`: follow a machine live, one
 * line per answered input (client, input, output, new state as JSON) and
 * one per upgrade, restart or stop, until interrupted or the machine stops.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_trace_exec(const char *, int, char **);

const struct cmd_entry cmd_trace_entry = {
	"trace", "[--no-state] NAME", cmd_trace_exec
};

static const struct option cmd_trace_long[] = {
	{ "no-state",	no_argument,	NULL,	'n' },
	{ NULL,		0,		NULL,	0 }
};

static int
cmd_trace_exec(const char *path, int argc, char **argv)
{
	struct buf		 p = { 0 }, in = { 0 }, line = { 0 };
	struct msg_reader	 r;
	struct reply		 rep;
	uint32_t		 kind;
	int			 fd, rc, c, flags = 0;

	while ((c = getopt_long(argc, argv, "n", cmd_trace_long, NULL)) != -1)
		if (c == 'n')
			flags |= TRACE_NO_STATE;
		else
			return cmd_usage(&cmd_trace_entry);
	if (argc - optind != 1)
		return cmd_usage(&cmd_trace_entry);
	msg_put_str(&p, argv[optind]);
	msg_put_u32(&p, (uint32_t)flags);
	if ((fd = client_open(path)) == -1)
		return EXIT_NOSERVER;
	rc = client_request(fd, FRAME_C_TRACE, &p, &in, &rep);
	buf_free(&p);
	if (rc != 1) {
		fprintf(stderr, "smsup: the supervisor closed the connection "
		    "without answering\n");
		close(fd);
		return EXIT_FAIL;
	}
	if (rep.type != FRAME_R_OK) {
		close(fd);
		rc = client_error(&rep);
		buf_free(&in);
		return rc;
	}
	fprintf(stderr, "smsup: %.*s\n", (int)rep.len, (const char *)rep.data);
	while ((rc = client_recv(fd, &in, &rep)) == 1) {
		buf_reset(&line);
		if (rep.type != FRAME_R_TRACE ||
		    inspect_line(rep.data, rep.len, &line) == -1) {
			fprintf(stderr, "smsup: malformed trace event\n");
			rc = -1;
			break;
		}
		if (fwrite(buf_head(&line), 1, buf_used(&line), stdout) !=
		    buf_used(&line) || fflush(stdout) != 0)
			break;		/* the reader went away */
		msg_init(&r, rep.data, rep.len);
		if (msg_get_u32(&r, &kind) == 0 && kind == TRACE_END)
			break;
	}
	close(fd);
	buf_free(&in);
	buf_free(&line);
	if (rc == 0) {
		fprintf(stderr, "smsup: the supervisor closed the connection\n");
		return EXIT_FAIL;
	}
	return rc == -1 ? EXIT_FAIL : 0;
}
