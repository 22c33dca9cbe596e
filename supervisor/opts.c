/*
 * opts.c: the settings of a machine: their defaults, the `smsup run`
 * options that set them, and their encoding in a RUN request (only the
 * settings given travel; the supervisor fills in the rest).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "smsup.h"

void
opts_default(struct machine_opts *o)
{
	memset(o, 0, sizeof *o);
	o->upgrade_timeout = SMSUP_UPGRADE_TIMEOUT;
	o->probation = 0;
	o->image_max = (1024u << 20) - 4096;
	o->snap_inputs = 10000;
	o->snap_ms = 1000;
	o->durability = DURABILITY_BATCH;
	o->restart = RESTART_PERMANENT;
	o->max_restarts = 5;
	o->restart_window = 10;
	o->step_timeout = SMSUP_STEP_TIMEOUT;
	o->snap_fork = 1;
}

static const char *opts_durability[] = { "none", "batch", "always" };
static const char *opts_restart[] = { "permanent", "transient", "temporary" };
static const char *opts_yesno[] = { "no", "yes" };

const char *
opts_restart_name(int r)
{
	return opts_restart[r];
}

const char *
opts_durability_name(int d)
{
	return opts_durability[d];
}

static int
opts_word(const char *s, const char **words, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

/*
 * Take one `smsup run` option (its getopt_long code, see opts_long) into
 * o, marking it in *set. 0, or -1 with err set.
 */
int
opts_parse(int ch, const char *arg, struct machine_opts *o, uint32_t *set,
    char *err, size_t len)
{
	double		 d;
	char		*end;
	unsigned long	 n;

	switch (ch) {
	case 'T':
		if (units_parse_seconds(arg, 3600, &o->upgrade_timeout) == -1)
			goto bad;
		*set |= OPT_TIMEOUT;
		return 0;
	case 'P':
		if (strcmp(arg, "0") == 0)
			o->probation = 0;
		else if (units_parse_seconds(arg, 3600, &o->probation) == -1)
			goto bad;
		*set |= OPT_PROBATION;
		return 0;
	case 'M':
		if (units_parse_size(arg, &o->image_max) == -1 ||
		    o->image_max > FRAME_IMAGE_MAX_DEFAULT - 4096)
			goto bad;
		*set |= OPT_IMAGE_MAX;
		return 0;
	case 'N':
		n = strtoul(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || n > 100000000)
			goto bad;
		o->snap_inputs = (uint32_t)n;
		*set |= OPT_SNAP_INPUTS;
		return 0;
	case 'I':
		if (strcmp(arg, "0") == 0)
			d = 0;
		else if (units_parse_seconds(arg, 86400, &d) == -1)
			goto bad;
		o->snap_ms = (uint32_t)(d * 1000);
		*set |= OPT_SNAP_MS;
		return 0;
	case 'D':
		if ((o->durability = opts_word(arg, opts_durability, 3)) == -1)
			goto bad;
		*set |= OPT_DURABILITY;
		return 0;
	case 'R':
		if ((o->restart = opts_word(arg, opts_restart, 3)) == -1)
			goto bad;
		*set |= OPT_RESTART;
		return 0;
	case 'X':
		/* R/T: at most R restarts in T seconds. */
		n = strtoul(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '/' ||
		    units_parse_seconds(end + 1, 86400, &d) == -1)
			goto bad;
		if (n > SMSUP_MAX_RESTARTS) {
			snprintf(err, len, "bad value '%s' for --max-restarts: "
			    "at most %d restarts", arg, SMSUP_MAX_RESTARTS);
			return -1;
		}
		o->max_restarts = (uint32_t)n;
		o->restart_window = d;
		*set |= OPT_MAX_RESTARTS;
		return 0;
	case 'F':
		o->fresh = 1;
		*set |= OPT_FRESH;
		return 0;
	case 'U':
	case 'G':
		if (arg[0] == '\0' || arg[0] == '-' ||
		    strlen(arg) > OPTS_NAME_MAX || strchr(arg, ':') != NULL)
			goto bad;
		snprintf(ch == 'U' ? o->user : o->group, OPTS_NAME_MAX + 1,
		    "%s", arg);
		*set |= ch == 'U' ? OPT_USER : OPT_GROUP;
		return 0;
	case 'A':
		if (units_parse_size(arg, &o->limit_memory) == -1 ||
		    o->limit_memory < (1u << 20))
			goto bad;
		*set |= OPT_LIMIT_MEMORY;
		return 0;
	case 'O':
		n = strtoul(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || n < 8 ||
		    n > 1048576)
			goto bad;
		o->limit_files = n;
		*set |= OPT_LIMIT_FILES;
		return 0;
	case 'C':
		if (units_parse_seconds(arg, 86400 * 365, &d) == -1 || d < 1)
			goto bad;
		o->limit_cpu = (uint64_t)d;
		*set |= OPT_LIMIT_CPU;
		return 0;
	case 'W':
		if (strcmp(arg, "0") == 0)
			d = 0;
		else if (units_parse_seconds(arg, 86400, &d) == -1 ||
		    d < 0.01)
			goto bad;
		o->step_timeout = d;
		*set |= OPT_STEP_TIMEOUT;
		return 0;
	case 'K':
		if ((o->snap_fork = opts_word(arg, opts_yesno, 2)) == -1)
			goto bad;
		*set |= OPT_SNAP_FORK;
		return 0;
	case 'g':
		if (strlen(arg) > OPTS_ARG_MAX) {
			snprintf(err, len, "--init-arg: longer than %d bytes",
			    OPTS_ARG_MAX);
			return -1;
		}
		snprintf(o->init_arg, sizeof o->init_arg, "%s", arg);
		o->has_init_arg = 1;
		*set |= OPT_INIT_ARG;
		return 0;
	}
	snprintf(err, len, "unknown option");
	return -1;
bad:
	snprintf(err, len, "bad value '%s' for --%s", arg, opts_name(ch));
	return -1;
}

const struct option opts_long[] = {
	{ "upgrade-timeout", required_argument, NULL, 'T' },
	{ "probation", required_argument, NULL, 'P' },
	{ "max-image", required_argument, NULL, 'M' },
	{ "snapshot-inputs", required_argument, NULL, 'N' },
	{ "snapshot-interval", required_argument, NULL, 'I' },
	{ "durability", required_argument, NULL, 'D' },
	{ "restart", required_argument, NULL, 'R' },
	{ "max-restarts", required_argument, NULL, 'X' },
	{ "fresh", no_argument, NULL, 'F' },
	{ "user", required_argument, NULL, 'U' },
	{ "group", required_argument, NULL, 'G' },
	{ "limit-memory", required_argument, NULL, 'A' },
	{ "limit-files", required_argument, NULL, 'O' },
	{ "limit-cpu", required_argument, NULL, 'C' },
	{ "step-timeout", required_argument, NULL, 'W' },
	{ "snapshot-fork", required_argument, NULL, 'K' },
	{ "init-arg", required_argument, NULL, 'g' },
	{ "state-dir", required_argument, NULL, 'S' },
	{ "config", required_argument, NULL, 'c' },
	{ "pid-file", required_argument, NULL, 'p' },
	{ "max-input", required_argument, NULL, 'i' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "detach", no_argument, NULL, 'd' },
	{ "node", required_argument, NULL, OPT_CODE_NODE },
	{ "peer", required_argument, NULL, OPT_CODE_PEER },
	{ "election-timeout", required_argument, NULL, OPT_CODE_ELECTION },
	{ "log-snapshot", required_argument, NULL, OPT_CODE_LOG_SNAPSHOT },
	{ "join", no_argument, NULL, OPT_CODE_JOIN },
	{ NULL, 0, NULL, 0 }
};

const char *
opts_name(int ch)
{
	const struct option	*o;

	for (o = opts_long; o->name != NULL; o++)
		if (o->val == ch)
			return o->name;
	return "?";
}

/* The settings given, for a RUN request. */
void
opts_encode(struct buf *b, const struct machine_opts *o, uint32_t set)
{
	msg_put_u32(b, set);
	msg_put_u32(b, (uint32_t)(o->upgrade_timeout * 1000));
	msg_put_u32(b, (uint32_t)(o->probation * 1000));
	msg_put_u64(b, o->image_max);
	msg_put_u32(b, o->snap_inputs);
	msg_put_u32(b, o->snap_ms);
	msg_put_u32(b, (uint32_t)o->durability);
	msg_put_u32(b, (uint32_t)o->restart);
	msg_put_u32(b, o->max_restarts);
	msg_put_u32(b, (uint32_t)(o->restart_window * 1000));
	msg_put_str(b, o->user);
	msg_put_str(b, o->group);
	msg_put_u64(b, o->limit_memory);
	msg_put_u64(b, o->limit_files);
	msg_put_u64(b, o->limit_cpu);
	msg_put_u32(b, (uint32_t)(o->step_timeout * 1000));
	msg_put_u32(b, (uint32_t)o->snap_fork);
	msg_put_str(b, o->init_arg);
}

/* Read them back over the defaults; -1 if malformed or out of range. */
int
opts_decode(struct msg_reader *r, struct machine_opts *o)
{
	struct machine_opts	 in;
	uint32_t		 set, t, p, dur, rs, win, step, fork = 1;
	char			 arg[OPTS_ARG_MAX + 2];

	opts_default(o);
	memset(&in, 0, sizeof in);
	msg_get_u32(r, &set);
	msg_get_u32(r, &t);
	msg_get_u32(r, &p);
	msg_get_u64(r, &in.image_max);
	msg_get_u32(r, &in.snap_inputs);
	msg_get_u32(r, &in.snap_ms);
	msg_get_u32(r, &dur);
	msg_get_u32(r, &rs);
	msg_get_u32(r, &in.max_restarts);
	msg_get_u32(r, &win);
	msg_get_str(r, in.user, sizeof in.user);
	msg_get_str(r, in.group, sizeof in.group);
	msg_get_u64(r, &in.limit_memory);
	msg_get_u64(r, &in.limit_files);
	msg_get_u64(r, &in.limit_cpu);
	msg_get_u32(r, &step);
	/* Came later: a request without it has the default. */
	if (r->off + 4 <= r->len)
		msg_get_u32(r, &fork);
	arg[0] = '\0';
	if (r->off < r->len)
		msg_get_str(r, arg, sizeof arg);
	if (r->err || strlen(arg) > OPTS_ARG_MAX || fork > 1 || dur > 2 || rs > 2 || t > 3600000 || p > 3600000 ||
	    step > 86400000 ||
	    in.image_max > FRAME_IMAGE_MAX_DEFAULT - 4096 ||
	    in.max_restarts > SMSUP_MAX_RESTARTS || win > 86400000)
		return -1;
	if (set & OPT_TIMEOUT && t > 0)
		o->upgrade_timeout = t / 1000.;
	if (set & OPT_PROBATION)
		o->probation = p / 1000.;
	if (set & OPT_IMAGE_MAX && in.image_max > 0)
		o->image_max = in.image_max;
	if (set & OPT_SNAP_INPUTS)
		o->snap_inputs = in.snap_inputs;
	if (set & OPT_SNAP_MS)
		o->snap_ms = in.snap_ms;
	if (set & OPT_DURABILITY)
		o->durability = (int)dur;
	if (set & OPT_RESTART)
		o->restart = (int)rs;
	if (set & OPT_MAX_RESTARTS && win > 0) {
		o->max_restarts = in.max_restarts;
		o->restart_window = win / 1000.;
	}
	o->fresh = (set & OPT_FRESH) != 0;
	if (set & OPT_USER)
		memcpy(o->user, in.user, sizeof o->user);
	if (set & OPT_GROUP)
		memcpy(o->group, in.group, sizeof o->group);
	if (set & OPT_LIMIT_MEMORY)
		o->limit_memory = in.limit_memory;
	if (set & OPT_LIMIT_FILES)
		o->limit_files = in.limit_files;
	if (set & OPT_LIMIT_CPU)
		o->limit_cpu = in.limit_cpu;
	if (set & OPT_STEP_TIMEOUT)
		o->step_timeout = step / 1000.;
	if (set & OPT_SNAP_FORK)
		o->snap_fork = (int)fork;
	if (set & OPT_INIT_ARG) {
		memcpy(o->init_arg, arg, sizeof o->init_arg);
		o->has_init_arg = 1;
	}
	return 0;
}
