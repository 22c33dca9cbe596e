/*
 * counter-v1.c: the seed's counter, version 1. The state is one integer;
 * `incr` adds one and answers ok, `count` answers the count. This v1 also
 * migrates down from version 2 (Erlang's code_change({down, "2"}, ...)):
 * the pair {old, new} becomes new.
 */
#include <inttypes.h>
#include <stdint.h>

#include <smsup/worker.h>

struct counter {
	int32_t	 n;
};

struct counter2 {
	int32_t	 old;
	int32_t	 n;
};

static int
counter_init(void *state)
{
	struct counter	*c = state;

	c->n = 0;
	return 0;
}

static int
counter_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct counter	*c = state;

	if (smsup_input_is(in, len, "incr")) {
		c->n++;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "count"))
		return smsup_reply(out, "%" PRId32, c->n);
	return smsup_error("unknown input '%.*s' (counter takes incr, count)",
	    (int)len, in);
}

static int
counter_migrate(void *state, const struct smsup_image *old)
{
	struct counter	*c = state;
	struct counter2	 c2;

	/* Only "2" is listed in migrates_from: old->version is "2". */
	if (smsup_image_unpack(old, "S(ii)", &c2) == -1)
		return -1;
	c->n = c2.n;
	return 0;
}

SMSUP_MACHINE(
	.name = "counter",
	.version = "1",
	.format = "S(i)",
	.fields = "n",
	.state_size = sizeof(struct counter),
	.migrates_from = SMSUP_VERSIONS("2"),
	.init = counter_init,
	.step = counter_step,
	.migrate = counter_migrate,
);
