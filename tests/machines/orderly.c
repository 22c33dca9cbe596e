/*
 * orderly.c: a test machine that proves order and exactly-once delivery.
 * Input "C N" says client C (0-7) sends its N-th input (from 1): any N
 * other than the client's previous N + 1 is a violation (lost, duplicated
 * or reordered). "check" answers the totals. Built as orderly-v1..v5
 * (-DORDERLY_VERSION); every version migrates from every other one and
 * counts the migrations in `generation`. `arm FAULT` (fault.h) arms a
 * fault for the next migration, `arm none` disarms it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smsup/worker.h>

#include "fault.h"

#define STR2(x)		#x
#define STR(x)		STR2(x)
#define ORDERLY_FORMAT	"S(IIIIIIIIIIII)"

struct orderly {
	int64_t	 total;
	int64_t	 violations;
	int64_t	 generation;
	int64_t	 last[8];
	int64_t	 fault;
};

static int
orderly_init(void *state)
{
	memset(state, 0, sizeof(struct orderly));
	return 0;
}

static int
orderly_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct orderly	*o = state;
	unsigned	 c;
	long long	 n;
	char		 extra;
	int		 fault;

	if (smsup_input_is(in, len, "check"))
		return smsup_reply(out, "total=%" PRId64 " violations=%" PRId64
		    " generation=%" PRId64 " last=%" PRId64 ",%" PRId64 ",%"
		    PRId64 ",%" PRId64, o->total, o->violations,
		    o->generation, o->last[0], o->last[1], o->last[2],
		    o->last[3]);
	fault_step();
	if ((fault = fault_parse(in, len)) >= 0) {
		o->fault = fault;
		return smsup_reply(out, "ok");
	}
	if (sscanf(in, "%u %lld%c", &c, &n, &extra) != 2 || c > 7)
		return smsup_error("usage: CLIENT(0-7) N | check | arm FAULT");
	if (n != o->last[c] + 1)
		o->violations++;
	o->last[c] = n;
	o->total++;
	return smsup_reply(out, "ok");
}

static int
orderly_migrate(void *state, const struct smsup_image *old)
{
	struct orderly	*o = state;

	if (smsup_image_unpack(old, ORDERLY_FORMAT, o) == -1)
		return -1;
	if (fault_migrate((int)o->fault) == -1)
		return -1;
	o->generation++;
	return 0;
}

SMSUP_MACHINE(
	.name = "orderly",
	.version = STR(ORDERLY_VERSION),
	.format = ORDERLY_FORMAT,
	.state_size = sizeof(struct orderly),
#if ORDERLY_VERSION == 1
	.migrates_from = SMSUP_VERSIONS("2", "3", "4", "5"),
#elif ORDERLY_VERSION == 2
	.migrates_from = SMSUP_VERSIONS("1", "3", "4", "5"),
#elif ORDERLY_VERSION == 3
	.migrates_from = SMSUP_VERSIONS("1", "2", "4", "5"),
#elif ORDERLY_VERSION == 4
	.migrates_from = SMSUP_VERSIONS("1", "2", "3", "5"),
#else
	.migrates_from = SMSUP_VERSIONS("1", "2", "3", "4"),
#endif
	.init = orderly_init,
	.step = orderly_step,
	.migrate = orderly_migrate,
);
