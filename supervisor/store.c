/*
 * store.c: the state directory. Per machine, a directory with its latest
 * snapshot and the journal of the inputs accepted since (formats in
 * serialize/journal.h), and the previous pair as snapshot.old and
 * journal.old, kept for a snapshot that turns out corrupt.
 *
 * Every file is written to a temporary name, fsync'd, renamed, and the
 * directory fsync'd. A torn or corrupt journal tail is cut at the last
 * good record. A failure to write never stops a machine: the store is
 * marked degraded (status shows it), the machine goes on from memory, and
 * the next snapshot tries again. The directory is locked: one supervisor
 * at a time.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "smsup.h"

#define STORE_SYNC_DELAY	0.005	/* batch: fsync at most this late */
#define STORE_ROTATE		(64u << 20)	/* journal size to start anew */
#define STORE_FILE_MAX		(2ull << 30)

struct store {
	char		*dir;
	int		 jfd;		/* the journal, appended to; -1 */
	uint64_t	 jsize;		/* its size */
	struct buf	 out;		/* records not yet written */
	int		 durability;
	int		 unsynced;	/* written, not yet fsync'd */
	ev_timer	 sync;
	char		 degraded[256];
};

static char	store_root[PATH_MAX];
static int	store_lockfd = -1;

/*
 * The batch syncer: a thread that fdatasync's journals off the event
 * loop. It is handed dup()s of their descriptors (closed when synced), so
 * a store may close or go away meanwhile. The queue is short: a sync
 * covers every write before it, so one more can be skipped when full.
 */
#define STORE_SYNC_QUEUE	64
static pthread_mutex_t	store_sync_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	store_sync_cv = PTHREAD_COND_INITIALIZER;
static int		store_sync_fds[STORE_SYNC_QUEUE];
static int		store_sync_n;
static int		store_sync_started;

static void	store_sync_cb(struct ev_loop *, ev_timer *, int);

static void *
store_sync_thread(void *arg)
{
	int	 fd;

	(void)arg;
	pthread_mutex_lock(&store_sync_mtx);
	for (;;) {
		while (store_sync_n == 0)
			pthread_cond_wait(&store_sync_cv, &store_sync_mtx);
		fd = store_sync_fds[--store_sync_n];
		pthread_mutex_unlock(&store_sync_mtx);
		if (fdatasync(fd) == -1)
			log_warn("journal fsync (batch)");
		close(fd);
		pthread_mutex_lock(&store_sync_mtx);
	}
	return NULL;
}

/* Have the syncer fdatasync fd soon. */
static void
store_sync_later(int fd)
{
	sigset_t	 all, old;
	pthread_t	 t;
	int		 dup;

	pthread_mutex_lock(&store_sync_mtx);
	if (!store_sync_started) {
		/* The thread takes no signals: the loop handles them. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_create(&t, NULL, store_sync_thread, NULL) == 0) {
			pthread_detach(t);
			store_sync_started = 1;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (store_sync_started && store_sync_n < STORE_SYNC_QUEUE &&
	    (dup = fcntl(fd, F_DUPFD_CLOEXEC, 3)) != -1) {
		store_sync_fds[store_sync_n++] = dup;
		pthread_cond_signal(&store_sync_cv);
	}
	pthread_mutex_unlock(&store_sync_mtx);
}

/* The state directory: -S-like option, $SMSUP_STATE_DIR, XDG, home. */
int
store_root_path(const char *opt, char *out, size_t len)
{
	const char	*s;
	int		 n;

	if ((s = opt) != NULL || ((s = getenv("SMSUP_STATE_DIR")) != NULL &&
	    *s != '\0'))
		n = snprintf(out, len, "%s", s);
	else if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
		n = snprintf(out, len, "%s/smsup", s);
	else if ((s = getenv("HOME")) != NULL && *s == '/')
		n = snprintf(out, len, "%s/.local/state/smsup", s);
	else
		n = snprintf(out, len, "/tmp/smsup-%ld/state", (long)getuid());
	if (n < 0 || (size_t)n >= len - 80) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* mkdir -p with mode 0700 for what it creates. */
static int
store_mkdirs(const char *path)
{
	char	 p[PATH_MAX], *s;

	snprintf(p, sizeof p, "%s", path);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * Take the state directory for this supervisor: it is locked for as long
 * as we run, and says who holds it. -1 with err set if another does.
 */
int
store_lock(const char *root, char *err, size_t len)
{
	char	 path[PATH_MAX], who[32] = "";
	int	 fd;

	if (store_mkdirs(root) == -1) {
		snprintf(err, len, "state directory %s: %s", root,
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof path, "%s/lock", root);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (read(fd, who, sizeof who - 1) <= 0)
			snprintf(who, sizeof who, "?");
		who[strcspn(who, "\n")] = '\0';
		snprintf(err, len, "state directory %s is in use by the "
		    "supervisor with pid %s", root, who);
		close(fd);
		return -1;
	}
	snprintf(who, sizeof who, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, who, strlen(who), 0) == -1)
		log_warn("%s", path);
	snprintf(store_root, sizeof store_root, "%s", root);
	store_lockfd = fd;
	return 0;
}

const char *
store_root_dir(void)
{
	return store_root;
}

static void
store_degrade(struct store *s, const char *what)
{
	int	 saved = errno;

	if (s->degraded[0] == '\0')
		log_warnx("%s: persistence degraded: %s: %s (serving from "
		    "memory)", s->dir, what, strerror(saved));
	snprintf(s->degraded, sizeof s->degraded, "%s: %s", what,
	    strerror(saved));
	if (s->jfd != -1)
		close(s->jfd);
	s->jfd = -1;
	buf_reset(&s->out);
	s->unsynced = 0;
}

const char *
store_degraded(const struct store *s)
{
	return s->degraded;
}

static int
store_fsync_dir(const char *dir)
{
	int	 fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
store_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write dir/name.tmp and fsync it; the caller renames it into place. */
static int
store_put_file(const char *dir, const char *name, const struct buf *b)
{
	char	 tmp[PATH_MAX], path[PATH_MAX];
	int	 fd;

	snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (store_write_all(fd, buf_head(b), buf_used(b)) == -1 ||
	    fdatasync(fd) == -1) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return 0;
}

static int
store_rename(const char *dir, const char *from, const char *to)
{
	char	 a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof a, "%s/%s", dir, from);
	snprintf(b, sizeof b, "%s/%s", dir, to);
	if (rename(a, b) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
store_open_journal(struct store *s)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	snprintf(path, sizeof path, "%s/journal", s->dir);
	s->jfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->jfd == -1 || fstat(s->jfd, &st) == -1)
		return -1;
	s->jsize = (uint64_t)st.st_size;
	return 0;
}

/* A journal of these INPUT frames: header and records. */
static int
store_journal_buf(struct buf *out, const struct buf *frames)
{
	static const struct frame_limits lim = { FRAME_MAX_DEFAULT,
	    FRAME_MAX_DEFAULT };
	const uint8_t	*p = buf_head(frames);
	size_t		 left = buf_used(frames);
	struct frame	 f;

	journal_log_header(out);
	while (frame_parse(p, left, &lim, &f) == FRAME_OK) {
		if (journal_record_add(out, p, FRAME_HDR_LEN + f.len) == -1)
			return -1;
		p += FRAME_HDR_LEN + f.len;
		left -= FRAME_HDR_LEN + f.len;
	}
	return 0;
}

struct store *
store_open(const char *name, int durability, char *err, size_t len)
{
	struct store	*s;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if (asprintf(&s->dir, "%s/%s", store_root, name) == -1) {
		free(s);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	s->jfd = -1;
	s->durability = durability;
	ev_init(&s->sync, store_sync_cb);
	s->sync.data = s;
	if (store_mkdirs(s->dir) == -1) {
		snprintf(err, len, "%s: %s", s->dir, strerror(errno));
		free(s->dir);
		free(s);
		return NULL;
	}
	return s;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_flush(s);
	if (s->jfd != -1) {
		if (s->unsynced)
			fdatasync(s->jfd);
		close(s->jfd);
	}
	ev_timer_stop(EV_DEFAULT, &s->sync);
	buf_free(&s->out);
	free(s->dir);
	free(s);
}

/* Move a machine's saved state aside (run --fresh). */
int
store_aside(const char *name, char *moved, size_t len)
{
	char		 from[PATH_MAX], stamp[32];
	struct stat	 st;
	time_t		 now = time(NULL);

	snprintf(from, sizeof from, "%s/%s", store_root, name);
	if (stat(from, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(moved, len, "%s/%s.aside-%s-%ld", store_root, name, stamp,
	    (long)getpid());
	if (rename(from, moved) == -1)
		return -1;
	return 1;
}

/* Read a whole file (capped); -1 with errno, ENOENT if there is none. */
static int
store_read(const char *dir, const char *name, struct buf *b)
{
	char		 path[PATH_MAX];
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	buf_reset(b);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || (uint64_t)st.st_size > STORE_FILE_MAX ||
	    buf_reserve(b, (size_t)st.st_size + 1) == -1) {
		if (errno == 0)
			errno = EFBIG;
		close(fd);
		return -1;
	}
	while ((n = read(fd, b->data + b->len, b->cap - b->len)) > 0)
		b->len += (size_t)n;
	close(fd);
	return n == -1 ? -1 : 0;
}

/*
 * Replay the journal file `name` into frames: records with a seq above
 * *last, in order. A torn or corrupt tail is cut off the file (with a
 * warning) when cut is set.
 */
static void
store_load_journal(struct store *s, const char *name, int cut,
    struct buf *frames, uint64_t *last)
{
	struct buf	 b = { 0 };
	const uint8_t	*fr;
	const char	*why;
	uint64_t	 seq;
	size_t		 off, n, flen;
	char		 path[PATH_MAX];

	if (store_read(s->dir, name, &b) == -1) {
		if (errno != ENOENT)
			log_warn("%s/%s", s->dir, name);
		buf_free(&b);
		return;
	}
	if (journal_log_check_header(b.data, b.len, &why) == -1) {
		log_warnx("%s/%s: %s: ignored", s->dir, name, why);
		buf_free(&b);
		return;
	}
	for (off = JOURNAL_HDR_LEN; (n = journal_record_next(b.data + off,
	    b.len - off, &seq, &fr, &flen)) > 0; off += n) {
		if (seq <= *last)
			continue;
		buf_add(frames, fr, flen);
		*last = seq;
	}
	if (off < b.len) {
		log_warnx("%s/%s: cut a torn or corrupt tail of %zu bytes at "
		    "offset %zu", s->dir, name, b.len - off, off);
		snprintf(path, sizeof path, "%s/%s", s->dir, name);
		if (cut && truncate(path, (off_t)off) == -1)
			log_warn("%s", path);
	}
	buf_free(&b);
}

/*
 * Load the saved state: the newest good snapshot (image, and seq of the
 * last input in it) and the inputs accepted after it (as INPUT frames),
 * with the last seq seen. Returns 1 if there was a saved state, 0 if not,
 * -1 with err set if it cannot be used (nothing is touched then).
 */
int
store_load(struct store *s, struct buf *image, uint64_t *snap_seq,
    struct buf *frames, uint64_t *last, char *err, size_t len)
{
	struct buf	 b = { 0 };
	const uint8_t	*img;
	const char	*why = NULL, *why_old = NULL;
	size_t		 n;
	int		 found = 0, have_new = 0;

	buf_reset(image);
	buf_reset(frames);
	*snap_seq = *last = 0;
	if (store_read(s->dir, "snapshot", &b) == 0) {
		found = have_new = 1;
		if (journal_snapshot_decode(b.data, b.len, snap_seq, &img, &n,
		    &why) == 0)
			buf_add(image, img, n);
	} else if (errno != ENOENT)
		why = strerror(errno);
	if (buf_used(image) == 0 && store_read(s->dir, "snapshot.old",
	    &b) == 0) {
		found = 1;
		if (journal_snapshot_decode(b.data, b.len, snap_seq, &img, &n,
		    &why_old) == 0) {
			buf_add(image, img, n);
			if (have_new)
				log_warnx("%s/snapshot: %s: using snapshot.old",
				    s->dir, why);
		}
	}
	buf_free(&b);
	if (have_new && buf_used(image) == 0) {
		snprintf(err, len, "%s/snapshot: %s, and snapshot.old: %s; "
		    "refusing to guess (start afresh with --fresh)", s->dir,
		    why ? why : "unreadable", why_old ? why_old : "missing");
		return -1;
	}
	*last = *snap_seq;
	store_load_journal(s, "journal.old", 0, frames, last);
	store_load_journal(s, "journal", 1, frames, last);
	if (buf_used(frames) > 0)
		found = 1;
	if (store_open_journal(s) == -1 && errno == ENOENT) {
		/* No journal yet: start one. */
		buf_reset(&b);
		journal_log_header(&b);
		if (store_put_file(s->dir, "journal", &b) == -1 ||
		    store_rename(s->dir, "journal.tmp", "journal") == -1 ||
		    store_open_journal(s) == -1)
			store_degrade(s, "journal");
		buf_free(&b);
	} else if (s->jfd == -1)
		store_degrade(s, "journal");
	return found;
}

/* Queue the record of one accepted input. */
void
store_append(struct store *s, const uint8_t *frame, size_t len)
{
	if (s->jfd == -1)
		return;
	if (journal_record_add(&s->out, frame, len) == -1)
		store_degrade(s, "journal (out of memory)");
}

/*
 * Write the queued records (end of every loop iteration); sync them now
 * (always) or within STORE_SYNC_DELAY (batch). Returns 1 if they are on
 * disk, for the acknowledgements that wait for it.
 */
int
store_flush(struct store *s)
{
	if (s->jfd == -1)
		return 0;
	if (buf_used(&s->out) > 0) {
		if (store_write_all(s->jfd, buf_head(&s->out),
		    buf_used(&s->out)) == -1) {
			store_degrade(s, "journal");
			return 0;
		}
		s->jsize += buf_used(&s->out);
		buf_reset(&s->out);
		s->unsynced = 1;
	}
	if (!s->unsynced)
		return 1;
	if (s->durability == DURABILITY_ALWAYS) {
		if (fdatasync(s->jfd) == -1) {
			store_degrade(s, "journal fsync");
			return 0;
		}
		s->unsynced = 0;
		return 1;
	}
	if (!ev_is_active(&s->sync)) {
		ev_timer_set(&s->sync, STORE_SYNC_DELAY, 0.);
		ev_timer_start(EV_DEFAULT, &s->sync);
	}
	return 0;
}

static void
store_sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct store	*s = w->data;

	(void)loop;
	(void)revents;
	if (s->jfd != -1 && s->unsynced) {
		store_sync_later(s->jfd);
		s->unsynced = 0;
	}
}

/*
 * A new snapshot (seq: the last input in it), keeping the previous one as
 * snapshot.old. The journal goes on (loading skips what the snapshot has)
 * until it is large: then it starts anew with the inputs since, the old
 * one kept as journal.old up to seq.
 */
void
store_snapshot(struct store *s, uint64_t seq, const void *img, size_t len,
    const struct buf *frames)
{
	struct buf	 snap = { 0 }, jnl = { 0 };
	struct stat	 st;
	char		 path[PATH_MAX];
	uint64_t	 tail;
	int		 mirror;

	/* Unless degraded, the journal file mirrors the memory journal. */
	store_flush(s);
	mirror = s->degraded[0] == '\0';
	if (journal_snapshot_encode(&snap, seq, img, len) == -1) {
		errno = ENOMEM;
		store_degrade(s, "snapshot");
		goto out;
	}
	if (mirror && s->jsize < STORE_ROTATE) {
		if (store_put_file(s->dir, "snapshot", &snap) == -1 ||
		    store_rename(s->dir, "snapshot", "snapshot.old") == -1 ||
		    store_rename(s->dir, "snapshot.tmp", "snapshot") == -1 ||
		    store_fsync_dir(s->dir) == -1)
			store_degrade(s, "snapshot");
		goto out;
	}
	/* The records after seq move to the new journal, off the old. */
	if (store_journal_buf(&jnl, frames) == -1) {
		errno = ENOMEM;
		store_degrade(s, "snapshot");
		goto out;
	}
	tail = buf_used(&jnl) - JOURNAL_HDR_LEN;
	if (store_put_file(s->dir, "snapshot", &snap) == -1 ||
	    store_put_file(s->dir, "journal", &jnl) == -1) {
		store_degrade(s, "snapshot");
		goto out;
	}
	if (s->jfd != -1)
		close(s->jfd);
	s->jfd = -1;
	if (store_rename(s->dir, "snapshot", "snapshot.old") == -1 ||
	    store_rename(s->dir, "journal", "journal.old") == -1 ||
	    store_rename(s->dir, "snapshot.tmp", "snapshot") == -1 ||
	    store_rename(s->dir, "journal.tmp", "journal") == -1 ||
	    store_fsync_dir(s->dir) == -1 || store_open_journal(s) == -1) {
		store_degrade(s, "snapshot");
		goto out;
	}
	/* journal.old keeps what follows snapshot.old, up to seq. */
	snprintf(path, sizeof path, "%s/journal.old", s->dir);
	if (mirror && stat(path, &st) == 0 && (uint64_t)st.st_size >= tail +
	    JOURNAL_HDR_LEN && truncate(path, st.st_size - (off_t)tail) == -1)
		log_warn("%s", path);
	s->unsynced = 0;
	if (s->degraded[0] != '\0') {
		log_info("%s: persistence restored", s->dir);
		s->degraded[0] = '\0';
	}
out:
	buf_free(&snap);
	buf_free(&jnl);
}

/* The journal is now these inputs (some were struck off): rewrite it. */
void
store_rewrite(struct store *s, const struct buf *frames)
{
	struct buf	 jnl = { 0 };

	if (s->jfd == -1)
		return;
	buf_reset(&s->out);
	if (store_journal_buf(&jnl, frames) == -1 ||
	    store_put_file(s->dir, "journal", &jnl) == -1) {
		store_degrade(s, "journal rewrite");
		buf_free(&jnl);
		return;
	}
	close(s->jfd);
	s->jfd = -1;
	if (store_rename(s->dir, "journal.tmp", "journal") == -1 ||
	    store_fsync_dir(s->dir) == -1 || store_open_journal(s) == -1)
		store_degrade(s, "journal rewrite");
	s->unsynced = 0;
	buf_free(&jnl);
}
