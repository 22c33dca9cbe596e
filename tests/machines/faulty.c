/*
 * faulty.c: a counter whose migration misbehaves on request, for tests.
 * `arm fail|crash|hang|exit` stores the fault in the state, so it travels
 * in the image and the next version's migrate acts on it: return an
 * error, abort(), hang forever, or exit(0). `incr`, `count`, `arm none`.
 * Built as faulty-v1 (migrates from 2), faulty-v2 (from 1) and faulty-v3
 * (from 2 only).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smsup/worker.h>

#define STR2(x)		#x
#define STR(x)		STR2(x)

enum { FAULT_NONE, FAULT_FAIL, FAULT_CRASH, FAULT_HANG, FAULT_EXIT };

struct faulty {
	int32_t	 n;
	int32_t	 fault;
};

static const char *faulty_names[] = { "none", "fail", "crash", "hang",
    "exit" };

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
	int32_t		 i;

	if (smsup_input_is(in, len, "incr")) {
		f->n++;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "count"))
		return smsup_reply(out, "%" PRId32, f->n);
	if (len > 4 && strncmp(in, "arm ", 4) == 0)
		for (i = 0; i < 5; i++)
			if (strcmp(in + 4, faulty_names[i]) == 0) {
				f->fault = i;
				return smsup_reply(out, "ok");
			}
	return smsup_error("usage: incr | count | arm none|fail|crash|hang|"
	    "exit");
}

static int
faulty_migrate(void *state, const struct smsup_image *old)
{
	struct faulty	*f = state;

	if (smsup_image_unpack(old, "S(ii)", f) == -1)
		return -1;
	switch (f->fault) {
	case FAULT_FAIL:
		return smsup_error("the armed fault says no");
	case FAULT_CRASH:
		abort();
	case FAULT_HANG:
		for (;;)
			pause();
	case FAULT_EXIT:
		exit(0);
	}
	return 0;
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
);
