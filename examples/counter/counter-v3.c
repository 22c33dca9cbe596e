/*
 * counter-v3.c: the counter, version 3, for version chains: it migrates
 * from both "1" and "2", and the migration run is always picked by the
 * exact running version. The state gains a count of resets: {old, n,
 * resets}. Inputs: incr, count, reset, and `state` to see it all.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <smsup/worker.h>

struct counter3 {
	int32_t	 old;
	int32_t	 n;
	int32_t	 resets;
};

struct counter2 {
	int32_t	 old;
	int32_t	 n;
};

static int
counter_init(void *state)
{
	memset(state, 0, sizeof(struct counter3));
	return 0;
}

static int
counter_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct counter3	*c = state;

	if (smsup_input_is(in, len, "incr")) {
		c->n++;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "count"))
		return smsup_reply(out, "%" PRId32, c->n);
	if (smsup_input_is(in, len, "reset")) {
		c->n = 0;
		c->resets++;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "state"))
		return smsup_reply(out, "{%" PRId32 ",%" PRId32 ",%" PRId32 "}",
		    c->old, c->n, c->resets);
	return smsup_error("unknown input '%.*s' (counter takes incr, count, "
	    "reset, state)", (int)len, in);
}

static int
counter_migrate(void *state, const struct smsup_image *old)
{
	struct counter3	*c = state;
	struct counter2	 c2;
	int32_t		 n;

	if (strcmp(old->version, "1") == 0) {
		/* As v2 would: n becomes {n, n}. */
		if (smsup_image_unpack(old, "S(i)", &n) == -1)
			return -1;
		c->old = c->n = n;
	} else {
		/* "2": the pair is kept as it is. */
		if (smsup_image_unpack(old, "S(ii)", &c2) == -1)
			return -1;
		c->old = c2.old;
		c->n = c2.n;
	}
	c->resets = 0;
	return 0;
}

SMSUP_MACHINE(
	.name = "counter",
	.version = "3",
	.format = "S(iii)",
	.fields = "old,n,resets",
	.state_size = sizeof(struct counter3),
	.migrates_from = SMSUP_VERSIONS("1", "2"),
	.init = counter_init,
	.step = counter_step,
	.migrate = counter_migrate,
);
