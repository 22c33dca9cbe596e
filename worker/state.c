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
static int
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

/* NULL if the machine definition is usable, else why not. */
const char *
state_check(const struct smsup_machine *m)
{
	const char *const	*v;

	if (m->abi != SMSUP_WORKER_ABI)
		return "built against another smsup worker ABI";
	if (m->name == NULL || !image_name_valid(m->name))
		return "invalid machine name";
	if (m->version == NULL || !image_version_valid(m->version))
		return "invalid machine version";
	if (m->format == NULL || !image_format_valid(m->format))
		return "invalid tpl format";
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

int
smsup_input_is(const char *in, size_t len, const char *w)
{
	size_t	 n = strlen(w);

	return len == n && memcmp(in, w, n) == 0;
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
