/*
 * base.c: a machine's restart base, the state image a restarted worker
 * starts from (the latest snapshot, or the image an upgrade moved). Small
 * ones are kept in memory (m->snapshot); one that came by descriptor is
 * kept as that sealed memfd, or the snapshot file a snapshot child wrote
 * (m->snap_fd, the image at m->snap_off in it), never copied into the
 * supervisor: it is mapped only while something reads it, written to the
 * store a chunk at a time, and handed to a worker that takes descriptors
 * as the descriptor itself.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

#define BASE_SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

void
base_init(struct machine *m)
{
	m->snap_fd = -1;
	m->snap_off = 0;
	m->snap_len = 0;
}

/* Its length; 0: none (the machine starts from init). */
size_t
base_len(const struct machine *m)
{
	return m->snap_fd != -1 ? m->snap_len : buf_used(&m->snapshot);
}

void
base_clear(struct machine *m)
{
	if (m->snap_fd != -1)
		close(m->snap_fd);
	m->snap_fd = -1;
	m->snap_off = 0;
	m->snap_len = 0;
	buf_reset(&m->snapshot);
}

void
base_free(struct machine *m)
{
	base_clear(m);
	buf_free(&m->snapshot);
}

/* The base is these bytes (copied). -1 if out of memory (then none). */
int
base_set_bytes(struct machine *m, const uint8_t *img, size_t len)
{
	base_clear(m);
	return buf_add(&m->snapshot, img, len);
}

/* The base is the image in this sealed memfd (a dup is kept). */
int
base_set_fd(struct machine *m, int fd, size_t len)
{
	return base_set_file(m, fd, 0, len);
}

/* The base is the image at off in this file (a dup is kept). */
int
base_set_file(struct machine *m, int fd, uint64_t off, size_t len)
{
	int	 d;

	if ((d = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	base_clear(m);
	m->snap_fd = d;
	m->snap_off = off;
	m->snap_len = len;
	return 0;
}

/*
 * Whether fd is an image a worker may hand over: a memfd sealed against
 * any change, of exactly len bytes.
 */
int
base_fd_valid(int fd, uint64_t len)
{
	struct stat	 st;
	int		 seals;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == len && len > 0 &&
	    (seals = fcntl(fd, F_GET_SEALS)) != -1 &&
	    (seals & BASE_SEALS) == BASE_SEALS;
}

/* The base's bytes, mapped if need be (base_unmap after); NULL: none. */
const uint8_t *
base_map(const struct machine *m, size_t *len)
{
	void	*p;

	*len = base_len(m);
	if (*len == 0)
		return NULL;
	if (m->snap_fd == -1)
		return buf_head(&m->snapshot);
	p = mmap(NULL, m->snap_off + *len, PROT_READ, MAP_SHARED, m->snap_fd,
	    0);
	if (p == MAP_FAILED) {
		*len = 0;
		return NULL;
	}
	return (const uint8_t *)p + m->snap_off;
}

void
base_unmap(const struct machine *m, const uint8_t *p, size_t len)
{
	if (m->snap_fd != -1 && p != NULL)
		munmap((void *)(p - m->snap_off), m->snap_off + len);
}

/* The header of m's base image (names copied out): IMAGE_OK, or why not. */
int
base_header(const struct machine *m, struct image *hdr)
{
	const uint8_t	*p;
	size_t		 n;
	int		 rc;

	p = base_map(m, &n);
	rc = p != NULL ? image_decode(p, n, hdr) : IMAGE_ESHORT;
	base_unmap(m, p, n);
	return rc;
}

/* Write the base (after input seq) and the journal since to m's store. */
int
base_store(struct machine *m, uint64_t seq)
{
	if (m->snap_fd != -1)
		return store_snapshot_fd(m->store, seq, m->snap_fd,
		    m->snap_off, m->snap_len, &m->journal);
	return store_snapshot(m->store, seq, buf_used(&m->snapshot) ?
	    buf_head(&m->snapshot) : NULL, buf_used(&m->snapshot),
	    &m->journal);
}

/*
 * Have worker c start from the base: by descriptor if it takes them and
 * the base is one, else as bytes. -1 if it could not be queued.
 */
int
base_send_load(struct machine *m, struct child *c)
{
	const uint8_t	*p;
	uint8_t		 pos[16];
	size_t		 len;
	int		 rc;

	if (m->snap_fd != -1 && (c->caps & HELLO_CAP_FD)) {
		msg_setle64(pos, m->snap_off);
		msg_setle64(pos + 8, m->snap_len);
		return peer_send_fd(c->peer, FRAME_S_LOAD_FD, 0, pos,
		    sizeof pos, m->snap_fd);
	}
	if ((p = base_map(m, &len)) == NULL)
		return -1;
	rc = peer_send(c->peer, FRAME_S_LOAD, 0, p, len);
	base_unmap(m, p, len);
	return rc;
}
