/*
 * json.c: JSON text for status, state and trace output. Strings are
 * escaped so that any bytes give valid JSON: control characters as \uXXXX,
 * valid UTF-8 as is, each byte of invalid UTF-8 as \u00XX (its Latin-1
 * reading).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t
json_utf8_len(const uint8_t *p, size_t n)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int
json_put_str(struct buf *b, const void *s, size_t len)
{
	const uint8_t	*p = s;
	char		 esc[8];
	size_t		 i, n;

	if (buf_add(b, "\"", 1) == -1)
		return -1;
	for (i = 0; i < len; i += n) {
		const char	*e = NULL;

		n = json_utf8_len(p + i, len - i);
		switch (p[i]) {
		case '"':	e = "\\\""; break;
		case '\\':	e = "\\\\"; break;
		case '\n':	e = "\\n"; break;
		case '\r':	e = "\\r"; break;
		case '\t':	e = "\\t"; break;
		case '\b':	e = "\\b"; break;
		case '\f':	e = "\\f"; break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f || n == 0) {
				snprintf(esc, sizeof esc, "\\u%04x", p[i]);
				e = esc;
			}
			break;
		}
		if (n == 0)
			n = 1;
		if (e != NULL) {
			if (buf_add(b, e, strlen(e)) == -1)
				return -1;
		} else if (buf_add(b, p + i, n) == -1)
			return -1;
	}
	return buf_add(b, "\"", 1);
}

int
json_put_cstr(struct buf *b, const char *s)
{
	if (s == NULL)
		return json_put_raw(b, "null");
	return json_put_str(b, s, strlen(s));
}

int
json_put_u64(struct buf *b, uint64_t v)
{
	char	 s[24];

	snprintf(s, sizeof s, "%" PRIu64, v);
	return json_put_raw(b, s);
}

int
json_put_i64(struct buf *b, int64_t v)
{
	char	 s[24];

	snprintf(s, sizeof s, "%" PRId64, v);
	return json_put_raw(b, s);
}

/* JSON has no NaN or infinities: they become null. */
int
json_put_double(struct buf *b, double v)
{
	char	 s[32];

	if (!isfinite(v))
		return json_put_raw(b, "null");
	snprintf(s, sizeof s, "%.17g", v);
	return json_put_raw(b, s);
}

int
json_put_raw(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* `"key":`, preceded by a comma unless it is the first member. */
int
json_put_key(struct buf *b, int first, const char *key)
{
	if (!first && buf_add(b, ",", 1) == -1)
		return -1;
	if (json_put_cstr(b, key) == -1)
		return -1;
	return buf_add(b, ":", 1);
}
