/* cmd.c: the table of commands and their usage lines. */
#include <stdio.h>
#include <string.h>

#include "smsup.h"

static const struct cmd_entry *cmd_table[] = {
	&cmd_run_entry,
	&cmd_call_entry,
	&cmd_send_entry,
	&cmd_status_entry,
	&cmd_state_entry,
	&cmd_trace_entry,
	&cmd_upgrade_entry,
	&cmd_history_entry,
	&cmd_stop_entry,
	&cmd_restart_entry,
	&cmd_shutdown_entry,
	&cmd_check_config_entry,
	&cmd_cluster_entry,
	NULL,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry	**e;

	for (e = cmd_table; *e != NULL; e++)
		if (strcmp((*e)->name, name) == 0)
			return *e;
	return NULL;
}

void
cmd_usage_all(FILE *f)
{
	const struct cmd_entry	**e;

	fprintf(f, "usage: smsup [-hV] [-H ssh://[user@]host[:port]] "
	    "[-S socket] command [args]\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(f, "       smsup %s %s\n", (*e)->name, (*e)->usage);
}

int
cmd_usage(const struct cmd_entry *e)
{
	fprintf(stderr, "usage: smsup %s %s\n", e->name, e->usage);
	return EXIT_USAGE;
}
