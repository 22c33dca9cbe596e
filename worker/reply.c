/*
 * reply.c: what a machine's step uses besides its state: matching an
 * input against a command pattern ("add %d"), and replies in JSON, of a
 * value or of the whole state, decoded from a tpl image by its format as
 * `smsup state` does (serialize/tpljson.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "worker-int.h"

int
smsup_input_is(const char *in, size_t len, const char *w)
{
	size_t	 n = strlen(w);

	return len == n && memcmp(in, w, n) == 0;
}

/* The next word of [*p, end): its start and length; 0 at the end. */
static size_t
reply_word(const char **p, const char *end, const char **w)
{
	const char	*s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*w = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*p = s;
	return (size_t)(s - *w);
}

/* One argument of the pattern's type t into its variable; -1 if bad. */
static int
reply_arg(char t, const char *w, size_t n, va_list *ap)
{
	char		 num[64], *end;
	char		*dst;
	size_t		 size;
	long long	 ll;
	unsigned long long ull;
	double		 d;

	if (t != 's' && (n == 0 || n >= sizeof num))
		return -1;
	if (t != 's') {
		memcpy(num, w, n);
		num[n] = '\0';
	}
	errno = 0;
	switch (t) {
	case 'd':
		ll = strtoll(num, &end, 10);
		if (errno != 0 || *end != '\0')
			return -1;
		*va_arg(*ap, int64_t *) = ll;
		return 0;
	case 'u':
		ull = strtoull(num, &end, 10);
		if (errno != 0 || *end != '\0' || num[0] == '-')
			return -1;
		*va_arg(*ap, uint64_t *) = ull;
		return 0;
	case 'f':
		d = strtod(num, &end);
		if (errno != 0 || *end != '\0' || !isfinite(d))
			return -1;
		*va_arg(*ap, double *) = d;
		return 0;
	case 's':
		dst = va_arg(*ap, char *);
		size = va_arg(*ap, size_t);
		if (n == 0 || n >= size)
			return -1;
		memcpy(dst, w, n);
		dst[n] = '\0';
		return 0;
	}
	return -1;
}

/* The pattern as a usage line: "add %d" is "add INTEGER". */
static void
reply_usage(const char *pattern, char *out, size_t len)
{
	const char	*name;
	size_t		 o = 0, n;

	for (; *pattern != '\0' && o + 1 < len; pattern++) {
		name = NULL;
		if (pattern[0] == '%')
			switch (pattern[1]) {
			case 'd':	name = "INTEGER";	break;
			case 'u':	name = "COUNT";		break;
			case 'f':	name = "NUMBER";	break;
			case 's':	name = "WORD";		break;
			case 'r':	name = "TEXT";		break;
			}
		if (name == NULL) {
			out[o++] = *pattern;
			continue;
		}
		if (o + (n = strlen(name)) >= len)
			break;
		memcpy(out + o, name, n);
		o += n;
		pattern++;
	}
	out[o] = '\0';
}

static const char *
reply_what(char t)
{
	switch (t) {
	case 'd':	return "an integer";
	case 'u':	return "an integer of 0 or more";
	case 'f':	return "a number";
	default:	return "a word";
	}
}

int
smsup_input_match(const char *in, size_t len, const char *pattern, ...)
{
	const char	*p = in, *end = in + len, *w, *pw, *pat = pattern;
	const char	*pend = pattern + strlen(pattern);
	char		 usage[256];
	size_t		 n, pn, cmd = strcspn(pattern, " ");
	const char	*label = pattern;
	va_list		 ap;
	int		 args = 0, rc = 1;

	reply_usage(pattern, usage, sizeof usage);
	/* Errors begin with the command's word ("input" if it has none). */
	if (pattern[0] == '%') {
		label = "input";
		cmd = 5;
	}
	va_start(ap, pattern);
	while ((pn = reply_word(&pat, pend, &pw)) != 0) {
		if (pw[0] != '%') {
			/* A literal: before any argument, another command. */
			n = reply_word(&p, end, &w);
			if (n != pn || memcmp(w, pw, n) != 0) {
				rc = args == 0 ? 0 :
				    smsup_error("usage: %s", usage);
				goto out;
			}
			continue;
		}
		if (pn != 2 || strchr("dufsr", pw[1]) == NULL) {
			rc = smsup_error("bad input pattern '%s'", pattern);
			goto out;
		}
		args++;
		if (pw[1] == 'r') {
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			*va_arg(ap, const char **) = p;
			*va_arg(ap, size_t *) = (size_t)(end - p);
			p = end;
			continue;
		}
		if ((n = reply_word(&p, end, &w)) == 0) {
			rc = smsup_error("%.*s: expected %s; usage: %s",
			    (int)cmd, label, reply_what(pw[1]), usage);
			goto out;
		}
		if (reply_arg(pw[1], w, n, &ap) == -1) {
			rc = smsup_error("%.*s: expected %s, got '%.*s'; "
			    "usage: %s", (int)cmd, label, reply_what(pw[1]),
			    (int)(n > 64 ? 64 : n), w, usage);
			goto out;
		}
	}
	if (reply_word(&p, end, &w) != 0)
		rc = args == 0 ? 0 : smsup_error("%.*s: too many arguments; "
		    "usage: %s", (int)cmd, label, usage);
out:
	va_end(ap);
	return rc;
}

/* Reply with the JSON of packed node tn (freed), its fields named. */
static int
reply_node(struct smsup_output *o, tpl_node *tn, const char *fields)
{
	void	*img = NULL;
	size_t	 n, at = buf_used(o->b);
	char	 err[256];
	int	 rc;

	if (tn == NULL)
		return smsup_error("cannot map the value: %s", state_lasterr());
	rc = tpl_dump(tn, TPL_MEM, &img, &n);
	tpl_free(tn);
	if (rc == -1) {
		free(img);
		return smsup_error("cannot serialize the value: %s",
		    state_lasterr());
	}
	if (o->overflow)
		rc = smsup_error("output larger than %zu bytes", o->max);
	else if (tpljson_render(img, n, fields, o->b, err, sizeof err) == -1)
		rc = smsup_error("cannot render the value as JSON: %s", err);
	else if (buf_used(o->b) - o->start > o->max) {
		buf_truncate(o->b, at);
		o->overflow = 1;
		rc = smsup_error("output larger than %zu bytes", o->max);
	} else
		rc = 0;
	free(img);
	return rc;
}

int
smsup_reply_json(struct smsup_output *o, const char *format,
    const void *value, const char *fields)
{
	tpl_node	*tn;

	if (!state_mappable(format))
		return smsup_error("smsup_reply_json: format %s needs its own "
		    "tpl_map (use smsup_reply_tpl)", format);
	state_clearerr();
	if ((tn = tpl_map((char *)format, (void *)value)) != NULL &&
	    tpl_pack(tn, 0) == -1) {
		tpl_free(tn);
		return smsup_error("cannot pack the value: %s",
		    state_lasterr());
	}
	return reply_node(o, tn, fields);
}

int
smsup_reply_tpl(struct smsup_output *o, tpl_node *tn, const char *fields)
{
	state_clearerr();
	return reply_node(o, tn, fields);
}

int
smsup_reply_state(struct smsup_output *o, const void *state)
{
	const struct smsup_machine	*m = &smsup_machine;

	if (m->save == NULL)
		return smsup_reply_json(o, m->format, state, m->fields);
	state_clearerr();
	return reply_node(o, m->save((void *)state), m->fields);
}
