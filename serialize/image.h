/*
 * image.h: state images. An image is a header naming what the state is,
 * followed by the tpl image of the state itself:
 *
 *	"SMSUPIMG" | u16 image format version | u16 flags (0)
 *	| str machine name | str machine version | str tpl format
 *	| u64 tpl length | tpl image
 *
 * (str = u32 length + bytes, as in msg.h). Decoding checks every field and
 * that the tpl image fills the rest exactly; it never trusts the input.
 */
#ifndef SMSUP_IMAGE_H
#define SMSUP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IMAGE_MAGIC		"SMSUPIMG"
#define IMAGE_MAGIC_LEN		8
#define IMAGE_FORMAT_VERSION	1
#define SMSUP_NAME_MAX		64	/* machine names, without NUL */
#define SMSUP_VERSION_MAX	64	/* machine versions, without NUL */
#define SMSUP_FORMAT_MAX	1024	/* tpl format strings, without NUL */

struct image {
	char		 name[SMSUP_NAME_MAX + 1];
	char		 version[SMSUP_VERSION_MAX + 1];
	char		 format[SMSUP_FORMAT_MAX + 1];
	const uint8_t	*tpl;		/* points into the decoded buffer */
	size_t		 tpl_len;
};

/* image_decode results. */
#define IMAGE_OK	 0
#define IMAGE_ESHORT	-1	/* truncated */
#define IMAGE_EMAGIC	-2	/* not an image */
#define IMAGE_EVERSION	-3	/* image format version unknown */
#define IMAGE_EFIELD	-4	/* name, version or format invalid */
#define IMAGE_ETPL	-5	/* tpl part missing, wrong size or not tpl */

int		 image_encode(struct buf *, const char *, const char *,
		     const char *, const void *, size_t);
int		 image_encode_header(struct buf *, const char *,
		     const char *, const char *, size_t);
int		 image_decode(const uint8_t *, size_t, struct image *);
const char	*image_strerror(int);
int		 image_name_valid(const char *);
int		 image_version_valid(const char *);
int		 image_format_valid(const char *);

#endif
