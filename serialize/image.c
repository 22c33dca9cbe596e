/* image.c: encode and decode state image headers (pure functions). */
#include <string.h>

#include "image.h"
#include "msg.h"

/* Machine names: [A-Za-z0-9_.-], not starting with '.' or '-'. */
int
image_name_valid(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > SMSUP_NAME_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		    *s == '-')
			continue;
		return 0;
	}
	return 1;
}

/* Versions: printable ASCII without spaces or quotes. */
int
image_version_valid(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > SMSUP_VERSION_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~' || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

/* Formats: tpl's format characters only, parentheses balanced. */
int
image_format_valid(const char *s)
{
	size_t	 n = strlen(s);
	int	 depth = 0;

	if (n == 0 || n > SMSUP_FORMAT_MAX)
		return 0;
	for (; *s != '\0'; s++) {
		if (strchr("ijuvIUcsfB#$SA", *s) != NULL)
			continue;
		if (*s == '(')
			depth++;
		else if (*s == ')' && --depth < 0)
			return 0;
		else if (*s != ')')
			return 0;
	}
	return depth == 0;
}

/* Append the header of an image whose tpl_len bytes of tpl follow. */
int
image_encode_header(struct buf *b, const char *name, const char *version,
    const char *format, size_t tpl_len)
{
	size_t	 start = buf_mark(b);

	if (!image_name_valid(name) || !image_version_valid(version) ||
	    !image_format_valid(format))
		return -1;
	if (buf_add(b, IMAGE_MAGIC, IMAGE_MAGIC_LEN) == -1 ||
	    msg_put_u16(b, IMAGE_FORMAT_VERSION) == -1 ||
	    msg_put_u16(b, 0) == -1 ||
	    msg_put_str(b, name) == -1 ||
	    msg_put_str(b, version) == -1 ||
	    msg_put_str(b, format) == -1 ||
	    msg_put_u64(b, tpl_len) == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

int
image_encode(struct buf *b, const char *name, const char *version,
    const char *format, const void *tpl, size_t tpl_len)
{
	size_t	 start = buf_mark(b);

	if (image_encode_header(b, name, version, format, tpl_len) == -1)
		return -1;
	if (buf_add(b, tpl, tpl_len) == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

/* A header string: IMAGE_ESHORT if it runs past the end, else checked. */
static int
image_get_str(struct msg_reader *r, char *dst, size_t dstsz)
{
	const uint8_t	*p;
	size_t		 n;

	if (msg_get_bytes(r, &p, &n) == -1)
		return IMAGE_ESHORT;
	if (n >= dstsz || memchr(p, '\0', n) != NULL)
		return IMAGE_EFIELD;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return IMAGE_OK;
}

int
image_decode(const uint8_t *p, size_t len, struct image *img)
{
	struct msg_reader	 r;
	const uint8_t		*magic;
	uint16_t		 version, flags;
	uint64_t		 tpl_len;
	int			 rc;

	memset(img, 0, sizeof *img);
	msg_init(&r, p, len);
	if (msg_get_raw(&r, &magic, IMAGE_MAGIC_LEN) == -1)
		return IMAGE_ESHORT;
	if (memcmp(magic, IMAGE_MAGIC, IMAGE_MAGIC_LEN) != 0)
		return IMAGE_EMAGIC;
	if (msg_get_u16(&r, &version) == -1 || msg_get_u16(&r, &flags) == -1)
		return IMAGE_ESHORT;
	if (version != IMAGE_FORMAT_VERSION || flags != 0)
		return IMAGE_EVERSION;
	if ((rc = image_get_str(&r, img->name, sizeof img->name)) != 0 ||
	    (rc = image_get_str(&r, img->version, sizeof img->version)) != 0 ||
	    (rc = image_get_str(&r, img->format, sizeof img->format)) != 0)
		return rc;
	if (!image_name_valid(img->name) ||
	    !image_version_valid(img->version) ||
	    !image_format_valid(img->format))
		return IMAGE_EFIELD;
	if (msg_get_u64(&r, &tpl_len) == -1)
		return IMAGE_ESHORT;
	if (tpl_len != len - r.off)
		return tpl_len > len - r.off ? IMAGE_ESHORT : IMAGE_ETPL;
	/* Every tpl image starts with the bytes "tpl". */
	if (tpl_len < 3 || memcmp(p + r.off, "tpl", 3) != 0)
		return IMAGE_ETPL;
	img->tpl = p + r.off;
	img->tpl_len = (size_t)tpl_len;
	return IMAGE_OK;
}

const char *
image_strerror(int e)
{
	switch (e) {
	case IMAGE_ESHORT:
		return "state image truncated";
	case IMAGE_EMAGIC:
		return "not a state image (bad magic)";
	case IMAGE_EVERSION:
		return "unknown state image format version";
	case IMAGE_EFIELD:
		return "state image header has an invalid name, version or "
		    "format";
	case IMAGE_ETPL:
		return "state image has no valid tpl data";
	default:
		return "state image error";
	}
}
