/*
 * tpljson.c: any tpl image as JSON, from the format string inside it, for
 * `smsup state` and `smsup trace`. A pure function of its bytes: they come
 * from a worker, which the supervisor does not trust, and are fuzzed.
 *
 * The image is what tpl_dump writes: "tpl" | u8 flags | u32 total length |
 * format | NUL | one u32 per '#' of the format | data, in the writer's byte
 * order (flag 1: big endian). The data follows the format depth first:
 * numbers at their width, s as u32 length+1 (0: NULL; length itself in old
 * images without flag 2) and bytes, B as u32 length and bytes, A(...) as u32
 * count and the elements, x#n as n x's, S(...)#n as n structs.
 *
 * JSON: numbers; s strings (null for NULL); c#n a string up to its first
 * NUL; B a string of hex digits; other x#n arrays; S(...) and $(...)
 * objects whose members are named by `fields` or numbered "0", "1", ...;
 * A(...) arrays. A level of the format that holds one item is that item
 * (a lone S(...) is the object of its fields, and the names are theirs); a level of several items is
 * an object. Field names mirror the format: "a,b(x,y),c" names three items
 * and the fields inside the second; "(key,value)" names the fields inside
 * a lone unnamed A(S(ss)).
 *
 * Not reentrant: the parse trees live in static storage (the supervisor
 * and the client are single threaded where they call it).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

#define TJ_NAMES_MAX	4096	/* characters of a field list */

struct tj_node {
	char		 type;		/* a format character, 'S', '$', 'A' */
	int		 pound;		/* followed by '#' */
	uint64_t	 n;		/* product of its '#' lengths */
	int		 child;		/* first child, or -1 */
	int		 next;		/* next sibling, or -1 */
};

struct tj_name {
	const char	*s;
	size_t		 len;
	int		 child;		/* first name of its group, or -1 */
	int		 next;
};

struct tj {
	const uint8_t	*p, *end, *start;
	int		 swap;		/* other byte order than ours */
	int		 nullstrings;
	struct tj_node	 node[TPLJSON_FORMAT_MAX];
	int		 nnode;
	uint32_t	 fxlen[TPLJSON_FORMAT_MAX];
	int		 nfx, fx;
	struct tj_name	 name[TJ_NAMES_MAX];
	int		 nname;
	struct buf	*out;
	char		*err;
	size_t		 errlen;
};

static int	tj_value(struct tj *, int, int, int);

static int
tj_fail(struct tj *t, const char *fmt, ...)
{
	va_list	 ap;

	if (t->err != NULL && t->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(t->err, t->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
tj_host_big(void)
{
	const uint16_t	 one = 1;

	return *(const uint8_t *)&one == 0;
}

/* n bytes of data, in host order if they are a number (n <= 8). */
static int
tj_take(struct tj *t, size_t n, void *v)
{
	uint8_t	*d = v;
	size_t	 i;

	if ((size_t)(t->end - t->p) < n)
		return tj_fail(t, "truncated data at byte %zu",
		    (size_t)(t->p - t->start));
	if (v != NULL) {
		for (i = 0; i < n; i++)
			d[i] = t->swap ? t->p[n - 1 - i] : t->p[i];
	}
	t->p += n;
	return 0;
}

static int
tj_u32(struct tj *t, uint32_t *v)
{
	return tj_take(t, 4, v);
}

/*
 * The format, as a tree. A struct may hold atoms and $(...) but no A or B;
 * '#' follows an atom or the ')' of an S; depth is bounded.
 */
static int
tj_parse(struct tj *t, const char **pp, int in_struct, int depth, int *first)
{
	const char	*p = *pp, *f0 = *pp;
	int		 prev = -1, i;

	*first = -1;
	if (depth > TPLJSON_DEPTH_MAX)
		return tj_fail(t, "format nested deeper than %d",
		    TPLJSON_DEPTH_MAX);
	while (*p != '\0' && *p != ')') {
		struct tj_node	*nd;
		char		 c = *p++;

		if (t->nnode == TPLJSON_FORMAT_MAX)
			return tj_fail(t, "format too long");
		i = t->nnode++;
		nd = &t->node[i];
		nd->type = c;
		nd->pound = 0;
		nd->n = 1;
		nd->child = nd->next = -1;
		if (prev == -1)
			*first = i;
		else
			t->node[prev].next = i;
		prev = i;
		switch (c) {
		case 'c': case 'i': case 'u': case 'j': case 'v':
		case 'I': case 'U': case 'f': case 's':
			break;
		case 'B':
			if (in_struct)
				return tj_fail(t, "format: B inside a struct");
			break;
		case 'S': case '$': case 'A':
			if (c == 'S' && in_struct)
				return tj_fail(t, "format: S inside a struct");
			if (c == '$' && !in_struct)
				return tj_fail(t, "format: $ outside a struct");
			if (c == 'A' && in_struct)
				return tj_fail(t, "format: A inside a struct");
			if (*p++ != '(')
				return tj_fail(t, "format: %c without '('", c);
			if (tj_parse(t, &p, c != 'A', depth + 1,
			    &t->node[i].child) == -1)
				return -1;
			if (*p++ != ')')
				return tj_fail(t, "format: unbalanced '('");
			if (t->node[i].child == -1)
				return tj_fail(t, "format: empty %c()", c);
			nd = &t->node[i];
			break;
		default:
			return tj_fail(t, "format: unexpected '%c' at %zu", c,
			    (size_t)(p - 1 - f0));
		}
		while (*p == '#') {
			if (c == 'B' || c == 'A' || c == '$')
				return tj_fail(t, "format: '#' after %c", c);
			if (t->fx >= t->nfx)
				return tj_fail(t, "format: more '#' than lengths");
			if (t->fxlen[t->fx] == 0)
				return tj_fail(t, "format: '#' length 0");
			nd->pound = 1;
			nd->n *= t->fxlen[t->fx++];
			if (nd->n > UINT32_MAX)
				return tj_fail(t, "format: '#' lengths too large");
			p++;
		}
	}
	*pp = p;
	return 0;
}

/* The field names: entry (',' entry)*, entry = [name] ['(' list ')']. */
static int
tj_names(struct tj *t, const char **pp, int depth, int *first)
{
	const char	*p = *pp;
	int		 prev = -1, i;

	*first = -1;
	if (depth > TPLJSON_DEPTH_MAX)
		return tj_fail(t, "field names nested too deep");
	for (;;) {
		struct tj_name	*nm;

		if (t->nname == TJ_NAMES_MAX)
			return tj_fail(t, "too many field names");
		i = t->nname++;
		nm = &t->name[i];
		nm->s = p;
		nm->child = nm->next = -1;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.')
			p++;
		nm->len = (size_t)(p - nm->s);
		if (prev == -1)
			*first = i;
		else
			t->name[prev].next = i;
		prev = i;
		if (*p == '(') {
			p++;
			if (tj_names(t, &p, depth + 1, &t->name[i].child) == -1)
				return -1;
			if (*p++ != ')')
				return tj_fail(t, "field names: unbalanced '('");
		}
		if (*p != ',')
			break;
		p++;
	}
	*pp = p;
	return 0;
}

static int
tj_name_at(const struct tj *t, int names, int k)
{
	int	 i;

	for (i = names; i != -1 && k > 0; i = t->name[i].next)
		k--;
	return i;
}

static int
tj_key(struct tj *t, int first, int name, int k)
{
	char	 num[16];

	if (!first && buf_add(t->out, ",", 1) == -1)
		return -1;
	if (name != -1 && t->name[name].len > 0) {
		if (json_put_str(t->out, t->name[name].s,
		    t->name[name].len) == -1)
			return -1;
	} else {
		snprintf(num, sizeof num, "\"%d\"", k);
		if (json_put_raw(t->out, num) == -1)
			return -1;
	}
	return buf_add(t->out, ":", 1);
}

static int
tj_number(struct tj *t, char type)
{
	union {
		uint8_t u8; int16_t i16; uint16_t u16; int32_t i32;
		uint32_t u32; int64_t i64; uint64_t u64; double f;
	} v = { 0 };

	switch (type) {
	case 'c':
		if (tj_take(t, 1, &v.u8) == -1)
			return -1;
		return json_put_u64(t->out, v.u8);
	case 'j':
		if (tj_take(t, 2, &v.i16) == -1)
			return -1;
		return json_put_i64(t->out, v.i16);
	case 'v':
		if (tj_take(t, 2, &v.u16) == -1)
			return -1;
		return json_put_u64(t->out, v.u16);
	case 'i':
		if (tj_take(t, 4, &v.i32) == -1)
			return -1;
		return json_put_i64(t->out, v.i32);
	case 'u':
		if (tj_take(t, 4, &v.u32) == -1)
			return -1;
		return json_put_u64(t->out, v.u32);
	case 'I':
		if (tj_take(t, 8, &v.i64) == -1)
			return -1;
		return json_put_i64(t->out, v.i64);
	case 'U':
		if (tj_take(t, 8, &v.u64) == -1)
			return -1;
		return json_put_u64(t->out, v.u64);
	default: /* 'f' */
		if (tj_take(t, 8, &v.f) == -1)
			return -1;
		return json_put_double(t->out, v.f);
	}
}

static int
tj_string(struct tj *t)
{
	uint32_t	 len;
	const uint8_t	*s;

	if (tj_u32(t, &len) == -1)
		return -1;
	if (t->nullstrings) {
		if (len == 0)
			return json_put_raw(t->out, "null");
		len--;
	}
	s = t->p;
	if (tj_take(t, len, NULL) == -1)
		return -1;
	return json_put_str(t->out, s, len);
}

static int
tj_binary(struct tj *t)
{
	static const char	 hex[] = "0123456789abcdef";
	uint32_t		 len, i;
	const uint8_t		*s;
	char			*d;

	if (tj_u32(t, &len) == -1)
		return -1;
	s = t->p;
	if (tj_take(t, len, NULL) == -1)
		return -1;
	if ((d = buf_extend(t->out, 2 * (size_t)len + 2)) == NULL)
		return tj_fail(t, "out of memory");
	*d++ = '"';
	for (i = 0; i < len; i++) {
		*d++ = hex[s[i] >> 4];
		*d++ = hex[s[i] & 15];
	}
	*d = '"';
	return 0;
}

/* A level of the format: the items from first on, named by names. */
static int
tj_level(struct tj *t, int first, int names, int depth)
{
	int	 i, k, nm;

	if (t->node[first].next == -1) {
		nm = tj_name_at(t, names, 0);
		/* A lone struct (or S(...)#n) is named by its fields. */
		if (t->node[first].type == 'S')
			return tj_value(t, first, names, depth);
		if (nm == -1 || t->name[nm].len == 0)
			return tj_value(t, first,
			    nm == -1 ? -1 : t->name[nm].child, depth);
	}
	if (buf_add(t->out, "{", 1) == -1)
		return -1;
	for (i = first, k = 0; i != -1; i = t->node[i].next, k++) {
		nm = tj_name_at(t, names, k);
		if (tj_key(t, k == 0, nm, k) == -1 ||
		    tj_value(t, i, nm == -1 ? -1 : t->name[nm].child,
		    depth) == -1)
			return -1;
	}
	return buf_add(t->out, "}", 1);
}

/* One occurrence of node i (not its '#' repetitions). */
static int
tj_one(struct tj *t, int i, int names, int depth)
{
	const struct tj_node	*nd = &t->node[i];
	uint32_t		 count, e;
	int			 c, k, nm;

	if (depth > TPLJSON_DEPTH_MAX)
		return tj_fail(t, "nested too deep");
	switch (nd->type) {
	case 's':
		return tj_string(t);
	case 'B':
		return tj_binary(t);
	case 'S':
	case '$':
		if (buf_add(t->out, "{", 1) == -1)
			return -1;
		for (c = nd->child, k = 0; c != -1; c = t->node[c].next, k++) {
			nm = tj_name_at(t, names, k);
			if (tj_key(t, k == 0, nm, k) == -1 ||
			    tj_value(t, c, nm == -1 ? -1 : t->name[nm].child,
			    depth + 1) == -1)
				return -1;
		}
		return buf_add(t->out, "}", 1);
	case 'A':
		if (tj_u32(t, &count) == -1 || buf_add(t->out, "[", 1) == -1)
			return -1;
		for (e = 0; e < count; e++) {
			if (e > 0 && buf_add(t->out, ",", 1) == -1)
				return -1;
			if (tj_level(t, nd->child, names, depth + 1) == -1)
				return -1;
		}
		return buf_add(t->out, "]", 1);
	default:
		return tj_number(t, nd->type);
	}
}

/* Node i with its repetitions: x#n is an array, c#n a string. */
static int
tj_value(struct tj *t, int i, int names, int depth)
{
	const struct tj_node	*nd = &t->node[i];
	const uint8_t		*s, *z;
	uint64_t		 e;

	if (!nd->pound)
		return tj_one(t, i, names, depth);
	if (nd->type == 'c') {
		s = t->p;
		if (tj_take(t, (size_t)nd->n, NULL) == -1)
			return -1;
		z = memchr(s, '\0', (size_t)nd->n);
		return json_put_str(t->out, s, z != NULL ? (size_t)(z - s) :
		    (size_t)nd->n);
	}
	if (buf_add(t->out, "[", 1) == -1)
		return -1;
	for (e = 0; e < nd->n; e++) {
		if (e > 0 && buf_add(t->out, ",", 1) == -1)
			return -1;
		if (tj_one(t, i, names, depth + 1) == -1)
			return -1;
	}
	return buf_add(t->out, "]", 1);
}

/* The header: magic, flags, length, format, '#' lengths. */
static int
tj_header(struct tj *t, const char **fmt)
{
	uint32_t	 total;
	const uint8_t	*nul;
	size_t		 flen, i;
	uint8_t		 flags;

	if (t->end - t->p < 9 || memcmp(t->p, "tpl", 3) != 0)
		return tj_fail(t, "not a tpl image");
	flags = t->p[3];
	if (flags & ~3u)
		return tj_fail(t, "unknown tpl flags 0x%02x", flags);
	t->swap = ((flags & 1) != 0) != tj_host_big();
	t->nullstrings = (flags & 2) != 0;
	t->p += 4;
	if (tj_u32(t, &total) == -1)
		return -1;
	if (total != (size_t)(t->end - t->start))
		return tj_fail(t, "tpl image says %" PRIu32 " bytes, has %zu",
		    total, (size_t)(t->end - t->start));
	if ((nul = memchr(t->p, '\0', (size_t)(t->end - t->p))) == NULL)
		return tj_fail(t, "tpl format not terminated");
	flen = (size_t)(nul - t->p);
	if (flen == 0 || flen >= TPLJSON_FORMAT_MAX)
		return tj_fail(t, "tpl format empty or too long");
	*fmt = (const char *)t->p;
	for (i = 0; i < flen; i++)
		if (t->p[i] == '#')
			t->nfx++;
	t->p = nul + 1;
	for (i = 0; i < (size_t)t->nfx; i++)
		if (tj_u32(t, &t->fxlen[i]) == -1)
			return -1;
	return 0;
}

int
tpljson_render(const uint8_t *img, size_t len, const char *fields,
    struct buf *out, char *err, size_t errlen)
{
	static struct tj	 t;	/* 170 KiB: not on the stack */
	const char		*fmt = NULL, *f;
	size_t			 mark = buf_mark(out);
	int			 top, names = -1;

	t.swap = t.nullstrings = t.nfx = t.fx = 0;
	t.p = t.start = img;
	t.end = img + len;
	t.out = out;
	t.err = err;
	t.errlen = errlen;
	t.nnode = t.nname = 0;
	if (tj_header(&t, &fmt) == -1)
		goto fail;
	f = fmt;
	if (tj_parse(&t, &f, 0, 0, &top) == -1)
		goto fail;
	if (*f != '\0') {
		tj_fail(&t, "format: unbalanced ')'");
		goto fail;
	}
	if (top == -1) {
		tj_fail(&t, "format is empty");
		goto fail;
	}
	if (fields != NULL && fields[0] != '\0') {
		if (strlen(fields) >= TJ_NAMES_MAX) {
			tj_fail(&t, "field names too long");
			goto fail;
		}
		f = fields;
		if (tj_names(&t, &f, 0, &names) == -1)
			goto fail;
		if (*f != '\0') {
			tj_fail(&t, "field names: unexpected '%c'", *f);
			goto fail;
		}
	}
	if (tj_level(&t, top, names, 0) == -1)
		goto fail;
	if (t.p != t.end) {
		tj_fail(&t, "%zu bytes after the data", (size_t)(t.end - t.p));
		goto fail;
	}
	return 0;
fail:
	buf_truncate(out, mark);
	return -1;
}

/* Whether a field list parses; the worker library checks at start. */
int
tpljson_fields_valid(const char *fields, char *err, size_t errlen)
{
	static struct tj	 t;
	const char		*f = fields;
	int			 first;

	t.nname = 0;
	t.err = err;
	t.errlen = errlen;
	if (fields == NULL || fields[0] == '\0')
		return 0;
	if (strlen(fields) >= TJ_NAMES_MAX)
		return tj_fail(&t, "field names too long");
	if (tj_names(&t, &f, 0, &first) == -1)
		return -1;
	if (*f != '\0')
		return tj_fail(&t, "field names: unexpected '%c'", *f);
	return 0;
}
