/*
 * cmd-check-config.c: `smsup check-config -c FILE`: parse smsup.conf(5) and
 * check every machine's binary, as `nginx -t` and `sshd -t` do; say what
 * it would run, or the first error as FILE:LINE: why.
 */
#include <stdio.h>
#include <unistd.h>

#include "smsup.h"

static int	cmd_check_config_exec(const char *, int, char **);

const struct cmd_entry cmd_check_config_entry = {
	"check-config", "-c file", cmd_check_config_exec
};

static int
cmd_check_config_exec(const char *path, int argc, char **argv)
{
	struct conf	 c;
	const char	*file = NULL;
	char		 err[1024];
	int		 ch, i;

	(void)path;
	while ((ch = getopt(argc, argv, "c:")) != -1)
		if (ch == 'c')
			file = optarg;
		else
			return cmd_usage(&cmd_check_config_entry);
	if (file == NULL || optind != argc)
		return cmd_usage(&cmd_check_config_entry);
	if (conf_load(file, &c, err, sizeof err) == -1 ||
	    conf_check_binaries(&c, file, err, sizeof err) == -1) {
		fprintf(stderr, "smsup: %s\n", err);
		conf_free(&c);
		return EXIT_FAIL;
	}
	for (i = 0; i < c.ncl; i++)
		printf("%s: cluster: %s%s%s\n", file, opts_name(c.cl[i].code),
		    c.cl[i].value[0] != '\0' ? " " : "", c.cl[i].value);
	for (i = 0; i < c.n; i++)
		printf("%s: machine %s: %s, durability %s\n", file,
		    c.m[i].name, c.m[i].path,
		    opts_durability_name(c.m[i].opts.durability));
	printf("%s: OK, %d machine%s\n", file, c.n, c.n == 1 ? "" : "s");
	conf_free(&c);
	return 0;
}
