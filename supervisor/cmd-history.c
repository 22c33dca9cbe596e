/* cmd-history.c: `smsup history NAME`: the machine's last upgrades, oldest first. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_history_exec(const char *, int, char **);

const struct cmd_entry cmd_history_entry = {
	"history", "NAME", cmd_history_exec
};

static int
cmd_history_exec(const char *path, int argc, char **argv)
{
	struct buf		 p = { 0 }, in = { 0 };
	struct msg_reader	 r;
	struct reply		 rep;
	struct tm		 tm;
	uint64_t		 when;
	uint32_t		 n, ok, i;
	time_t			 t;
	char			 text[1024], stamp[32];
	int			 rc;

	if (getopt(argc, argv, "") != -1 || argc - optind != 1)
		return cmd_usage(&cmd_history_entry);
	msg_put_str(&p, argv[optind]);
	rc = client_ask(path, FRAME_C_HISTORY, &p, &in, &rep, FRAME_R_HISTORY);
	buf_free(&p);
	if (rc != 0) {
		buf_free(&in);
		return rc;
	}
	msg_init(&r, rep.data, rep.len);
	msg_get_u32(&r, &n);
	for (i = 0; i < n && !r.err; i++) {
		msg_get_u64(&r, &when);
		msg_get_u32(&r, &ok);
		if (msg_get_str(&r, text, sizeof text) == -1)
			break;
		t = (time_t)when;
		localtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		printf("%s  %-6s  %s\n", stamp, ok == 1 ? "ok" : ok == 2 ?
		    "noop" : "FAILED", text);
	}
	if (r.err) {
		fprintf(stderr, "smsup: malformed history answer\n");
		return EXIT_FAIL;
	}
	buf_free(&in);
	return 0;
}
