/* main.c: smsup's entry point: global options, then one command (cmd.c). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup.h"

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "host", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*cmd;
	const char		*sopt = NULL, *host = getenv("SMSUP_HOST");
	char			 path[PATH_MAX];
	int			 ch, i;

	while ((ch = getopt_long(argc, argv, "+hH:S:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			cmd_usage_all(stdout);
			return 0;
		case 'H':
			host = optarg;
			break;
		case 'S':
			sopt = optarg;
			break;
		case 'V':
			printf("smsup %s\n", SMSUP_VERSION_STRING);
			return 0;
		default:
			cmd_usage_all(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		cmd_usage_all(stderr);
		return EXIT_USAGE;
	}
	if ((cmd = cmd_find(argv[0])) == NULL) {
		fprintf(stderr, "smsup: unknown command: %s\n", argv[0]);
		cmd_usage_all(stderr);
		return EXIT_USAGE;
	}
	/* smsup COMMAND --help: its usage, on stdout. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: smsup %s %s\n", cmd->name, cmd->usage);
			return 0;
		}
	/* Another host's supervisor: its smsup does the rest. */
	if (host != NULL && *host != '\0')
		return remote_exec(host, sopt, argc, argv);
	paths_socket_given = sopt != NULL || (getenv("SMSUP_SOCKET") != NULL &&
	    *getenv("SMSUP_SOCKET") != '\0');
	if (paths_socket(sopt, path, sizeof path) == -1) {
		fprintf(stderr, "smsup: socket path too long or empty\n");
		return EXIT_USAGE;
	}
	optind = 1;
	return cmd->exec(path, argc, argv);
}
