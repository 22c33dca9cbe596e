/*
 * counter-v2.c: the seed's counter, version 2. The state becomes the pair
 * {old, new}; incr and count work on the second. Migrating from "1" turns
 * the integer n into {n, n}, as the Erlang code_change("1", State, _) does.
 */
#include <inttypes.h>
#include <stdint.h>

#include <smsup/worker.h>

struct counter2 {
	int32_t	 old;
	int32_t	 n;
};

struct counter1 {
	int32_t	 n;
};

static int
counter_init(void *state)
{
	struct counter2	*c = state;

	c->old = c->n = 0;
	return 0;
}

static int
counter_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct counter2	*c = state;

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
	struct counter2	*c = state;
	struct counter1	 c1;

	if (smsup_image_unpack(old, "S(i)", &c1) == -1)
		return -1;
	c->old = c1.n;
	c->n = c1.n;
	return 0;
}

SMSUP_MACHINE(
	.name = "counter",
	.version = "2",
	.format = "S(ii)",
	.fields = "old,n",
	.state_size = sizeof(struct counter2),
	.migrates_from = SMSUP_VERSIONS("1"),
	.init = counter_init,
	.step = counter_step,
	.migrate = counter_migrate,
);
