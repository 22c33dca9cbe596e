/*
 * json.h: writing JSON text (json.c), and rendering a tpl image as JSON
 * (tpljson.c) without knowing the program that wrote it.
 */
#ifndef SMSUP_JSON_H
#define SMSUP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* json.c: values appended to a buffer. */
int	json_put_str(struct buf *, const void *, size_t);
int	json_put_cstr(struct buf *, const char *);
int	json_put_u64(struct buf *, uint64_t);
int	json_put_i64(struct buf *, int64_t);
int	json_put_double(struct buf *, double);
int	json_put_raw(struct buf *, const char *);
int	json_put_key(struct buf *, int, const char *);

/*
 * tpljson.c: the JSON value of a tpl image (as tpl_dump writes it), from
 * its own format string. fields optionally names struct fields, in the
 * shape of the format (see smsup-worker(3)); NULL or "" numbers them.
 * Appends to out and returns 0, or returns -1 with a reason in err and out
 * as it was. Never reads outside [img, img + len), whatever the bytes.
 */
#define TPLJSON_DEPTH_MAX	32	/* nesting of S, $ and A */
#define TPLJSON_FORMAT_MAX	1024	/* characters of a format */

int	tpljson_render(const uint8_t *, size_t, const char *, struct buf *,
	    char *, size_t);
int	tpljson_fields_valid(const char *, char *, size_t);

#endif
