/*
 * snapfork.c: snapshots by fork, as Redis's BGSAVE. The serving worker of
 * a machine with a state directory and --snapshot-fork yes, if it can
 * (HELLO_CAP_FORK), is configured with CONFIG_FORK and given a file: an
 * unnamed file in the machine's directory (store_snapfile), passed with
 * SNAPFILE. When a snapshot is due the worker forks; its child writes the
 * image of the state as of the last input applied after the snapshot
 * header, syncs it and exits, while the worker goes on serving; then the
 * worker says SNAPSHOT_FILE (length, CRC) or SNAPSHOT_FAIL (why). Here the
 * header is written, the file named as the next epoch (store.c) and made
 * the restart base (base.c): the image never crosses the supervisor's
 * memory. A child that fails or is killed leaves the previous snapshot in
 * force, in the log and in status. The worker holds one file at a time,
 * so a snapshot still being written when the next is due is not started
 * twice, and one due before its file has come waits for it. Should no
 * file be had (descriptors short), the supervisor's own asking when the
 * journal grows (backlog.c) snapshots it the old way, and each snapshot
 * installed offers a file again.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "msg.h"
#include "smsup.h"


/* Whether worker c of m snapshots by fork. */
int
snapfork_wanted(const struct machine *m, const struct child *c)
{
	return m->store != NULL && m->opts.snap_fork && !m->snapfork_off &&
	    (c->caps & HELLO_CAP_FORK) && (c->caps & HELLO_CAP_FD);
}

/*
 * Give m's serving worker a file for its next snapshot, if it snapshots
 * by fork and holds none. Without one, it snapshots inline.
 */
void
snapfork_offer(struct machine *m)
{
	struct child	*c = m->worker;
	uint8_t		 off[8];
	int		 fd;

	if (c == NULL || c->peer == NULL || c->snapfd != -1 || !m->ready ||
	    m->upgrade != NULL || !snapfork_wanted(m, c))
		return;
	if ((fd = store_snapfile(m->store)) == -1) {
		if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
			log_warnx("%s: the state directory has no unnamed "
			    "files (O_TMPFILE: %s): snapshots inline",
			    m->name, strerror(errno));
			m->snapfork_off = 1;
			recover_config(m, c);
		} else
			log_debug("%s: no file for a snapshot child: %s",
			    m->name, strerror(errno));
		return;
	}
	msg_setle64(off, JOURNAL_SNAP_HDR_LEN);
	if (peer_send_fd(c->peer, FRAME_S_SNAPFILE, 0, off, sizeof off,
	    fd) == -1) {
		close(fd);
		return;
	}
	c->snapfd = fd;
}

/* The file the child wrote: the image it says, of m's machine. */
static int
snapfork_check(struct machine *m, int fd, uint64_t len, char *why,
    size_t wlen)
{
	struct image	 hdr;
	struct stat	 st;
	uint8_t		*p;
	size_t		 n;
	int		 rc;

	if (fstat(fd, &st) == -1 || len == 0 || len > m->opts.image_max +
	    4096 || (uint64_t)st.st_size != JOURNAL_SNAP_HDR_LEN + len) {
		snprintf(why, wlen, "its file does not hold the %llu bytes it "
		    "says", (unsigned long long)len);
		return -1;
	}
	n = JOURNAL_SNAP_HDR_LEN + (size_t)len;
	if ((p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		snprintf(why, wlen, "cannot map it: %s", strerror(errno));
		return -1;
	}
	rc = image_decode(p + JOURNAL_SNAP_HDR_LEN, (size_t)len, &hdr);
	if (rc == IMAGE_OK && (strcmp(hdr.name, m->type) != 0 ||
	    strcmp(hdr.version, m->version) != 0))
		snprintf(why, wlen, "an image of %s version %s", hdr.name,
		    hdr.version);
	else if (rc != IMAGE_OK)
		snprintf(why, wlen, "not an image: %s", image_strerror(rc));
	munmap(p, n);
	return rc == IMAGE_OK && why[0] == '\0' ? 0 : -1;
}

/*
 * The written snapshot after input seq becomes m's base and next epoch.
 * -1 if it shows the worker broken (then it is gone).
 */
static int
snapfork_written(struct machine *m, struct child *c, uint64_t seq,
    uint64_t len, uint32_t crc, uint32_t ms)
{
	char		 why[256] = "";

	if (seq > m->applied_seq) {
		machine_worker_broken(m, "sent a SNAPSHOT_FILE of input %llu, "
		    "which it has not answered (%llu)", (unsigned long long)seq,
		    (unsigned long long)m->applied_seq);
		return -1;
	}
	/* Older than the base meanwhile (an upgrade's image): of no use. */
	if (seq < m->snap_seq) {
		log_debug("%s: dropped a snapshot of input %llu, older than "
		    "the restart base (%llu)", m->name, (unsigned long long)seq,
		    (unsigned long long)m->snap_seq);
		return 0;
	}
	if (snapfork_check(m, c->snapfd, len, why, sizeof why) == -1) {
		machine_worker_broken(m, "its snapshot child wrote a bad "
		    "snapshot: %s", why);
		return -1;
	}
	if (base_set_file(m, c->snapfd, JOURNAL_SNAP_HDR_LEN,
	    (size_t)len) == -1) {
		log_warnx("%s: cannot keep its snapshot: %s", m->name,
		    strerror(errno));
		return 0;
	}
	recover_trim(m, seq);
	m->persisted_at = units_now();
	m->snapforks++;
	m->snapfork_ns = (uint64_t)ms * 1000000;	/* 0: not said */
	if (store_snapshot_file(m->store, seq, c->snapfd, (size_t)len, crc,
	    &m->journal) == 0)
		log_debug("%s: snapshot of input %llu written by a child "
		    "(%llu bytes)", m->name, (unsigned long long)seq,
		    (unsigned long long)len);
	return 0;
}

/* SNAPSHOT_FILE or SNAPSHOT_FAIL from worker c of m. */
void
snapfork_frame(struct machine *m, struct child *c, const struct frame *f)
{
	struct msg_reader	 r;
	uint64_t		 len;
	uint32_t		 crc, ms;
	char			 why[256];

	if (c != m->worker || c->snapfd == -1) {
		machine_worker_broken(m, "sent a %s with no SNAPFILE given",
		    frame_type_name(f->type));
		return;
	}
	if (f->type == FRAME_W_SNAPSHOT_FAIL) {
		snprintf(why, sizeof why, "%.*s", (int)f->len, f->payload);
		m->snapfork_fails++;
		snprintf(m->snap_failed, sizeof m->snap_failed, "%s", why);
		store_snapshot_failed(m->store, why);
	} else {
		msg_init(&r, f->payload, f->len);
		msg_get_u64(&r, &len);
		msg_get_u32(&r, &crc);
		/* How long the child took, if the worker says. */
		ms = 0;
		if (r.off + 4 <= r.len)
			msg_get_u32(&r, &ms);
		if (msg_end(&r) == -1) {
			machine_worker_broken(m, "sent a malformed "
			    "SNAPSHOT_FILE");
			return;
		}
		/* During an upgrade the base is the image it moves. */
		if (m->ready && m->upgrade == NULL &&
		    snapfork_written(m, c, f->id, len, crc, ms) == -1)
			return;
	}
	close(c->snapfd);
	c->snapfd = -1;
	snapfork_offer(m);
}
