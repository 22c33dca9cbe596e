/*
 * cmd-status.c: `smsup status [--json] [NAME...]`: a table of every machine;
 * for named machines, each in detail (binary, version, format, pid,
 * uptime, inputs, errors, restarts, memory, last upgrade with its phases);
 * with --json, the same as one JSON document.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "smsup.h"

static int	cmd_status_exec(const char *, int, char **);

const struct cmd_entry cmd_status_entry = {
	"status", "[--json] [NAME ...]", cmd_status_exec
};

static const struct option cmd_status_long[] = {
	{ "json",	no_argument,	NULL,	'j' },
	{ NULL,		0,		NULL,	0 }
};

#define STATUS_COLS	9
#define STATUS_CELL	80

static const char *status_head[STATUS_COLS] = {
	"NAME", "VERSION", "PID", "STATE", "INPUTS", "BUFFERED", "UPTIME",
	"UPGRADES", "LAST PAUSE"
};


static int
cmd_status_row(struct msg_reader *r, struct status_row *row,
    char cell[][STATUS_CELL])
{
	if (status_row_get(r, row) == -1)
		return -1;
	snprintf(cell[0], STATUS_CELL, "%s", row->name);
	snprintf(cell[1], STATUS_CELL, "%s",
	    row->version[0] ? row->version : "-");
	if (row->pid != 0)
		snprintf(cell[2], STATUS_CELL, "%" PRIu32,
		    row->pid);
	else
		snprintf(cell[2], STATUS_CELL, "-");
	snprintf(cell[3], STATUS_CELL, "%s", row->state);
	snprintf(cell[4], STATUS_CELL, "%" PRIu64, row->inputs);
	snprintf(cell[5], STATUS_CELL, "%" PRIu64, row->held);
	if (row->uptime > 0)
		units_age(row->uptime, cell[6], STATUS_CELL);
	else
		snprintf(cell[6], STATUS_CELL, "-");
	snprintf(cell[7], STATUS_CELL, "%" PRIu64, row->upgrades);
	if (row->pause > 0)
		units_duration(row->pause, cell[8], STATUS_CELL);
	else
		snprintf(cell[8], STATUS_CELL, "-");
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

static void
cmd_status_table(struct status_row *rows, char (*cell)[STATUS_COLS][STATUS_CELL],
    uint32_t n)
{
	const char	*cells[STATUS_COLS];
	size_t		 w[STATUS_COLS];
	uint32_t	 i;
	int		 c;

	for (c = 0; c < STATUS_COLS; c++) {
		w[c] = strlen(status_head[c]);
		for (i = 0; i < n; i++)
			if (strlen(cell[i][c]) > w[c])
				w[c] = strlen(cell[i][c]);
	}
	cmd_status_line(status_head, w);
	for (i = 0; i < n; i++) {
		for (c = 0; c < STATUS_COLS; c++)
			cells[c] = cell[i][c];
		cmd_status_line(cells, w);
	}
	for (i = 0; i < n; i++) {
		if (rows[i].why[0] != '\0')
			printf("%s: %s: %s\n", rows[i].name, rows[i].state,
			    rows[i].why);
		if (rows[i].degraded[0] != '\0')
			printf("%s: persistence degraded: %s\n", rows[i].name,
			    rows[i].degraded);
		if (rows[i].note[0] != '\0')
			printf("%s: state directory: %s\n", rows[i].name,
			    rows[i].note);
	}
}

static void
cmd_status_stamp(uint64_t when, char *s, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)when;

	localtime_r(&t, &tm);
	strftime(s, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* How its snapshots are taken, and how the last ones went. */
static void
cmd_status_snapshots(const struct status_row *r)
{
	char	 s[64];

	if (r->fork == STATUS_FORK_OFF && r->forks == 0) {
		printf("  snapshots   inline\n");
		return;
	}
	printf("  snapshots   %s: %" PRIu64 " written, %" PRIu64 " failed",
	    r->fork == STATUS_FORK_ON ? "by fork" : r->fork == STATUS_FORK_OFF ?
	    "inline (by fork before)" : "inline (the worker or the state "
	    "directory cannot fork them)", r->forks, r->fork_fails);
	if (r->fork_ns > 0) {
		units_duration(r->fork_ns, s, sizeof s);
		printf(", the last in %s", s);
	}
	printf("\n");
}

/* One machine, in detail, after the table. */
static void
cmd_status_detail(const struct status_row *r)
{
	struct buf	 arg = { 0 };
	char		 s[64];

	printf("\n%s\n", r->name);
	printf("  state       %s%s%s\n", r->state, r->why[0] ? ": " : "",
	    r->why);
	printf("  version     %s (machine %s)\n", r->version[0] ? r->version :
	    "-", r->type[0] ? r->type : "-");
	printf("  binary      %s\n", r->path);
	printf("  format      %s%s%s\n", r->format[0] ? r->format : "-",
	    r->fields[0] ? ", fields " : "", r->fields);
	if (r->has_init_arg) {
		json_put_cstr(&arg, r->init_arg);
		printf("  init arg    %.*s\n", (int)buf_used(&arg),
		    (const char *)buf_head(&arg));
		buf_free(&arg);
	}
	if (r->pid != 0)
		printf("  pid         %" PRIu32 "\n", r->pid);
	if (r->uptime > 0) {
		units_age(r->uptime, s, sizeof s);
		printf("  uptime      %s\n", s);
	}
	printf("  inputs      %" PRIu64 " applied, %" PRIu64 " errors, %"
	    PRIu64 " dropped, %" PRIu64 " in flight, %" PRIu64 " buffered\n",
	    r->inputs, r->errors, r->dropped, r->inflight, r->held);
	if (r->step_ms > 0)
		printf("  deadline    %gs per answer (--step-timeout)\n",
		    r->step_ms / 1000.);
	else
		printf("  deadline    none (--step-timeout 0)\n");
	printf("  restarts    %" PRIu64 " (policy %s)%s%s\n", r->restarts,
	    r->restart, r->crash[0] ? ", last: " : "", r->crash);
	cmd_status_snapshots(r);
	printf("  durability  %s%s%s%s%s\n", r->durability,
	    r->degraded[0] ? ", degraded: " : "", r->degraded,
	    r->note[0] ? "; " : "", r->note);
	if (r->rss > 0)
		printf("  memory      %.1f MiB resident (worker)\n",
		    (double)r->rss / (1 << 20));
	printf("  upgrades    %" PRIu64, r->upgrades);
	if (r->last[0] != '\0') {
		cmd_status_stamp(r->last_when, s, sizeof s);
		printf(", last at %s %s: %s", s, r->last_ok == 1 ? "ok" :
		    r->last_ok == 2 ? "noop" : "FAILED", r->last);
	}
	printf("\n");
}

static void
cmd_status_json_row(struct buf *b, const struct status_row *r)
{
	json_put_raw(b, "{");
	json_put_key(b, 1, "name");		json_put_cstr(b, r->name);
	json_put_key(b, 0, "machine");		json_put_cstr(b, r->type);
	json_put_key(b, 0, "version");		json_put_cstr(b, r->version);
	json_put_key(b, 0, "state");		json_put_cstr(b, r->state);
	json_put_key(b, 0, "reason");		json_put_cstr(b, r->why);
	json_put_key(b, 0, "binary");		json_put_cstr(b, r->path);
	json_put_key(b, 0, "format");		json_put_cstr(b, r->format);
	json_put_key(b, 0, "fields");		json_put_cstr(b, r->fields);
	json_put_key(b, 0, "init_arg");
	if (r->has_init_arg)
		json_put_cstr(b, r->init_arg);
	else
		json_put_raw(b, "null");
	json_put_key(b, 0, "pid");		json_put_u64(b, r->pid);
	json_put_key(b, 0, "uptime_ns");	json_put_u64(b, r->uptime);
	json_put_key(b, 0, "inputs");		json_put_u64(b, r->inputs);
	json_put_key(b, 0, "errors");		json_put_u64(b, r->errors);
	json_put_key(b, 0, "in_flight");	json_put_u64(b, r->inflight);
	json_put_key(b, 0, "buffered");		json_put_u64(b, r->held);
	json_put_key(b, 0, "restarts");		json_put_u64(b, r->restarts);
	json_put_key(b, 0, "last_crash");	json_put_cstr(b, r->crash);
	json_put_key(b, 0, "restart_policy");	json_put_cstr(b, r->restart);
	json_put_key(b, 0, "durability");	json_put_cstr(b, r->durability);
	json_put_key(b, 0, "degraded");		json_put_cstr(b, r->degraded);
	json_put_key(b, 0, "storage_note");	json_put_cstr(b, r->note);
	json_put_key(b, 0, "dropped");		json_put_u64(b, r->dropped);
	json_put_key(b, 0, "step_timeout_ms");	json_put_u64(b, r->step_ms);
	json_put_key(b, 0, "snapshot_fork");
	json_put_cstr(b, r->fork == STATUS_FORK_ON ? "yes" :
	    r->fork == STATUS_FORK_OFF ? "no" : "cannot");
	json_put_key(b, 0, "fork_snapshots");	json_put_u64(b, r->forks);
	json_put_key(b, 0, "fork_snapshot_failures");
	json_put_u64(b, r->fork_fails);
	json_put_key(b, 0, "fork_snapshot_ns");	json_put_u64(b, r->fork_ns);
	json_put_key(b, 0, "memory_bytes");	json_put_u64(b, r->rss);
	json_put_key(b, 0, "upgrades");		json_put_u64(b, r->upgrades);
	json_put_key(b, 0, "last_pause_ns");	json_put_u64(b, r->pause);
	json_put_key(b, 0, "last_upgrade");
	if (r->last[0] == '\0')
		json_put_raw(b, "null");
	else {
		json_put_raw(b, "{");
		json_put_key(b, 1, "result");
		json_put_cstr(b, r->last_ok == 1 ? "ok" : r->last_ok == 2 ?
		    "noop" : "failed");
		json_put_key(b, 0, "time");	json_put_u64(b, r->last_when);
		json_put_key(b, 0, "report");	json_put_cstr(b, r->last);
		json_put_raw(b, "}");
	}
	json_put_raw(b, "}");
}

static int
cmd_status_exec(const char *path, int argc, char **argv)
{
	struct buf		 p = { 0 }, in = { 0 }, js = { 0 };
	struct reply		 r;
	struct msg_reader	 mr;
	struct status_row	*rows;
	char			(*cell)[STATUS_COLS][STATUS_CELL];
	uint32_t		 n, i;
	int			 c, rc, json = 0, named;

	while ((c = getopt_long(argc, argv, "j", cmd_status_long, NULL)) != -1)
		if (c == 'j')
			json = 1;
		else
			return cmd_usage(&cmd_status_entry);
	named = argc > optind;
	msg_put_u32(&p, (uint32_t)(argc - optind));
	for (c = optind; c < argc; c++)
		msg_put_str(&p, argv[c]);
	msg_put_u32(&p, json || named ? STATUS_DETAIL : 0);
	rc = client_ask(path, FRAME_C_STATUS, &p, &in, &r, FRAME_R_STATUS);
	buf_free(&p);
	if (rc != 0) {
		buf_free(&in);
		return rc;
	}
	msg_init(&mr, r.data, r.len);
	if (msg_get_u32(&mr, &n) == -1 || n > 100000) {
		fprintf(stderr, "smsup: malformed status answer\n");
		buf_free(&in);
		return EXIT_FAIL;
	}
	rows = calloc(n ? n : 1, sizeof *rows);
	cell = calloc(n ? n : 1, sizeof *cell);
	if (rows == NULL || cell == NULL) {
		fprintf(stderr, "smsup: out of memory\n");
		free(rows);
		free(cell);
		buf_free(&in);
		return EXIT_FAIL;
	}
	for (i = 0; i < n; i++)
		if (cmd_status_row(&mr, &rows[i], cell[i]) == -1) {
			fprintf(stderr, "smsup: malformed status answer\n");
			free(rows);
			free(cell);
			return EXIT_FAIL;
		}
	if (json) {
		json_put_raw(&js, "{\"machines\":[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				json_put_raw(&js, ",");
			cmd_status_json_row(&js, &rows[i]);
		}
		json_put_raw(&js, "]}\n");
		fwrite(buf_head(&js), 1, buf_used(&js), stdout);
	} else {
		cmd_status_table(rows, cell, n);
		for (i = 0; i < n && named; i++)
			cmd_status_detail(&rows[i]);
	}
	free(rows);
	free(cell);
	buf_free(&in);
	buf_free(&js);
	return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
}
