/*
 * cmd-upgrade.c: `smsup upgrade [-fw] [-t seconds] [-p seconds]
 * [--extra TEXT] [--dry-run] NAME[=PATH]...`: upgrade one machine, or
 * several together (all commit or all roll back), to the binaries at PATH
 * (default: each one's own path, replaced on disk), TEXT given to their
 * migrate; wait, and print what happened. --dry-run rehearses it on one
 * machine's live state (rehearse.c) and prints the counts and the state
 * it would have as JSON.
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
	"upgrade", "[-fnw] [-t seconds] [-p seconds] [--extra TEXT] "
	    "NAME[=PATH] ...",
	cmd_upgrade_exec
};

static const struct option cmd_upgrade_long[] = {
	{ "force", no_argument, NULL, 'f' },
	{ "wait", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 't' },
	{ "probation", required_argument, NULL, 'p' },
	{ "extra", required_argument, NULL, 'e' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};

/*
 * The rehearsal's answer: its counts, then the state it would have as
 * JSON; exit 0 only if it migrated and nothing crashed.
 */
static int
cmd_upgrade_dry_run(const char *path, const struct buf *p, const char *spec)
{
	struct buf		 in = { 0 };
	struct msg_reader	 r;
	struct reply		 rep;
	const uint8_t		*img = NULL;
	char			 report[1024], fields[1024];
	uint64_t		 len = 0;
	uint32_t		 ok;
	int			 rc;

	rc = client_ask(path, FRAME_C_UPGRADE, p, &in, &rep, 0);
	if (rc == 0 && rep.type != FRAME_R_DRYRUN &&
	    rep.type != FRAME_R_DRYRUN_FD)
		rc = client_error(&rep);
	if (rc != 0) {
		buf_free(&in);
		return rc;
	}
	msg_init(&r, rep.data, rep.len);
	msg_get_u32(&r, &ok);
	msg_get_str(&r, report, sizeof report);
	msg_get_str(&r, fields, sizeof fields);
	if (rep.type == FRAME_R_DRYRUN_FD) {
		msg_get_u64(&r, &len);
		msg_end(&r);
	}
	if (r.err) {
		fprintf(stderr, "smsup: malformed rehearsal answer\n");
		buf_free(&in);
		return EXIT_FAIL;
	}
	printf("%s\n", report);
	fflush(stdout);
	if (!ok)
		rc = EXIT_FAIL;
	else if (rep.type == FRAME_R_DRYRUN_FD &&
	    (img = cmd_state_map(rep.fd, len)) == NULL)
		rc = EXIT_FAIL;
	else if (rep.type == FRAME_R_DRYRUN)
		rc = cmd_state_out(spec, rep.data + r.off, rep.len - r.off,
		    fields, 0, -1);
	else
		rc = cmd_state_out(spec, img, (size_t)len, fields, 0, -1);
	buf_free(&in);
	return rc;
}

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

	while ((ch = getopt_long(argc, argv, "fnwt:p:", cmd_upgrade_long,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			flags |= UPGRADE_FORCE;
			break;
		case 'w':
			flags |= UPGRADE_WAIT;
			break;
		case 'n':
			flags |= UPGRADE_DRY_RUN;
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
	if (flags & UPGRADE_DRY_RUN) {
		if (argc - optind != 1) {
			fprintf(stderr, "smsup: upgrade --dry-run rehearses one "
			    "machine\n");
			buf_free(&p);
			return EXIT_USAGE;
		}
		rc = cmd_upgrade_dry_run(path, &p, argv[optind]);
	} else
		rc = client_simple(path, FRAME_C_UPGRADE, &p);
	buf_free(&p);
	return rc;
}
