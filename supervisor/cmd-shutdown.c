/*
 * cmd-shutdown.c: `smsup shutdown`: the supervisor stops every machine and
 * exits; this returns once it has (its end of the socket closes).
 */
#include <stdio.h>
#include <unistd.h>

#include "smsup.h"

static int	cmd_shutdown_exec(const char *, int, char **);

const struct cmd_entry cmd_shutdown_entry = {
	"shutdown", "", cmd_shutdown_exec
};

static int
cmd_shutdown_exec(const char *path, int argc, char **argv)
{
	struct buf	 in = { 0 };
	struct reply	 r;
	int		 fd, rc;

	if (getopt(argc, argv, "") != -1 || argc != optind)
		return cmd_usage(&cmd_shutdown_entry);
	if ((fd = client_open(path)) == -1)
		return EXIT_NOSERVER;
	rc = client_request(fd, FRAME_C_SHUTDOWN, NULL, &in, &r);
	if (rc == 1 && r.type != FRAME_R_OK)
		rc = client_error(&r);
	else if (rc == 1) {
		/* Wait for the supervisor to exit: it closes the socket. */
		while (client_recv(fd, &in, &r) == 1)
			;
		rc = 0;
	} else
		rc = 0;	/* gone already */
	close(fd);
	buf_free(&in);
	return rc;
}
