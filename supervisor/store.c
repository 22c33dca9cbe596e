/*
 * store.c: the state directory. Per machine, a directory with snapshots
 * and journals named by their epoch (formats in serialize/journal.h):
 * snapshot.E holds the state after some input, journal.E every input
 * accepted after it (and the strikes of those never to be applied). A new
 * snapshot on disk is epoch E+1: snapshot.(E+1) and journal.(E+1) are
 * written to temporary names, fsync'd and renamed in, the snapshot first,
 * then the directory fsync'd; the new journal is open before anything is
 * renamed, and once the renames are done the new epoch is the live one
 * whatever fails next (a failed sync degrades the store: no input goes to
 * a journal a load would pass over). The pair before stays as the
 * fallback for a snapshot found corrupt, older ones are removed. Files
 * are opened relative to the state directory that paths.c checked,
 * never following a link.
 *
 * Loading takes the newest snapshot that the newest journal continues:
 * snapshot.N, then journal.N, then any newer journal whose first input
 * follows what came before without a gap. So a SIGKILL between any two
 * steps of writing leaves a directory that loads to the state of the
 * moment: until the new journal is in, the new snapshot is not used. A
 * torn or corrupt journal tail is cut at the last good record; a journal
 * or snapshot that cannot be read is moved aside (named in the log and in
 * `status`) and a new pair is written from what could be read, so nothing
 * is ever appended after bytes that cannot be read back.
 *
 * A failure to write never stops a machine by itself: the store is marked
 * degraded (status shows it), its owner decides (machine.c: with
 * `always`, no input is acknowledged meanwhile), and a timer writes a new
 * pair from memory every second until that works again. The directory is
 * locked: one supervisor at a time.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal.h"
#include "smsup.h"

#define STORE_SYNC_DELAY	0.005	/* batch: fsync at most this late */
#define STORE_RETRY		1.0	/* seconds between tries when degraded */
#define STORE_FILE_MAX		(2ull << 30)
#define STORE_EPOCHS_MAX	64	/* files of one kind a load looks at */
#define STORE_CHUNK		(1u << 20)	/* an image copied from a fd */

struct store {
	char		*name;		/* the machine: its directory */
	int		 dfd;		/* that directory, for its fsyncs */
	int		 jfd;		/* the live journal, appended to; -1 */
	uint64_t	 jsize;		/* its size */
	uint64_t	 epoch;		/* of the live journal */
	struct buf	 out;		/* records not yet written */
	int		 durability;
	int		 unsynced;	/* written, not yet fsync'd */
	ev_timer	 sync;
	ev_timer	 retry;
	store_retry_cb	*retry_cb;
	void		*retry_arg;
	char		 degraded[256];
	char		 note[512];	/* files moved aside, a failed write */
};

static char	store_root[PATH_MAX];
static int	store_rootfd = -1;
static int	store_lockfd = -1;

/*
 * The batch syncer: a thread that fdatasync's journals off the event
 * loop. It is handed dup()s of their descriptors (closed when synced), so
 * a store may close or go away meanwhile. The queue is short: a sync
 * covers every write before it, so one more can be skipped when full.
 * It also closes the last descriptor of pruned snapshots, unlinked while
 * open: freeing a large file's blocks takes time the loop has not.
 */
#define STORE_SYNC_QUEUE	64
static pthread_mutex_t	store_sync_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	store_sync_cv = PTHREAD_COND_INITIALIZER;
static int		store_sync_fds[STORE_SYNC_QUEUE];
static int		store_sync_close[STORE_SYNC_QUEUE];	/* no sync */
static int		store_sync_n;
static int		store_sync_started;

static void	store_sync_cb(struct ev_loop *, ev_timer *, int);
static void	store_retry_timer_cb(struct ev_loop *, ev_timer *, int);
static int	store_snapshot_from(struct store *, uint64_t, const void *, int,
		    uint64_t, size_t, const uint32_t *, const struct buf *);

static void *
store_sync_thread(void *arg)
{
	int	 fd, only;

	(void)arg;
	pthread_mutex_lock(&store_sync_mtx);
	for (;;) {
		while (store_sync_n == 0)
			pthread_cond_wait(&store_sync_cv, &store_sync_mtx);
		fd = store_sync_fds[--store_sync_n];
		only = store_sync_close[store_sync_n];
		pthread_mutex_unlock(&store_sync_mtx);
		if (!only && fdatasync(fd) == -1)
			log_warn("journal fsync (batch)");
		close(fd);
		pthread_mutex_lock(&store_sync_mtx);
	}
	return NULL;
}

/* Have the syncer start, if it has not. Called with the lock held. */
static void
store_sync_start(void)
{
	sigset_t	 all, old;
	pthread_t	 t;

	if (store_sync_started)
		return;
	/* The thread takes no signals: the loop handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, store_sync_thread, NULL) == 0) {
		pthread_detach(t);
		store_sync_started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Have the syncer close fd (taken: the last of an unlinked file). */
static void
store_close_later(int fd)
{
	pthread_mutex_lock(&store_sync_mtx);
	store_sync_start();
	if (store_sync_started && store_sync_n < STORE_SYNC_QUEUE) {
		store_sync_close[store_sync_n] = 1;
		store_sync_fds[store_sync_n++] = fd;
		pthread_cond_signal(&store_sync_cv);
		fd = -1;
	}
	pthread_mutex_unlock(&store_sync_mtx);
	if (fd != -1)
		close(fd);
}

/* Have the syncer fdatasync fd soon. */
static void
store_sync_later(int fd)
{
	int	 dup;

	pthread_mutex_lock(&store_sync_mtx);
	store_sync_start();
	if (store_sync_started && store_sync_n < STORE_SYNC_QUEUE &&
	    (dup = fcntl(fd, F_DUPFD_CLOEXEC, 3)) != -1) {
		store_sync_close[store_sync_n] = 0;
		store_sync_fds[store_sync_n++] = dup;
		pthread_cond_signal(&store_sync_cv);
	}
	pthread_mutex_unlock(&store_sync_mtx);
}

/*
 * The state directory: --state-dir, $SMSUP_STATE_DIR, XDG, home, made
 * absolute (a supervisor that detaches changes its directory).
 */
int
store_root_path(const char *opt, char *out, size_t len)
{
	const char	*s;
	char		 p[PATH_MAX];
	int		 n;

	if ((s = opt) != NULL || ((s = getenv("SMSUP_STATE_DIR")) != NULL &&
	    *s != '\0'))
		n = snprintf(p, sizeof p, "%s", s);
	else if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
		n = snprintf(p, sizeof p, "%s/smsup", s);
	else if ((s = getenv("HOME")) != NULL && *s == '/')
		n = snprintf(p, sizeof p, "%s/.local/state/smsup", s);
	else
		n = snprintf(p, sizeof p, "%s/smsup-%ld/state", paths_tmpdir(),
		    (long)getuid());
	if (n < 0 || (size_t)n >= sizeof p || paths_absolute(p, out, len) ==
	    -1 || strlen(out) >= len - 80) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Write our pid into the lock file (again after detaching). */
void
store_lock_pid(void)
{
	char	 who[32];

	if (store_lockfd == -1)
		return;
	snprintf(who, sizeof who, "%ld\n", (long)getpid());
	if (ftruncate(store_lockfd, 0) == -1 ||
	    pwrite(store_lockfd, who, strlen(who), 0) == -1)
		log_warn("%s/lock", store_root);
}

/*
 * Take the state directory for this supervisor (made if missing, checked
 * by paths.c): it is locked for as long as we run, and says who holds it.
 * -1 with err set if it is not safe or another supervisor has it.
 */
int
store_lock(const char *root, char *err, size_t len)
{
	struct stat	 st;
	char		 who[32] = "";
	int		 rfd, fd;

	if ((rfd = paths_open_state_dir(root, err, len)) == -1)
		return -1;
	fd = openat(rfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1) {
		snprintf(err, len, "%s/lock: %s", root, fd == -1 ?
		    strerror(errno) : "not a regular file of ours");
		if (fd != -1)
			close(fd);
		close(rfd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (read(fd, who, sizeof who - 1) <= 0)
			snprintf(who, sizeof who, "?");
		who[strcspn(who, "\n")] = '\0';
		snprintf(err, len, "state directory %s is in use by the "
		    "supervisor with pid %s", root, who);
		close(fd);
		close(rfd);
		return -1;
	}
	snprintf(store_root, sizeof store_root, "%s", root);
	store_rootfd = rfd;
	store_lockfd = fd;
	store_lock_pid();
	return 0;
}

/* Let the state directory go (a supervisor that is done with it). */
void
store_unlock(void)
{
	if (store_lockfd != -1)
		close(store_lockfd);
	if (store_rootfd != -1)
		close(store_rootfd);
	store_lockfd = store_rootfd = -1;
	store_root[0] = '\0';
}

const char *
store_root_dir(void)
{
	return store_root;
}

/* "name/file" relative to the root; "" if too long. */
static const char *
store_rel(const struct store *s, const char *file, char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s", s->name, file) >= (int)len)
		out[0] = '\0';
	return out;
}

static void
store_epoch_name(char *out, size_t len, const char *kind, uint64_t epoch)
{
	snprintf(out, len, "%s.%llu", kind, (unsigned long long)epoch);
}

/* Append a note for status and the log (files moved aside...). */
static void
store_notef(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
store_notef(struct store *s, const char *fmt, ...)
{
	va_list	 ap;
	char	 text[384];

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_warnx("%s/%s: %s", store_root, s->name, text);
	snprintf(s->note, sizeof s->note, "%s", text);
}

static void
store_degrade(struct store *s, const char *what)
{
	int	 saved = errno;

	if (s->degraded[0] == '\0')
		log_warnx("%s/%s: persistence degraded: %s: %s", store_root,
		    s->name, what, strerror(saved));
	snprintf(s->degraded, sizeof s->degraded, "%s: %s", what,
	    strerror(saved));
	if (s->jfd != -1)
		close(s->jfd);
	s->jfd = -1;
	buf_reset(&s->out);
	s->unsynced = 0;
	if (s->retry_cb != NULL && !ev_is_active(&s->retry)) {
		ev_timer_set(&s->retry, STORE_RETRY, STORE_RETRY);
		ev_timer_start(EV_DEFAULT, &s->retry);
	}
}

const char *
store_degraded(const struct store *s)
{
	return s->degraded;
}

const char *
store_note(const struct store *s)
{
	return s->note;
}

/* Whether every record given is written (and, with always, synced). */
int
store_healthy(const struct store *s)
{
	return s->jfd != -1;
}

static int
store_fsync_dir(struct store *s)
{
	return fsync(s->dfd);
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

/*
 * Write name/file.tmp and fsync it; the caller renames it into place.
 * With keep, the descriptor is returned, open to append to (a journal
 * about to go live: once it is renamed in, taking it must need no new
 * descriptor); else 0.
 */
static int
store_put_file(struct store *s, const char *file, const struct buf *b,
    int keep)
{
	char	 tmp[NAME_MAX + 8], rel[PATH_MAX];
	int	 fd, saved;

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	store_rel(s, tmp, rel, sizeof rel);
	if ((fd = openat(store_rootfd, rel, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (store_write_all(fd, buf_head(b), buf_used(b)) == -1 ||
	    fdatasync(fd) == -1 ||
	    (keep && fcntl(fd, F_SETFL, O_APPEND) == -1)) {
		saved = errno;
		close(fd);
		unlinkat(store_rootfd, rel, 0);
		errno = saved;
		return -1;
	}
	if (keep)
		return fd;
	return close(fd);
}

/*
 * Write name/file.tmp, the snapshot file of an image in memory (img) or
 * of len bytes at off in fd (read a chunk at a time: the image never
 * needs the supervisor's memory), and fsync it.
 */
static int
store_put_snapshot(struct store *s, const char *file, uint64_t seq,
    uint64_t epoch, const uint8_t *img, int fd, uint64_t off, size_t len)
{
	struct buf	 hdr = { 0 };
	char		 tmp[NAME_MAX + 8], rel[PATH_MAX];
	uint8_t		*chunk = NULL;
	uint32_t	 crc = 0;
	size_t		 done, n;
	ssize_t		 r;
	int		 out, saved;

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	store_rel(s, tmp, rel, sizeof rel);
	if (img != NULL)
		crc = crc32c(0, img, len);
	else if ((chunk = malloc(STORE_CHUNK)) == NULL)
		return -1;
	if (journal_snapshot_header(&hdr, seq, epoch, len, crc) == -1) {
		free(chunk);
		errno = ENOMEM;
		return -1;
	}
	if ((out = openat(store_rootfd, rel, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		saved = errno;
		goto fail;
	}
	if (store_write_all(out, buf_head(&hdr), buf_used(&hdr)) == -1)
		goto failed;
	if (img != NULL && store_write_all(out, img, len) == -1)
		goto failed;
	for (done = 0; img == NULL && done < len; done += n) {
		n = len - done < STORE_CHUNK ? len - done : STORE_CHUNK;
		if ((r = pread(fd, chunk, n, (off_t)(off + done))) <= 0) {
			if (r == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (r == 0)
				errno = EIO;
			goto failed;
		}
		n = (size_t)r;
		crc = crc32c(crc, chunk, n);
		if (store_write_all(out, chunk, n) == -1)
			goto failed;
	}
	if (img == NULL) {
		buf_reset(&hdr);
		if (journal_snapshot_header(&hdr, seq, epoch, len, crc) == -1 ||
		    pwrite(out, buf_head(&hdr), buf_used(&hdr), 0) !=
		    (ssize_t)buf_used(&hdr))
			goto failed;
	}
	if (fdatasync(out) == -1)
		goto failed;
	free(chunk);
	buf_free(&hdr);
	return close(out);
failed:
	saved = errno;
	close(out);
	unlinkat(store_rootfd, rel, 0);
fail:
	free(chunk);
	buf_free(&hdr);
	errno = saved;
	return -1;
}

/* Remove name/file (a temporary one left by a write that failed). */
static void
store_unlink(struct store *s, const char *file, int tmp)
{
	char	 name[NAME_MAX + 8], rel[PATH_MAX];

	snprintf(name, sizeof name, "%s%s", file, tmp ? ".tmp" : "");
	unlinkat(store_rootfd, store_rel(s, name, rel, sizeof rel), 0);
}

static int
store_rename(struct store *s, const char *from, const char *to)
{
	char	 a[PATH_MAX], b[PATH_MAX];

	store_rel(s, from, a, sizeof a);
	store_rel(s, to, b, sizeof b);
	return renameat(store_rootfd, a, store_rootfd, b);
}

/* Put file.tmp in place as file. */
static int
store_install(struct store *s, const char *file)
{
	char	 tmp[NAME_MAX + 8];

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	return store_rename(s, tmp, file);
}

/* Move a file that cannot be used aside, keeping it, and say so. */
static void
store_move_aside(struct store *s, const char *file, const char *why)
{
	char		 to[NAME_MAX + 1], stamp[32];
	time_t		 now = time(NULL);

	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(to, sizeof to, "%s.bad-%s-%ld", file, stamp, (long)getpid());
	if (store_rename(s, file, to) == -1)
		store_notef(s, "%s: %s, and it cannot be moved aside: %s",
		    file, why, strerror(errno));
	else
		store_notef(s, "%s: %s: moved aside to %s", file, why, to);
}

static int
store_open_journal(struct store *s, uint64_t epoch)
{
	char		 file[64], rel[PATH_MAX];
	struct stat	 st;

	store_epoch_name(file, sizeof file, "journal", epoch);
	s->jfd = openat(store_rootfd, store_rel(s, file, rel, sizeof rel),
	    O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (s->jfd == -1 || fstat(s->jfd, &st) == -1) {
		if (s->jfd != -1)
			close(s->jfd);
		s->jfd = -1;
		return -1;
	}
	s->jsize = (uint64_t)st.st_size;
	s->epoch = epoch;
	return 0;
}

struct store *
store_open(const char *name, int durability, char *err, size_t len)
{
	struct store	*s;
	struct stat	 st;

	if (store_rootfd == -1) {
		snprintf(err, len, "no state directory");
		return NULL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->name = strdup(name)) == NULL) {
		free(s);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	s->jfd = s->dfd = -1;
	s->durability = durability;
	ev_init(&s->sync, store_sync_cb);
	s->sync.data = s;
	ev_init(&s->retry, store_retry_timer_cb);
	s->retry.data = s;
	if (mkdirat(store_rootfd, name, 0700) == -1 && errno != EEXIST) {
		snprintf(err, len, "%s/%s: %s", store_root, name,
		    strerror(errno));
		goto fail;
	}
	if ((s->dfd = openat(store_rootfd, name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || fstat(s->dfd, &st) == -1 ||
	    st.st_uid != geteuid()) {
		if (s->dfd == -1 && errno != ELOOP && errno != ENOTDIR)
			snprintf(err, len, "%s/%s: %s", store_root, name,
			    strerror(errno));
		else
			snprintf(err, len, "%s/%s: not a directory of ours",
			    store_root, name);
		goto fail;
	}
	return s;
fail:
	if (s->dfd != -1)
		close(s->dfd);
	free(s->name);
	free(s);
	return NULL;
}

/* Who rewrites the store from memory while it is degraded (machine.c). */
void
store_set_retry(struct store *s, store_retry_cb *cb, void *arg)
{
	s->retry_cb = cb;
	s->retry_arg = arg;
}

static void
store_retry_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct store	*s = w->data;

	(void)revents;
	if (s->jfd != -1) {
		ev_timer_stop(loop, w);
		return;
	}
	s->retry_cb(s->retry_arg);
	if (s->jfd != -1)
		ev_timer_stop(loop, w);
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
	ev_timer_stop(EV_DEFAULT, &s->retry);
	buf_free(&s->out);
	close(s->dfd);
	free(s->name);
	free(s);
}

/* Move a machine's saved state aside (run --fresh). */
int
store_aside(const char *name, char *moved, size_t len)
{
	char		 to[PATH_MAX], stamp[32];
	struct stat	 st;
	time_t		 now = time(NULL);

	if (fstatat(store_rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(to, sizeof to, "%s.aside-%s-%ld", name, stamp,
	    (long)getpid());
	if (renameat(store_rootfd, name, store_rootfd, to) == -1)
		return -1;
	snprintf(moved, len, "%s/%s", store_root, to);
	return 1;
}

/* name/file, opened to read: a regular file of a size we read. -1. */
static int
store_open_file(struct store *s, const char *file, struct stat *st)
{
	char	 rel[PATH_MAX];
	int	 fd;

	fd = openat(store_rootfd, store_rel(s, file, rel, sizeof rel),
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    (uint64_t)st->st_size > STORE_FILE_MAX) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	return fd;
}

/* Read a whole file (capped); -1 with errno, ENOENT if there is none. */
static int
store_read(struct store *s, const char *file, struct buf *b)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	buf_reset(b);
	if ((fd = store_open_file(s, file, &st)) == -1)
		return -1;
	if (buf_reserve(b, (size_t)st.st_size + 1) == -1) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	while ((n = read(fd, b->data + b->len, b->cap - b->len)) > 0)
		b->len += (size_t)n;
	close(fd);
	return n == -1 ? -1 : 0;
}

/*
 * The init argument the machine started from nothing with (the file
 * init-arg): its journal replays onto init with it, whatever the next
 * `run` says. 1 with the text in out, 0 if it had none, -1 with errno.
 */
int
store_get_init_arg(struct store *s, char *out, size_t len)
{
	struct buf	 b = { 0 };
	int		 rc = -1;

	if (store_read(s, "init-arg", &b) == -1) {
		buf_free(&b);
		return errno == ENOENT ? 0 : -1;
	}
	if (buf_used(&b) < len && memchr(buf_head(&b), '\0', buf_used(&b)) ==
	    NULL) {
		memcpy(out, buf_head(&b), buf_used(&b));
		out[buf_used(&b)] = '\0';
		rc = 1;
	} else
		errno = EINVAL;
	buf_free(&b);
	return rc;
}

/* A machine starting from nothing: its init argument (NULL: none), synced. */
int
store_put_init_arg(struct store *s, const char *arg)
{
	struct buf	 b = { 0 };
	int		 rc;

	if (arg == NULL) {
		store_unlink(s, "init-arg", 0);
		return store_fsync_dir(s);
	}
	if (buf_add(&b, arg, strlen(arg)) == -1) {
		buf_free(&b);
		return -1;
	}
	rc = store_put_file(s, "init-arg", &b, 0);
	buf_free(&b);
	if (rc == -1 || store_install(s, "init-arg") == -1)
		return -1;
	return store_fsync_dir(s);
}

/*
 * Open name/file, a snapshot, and check it a chunk at a time (its header,
 * the CRC of its image): the image stays in the file, never in memory.
 * Its descriptor, or -1: with *why if the file is bad, without if it
 * could not be read.
 */
static int
store_open_snapshot(struct store *s, const char *file, uint64_t *seq,
    uint64_t *epoch, uint64_t *off, size_t *len, const char **why)
{
	uint8_t		 head[256], *chunk;
	struct stat	 st;
	uint64_t	 n, done;
	uint32_t	 crc, c = 0;
	size_t		 hoff, k;
	ssize_t		 r;
	int		 fd;

	*why = NULL;
	if ((fd = store_open_file(s, file, &st)) == -1)
		return -1;
	if ((r = pread(fd, head, sizeof head, 0)) == -1 ||
	    (chunk = malloc(STORE_CHUNK)) == NULL) {
		close(fd);
		return -1;
	}
	if (journal_snapshot_head(head, (size_t)r, (uint64_t)st.st_size, seq,
	    epoch, &n, &crc, &hoff, why) == -1) {
		free(chunk);
		close(fd);
		return -1;
	}
	for (done = 0; done < n; done += (uint64_t)r) {
		k = n - done < STORE_CHUNK ? (size_t)(n - done) : STORE_CHUNK;
		if ((r = pread(fd, chunk, k, (off_t)(hoff + done))) <= 0) {
			if (r == -1 && errno == EINTR) {
				r = 0;
				continue;
			}
			*why = r == 0 ? "snapshot truncated" : NULL;
			free(chunk);
			close(fd);
			return -1;
		}
		c = crc32c(c, chunk, (size_t)r);
	}
	free(chunk);
	if (c != crc) {
		*why = "snapshot checksum mismatch";
		close(fd);
		return -1;
	}
	*off = hoff;
	*len = (size_t)n;
	return fd;
}

/* The epochs of the files of this kind in the machine's directory. */
static int
store_epochs(struct store *s, const char *kind, uint64_t *v, int max)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 k = strlen(kind);
	char		*end;
	uint64_t	 e;
	int		 fd, n = 0, i, j;

	fd = openat(store_rootfd, s->name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < max) {
		if (strncmp(de->d_name, kind, k) != 0 || de->d_name[k] != '.' ||
		    de->d_name[k + 1] < '0' || de->d_name[k + 1] > '9')
			continue;
		errno = 0;
		e = strtoull(de->d_name + k + 1, &end, 10);
		if (errno != 0 || *end != '\0')
			continue;
		v[n++] = e;
	}
	closedir(d);
	/* Newest first. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] < v[j]; j--) {
			e = v[j];
			v[j] = v[j - 1];
			v[j - 1] = e;
		}
	return n;
}

/* Cut file at off (a torn tail). */
static int
store_truncate(struct store *s, const char *file, size_t off)
{
	char	 rel[PATH_MAX];
	int	 fd, rc;

	fd = openat(store_rootfd, store_rel(s, file, rel, sizeof rel),
	    O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = ftruncate(fd, (off_t)off) == 0 && fdatasync(fd) == 0 ? 0 : -1;
	close(fd);
	return rc;
}

/* One journal file read: its header and records. */
struct store_jnl {
	uint64_t		 epoch;
	struct journal_head	 h;
	struct buf		 b;
	size_t			 end;	/* where its good records end */
};

/* A set of seqs struck off (small: inputs that crashed their worker). */
struct store_struck {
	uint64_t	*v;
	size_t		 n;
};

static int
store_struck_has(const struct store_struck *st, uint64_t seq)
{
	size_t	 i;

	for (i = 0; i < st->n; i++)
		if (st->v[i] == seq)
			return 1;
	return 0;
}

/*
 * Apply journal j over the state so far: inputs after *last join frames,
 * strikes are collected. Returns the number of records taken.
 */
static void
store_apply(struct store_jnl *j, struct buf *frames, uint64_t *last,
    struct store_struck *st)
{
	const uint8_t	*fr;
	uint64_t	 seq, *v, prev = 0, disorder = 0;
	size_t		 off, n, flen;
	uint8_t		 type;

	for (off = j->h.len; (n = journal_record_next(j->b.data + off,
	    j->b.len - off, &type, &seq, &fr, &flen)) > 0; off += n) {
		/* Inputs are recorded in order: a record that is not is odd. */
		if (type == FRAME_S_INPUT) {
			if (seq <= prev)
				disorder++;
			prev = seq;
		}
		if (type == JOURNAL_STRIKE) {
			if ((v = realloc(st->v, (st->n + 1) * sizeof *v)) !=
			    NULL) {
				st->v = v;
				st->v[st->n++] = seq;
			}
			continue;
		}
		if (seq <= *last)
			continue;
		buf_add(frames, fr, flen);
		*last = seq;
	}
	j->end = off;
	if (disorder > 0)
		log_warnx("%s/journal.%llu: %llu records out of order or "
		    "repeated: skipped", store_root, (unsigned long long)j->epoch,
		    (unsigned long long)disorder);
}

/* The frames, without the struck ones. */
static void
store_filter(struct buf *frames, const struct store_struck *st)
{
	static const struct frame_limits lim = { FRAME_MAX_DEFAULT,
	    FRAME_MAX_DEFAULT };
	struct buf	 keep = { 0 };
	struct frame	 f;
	const uint8_t	*p = buf_head(frames);
	size_t		 left = buf_used(frames), n;

	if (st->n == 0)
		return;
	while (frame_parse(p, left, &lim, &f) == FRAME_OK) {
		n = FRAME_HDR_LEN + f.len;
		if (!store_struck_has(st, f.id))
			buf_add(&keep, p, n);
		p += n;
		left -= n;
	}
	buf_free(frames);
	*frames = keep;
}

/* A journal of these INPUT frames: header and records. */
static int
store_journal_buf(struct buf *out, uint64_t epoch, uint64_t base,
    const struct buf *frames)
{
	static const struct frame_limits lim = { FRAME_MAX_DEFAULT,
	    FRAME_MAX_DEFAULT };
	const uint8_t	*p = buf_head(frames);
	size_t		 left = buf_used(frames);
	struct frame	 f;

	if (journal_log_header(out, epoch, base) == -1)
		return -1;
	while (frame_parse(p, left, &lim, &f) == FRAME_OK) {
		if (journal_record_add(out, p, FRAME_HDR_LEN + f.len) == -1)
			return -1;
		p += FRAME_HDR_LEN + f.len;
		left -= FRAME_HDR_LEN + f.len;
	}
	return 0;
}

/* Remove the files of epochs before keep (the pair before the newest). */
static void
store_prune(struct store *s, uint64_t keep)
{
	static const char *const kinds[] = { "snapshot", "journal" };
	uint64_t	 v[STORE_EPOCHS_MAX];
	char		 file[64], rel[PATH_MAX];
	int		 k, i, n, fd;

	for (k = 0; k < 2; k++) {
		if ((n = store_epochs(s, kinds[k], v, STORE_EPOCHS_MAX)) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (v[i] >= keep)
				continue;
			store_epoch_name(file, sizeof file, kinds[k], v[i]);
			store_rel(s, file, rel, sizeof rel);
			/* Its blocks are freed by the last close, elsewhere. */
			fd = k == 0 ? openat(store_rootfd, rel, O_RDONLY |
			    O_NOFOLLOW | O_CLOEXEC) : -1;
			unlinkat(store_rootfd, rel, 0);
			if (fd != -1)
				store_close_later(fd);
		}
	}
}

/*
 * A new snapshot on disk (seq: the last input in it; img NULL: none, the
 * state is init and the journal all of it) and the journal of the inputs
 * after it (frames), as the next epoch; see the head of this file. 0, or
 * -1 with the live journal as it was (degraded if it could not be kept).
 */
int
store_snapshot(struct store *s, uint64_t seq, const void *img, size_t len,
    const struct buf *frames)
{
	return store_snapshot_from(s, seq, img, -1, 0, len, NULL, frames);
}

/* The same, of an image of len bytes at off in fd (a memfd, a file). */
int
store_snapshot_fd(struct store *s, uint64_t seq, int fd, uint64_t off,
    size_t len, const struct buf *frames)
{
	return store_snapshot_from(s, seq, NULL, fd, off, len, NULL, frames);
}

/*
 * An unnamed file in the machine's directory for a snapshot child to
 * write (snapfork.c): its image goes after JOURNAL_SNAP_HDR_LEN bytes.
 * -1 with errno (EOPNOTSUPP and kin: the file system has no O_TMPFILE).
 */
int
store_snapfile(struct store *s)
{
	return openat(s->dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/*
 * The same as store_snapshot, of a store_snapfile a snapshot child wrote
 * and synced: len bytes of image after the header, of CRC-32C crc. Only
 * the header is written here, then the file is named and renamed in.
 */
int
store_snapshot_file(struct store *s, uint64_t seq, int fd, size_t len,
    uint32_t crc, const struct buf *frames)
{
	return store_snapshot_from(s, seq, NULL, fd, JOURNAL_SNAP_HDR_LEN, len,
	    &crc, frames);
}

/* A snapshot child failed: the previous snapshot stays; status says so. */
void
store_snapshot_failed(struct store *s, const char *why)
{
	store_notef(s, "snapshot not written: %s (the previous one stays)",
	    why);
}

/* Name the snapfile fd name/file.tmp, its header written and synced. */
static int
store_link_snapshot(struct store *s, const char *file, uint64_t seq,
    uint64_t epoch, int fd, size_t len, uint32_t crc)
{
	struct buf	 hdr = { 0 };
	char		 tmp[NAME_MAX + 8], rel[PATH_MAX], self[64];
	int		 rc = -1, saved;

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	store_rel(s, tmp, rel, sizeof rel);
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	if (journal_snapshot_header(&hdr, seq, epoch, len, crc) == -1) {
		errno = ENOMEM;
		return -1;
	}
	unlinkat(store_rootfd, rel, 0);
	if (pwrite(fd, buf_head(&hdr), buf_used(&hdr), 0) ==
	    (ssize_t)buf_used(&hdr) && fdatasync(fd) == 0 &&
	    linkat(AT_FDCWD, self, store_rootfd, rel, AT_SYMLINK_FOLLOW) == 0)
		rc = 0;
	saved = errno;
	buf_free(&hdr);
	errno = saved;
	return rc;
}

static int
store_snapshot_from(struct store *s, uint64_t seq, const void *img, int fd,
    uint64_t off, size_t len, const uint32_t *written, const struct buf *frames)
{
	struct buf	 jnl = { 0 };
	int		 has = img != NULL || fd != -1;
	uint64_t	 e = s->epoch + 1;
	char		 sname[64], jname[64];
	int		 rc = -1, saved = 0, jfd;

	store_flush(s);
	store_epoch_name(sname, sizeof sname, "snapshot", e);
	store_epoch_name(jname, sizeof jname, "journal", e);
	if (store_journal_buf(&jnl, e, has ? seq : 0, frames) == -1) {
		errno = ENOMEM;
		saved = ENOMEM;
		store_notef(s, "snapshot: out of memory");
		goto out;
	}
	/*
	 * Both files are written, and the new journal open, before either
	 * goes in: past the renames, the loader takes epoch e, so from
	 * then on no input may go to the old journal, whatever fails.
	 */
	if ((has && (written != NULL ? store_link_snapshot(s, sname, seq, e,
	    fd, len, *written) : store_put_snapshot(s, sname, seq, e, img, fd,
	    off, len)) == -1) ||
	    (jfd = store_put_file(s, jname, &jnl, 1)) == -1) {
		saved = errno;
		if (has)
			store_unlink(s, sname, 1);
		store_notef(s, "snapshot not written: %s (the journal goes on)",
		    strerror(saved));
		goto out;
	}
	/* The snapshot first: it is not used until its journal is in. */
	if ((has && store_install(s, sname) == -1) ||
	    store_install(s, jname) == -1) {
		saved = errno;
		close(jfd);
		store_unlink(s, jname, 1);
		if (has) {
			store_unlink(s, sname, 1);
			store_unlink(s, sname, 0);
		}
		store_notef(s, "snapshot not installed: %s (the journal goes "
		    "on)", strerror(saved));
		goto out;
	}
	if (s->jfd != -1)
		close(s->jfd);
	s->jfd = jfd;
	s->jsize = buf_used(&jnl);
	s->epoch = e;
	buf_reset(&s->out);
	s->unsynced = 0;
	if (store_fsync_dir(s) == -1) {
		/* Written from memory again until the directory takes it. */
		saved = errno;
		store_degrade(s, "state directory sync");
		goto out;
	}
	rc = 0;
	if (s->degraded[0] != '\0') {
		log_info("%s/%s: persistence restored", store_root, s->name);
		s->degraded[0] = '\0';
	}
	if (strncmp(s->note, "snapshot not", 12) == 0)
		s->note[0] = '\0';
	store_prune(s, e - 1);
out:
	buf_free(&jnl);
	errno = saved;
	return rc;
}

/*
 * The saved state in the legacy layout (format 1: snapshot, journal and
 * their .old), read as that version did. 1 if there was one.
 */
static int
store_load_legacy(struct store *s, struct buf *image, uint64_t *snap_seq,
    struct buf *frames, uint64_t *last, char *err, size_t len)
{
	static const char *const files[] = { "snapshot", "snapshot.old",
	    "journal.old", "journal" };
	struct store_jnl	 j = { 0 };
	struct store_struck	 st = { 0 };
	const uint8_t		*img;
	const char		*why;
	uint64_t		 epoch;
	size_t			 n;
	int			 i, found = 0;

	for (i = 0; i < 2 && buf_used(image) == 0; i++) {
		if (store_read(s, files[i], &j.b) == -1)
			continue;
		found = 1;
		if (journal_snapshot_decode(j.b.data, j.b.len, snap_seq,
		    &epoch, &img, &n, &why) == 0)
			buf_add(image, img, n);
		else
			store_move_aside(s, files[i], why);
	}
	if (found && buf_used(image) == 0) {
		snprintf(err, len, "%s/%s: no readable snapshot (start afresh "
		    "with --fresh)", store_root, s->name);
		buf_free(&j.b);
		return -1;
	}
	*last = *snap_seq;
	for (i = 2; i < 4; i++) {
		if (store_read(s, files[i], &j.b) == -1)
			continue;
		found = 1;
		if (journal_log_check_header(j.b.data, j.b.len, &j.h, &why) ==
		    -1) {
			store_move_aside(s, files[i], why);
			continue;
		}
		store_apply(&j, frames, last, &st);
	}
	store_filter(frames, &st);
	free(st.v);
	buf_free(&j.b);
	if (!found)
		return 0;
	/* Into the new layout; the old files go once it is written. */
	if (store_snapshot(s, *snap_seq, buf_used(image) ? buf_head(image) :
	    NULL, buf_used(image), frames) == -1) {
		snprintf(err, len, "%s/%s: cannot convert its saved state to "
		    "the new format: %s", store_root, s->name, s->note);
		return -1;
	}
	for (i = 0; i < 4; i++) {
		char	 rel[PATH_MAX];

		unlinkat(store_rootfd, store_rel(s, files[i], rel,
		    sizeof rel), 0);
	}
	log_info("%s/%s: saved state converted to format 2", store_root,
	    s->name);
	return 1;
}

/*
 * Load the saved state: the newest snapshot (image, and seq of the last
 * input in it) that the newest journal continues, and the inputs after it
 * (as INPUT frames), with the last seq ever given (struck ones too).
 * Returns 1 if there was a saved state, 0 if not, -1 with err set if it
 * cannot be used (nothing is touched then).
 */
int
store_load(struct store *s, struct buf *image, struct store_image *fimg,
    uint64_t *snap_seq, struct buf *frames, uint64_t *last, char *err,
    size_t len)
{
	struct store_jnl	 jn[STORE_EPOCHS_MAX];
	struct store_struck	 st = { 0 };
	uint64_t		 se[STORE_EPOCHS_MAX], je[STORE_EPOCHS_MAX];
	uint64_t		 epoch, base_epoch, max_epoch = 0;
	const char		*why;
	char			 file[64], bad[512] = "";
	uint64_t		 off = 0;
	size_t			 n = 0;
	int			 ns, nj, i, k, rc = -1, newest, used, cut = 0;
	int			 fallback = 0, anomaly = 0, sfd = -1;

	fimg->fd = -1;
	fimg->off = 0;
	fimg->len = 0;
	buf_reset(image);
	buf_reset(frames);
	*snap_seq = *last = 0;
	if ((rc = store_load_legacy(s, image, snap_seq, frames, last, err,
	    len)) != 0)
		return rc;
	if ((ns = store_epochs(s, "snapshot", se, STORE_EPOCHS_MAX)) == -1 ||
	    (nj = store_epochs(s, "journal", je, STORE_EPOCHS_MAX)) == -1) {
		snprintf(err, len, "%s/%s: %s", store_root, s->name,
		    strerror(errno));
		return -1;
	}
	/* The journals, newest first; one that cannot be read goes aside. */
	memset(jn, 0, sizeof jn);
	for (i = k = 0; i < nj; i++) {
		store_epoch_name(file, sizeof file, "journal", je[i]);
		why = NULL;
		if (store_read(s, file, &jn[k].b) == -1)
			why = strerror(errno);
		else if (journal_log_check_header(jn[k].b.data, jn[k].b.len,
		    &jn[k].h, &why) == 0 && jn[k].h.epoch != je[i])
			why = "its epoch is not its name's";
		if (why != NULL) {
			store_move_aside(s, file, why);
			buf_free(&jn[k].b);
			anomaly = 1;
			continue;
		}
		jn[k++].epoch = je[i];
	}
	nj = k;
	if (nj > 0)
		max_epoch = jn[0].epoch;
	if (ns > 0 && se[0] > max_epoch)
		max_epoch = se[0];

	/*
	 * Each snapshot, newest first, then none (init): the first that the
	 * newest journal continues.
	 */
	for (i = 0; i <= ns; i++) {
		if (sfd != -1)
			close(sfd);
		sfd = -1;
		*snap_seq = 0;
		base_epoch = 0;
		if (i < ns) {
			store_epoch_name(file, sizeof file, "snapshot", se[i]);
			sfd = store_open_snapshot(s, file, snap_seq, &epoch,
			    &off, &n, &why);
			if (sfd == -1 && why == NULL)
				continue;
			if (sfd == -1 || epoch != se[i]) {
				if (why == NULL)
					why = "its epoch is not its name's";
				log_warnx("%s/%s/%s: %s: not used", store_root,
				    s->name, file, why);
				snprintf(bad + strlen(bad), sizeof bad -
				    strlen(bad), "%s: %s; ", file, why);
				fallback = 1;
				continue;
			}
			base_epoch = epoch;
		} else if (ns > 0 && !fallback) {
			/* Snapshots were there, none continued: not init. */
			continue;
		}
		buf_reset(frames);
		free(st.v);
		memset(&st, 0, sizeof st);
		*last = *snap_seq;
		newest = nj == 0;
		used = 0;
		for (k = nj - 1; k >= 0; k--) {
			if (jn[k].epoch < base_epoch || (jn[k].epoch >
			    base_epoch && jn[k].h.base > *last))
				continue;
			store_apply(&jn[k], frames, last, &st);
			used++;
			if (k == 0)
				newest = 1;
		}
		if (!newest) {
			fallback = 1;
			continue;
		}
		if (i < ns) {
			fimg->fd = sfd;
			fimg->off = off;
			fimg->len = n;
			sfd = -1;
		}
		store_filter(frames, &st);
		if (i > 0 && (ns > 0 || nj > 0))
			log_warnx("%s/%s: %s", store_root, s->name, i < ns ?
			    "the newest snapshot is not usable: using an older "
			    "one and the journals since" : "no snapshot is "
			    "usable: starting from init and the journals");
		rc = ns > 0 || nj > 0 || anomaly;
		goto found;
	}
	snprintf(err, len, "%s/%s: %sno snapshot that the journals continue "
	    "(%d snapshots, %d journals); refusing to guess (start afresh with "
	    "--fresh)", store_root, s->name, bad, ns, nj);
	rc = -1;
	goto done;

found:
	if (i > 0 && ns > 0 && i < ns + 1)
		fallback = 1;
	/* A torn tail of the live journal is cut at its last good record. */
	if (nj > 0 && jn[0].end < jn[0].b.len && !fallback && !anomaly) {
		log_warnx("%s/%s/journal.%llu: cut a torn or corrupt tail of "
		    "%zu bytes at offset %zu", store_root, s->name,
		    (unsigned long long)jn[0].epoch, jn[0].b.len - jn[0].end,
		    jn[0].end);
		store_epoch_name(file, sizeof file, "journal", jn[0].epoch);
		if (store_truncate(s, file, jn[0].end) == -1)
			cut = -1;
	}
	s->epoch = max_epoch;
	/* The newest journal continues what was loaded: it goes on. */
	if (nj > 0 && !fallback && !anomaly && cut == 0 &&
	    jn[0].epoch == max_epoch && store_open_journal(s, jn[0].epoch) ==
	    0)
		goto done;
	/*
	 * Otherwise a new pair from what was read, so that nothing is ever
	 * appended after what cannot be read back.
	 */
	s->jfd = -1;
	s->epoch = max_epoch;
	if ((fimg->fd != -1 ? store_snapshot_fd(s, *snap_seq, fimg->fd,
	    fimg->off, fimg->len, frames) : store_snapshot(s, *snap_seq,
	    buf_used(image) ? buf_head(image) : NULL, buf_used(image),
	    frames)) == -1)
		store_degrade(s, "a new journal");
done:
	for (k = 0; k < nj; k++)
		buf_free(&jn[k].b);
	if (sfd != -1)
		close(sfd);
	free(st.v);
	return rc;
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

/* Queue the record that input seq is never to be applied. */
void
store_strike(struct store *s, uint64_t seq)
{
	if (s->jfd == -1)
		return;
	if (journal_strike_add(&s->out, seq) == -1)
		store_degrade(s, "journal (out of memory)");
}

/*
 * Write the queued records (end of every loop iteration); sync them now
 * (always) or within STORE_SYNC_DELAY (batch). Returns STORE_DONE if they
 * are on disk (written; with always, synced), STORE_CUT if writing
 * failed and the journal was cut
 * back to what it held before (so those records are surely not on disk),
 * STORE_LOST if it failed and whether they are is not known.
 */
int
store_flush(struct store *s)
{
	int	 saved;

	if (s->jfd == -1)
		return STORE_LOST;
	if (buf_used(&s->out) > 0) {
		if (store_write_all(s->jfd, buf_head(&s->out),
		    buf_used(&s->out)) == -1)
			goto failed;
		s->jsize += buf_used(&s->out);
		buf_reset(&s->out);
		s->unsynced = 1;
	}
	if (!s->unsynced)
		return STORE_DONE;
	if (s->durability == DURABILITY_ALWAYS) {
		if (fdatasync(s->jfd) == -1)
			goto failed;
		s->unsynced = 0;
		return STORE_DONE;
	}
	if (!ev_is_active(&s->sync)) {
		ev_timer_set(&s->sync, STORE_SYNC_DELAY, 0.);
		ev_timer_start(EV_DEFAULT, &s->sync);
	}
	return STORE_DONE;
failed:
	saved = errno;
	/* Back to what was there, if the file lets us. */
	if (s->durability == DURABILITY_ALWAYS &&
	    ftruncate(s->jfd, (off_t)s->jsize) == 0 && fdatasync(s->jfd) == 0) {
		errno = saved;
		store_degrade(s, "journal");
		return STORE_CUT;
	}
	errno = saved;
	store_degrade(s, "journal");
	return STORE_LOST;
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

/* Escape bytes for a text file: printable ASCII, else \xHH. */
void
store_vis(struct buf *out, const uint8_t *p, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 e[4];
	size_t			 i;

	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			buf_add(out, &p[i], 1);
			continue;
		}
		e[0] = '\\';
		e[1] = 'x';
		e[2] = hex[p[i] >> 4];
		e[3] = hex[p[i] & 15];
		buf_add(out, e, 4);
	}
}

/*
 * Keep an input its worker died in, in name/dropped: one line per input,
 * "TIME #SEQ REASON<tab>INPUT" (the input with \xHH escapes).
 */
void
store_dropped(struct store *s, uint64_t seq, const char *why, const void *in,
    size_t len)
{
	struct buf	 line = { 0 };
	char		 head[700], stamp[32], rel[PATH_MAX];
	time_t		 now = time(NULL);
	int		 fd;

	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
	snprintf(head, sizeof head, "%s #%llu %s\t", stamp,
	    (unsigned long long)seq, why);
	buf_add(&line, head, strlen(head));
	store_vis(&line, in, len);
	buf_add(&line, "\n", 1);
	fd = openat(store_rootfd, store_rel(s, "dropped", rel, sizeof rel),
	    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || store_write_all(fd, buf_head(&line),
	    buf_used(&line)) == -1 || fdatasync(fd) == -1)
		log_warn("%s/%s/dropped", store_root, s->name);
	if (fd != -1)
		close(fd);
	buf_free(&line);
}
