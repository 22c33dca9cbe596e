/*
 * state.c: the machine's state and its images: checking the machine
 * definition, saving the state as an image, restoring it from an image of
 * this version (load) or of another one (migrate), and the tpl helpers that
 * machine authors call from migrate.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "frame.h"
#include "image.h"
#include "json.h"
#include "worker-int.h"

static char	state_err[1024];

/* tpl reports problems through these hooks: keep the text for the error. */
static int
state_oops(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(state_err, sizeof state_err, fmt, ap);
	va_end(ap);
	state_err[strcspn(state_err, "\n")] = '\0';
	return 0;
}

static void
state_fatal(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: tpl: fatal: ", smsup_machine.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(70);
}

/* tpl's allocations, large ones with huge pages (see buf_hugepages). */
static void *
state_malloc(size_t n)
{
	void	*p = malloc(n);

	if (p != NULL)
		buf_hugepages(p, n);
	return p;
}

static void *
state_realloc(void *old, size_t n)
{
	void	*p = realloc(old, n);

	if (p != NULL)
		buf_hugepages(p, n);
	return p;
}

void
state_hooks(void)
{
	extern tpl_hook_t tpl_hook;

	tpl_hook.oops = state_oops;
	tpl_hook.fatal = state_fatal;
	tpl_hook.malloc = state_malloc;
	tpl_hook.realloc = state_realloc;
}

/* The texts of S_ARG for the start that follows (init, migrate, load). */
static struct {
	char	*p;
	size_t	 len;
} state_args[2];

int
state_set_arg(int kind, const void *p, size_t len)
{
	char	*t;

	if ((kind != ARG_INIT && kind != ARG_EXTRA) ||
	    memchr(p, '\0', len) != NULL || (t = malloc(len + 1)) == NULL)
		return -1;
	memcpy(t, p, len);
	t[len] = '\0';
	free(state_args[kind - 1].p);
	state_args[kind - 1].p = t;
	state_args[kind - 1].len = len;
	return 0;
}

void
state_clear_args(void)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		free(state_args[i].p);
		state_args[i].p = NULL;
		state_args[i].len = 0;
	}
}

static const char *
state_arg(int kind, size_t *len)
{
	if (len != NULL)
		*len = state_args[kind - 1].len;
	return state_args[kind - 1].p;
}

const char *
smsup_init_arg(size_t *len)
{
	return state_arg(ARG_INIT, len);
}

const char *
smsup_extra(size_t *len)
{
	return state_arg(ARG_EXTRA, len);
}

int
smsup_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(state_err, sizeof state_err, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
state_lasterr(void)
{
	return state_err[0] != '\0' ? state_err : "unknown error";
}

void
state_clearerr(void)
{
	state_err[0] = '\0';
}

/*
 * Whether the library can map the format onto the state struct by itself:
 * one S(...) or one scalar, with no A(...), B or # (those need arguments
 * or packing loops that only the author knows).
 */
int
state_mappable(const char *fmt)
{
	size_t	 i, n = strlen(fmt);
	int	 depth = 0;

	if (strpbrk(fmt, "AB#") != NULL)
		return 0;
	if (n == 1)
		return strchr("ijuvIUcsf", fmt[0]) != NULL;
	if (n < 4 || strncmp(fmt, "S(", 2) != 0)
		return 0;
	/* The outer S( must close at the very end. */
	for (i = 1; i < n; i++) {
		if (fmt[i] == '(')
			depth++;
		else if (fmt[i] == ')' && --depth == 0 && i != n - 1)
			return 0;
	}
	return depth == 0;
}

/*
 * The size of the struct (or scalar) a mappable format describes, as tpl
 * lays it out: it packs a zeroed block and unpacks the image into one
 * filled with 0xa5; the last byte it wrote ends the last field, and the
 * struct's size is that rounded up to its widest field's alignment. 0 if
 * tpl cannot map the format.
 */
static size_t
state_format_size(const char *fmt, size_t *align)
{
	unsigned char	*zero, *fill;
	tpl_node	*tn;
	void		*img = NULL;
	size_t		 i, n, end = 0, len;
	const char	*f;

	*align = 1;
	for (n = 0, f = fmt; *f != '\0'; f++) {
		if (strchr("ijuvIUcsf", *f) == NULL)
			continue;
		n++;
		if (strchr("jv", *f) != NULL && *align < 2)
			*align = 2;
		else if (strchr("iu", *f) != NULL && *align < 4)
			*align = 4;
		else if (strchr("IUfs", *f) != NULL)
			*align = 8;
	}
	len = n * 16 + 16;	/* each field at most 8 bytes and 8 of padding */
	zero = calloc(1, len);
	fill = malloc(len);
	if (zero == NULL || fill == NULL)
		goto out;
	memset(fill, 0xa5, len);
	if ((tn = tpl_map((char *)fmt, zero)) == NULL)
		goto out;
	if (tpl_pack(tn, 0) == 0 && tpl_dump(tn, TPL_MEM, &img, &n) == 0) {
		tpl_free(tn);
		if ((tn = tpl_map((char *)fmt, fill)) == NULL)
			goto out;
		if (tpl_load(tn, TPL_MEM, img, n) == 0 && tpl_unpack(tn, 0) > 0)
			for (i = 0; i < len; i++)
				if (fill[i] != 0xa5)
					end = i + 1;
	}
	tpl_free(tn);
out:
	free(img);
	free(zero);
	free(fill);
	return end == 0 ? 0 : (end + *align - 1) / *align * *align;
}

/* NULL if state_size is the size of the struct the format maps, else why. */
static const char *
state_check_size(const struct smsup_machine *m)
{
	static char	 why[256];
	size_t		 size, align;

	if ((size = state_format_size(m->format, &align)) == 0)
		snprintf(why, sizeof why, "format %s: tpl cannot map it: %s",
		    m->format, state_lasterr());
	else if (size != m->state_size)
		snprintf(why, sizeof why, "format %s maps a struct of %zu "
		    "bytes (aligned to %zu), but state_size is %zu: every "
		    "field of the state needs its letter, of its width",
		    m->format, size, align, m->state_size);
	else
		return NULL;
	state_clearerr();
	return why;
}

/* A length written after '#': what tpl wants instead. */
static const char *
state_format_hash(const char *fmt)
{
	static char	 why[256];
	char		 fixed[SMSUP_FORMAT_MAX + 1];
	size_t		 i, j;

	for (i = j = 0; fmt[i] != '\0' && j < SMSUP_FORMAT_MAX; i++)
		if (!(fmt[i] >= '0' && fmt[i] <= '9'))
			fixed[j++] = fmt[i];
	fixed[j] = '\0';
	snprintf(why, sizeof why, "invalid tpl format %s: '#' takes no "
	    "length in the format: write %s, and give the length to tpl_map "
	    "in save and load", fmt, fixed);
	return why;
}

/* Why a format is not one: the first character that is wrong. */
static const char *
state_format_why(const char *fmt)
{
	static char	 why[256];
	size_t		 i;
	int		 depth = 0;

	if (fmt == NULL || *fmt == '\0')
		return "no tpl format";
	if (strlen(fmt) > SMSUP_FORMAT_MAX) {
		snprintf(why, sizeof why, "tpl format longer than %d "
		    "characters", SMSUP_FORMAT_MAX);
		return why;
	}
	for (i = 0; fmt[i] != '\0'; i++) {
		if (fmt[i] == '(')
			depth++;
		else if (fmt[i] == ')' && --depth < 0)
			break;
		else if (fmt[i] >= '0' && fmt[i] <= '9' && i > 0 &&
		    fmt[i - 1] == '#')
			return state_format_hash(fmt);
		else if (strchr("ijuvIUcsfB#$SA()", fmt[i]) == NULL)
			break;
	}
	if (fmt[i] != '\0')
		snprintf(why, sizeof why, "invalid tpl format %s: '%c' at %zu "
		    "(tpl's letters are i j u v I U c s f B, with #, S(...), "
		    "A(...), $(...))", fmt, fmt[i], i + 1);
	else if (depth != 0)
		snprintf(why, sizeof why, "invalid tpl format %s: a '(' is "
		    "not closed", fmt);
	else
		snprintf(why, sizeof why, "invalid tpl format %s", fmt);
	return why;
}

/* NULL if the machine definition is usable, else why not. */
const char *
state_check(const struct smsup_machine *m)
{
	const char *const	*v;
	const char		*why;

	if (m->abi != SMSUP_WORKER_ABI)
		return "built against another smsup worker ABI";
	if (m->name == NULL || !image_name_valid(m->name))
		return "invalid machine name";
	if (m->version == NULL || !image_version_valid(m->version))
		return "invalid machine version";
	if (m->format == NULL || !image_format_valid(m->format))
		return state_format_why(m->format);
	if (m->state_size == 0)
		return "state_size is 0";
	if (m->fields != NULL && tpljson_fields_valid(m->fields, NULL, 0) == -1)
		return "invalid field names";
	if (m->init == NULL || m->step == NULL)
		return "init and step are required";
	if ((m->save == NULL) != (m->load == NULL))
		return "save and load go together";
	if (m->save == NULL && !state_mappable(m->format))
		return "this format needs save and load callbacks";
	if (m->save == NULL && (why = state_check_size(m)) != NULL)
		return why;
	for (v = m->migrates_from; v != NULL && *v != NULL; v++) {
		if (!image_version_valid(*v))
			return "invalid version in migrates_from";
		if (strcmp(*v, m->version) == 0)
			return "migrates_from lists the machine's own version";
		if (m->migrate == NULL)
			return "migrates_from needs a migrate callback";
	}
	return NULL;
}

int
state_accepts(const char *version)
{
	const char *const	*v;

	for (v = smsup_machine.migrates_from; v != NULL && *v != NULL; v++)
		if (strcmp(*v, version) == 0)
			return 1;
	return 0;
}

tpl_node *
smsup_image_map(const struct smsup_image *img, const char *fmt, ...)
{
	tpl_node	*tn;
	va_list		 ap;

	if (strcmp(img->format, fmt) != 0) {
		smsup_error("image format is %s, not %s", img->format, fmt);
		return NULL;
	}
	state_clearerr();
	va_start(ap, fmt);
	tn = tpl_map_va((char *)fmt, ap);
	va_end(ap);
	if (tn == NULL) {
		smsup_error("tpl cannot map %s: %s", fmt, state_lasterr());
		return NULL;
	}
	if (tpl_load(tn, TPL_MEM, (void *)img->data, img->len) == -1) {
		smsup_error("tpl image does not load as %s: %s", fmt,
		    state_lasterr());
		tpl_free(tn);
		return NULL;
	}
	return tn;
}

int
smsup_image_unpack(const struct smsup_image *img, const char *fmt, void *dst)
{
	tpl_node	*tn;
	int		 rc;

	if (strpbrk(fmt, "A#") != NULL)
		return smsup_error("smsup_image_unpack cannot take %s: use "
		    "smsup_image_map", fmt);
	if ((tn = smsup_image_map(img, fmt, dst)) == NULL)
		return -1;
	rc = tpl_unpack(tn, 0);
	tpl_free(tn);
	if (rc < 0)
		return smsup_error("tpl cannot unpack %s", fmt);
	return 0;
}

/*
 * Restore the state from an image: load for this version, migrate for a
 * version in migrates_from, refuse anything else. The state is zeroed
 * first; on failure it is released and zeroed again.
 */
int
state_restore(void *state, const uint8_t *p, size_t len)
{
	const struct smsup_machine	*m = &smsup_machine;
	struct image			 hdr;
	struct smsup_image		 img;
	int				 rc;

	state_clearerr();
	if ((rc = image_decode(p, len, &hdr)) != IMAGE_OK)
		return smsup_error("%s", image_strerror(rc));
	if (strcmp(hdr.name, m->name) != 0)
		return smsup_error("image is of machine %s, not %s", hdr.name,
		    m->name);
	img.name = hdr.name;
	img.version = hdr.version;
	img.format = hdr.format;
	img.data = hdr.tpl;
	img.len = hdr.tpl_len;

	memset(state, 0, m->state_size);
	if (strcmp(hdr.version, m->version) == 0) {
		if (m->load != NULL)
			rc = m->load(state, &img);
		else
			rc = smsup_image_unpack(&img, m->format, state);
	} else if (state_accepts(hdr.version))
		rc = m->migrate(state, &img);
	else {
		char		 list[512] = "";
		const char *const *v;

		for (v = m->migrates_from; v != NULL && *v != NULL; v++) {
			strncat(list, list[0] ? ", " : "", sizeof list -
			    strlen(list) - 1);
			strncat(list, *v, sizeof list - strlen(list) - 1);
		}
		return smsup_error("%s %s cannot migrate from version %s "
		    "(accepts: %s)", m->name, m->version, hdr.version,
		    list[0] ? list : "none");
	}
	if (rc != 0) {
		if (m->destroy != NULL)
			m->destroy(state);
		memset(state, 0, m->state_size);
		if (state_err[0] == '\0')
			smsup_error("migration from %s failed", hdr.version);
		return -1;
	}
	return 0;
}

/* Pack the state into tn, sized *sz (at most max). 0, or -1 with the error. */
static int
state_pack(void *state, size_t max, tpl_node **tnp, size_t *sz)
{
	const struct smsup_machine	*m = &smsup_machine;
	tpl_node			*tn;

	state_clearerr();
	if (m->save != NULL)
		tn = m->save(state);
	else if ((tn = tpl_map((char *)m->format, state)) != NULL &&
	    tpl_pack(tn, 0) < 0) {
		tpl_free(tn);
		tn = NULL;
	}
	if (tn == NULL)
		return smsup_error("cannot pack the state: %s",
		    state_lasterr());
	if (tpl_dump(tn, TPL_GETSIZE, sz) == -1) {
		tpl_free(tn);
		return smsup_error("cannot size the state image");
	}
	if (*sz > max) {
		tpl_free(tn);
		return smsup_error("state image of %zu bytes exceeds the cap "
		    "of %zu", *sz, max);
	}
	*tnp = tn;
	return 0;
}

/* Dump tn into dst (sz bytes) and check what a custom save packed. */
static int
state_dump(tpl_node *tn, void *dst, size_t sz)
{
	const struct smsup_machine	*m = &smsup_machine;
	char				*fmt;

	if (tpl_dump(tn, TPL_MEM | TPL_PREALLOCD, dst, sz) == -1) {
		tpl_free(tn);
		return smsup_error("cannot dump the state image");
	}
	tpl_free(tn);
	/* A custom save must pack the format the machine declares. */
	if (m->save != NULL) {
		fmt = tpl_peek(TPL_MEM, dst, sz);
		if (fmt == NULL || strcmp(fmt, m->format) != 0) {
			smsup_error("save packed format %s, machine declares "
			    "%s", fmt ? fmt : "?", m->format);
			free(fmt);
			return -1;
		}
		free(fmt);
	}
	return 0;
}

/*
 * The image of tn (sz bytes of tpl) written at off in fd, by tpl straight
 * into the file's mapping (its blocks taken first: a full disk or a limit
 * is an error here, not a SIGBUS); *totalp its length, and its CRC-32C
 * in *crcp if not NULL. tn is freed. 0, or -1 with the error.
 */
static int
state_write_fd(tpl_node *tn, size_t sz, int fd, size_t off, size_t *totalp,
    uint32_t *crcp)
{
	const struct smsup_machine	*m = &smsup_machine;
	struct buf			 hdr = { 0 };
	size_t				 total;
	uint8_t				*p = MAP_FAILED;

	if (image_encode_header(&hdr, m->name, m->version, m->format,
	    sz) == -1) {
		tpl_free(tn);
		return smsup_error("out of memory for an image header");
	}
	total = buf_used(&hdr) + sz;
	if (ftruncate(fd, (off_t)(off + total)) == -1 ||
	    ((errno = posix_fallocate(fd, 0, (off_t)(off + total))) != 0 &&
	    errno != EOPNOTSUPP && errno != EINVAL) ||
	    (p = mmap(NULL, off + total, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0)) == MAP_FAILED) {
		smsup_error("a file of %zu bytes for the image: %s",
		    off + total, strerror(errno));
		tpl_free(tn);
		buf_free(&hdr);
		return -1;
	}
	memcpy(p + off, buf_head(&hdr), buf_used(&hdr));
	buf_free(&hdr);
	if (state_dump(tn, p + off + (total - sz), sz) == -1) {
		munmap(p, off + total);
		return -1;
	}
	if (crcp != NULL)
		*crcp = crc32c(0, p + off, total);
	munmap(p, off + total);
	*totalp = total;
	return 0;
}

/*
 * Append the state's image to b (its tpl part at most max bytes) or, if
 * it is fd_min bytes or more (fd_min 0: never), in a sealed memfd written
 * once, in place, by tpl into its mapping, with no copy in between: *fdp
 * is then its descriptor and *lenp its length, else -1. 0, or -1 with the
 * error.
 */
int
state_image(void *state, size_t max, size_t fd_min, struct buf *b, int *fdp,
    size_t *lenp)
{
	const struct smsup_machine	*m = &smsup_machine;
	tpl_node			*tn = NULL;
	size_t				 sz, start = buf_mark(b);
	void				*dst;
	int				 fd;

	*fdp = -1;
	if (state_pack(state, max, &tn, &sz) == -1)
		return -1;
	if (fd_min == 0 || sz < fd_min) {
		if (image_encode_header(b, m->name, m->version, m->format,
		    sz) == -1 || (dst = buf_extend(b, sz)) == NULL) {
			tpl_free(tn);
			buf_truncate(b, start);
			return smsup_error("out of memory for a %zu byte image",
			    sz);
		}
		if (state_dump(tn, dst, sz) == -1) {
			buf_truncate(b, start);
			return -1;
		}
		return 0;
	}
	if ((fd = memfd_create("smsup-image", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1) {
		tpl_free(tn);
		return smsup_error("a memfd for the image: %s",
		    strerror(errno));
	}
	if (state_write_fd(tn, sz, fd, 0, lenp, NULL) == -1) {
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		smsup_error("sealing the image: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

/*
 * The state's image written at off in fd (a snapshot file the supervisor
 * opened: a snapshot child writes it), then synced: *lenp its length and
 * *crcp its CRC-32C. 0, or -1 with the error.
 */
int
state_file(void *state, size_t max, int fd, size_t off, size_t *lenp,
    uint32_t *crcp)
{
	tpl_node	*tn = NULL;
	size_t		 sz;

	if (state_pack(state, max, &tn, &sz) == -1 ||
	    state_write_fd(tn, sz, fd, off, lenp, crcp) == -1)
		return -1;
	if (fdatasync(fd) == -1)
		return smsup_error("syncing the snapshot file: %s",
		    strerror(errno));
	return 0;
}

/* Append the state's image to b; the tpl part may not exceed max bytes. */
int
state_save(void *state, struct buf *b, size_t max)
{
	size_t	 len;
	int	 fd;

	return state_image(state, max, 0, b, &fd, &len);
}
