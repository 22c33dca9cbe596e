/*
 * faulty.c: a counter that misbehaves on request, for tests. `incr`,
 * `slow` (incr in 50 ms), `count`, `boom` (aborts: it crashes on this very input), `exit` (exits
 * cleanly), `garbage` (writes bytes that are no frame on its channel),
 * `flood` (writes answers to inputs it never got, without end), and
 * `arm none|fail|crash|hang|exit|crashlater|savecrash`
 * (fault.h): the fault is kept in the state, so it travels in the image to
 * the next version. Built as faulty-v1 (migrates from 2), faulty-v2 (from
 * 1) and faulty-v3 (from 2 only).
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <smsup/worker.h>

#include "fault.h"

#define STR2(x)		#x
#define STR(x)		STR2(x)

struct faulty {
	int32_t	 n;
	int32_t	 fault;
};

static int
faulty_init(void *state)
{
	memset(state, 0, sizeof(struct faulty));
	return 0;
}

static int
faulty_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct faulty	*f = state;
	int		 fault;

	fault_step();
	if (smsup_input_is(in, len, "slow")) {	/* incr, in 50 ms */
		usleep(50000);
		f->n++;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "incr")) {
		f->n++;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "count"))
		return smsup_reply(out, "%" PRId32, f->n);
	if (smsup_input_is(in, len, "boom"))
		abort();
	if (smsup_input_is(in, len, "exit"))
		exit(0);
	if (smsup_input_is(in, len, "garbage")) {
		/* A frame header of protocol version 99. */
		static const uint8_t	 junk[16] = { 4, 0, 0, 0, 99, 0x13 };

		(void)!write(3, junk, sizeof junk);
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "flood")) {
		/* OUTPUT frames for input #2^40 on, as fast as it can. */
		uint8_t		 fr[20] = { 4, 0, 0, 0, 1, 0x13, 0, 0 };
		uint64_t	 id;

		memcpy(fr + 16, "spam", 4);
		for (id = (uint64_t)1 << 40;; id++) {
			memcpy(fr + 8, &id, 8);
			if (write(3, fr, sizeof fr) != (ssize_t)sizeof fr)
				_exit(1);
		}
	}
	if ((fault = fault_parse(in, len)) >= 0) {
		f->fault = fault;
		return smsup_reply(out, "ok");
	}
	return smsup_error("usage: incr | count | boom | exit | garbage | "
	    "flood | arm FAULT");
}

static int
faulty_migrate(void *state, const struct smsup_image *old)
{
	struct faulty	*f = state;

	if (smsup_image_unpack(old, "S(ii)", f) == -1)
		return -1;
	return fault_migrate(f->fault);
}

/* Serializing goes through here, so that savecrash can strike. */
static tpl_node *
faulty_save(void *state)
{
	struct faulty	*f = state;
	tpl_node	*tn;

	if (f->fault == FAULT_SAVECRASH)
		abort();
	if ((tn = tpl_map("S(ii)", f)) != NULL)
		tpl_pack(tn, 0);
	return tn;
}

static int
faulty_load(void *state, const struct smsup_image *img)
{
	return smsup_image_unpack(img, "S(ii)", state);
}

SMSUP_MACHINE(
	.name = "faulty",
	.version = STR(FAULTY_VERSION),
	.format = "S(ii)",
	.state_size = sizeof(struct faulty),
#if FAULTY_VERSION == 1
	.migrates_from = SMSUP_VERSIONS("2"),
#elif FAULTY_VERSION == 2
	.migrates_from = SMSUP_VERSIONS("1"),
#else
	.migrates_from = SMSUP_VERSIONS("2"),
#endif
	.init = faulty_init,
	.step = faulty_step,
	.migrate = faulty_migrate,
	.save = faulty_save,
	.load = faulty_load,
);
