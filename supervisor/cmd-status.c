/* cmd-status.c: `smsup status [NAME...]`: one line per machine. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_status_exec(const char *, int, char **);

const struct cmd_entry cmd_status_entry = {
	"status", "[NAME ...]", cmd_status_exec
};

#define STATUS_COLS	9

static const char *status_head[STATUS_COLS] = {
	"NAME", "VERSION", "PID", "STATE", "INPUTS", "BUFFERED", "UPTIME",
	"UPGRADES", "LAST PAUSE"
};

struct status_row {
	char	 cell[STATUS_COLS][80];
	char	 state[32];
	char	 why[256];
	char	 name[SMSUP_NAME_MAX + 1];
	char	 last[1024];
	uint64_t restarts;
	char	 crash[512];
	char	 degraded[256];
	char	 durability[16];
};

/* Decode one row of machine_status_row. */
static int
cmd_status_row(struct msg_reader *r, struct status_row *row)
{
	char		 version[SMSUP_VERSION_MAX + 1], path[PATH_MAX];
	uint32_t	 pid;
	uint64_t	 inputs, held, inflight, uptime, upgrades, pause, errors;

	msg_get_str(r, row->name, sizeof row->name);
	msg_get_str(r, version, sizeof version);
	msg_get_u32(r, &pid);
	msg_get_str(r, row->state, sizeof row->state);
	msg_get_u64(r, &inputs);
	msg_get_u64(r, &held);
	msg_get_u64(r, &inflight);
	msg_get_u64(r, &uptime);
	msg_get_u64(r, &upgrades);
	msg_get_u64(r, &pause);
	msg_get_u64(r, &errors);
	msg_get_str(r, path, sizeof path);
	msg_get_str(r, row->why, sizeof row->why);
	msg_get_str(r, row->last, sizeof row->last);
	msg_get_u64(r, &row->restarts);
	msg_get_str(r, row->crash, sizeof row->crash);
	msg_get_str(r, row->degraded, sizeof row->degraded);
	msg_get_str(r, row->durability, sizeof row->durability);
	if (r->err)
		return -1;
	snprintf(row->cell[0], sizeof row->cell[0], "%s", row->name);
	snprintf(row->cell[1], sizeof row->cell[1], "%s",
	    version[0] ? version : "-");
	if (pid != 0)
		snprintf(row->cell[2], sizeof row->cell[2], "%" PRIu32, pid);
	else
		snprintf(row->cell[2], sizeof row->cell[2], "-");
	snprintf(row->cell[3], sizeof row->cell[3], "%s", row->state);
	snprintf(row->cell[4], sizeof row->cell[4], "%" PRIu64, inputs);
	snprintf(row->cell[5], sizeof row->cell[5], "%" PRIu64, held);
	if (uptime > 0)
		units_age(uptime, row->cell[6], sizeof row->cell[6]);
	else
		snprintf(row->cell[6], sizeof row->cell[6], "-");
	snprintf(row->cell[7], sizeof row->cell[7], "%" PRIu64, upgrades);
	if (pause > 0)
		units_duration(pause, row->cell[8], sizeof row->cell[8]);
	else
		snprintf(row->cell[8], sizeof row->cell[8], "-");
	return 0;
}

static void
cmd_status_line(const char **cells, const size_t *w)
{
	int	 c;

	for (c = 0; c < STATUS_COLS - 1; c++)
		printf("%-*s  ", (int)w[c], cells[c]);
	printf("%s\n", cells[STATUS_COLS - 1]);
}

static int
cmd_status_exec(const char *path, int argc, char **argv)
{
	struct buf		 p = { 0 }, in = { 0 };
	struct reply		 r;
	struct msg_reader	 mr;
	struct status_row	*rows;
	size_t			 w[STATUS_COLS];
	uint32_t		 n, i;
	int			 fd, c, rc;

	if (getopt(argc, argv, "") != -1)
		return cmd_usage(&cmd_status_entry);
	msg_put_u32(&p, (uint32_t)(argc - optind));
	for (c = optind; c < argc; c++)
		msg_put_str(&p, argv[c]);
	if ((fd = client_open(path)) == -1)
		return EXIT_NOSERVER;
	rc = client_request(fd, FRAME_C_STATUS, &p, &in, &r);
	close(fd);
	if (rc != 1) {
		fprintf(stderr, "smsup: the supervisor closed the connection "
		    "without answering\n");
		return EXIT_FAIL;
	}
	if (r.type != FRAME_R_STATUS)
		return client_error(&r);
	msg_init(&mr, r.data, r.len);
	if (msg_get_u32(&mr, &n) == -1 || n > 100000 ||
	    (rows = calloc(n ? n : 1, sizeof *rows)) == NULL) {
		fprintf(stderr, "smsup: malformed status answer\n");
		return EXIT_FAIL;
	}
	for (i = 0; i < n; i++)
		if (cmd_status_row(&mr, &rows[i]) == -1) {
			fprintf(stderr, "smsup: malformed status answer\n");
			return EXIT_FAIL;
		}
	for (c = 0; c < STATUS_COLS; c++) {
		w[c] = strlen(status_head[c]);
		for (i = 0; i < n; i++)
			if (strlen(rows[i].cell[c]) > w[c])
				w[c] = strlen(rows[i].cell[c]);
	}
	cmd_status_line(status_head, w);
	for (i = 0; i < n; i++) {
		const char	*cells[STATUS_COLS];

		for (c = 0; c < STATUS_COLS; c++)
			cells[c] = rows[i].cell[c];
		cmd_status_line(cells, w);
	}
	for (i = 0; i < n; i++) {
		if (rows[i].why[0] != '\0')
			printf("%s: %s: %s\n", rows[i].name, rows[i].state,
			    rows[i].why);
		if (rows[i].degraded[0] != '\0')
			printf("%s: persistence degraded: %s\n", rows[i].name,
			    rows[i].degraded);
	}
	/* Named machines: durability, restarts and last upgrade too. */
	for (i = 0; i < n && argc > optind; i++) {
		printf("%s: durability %s, %llu restarts%s%s\n", rows[i].name,
		    rows[i].durability, (unsigned long long)rows[i].restarts,
		    rows[i].crash[0] ? ", last: " : "", rows[i].crash);
		if (rows[i].last[0] != '\0')
			printf("last upgrade: %s\n", rows[i].last);
	}
	free(rows);
	buf_free(&p);
	buf_free(&in);
	return 0;
}
