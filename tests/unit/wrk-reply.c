/*
 * wrk-reply.c: unit tests of what the worker library gives a step besides
 * its state: smsup_input_match (a command and its arguments in one call)
 * and the JSON replies (smsup_reply_json, _tpl, _state).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "worker-int.h"

struct pay {
	int32_t	 id;
	int64_t	 salary;
};

static int
t_init(void *state)
{
	(void)state;
	return 0;
}

static int
t_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	(void)state;
	(void)in;
	(void)len;
	(void)out;
	return 0;
}

SMSUP_MACHINE(
	.name = "pay",
	.version = "1",
	.format = "S(iI)",
	.fields = "id,salary",
	.state_size = sizeof(struct pay),
	.init = t_init,
	.step = t_step,
);

static int
match(const char *in, const char *pattern, int64_t *v)
{
	state_clearerr();
	return smsup_input_match(in, strlen(in), pattern, v);
}

Test(reply, input_match_words_and_integers)
{
	int64_t		 v = 0;
	uint64_t	 u = 0;
	double		 d = 0;
	char		 w[5];
	const char	*rest;
	size_t		 n;

	cr_assert_eq(match("add 30000", "add %d", &v), 1);
	cr_assert_eq(v, 30000);
	cr_assert_eq(match("  add\t-5  ", "add %d", &v), 1);
	cr_assert_eq(v, -5);
	cr_assert_eq(match("sub 1", "add %d", &v), 0, "another command");
	cr_assert_eq(match("adder 1", "add %d", &v), 0, "a longer word");
	cr_assert_eq(match("", "add %d", &v), 0);
	cr_assert_eq(match("add", "add %d", &v), -1);
	cr_assert_str_eq(state_lasterr(),
	    "add: expected an integer; usage: add INTEGER");
	cr_assert_eq(match("add x1", "add %d", &v), -1);
	cr_assert_str_eq(state_lasterr(),
	    "add: expected an integer, got 'x1'; usage: add INTEGER");
	cr_assert_eq(match("add 1 2", "add %d", &v), -1);
	cr_assert_str_eq(state_lasterr(),
	    "add: too many arguments; usage: add INTEGER");
	cr_assert_eq(match("add 99999999999999999999", "add %d", &v), -1,
	    "out of range");
	cr_assert_eq(match("add 9223372036854775807", "add %d", &v), 1);
	cr_assert_eq(v, INT64_MAX);
	/* Commands that share their first word. */
	cr_assert_eq(match("set salary 5", "set name %s", &v), 0);
	cr_assert_eq(match("count", "count", &v), 1);
	cr_assert_eq(match("count 1", "count", &v), 0);

	cr_assert_eq(smsup_input_match("n 7", 3, "n %u", &u), 1);
	cr_assert_eq(u, 7);
	cr_assert_eq(smsup_input_match("n -7", 4, "n %u", &u), -1);
	cr_assert_eq(smsup_input_match("f 1.5", 5, "f %f", &d), 1);
	cr_assert_float_eq(d, 1.5, 1e-9);
	cr_assert_eq(smsup_input_match("f nan", 5, "f %f", &d), -1);
	cr_assert_eq(smsup_input_match("w abcd", 6, "w %s", w, sizeof w), 1);
	cr_assert_str_eq(w, "abcd");
	cr_assert_eq(smsup_input_match("w abcde", 7, "w %s", w, sizeof w), -1,
	    "a word longer than its buffer");
	cr_assert_eq(smsup_input_match("note  hello  world", 18, "note %r",
	    &rest, &n), 1);
	cr_assert_eq(n, 12);
	cr_assert_eq(memcmp(rest, "hello  world", n), 0);
	/* Bytes past len are not the input's. */
	cr_assert_eq(smsup_input_match("add 12345", 6, "add %d", &v), 1);
	cr_assert_eq(v, 12);
	/* An argument first: "NAME MONEY". */
	cr_assert_eq(smsup_input_match("bob 5", 5, "%s %d", w, sizeof w, &v),
	    1);
	cr_assert_str_eq(w, "bob");
	cr_assert_eq(v, 5);
	cr_assert_eq(smsup_input_match("bob", 3, "%s %d", w, sizeof w, &v),
	    -1);
	cr_assert_str_eq(state_lasterr(),
	    "input: expected an integer; usage: WORD INTEGER");
	cr_assert_eq(smsup_input_match("x", 1, "x %q", &v), -1, "bad pattern");
}

static void
out_init(struct smsup_output *o, struct buf *b, size_t max)
{
	memset(o, 0, sizeof *o);
	memset(b, 0, sizeof *b);
	o->b = b;
	o->max = max;
}

static char *
out_text(struct buf *b)
{
	char	*s = malloc(buf_used(b) + 1);

	memcpy(s, buf_head(b), buf_used(b));
	s[buf_used(b)] = '\0';
	return s;
}

Test(reply, json)
{
	struct pay		 p = { 7, 160000 };
	struct smsup_output	 o;
	struct buf		 b;
	tpl_node		*tn;
	int32_t			 xs[3] = { 1, 2, 3 }, x;
	char			*s;
	int			 i;

	state_hooks();
	out_init(&o, &b, 1024);
	cr_assert_eq(smsup_reply_state(&o, &p), 0);
	s = out_text(&b);
	cr_assert_str_eq(s, "{\"id\":7,\"salary\":160000}");
	free(s);
	buf_free(&b);

	out_init(&o, &b, 1024);
	cr_assert_eq(smsup_reply(&o, "state: "), 0);
	cr_assert_eq(smsup_reply_json(&o, "S(iI)", &p, NULL), 0);
	s = out_text(&b);
	cr_assert_str_eq(s, "state: {\"0\":7,\"1\":160000}");
	free(s);
	buf_free(&b);

	/* An array: the caller maps and packs, the library renders. */
	out_init(&o, &b, 1024);
	tn = tpl_map("A(i)", &x);
	for (i = 0; i < 3; i++) {
		x = xs[i];
		tpl_pack(tn, 1);
	}
	cr_assert_eq(smsup_reply_tpl(&o, tn, NULL), 0);
	s = out_text(&b);
	cr_assert_str_eq(s, "[1,2,3]");
	free(s);
	buf_free(&b);

	/* Too large for the output: an error, and nothing of it written. */
	out_init(&o, &b, 10);
	cr_assert_eq(smsup_reply(&o, "ab"), 0);
	cr_assert_eq(smsup_reply_state(&o, &p), -1);
	cr_assert_eq(buf_used(&b), 2);
	cr_assert_str_eq(state_lasterr(), "output larger than 10 bytes");
	buf_free(&b);

	out_init(&o, &b, 1024);
	cr_assert_eq(smsup_reply_json(&o, "A(i)", xs, NULL), -1);
	cr_assert_eq(buf_used(&b), 0);
	buf_free(&b);
}
