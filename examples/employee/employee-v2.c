/*
 * employee-v2.c: the DemoServer, version 2: the money is now the salary,
 * and `add N` answers with the new state as JSON. Its migrate is Elixir's
 * code_change("1", state, extra): the name stays, money becomes salary;
 * an upgrade given --extra "bonus N" adds N on the way.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <smsup/worker.h>

struct employee {
	char	*name;
	int64_t	 salary;
};

static int
employee_init(void *state)
{
	struct employee	*e = state;
	const char	*arg;
	char		 name[64];
	size_t		 len;

	if ((arg = smsup_init_arg(&len)) == NULL)
		return smsup_error("start it with --init-arg \"NAME SALARY\"");
	if (smsup_input_match(arg, len, "%s %d", name, sizeof name,
	    &e->salary) != 1)
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
		e->salary += value;
		return smsup_reply_state(out, e);
	}
	if (rc == -1)
		return -1;
	return smsup_error("unknown input '%.*s' (employee takes add N)",
	    (int)len, in);
}

/* Version 1's {name, money}: the same layout, money read as salary. */
static int
employee_migrate(void *state, const struct smsup_image *old)
{
	struct employee	*e = state;
	const char	*extra;
	int64_t		 bonus = 0;
	size_t		 len;

	if (smsup_image_unpack(old, "S(sI)", e) == -1)
		return -1;
	if ((extra = smsup_extra(&len)) != NULL &&
	    smsup_input_match(extra, len, "bonus %d", &bonus) != 1)
		return smsup_error("--extra: expected \"bonus N\", got '%s'",
		    extra);
	e->salary += bonus;
	return 0;
}

static void
employee_destroy(void *state)
{
	free(((struct employee *)state)->name);
}

SMSUP_MACHINE(
	.name = "employee",
	.version = "2",
	.format = "S(sI)",
	.fields = "name,salary",
	.state_size = sizeof(struct employee),
	.migrates_from = SMSUP_VERSIONS("1"),
	.init = employee_init,
	.step = employee_step,
	.migrate = employee_migrate,
	.destroy = employee_destroy,
);
