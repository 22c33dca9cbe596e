/*
 * cmd-upgrade.c: `smsup upgrade [-f] [-t SECONDS] NAME[=PATH]`: upgrade a
 * machine to the binary at PATH (default: its own path, replaced on
 * disk), wait, and print the result.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_upgrade_exec(const char *, int, char **);

const struct cmd_entry cmd_upgrade_entry = {
	"upgrade", "[-f] [-t seconds] NAME[=PATH]", cmd_upgrade_exec
};

static int
cmd_upgrade_exec(const char *path, int argc, char **argv)
{
	struct buf	 p = { 0 };
	char		 name[SMSUP_NAME_MAX + 1], bin[PATH_MAX] = "", *eq, *end;
	double		 timeout = 0;
	uint32_t	 flags = 0;
	size_t		 n;
	int		 ch, rc;

	while ((ch = getopt(argc, argv, "ft:")) != -1) {
		switch (ch) {
		case 'f':
			flags |= UPGRADE_FORCE;
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end != '\0' || !(timeout > 0 && timeout <= 3600)) {
				fprintf(stderr, "smsup: -t takes seconds, "
				    "more than 0 and at most 3600\n");
				return EXIT_USAGE;
			}
			break;
		default:
			return cmd_usage(&cmd_upgrade_entry);
		}
	}
	if (argc - optind != 1)
		return cmd_usage(&cmd_upgrade_entry);
	eq = strchr(argv[optind], '=');
	n = eq ? (size_t)(eq - argv[optind]) : strlen(argv[optind]);
	snprintf(name, sizeof name, "%.*s", (int)n, argv[optind]);
	if (n > SMSUP_NAME_MAX || !image_name_valid(name)) {
		fprintf(stderr, "smsup: invalid machine name '%.*s'\n", (int)n,
		    argv[optind]);
		return EXIT_USAGE;
	}
	if (eq != NULL && paths_absolute(eq + 1, bin, sizeof bin) == -1) {
		fprintf(stderr, "smsup: %s: path too long\n", eq + 1);
		return EXIT_USAGE;
	}
	msg_put_u32(&p, flags);
	msg_put_u32(&p, (uint32_t)(timeout * 1000));
	msg_put_str(&p, name);
	msg_put_str(&p, bin);
	rc = client_simple(path, FRAME_C_UPGRADE, &p);
	buf_free(&p);
	return rc;
}
