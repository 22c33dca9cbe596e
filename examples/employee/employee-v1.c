/*
 * employee-v1.c: the Elixir seed's DemoServer, version 1. One binary,
 * started for each employee with its own initial state:
 *
 *	smsup run --init-arg "blackode 30000" blackode=./employee-v1
 *
 * `add N` adds N to the money and answers "N added to NAME ".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <smsup/worker.h>

struct employee {
	char	*name;
	int64_t	 money;
};

/* The init argument is "NAME MONEY". */
static int
employee_init(void *state)
{
	struct employee	*e = state;
	const char	*arg;
	char		 name[64];
	size_t		 len;

	if ((arg = smsup_init_arg(&len)) == NULL)
		return smsup_error("start it with --init-arg \"NAME MONEY\"");
	if (smsup_input_match(arg, len, "%s %d", name, sizeof name,
	    &e->money) != 1)
		return -1;
	if ((e->name = strdup(name)) == NULL)
		return smsup_error("out of memory");
	return 0;
}

static int
employee_step(void *state, const char *in, size_t len,
    struct smsup_output *out)
{
	struct employee	*e = state;
	int64_t		 value;
	int		 rc;

	if ((rc = smsup_input_match(in, len, "add %d", &value)) == 1) {
		e->money += value;
		return smsup_reply(out, "%" PRId64 " added to %s ", value,
		    e->name);
	}
	if (rc == -1)
		return -1;
	return smsup_error("unknown input '%.*s' (employee takes add N)",
	    (int)len, in);
}

static void
employee_destroy(void *state)
{
	free(((struct employee *)state)->name);
}

SMSUP_MACHINE(
	.name = "employee",
	.version = "1",
	.format = "S(sI)",
	.fields = "name,money",
	.state_size = sizeof(struct employee),
	.init = employee_init,
	.step = employee_step,
	.destroy = employee_destroy,
);
