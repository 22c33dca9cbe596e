/*
 * cmd-upgrade.c: `smsup upgrade [-fw] [-t seconds] [-p seconds]
 * [--extra TEXT] NAME[=PATH]...`: upgrade one machine, or several together
 * (all commit or all roll back), to the binaries at PATH (default: each
 * one's own path, replaced on disk), TEXT given to their migrate; wait,
 * and print what happened.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_upgrade_exec(const char *, int, char **);

const struct cmd_entry cmd_upgrade_entry = {
	"upgrade", "[-fw] [-t seconds] [-p seconds] [--extra TEXT] "
	    "NAME[=PATH] ...",
	cmd_upgrade_exec
};

static const struct option cmd_upgrade_long[] = {
	{ "force", no_argument, NULL, 'f' },
	{ "wait", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 't' },
	{ "probation", required_argument, NULL, 'p' },
	{ "extra", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 }
};

static int
cmd_upgrade_exec(const char *path, int argc, char **argv)
{
	struct buf	 p = { 0 };
	char		 name[SMSUP_NAME_MAX + 1], bin[PATH_MAX], *eq;
	const char	*extra = NULL;
	double		 timeout = 0, probation = -1;
	uint32_t	 flags = 0;
	size_t		 n;
	int		 ch, i, rc;

	while ((ch = getopt_long(argc, argv, "fwt:p:", cmd_upgrade_long,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			flags |= UPGRADE_FORCE;
			break;
		case 'w':
			flags |= UPGRADE_WAIT;
			break;
		case 't':
			if (units_parse_seconds(optarg, 3600, &timeout) == -1) {
				fprintf(stderr, "smsup: -t takes seconds, "
				    "more than 0 and at most 3600\n");
				return EXIT_USAGE;
			}
			break;
		case 'p':
			if (strcmp(optarg, "0") == 0)
				probation = 0;
			else if (units_parse_seconds(optarg, 3600,
			    &probation) == -1) {
				fprintf(stderr, "smsup: -p takes seconds, "
				    "0 to 3600\n");
				return EXIT_USAGE;
			}
			break;
		case 'e':
			if (strlen(optarg) > OPTS_ARG_MAX) {
				fprintf(stderr, "smsup: --extra: longer than "
				    "%d bytes\n", OPTS_ARG_MAX);
				return EXIT_USAGE;
			}
			extra = optarg;
			break;
		default:
			return cmd_usage(&cmd_upgrade_entry);
		}
	}
	if (argc - optind < 1 || argc - optind > SMSUP_UPGRADE_MAX)
		return cmd_usage(&cmd_upgrade_entry);
	msg_put_u32(&p, flags);
	msg_put_u32(&p, (uint32_t)(timeout * 1000));
	msg_put_u32(&p, probation < 0 ? UINT32_MAX :
	    (uint32_t)(probation * 1000));
	msg_put_u32(&p, (uint32_t)(argc - optind));
	for (i = optind; i < argc; i++) {
		eq = strchr(argv[i], '=');
		n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		snprintf(name, sizeof name, "%.*s", (int)n, argv[i]);
		if (n > SMSUP_NAME_MAX || !image_name_valid(name)) {
			fprintf(stderr, "smsup: invalid machine name '%.*s'\n",
			    (int)n, argv[i]);
			return EXIT_USAGE;
		}
		bin[0] = '\0';
		if (eq != NULL && (eq[1] == '\0' ||
		    paths_absolute(eq + 1, bin, sizeof bin) == -1)) {
			fprintf(stderr, "smsup: %s: bad path\n", argv[i]);
			return EXIT_USAGE;
		}
		msg_put_str(&p, name);
		msg_put_str(&p, bin);
	}
	if (extra != NULL) {
		msg_put_u32(&p, 1);
		msg_put_str(&p, extra);
	}
	rc = client_simple(path, FRAME_C_UPGRADE, &p);
	buf_free(&p);
	return rc;
}
