/* cmd-stop.c: `smsup stop NAME...`: each machine answers its inputs, then exits. */
#include <stdio.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_stop_exec(const char *, int, char **);

const struct cmd_entry cmd_stop_entry = {
	"stop", "NAME ...", cmd_stop_exec
};

static int
cmd_stop_exec(const char *path, int argc, char **argv)
{
	struct buf	 p = { 0 };
	int		 i, rc = 0, one;

	if (getopt(argc, argv, "") != -1 || argc - optind < 1)
		return cmd_usage(&cmd_stop_entry);
	for (i = optind; i < argc; i++) {
		buf_reset(&p);
		msg_put_str(&p, argv[i]);
		if ((one = client_simple(path, FRAME_C_STOP, &p)) != 0)
			rc = one;
		if (one == EXIT_NOSERVER)
			break;
	}
	buf_free(&p);
	return rc;
}
