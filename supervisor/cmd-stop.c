/*
 * cmd-stop.c: `smsup stop NAME...` (each machine answers its inputs, takes
 * a final snapshot and exits) and `smsup restart NAME...` (a failed
 * machine starts again from its saved state).
 */
#include <stdio.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_stop_exec(const char *, int, char **);

const struct cmd_entry cmd_stop_entry = {
	"stop", "NAME ...", cmd_stop_exec
};
const struct cmd_entry cmd_restart_entry = {
	"restart", "NAME ...", cmd_stop_exec
};

static int
cmd_stop_exec(const char *path, int argc, char **argv)
{
	const struct cmd_entry	*e = cmd_find(argv[0]);
	struct buf		 p = { 0 };
	uint8_t			 type;
	int			 i, rc = 0, one;

	type = e == &cmd_stop_entry ? FRAME_C_STOP : FRAME_C_RESTART;
	if (getopt(argc, argv, "") != -1 || argc - optind < 1)
		return cmd_usage(e);
	for (i = optind; i < argc; i++) {
		buf_reset(&p);
		msg_put_str(&p, argv[i]);
		if ((one = client_simple(path, type, &p)) != 0)
			rc = one;
		if (one == EXIT_NOSERVER)
			break;
	}
	buf_free(&p);
	return rc;
}
