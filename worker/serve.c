/*
 * serve.c: the worker side of the worker protocol (smsup-protocol(7)).
 * One blocking loop: read whatever frames have arrived, handle them in
 * order, write every answer of the batch with one write.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "image.h"
#include "msg.h"
#include "progress.h"
#include "worker-int.h"

/* Images of this size or more go by descriptor when the supervisor allows. */
#define SERVE_FD_MIN	(256u << 10)
/* States whose last image was this large are not traced (W_STATE empty). */
#define SERVE_TRACE_MAX	(1u << 20)

struct serve {
	int			 fd;
	struct chan		 ch;	/* fd, with the descriptors on it */
	void			*state;
	int			 started;
	struct buf		 in;
	struct buf		 out;
	struct frame_limits	 lim;

	/* Snapshots: every snap_inputs inputs or snap_ms ms, if any came. */
	uint32_t		 snap_inputs;	/* 0: never */
	uint32_t		 snap_ms;	/* 0: never */
	uint64_t		 image_max;
	uint64_t		 last_seq;	/* last input applied */
	uint32_t		 dirty;		/* inputs since the snapshot */
	uint64_t		 snap_at;	/* when it was taken, ms */
	uint32_t		 trace;		/* CONFIG_TRACE_STATE: W_STATE */

	/* Snapshots by fork (CONFIG_FORK): a child writes the SNAPFILE. */
	int			 fork;
	int			 snapfd;	/* the file for the next; -1 */
	uint64_t		 snapoff;	/* where its image starts */
	pid_t			 child;		/* writing one; 0: none */
	int			 childfd;	/* its result comes on it */
	uint64_t		 child_seq;	/* the last input in it */
	uint64_t		 child_at;	/* when it was forked, ms */
	uint8_t			 res[256];	/* the result, as it comes */
	size_t			 nres;
	uint64_t		 retry_at;	/* after a failed one, ms */
	size_t			 last_len;	/* of the last image made */
};

/* Answers are written at least this often while a batch is applied. */
#define SERVE_FLUSH_MS	10

/* After a snapshot child failed, the next waits this long (as Redis). */
#define SERVE_RETRY_MS	5000

/*
 * States whose last image was smaller go inline even by fork: a child
 * costs more than serializing them (make bench: 1,000 counters forking
 * at once kept new workers from starting).
 */
#define SERVE_FORK_MIN	(1u << 20)
static unsigned long long serve_fork_min;	/* SMSUP_SNAPSHOT_FORK_MIN */

/* What a snapshot child says before it exits: ok, u64 length, u32 CRC. */
#define SERVE_RES_OK	13

/*
 * Crash reports. While step runs, a fatal signal or an exit() first writes
 * the answers already made (the frames before the current output) and a
 * CRASH frame naming the input, so the supervisor knows which input was
 * being applied. Only async-signal-safe calls here.
 */
static void		 serve_image(struct serve *, uint8_t, uint64_t, int);
static int		 serve_by_fork(const struct serve *);
static struct serve	*serve_self;
static struct progress_page *serve_progress;	/* shared: which input */
static volatile sig_atomic_t serve_in_step;
static uint64_t		 serve_step_seq;
static size_t		 serve_step_at;

static void
serve_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
serve_crash_report(const char *what, int num)
{
	struct serve	*s = serve_self;
	uint8_t		 f[FRAME_HDR_LEN + 48];
	char		*t = (char *)f + FRAME_HDR_LEN;
	size_t		 n = 0, i;
	char		 digits[12];
	int		 d = 0;

	if (s == NULL || !serve_in_step)
		return;
	serve_in_step = 0;
	/* The frames before the current output (offset from the head). */
	/* (Not past a frame that needs its descriptor: those are lost.) */
	if (serve_step_at > 0)
		serve_write_all(s->fd, buf_head(&s->out),
		    serve_step_at < chan_plain(&s->ch, &s->out) ?
		    serve_step_at : chan_plain(&s->ch, &s->out));
	for (i = 0; what[i] != '\0' && n < 32; i++)
		t[n++] = what[i];
	if (num >= 0) {
		do
			digits[d++] = (char)('0' + num % 10);
		while ((num /= 10) > 0 && d < 11);
		t[n++] = ' ';
		while (d > 0)
			t[n++] = digits[--d];
	}
	msg_setle32(f, (uint32_t)n);
	f[4] = SMSUP_PROTOCOL_VERSION;
	f[5] = FRAME_W_CRASH;
	f[6] = f[7] = 0;
	msg_setle64(f + 8, serve_step_seq);
	serve_write_all(s->fd, f, FRAME_HDR_LEN + n);
}

static void
serve_fatal_signal(int sig)
{
	serve_crash_report("killed by signal", sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
serve_atexit(void)
{
	serve_crash_report("exited", -1);
}

static void
serve_crash_hooks(struct serve *s)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction	 sa;
	size_t			 i;

	serve_self = s;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = serve_fatal_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	/* Past a file size limit an image fails (EFBIG), it does not kill. */
	signal(SIGXFSZ, SIG_IGN);
	atexit(serve_atexit);
}

int
smsup_reply_bytes(struct smsup_output *o, const void *p, size_t n)
{
	if (o->overflow || buf_used(o->b) - o->start + n > o->max) {
		o->overflow = 1;
		return smsup_error("output larger than %zu bytes", o->max);
	}
	if (buf_add(o->b, p, n) == -1) {
		o->overflow = 1;
		return smsup_error("out of memory for the output");
	}
	return 0;
}

int
smsup_reply(struct smsup_output *o, const char *fmt, ...)
{
	va_list	 ap;
	char	 small[256], *p;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return smsup_error("bad output format");
	if ((size_t)n < sizeof small)
		return smsup_reply_bytes(o, small, (size_t)n);
	if (buf_reserve(o->b, (size_t)n + 1) == -1)
		return smsup_error("out of memory for the output");
	p = (char *)o->b->data + o->b->len;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	/* The bytes are in place: account for them without a copy. */
	if (buf_used(o->b) - o->start + (size_t)n > o->max) {
		o->overflow = 1;
		return smsup_error("output larger than %zu bytes", o->max);
	}
	o->b->len += (size_t)n;
	return 0;
}

static void
serve_text(struct serve *s, uint8_t type, uint64_t id, const char *text)
{
	frame_put(&s->out, type, id, text, strlen(text));
}

static void
serve_input(struct serve *s, const struct frame *f)
{
	struct smsup_output	 o;
	size_t			 at;
	char			*in = (char *)f->payload, saved;
	int			 rc;

	if (!s->started) {
		serve_text(s, FRAME_W_ERROR, f->id, "machine not started");
		return;
	}
	if ((at = frame_begin(&s->out, FRAME_W_OUTPUT, 0, f->id)) ==
	    (size_t)-1) {
		serve_text(s, FRAME_W_ERROR, f->id, "out of memory");
		return;
	}
	o.b = &s->out;
	o.start = s->out.len - s->out.off;
	o.max = s->lim.max;
	o.overflow = 0;

	/* The input is NUL-terminated in place, the byte after restored. */
	saved = in[f->len];
	in[f->len] = '\0';
	state_clearerr();
	serve_step_seq = f->id;
	serve_step_at = at;
	serve_in_step = 1;
	if (serve_progress != NULL) {
		serve_progress->seq = f->id;
		__atomic_store_n(&serve_progress->in_step, 1, __ATOMIC_RELEASE);
	}
	rc = smsup_machine.step(s->state, in, f->len, &o);
	if (serve_progress != NULL)
		__atomic_store_n(&serve_progress->in_step, 0, __ATOMIC_RELEASE);
	serve_in_step = 0;
	in[f->len] = saved;

	s->last_seq = f->id;
	s->dirty++;
	if (rc != 0 || o.overflow) {
		frame_abort(&s->out, at);
		serve_text(s, FRAME_W_ERROR, f->id, state_lasterr());
	} else
		frame_end(&s->out, at);
	/* A large state is not traced: it would cross for every input. */
	if ((s->trace & CONFIG_TRACE_STATE) && s->last_len >= SERVE_TRACE_MAX)
		frame_put(&s->out, FRAME_W_STATE, f->id, NULL, 0);
	else if (s->trace & CONFIG_TRACE_STATE)
		serve_image(s, FRAME_W_STATE, f->id, 1);
}

/* A clock of a few ms' resolution, cheap enough to read per input. */
static uint64_t
serve_coarse_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
serve_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A snapshot child: the state as of the fork, written to the SNAPFILE by
 * tpl into its mapping and synced; its result on fd, then it exits. It
 * dies with its parent.
 */
static void
serve_snapshot_child(struct serve *s, pid_t parent, int fd)
{
	uint8_t		 res[sizeof s->res];
	const char	*e;
	size_t		 len, n;
	uint32_t	 crc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	close(s->fd);
	if (state_file(s->state, (size_t)s->image_max, s->snapfd,
	    (size_t)s->snapoff, &len, &crc) == 0) {
		res[0] = 1;
		msg_setle64(res + 1, (uint64_t)len);
		msg_setle32(res + 9, crc);
		n = SERVE_RES_OK;
	} else {
		res[0] = 0;
		e = state_lasterr();
		n = strlen(e) < sizeof res - 1 ? strlen(e) : sizeof res - 1;
		memcpy(res + 1, e, n);
		n++;
	}
	serve_write_all(fd, res, n);
	_exit(0);
}

/* Fork a snapshot child for the state after last_seq. 0, or -1. */
static int
serve_fork_snapshot(struct serve *s)
{
	pid_t	 parent = getpid(), pid;
	int	 p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		serve_snapshot_child(s, parent, p[1]);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	/* The file is the child's now: the next comes with the result. */
	close(s->snapfd);
	s->snapfd = -1;
	s->child = pid;
	s->childfd = p[0];
	s->child_seq = s->last_seq;
	s->child_at = serve_now_ms();
	s->nres = 0;
	return 0;
}

/* A snapshot of the state after input seq is in the SNAPFILE: say so. */
static void
serve_snapshot_written(struct serve *s, uint64_t seq, size_t len,
    uint32_t crc, uint64_t began)
{
	uint8_t	 n[16];

	s->last_len = len;
	msg_setle64(n, (uint64_t)len);
	msg_setle32(n + 8, crc);
	msg_setle32(n + 12, (uint32_t)(serve_now_ms() - began));
	frame_put(&s->out, FRAME_W_SNAPSHOT_FILE, seq, n, sizeof n);
}

/*
 * The snapshot child's result may have come (its descriptor is readable):
 * once it has exited, SNAPSHOT_FILE or SNAPSHOT_FAIL with why.
 */
static void
serve_snapshot_reap(struct serve *s)
{
	char	 why[sizeof s->res + 64];
	ssize_t	 r;
	int	 status;

	while ((r = read(s->childfd, s->res + s->nres,
	    sizeof s->res - s->nres)) > 0)
		s->nres += (size_t)r;
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	close(s->childfd);
	s->childfd = -1;
	while (waitpid(s->child, &status, 0) == -1 && errno == EINTR)
		;
	s->child = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    s->nres == SERVE_RES_OK && s->res[0] == 1) {
		serve_snapshot_written(s, s->child_seq,
		    (size_t)msg_le64(s->res + 1), msg_le32(s->res + 9),
		    s->child_at);
		return;
	}
	s->retry_at = serve_now_ms() + SERVE_RETRY_MS;
	if (WIFSIGNALED(status))
		snprintf(why, sizeof why, "the snapshot child was killed by "
		    "signal %d", WTERMSIG(status));
	else if (s->nres > 1 && s->res[0] == 0)
		snprintf(why, sizeof why, "the snapshot child: %.*s",
		    (int)(s->nres - 1), (const char *)s->res + 1);
	else
		snprintf(why, sizeof why, "the snapshot child exited with "
		    "status %d", WEXITSTATUS(status));
	serve_text(s, FRAME_W_SNAPSHOT_FAIL, s->child_seq, why);
}

/* The worker stops: a snapshot child still running is of no use. */
static void
serve_snapshot_abandon(struct serve *s)
{
	if (s->child > 0) {
		kill(s->child, SIGKILL);
		while (waitpid(s->child, NULL, 0) == -1 && errno == EINTR)
			;
		close(s->childfd);
		s->child = 0;
	}
	if (s->snapfd != -1)
		close(s->snapfd);
	s->snapfd = -1;
}

/*
 * A small state's snapshot, written into the SNAPFILE here (a child costs
 * more than that) and reported as a child's would be: its image never
 * crosses the supervisor, however much it grew since the last.
 */
static void
serve_file_snapshot(struct serve *s)
{
	uint64_t	 t0 = serve_now_ms();
	size_t		 len;
	uint32_t	 crc;

	if (state_file(s->state, (size_t)s->image_max, s->snapfd,
	    (size_t)s->snapoff, &len, &crc) == -1) {
		s->retry_at = serve_now_ms() + SERVE_RETRY_MS;
		serve_text(s, FRAME_W_SNAPSHOT_FAIL, s->last_seq,
		    state_lasterr());
		return;
	}
	close(s->snapfd);
	s->snapfd = -1;
	serve_snapshot_written(s, s->last_seq, len, crc, t0);
}

/*
 * Send a snapshot if one is due: the state after input last_seq, for the
 * supervisor to restart from. By fork when the supervisor gave a file
 * for it: a child writes it while this process goes on serving, and one
 * still running when the next is due makes it wait, and so does one
 * whose file has not come yet. Else inline. A
 * failure is reported (SNAPSHOT_FAIL, or on stderr) and the next try
 * waits for the next period; after a failed child, at least 5 s.
 */
static void
serve_snapshot(struct serve *s, int force)
{
	size_t	 at;

	/*
	 * Given files, a snapshot waits for its file (the next comes soon):
	 * even a small state may have grown large since its last image, and
	 * its bytes are not to cross the supervisor.
	 */
	if (!s->started || s->dirty == 0 || s->child > 0 ||
	    (s->fork && (s->snapfd == -1 || (s->retry_at != 0 &&
	    serve_now_ms() < s->retry_at))))
		return;
	if (!force && !(s->snap_inputs != 0 && s->dirty >= s->snap_inputs) &&
	    !(s->snap_ms != 0 && serve_now_ms() - s->snap_at >= s->snap_ms))
		return;
	s->dirty = 0;
	s->snap_at = serve_now_ms();
	if (serve_by_fork(s)) {
		if (serve_fork_snapshot(s) == -1) {
			snprintf((char *)s->res, sizeof s->res, "cannot fork a "
			    "snapshot child: %s", strerror(errno));
			serve_text(s, FRAME_W_SNAPSHOT_FAIL, s->last_seq,
			    (const char *)s->res);
		}
		return;
	}
	if (s->fork) {
		serve_file_snapshot(s);
		return;
	}
	at = frame_begin(&s->out, FRAME_W_SNAPSHOT, 0, s->last_seq);
	if (at == (size_t)-1 || state_save(s->state, &s->out,
	    (size_t)s->image_max) == -1) {
		frame_abort(&s->out, at);
		fprintf(stderr, "%s: snapshot: %s\n", smsup_machine.name,
		    state_lasterr());
		return;
	}
	s->last_len = buf_used(&s->out) - at - FRAME_HDR_LEN;
	frame_end(&s->out, at);
}

/* SNAPFILE: the file the next snapshot child writes (taken from f). */
static void
serve_snapfile(struct serve *s, struct frame *f)
{
	struct msg_reader	 r;
	uint64_t		 off;

	msg_init(&r, f->payload, f->len);
	msg_get_u64(&r, &off);
	if (msg_end(&r) == -1 || f->fd == -1 || off > (1u << 20))
		return;
	if (s->snapfd != -1)
		close(s->snapfd);
	s->snapfd = f->fd;
	s->snapoff = off;
	f->fd = -1;
}

/* Whether the next snapshot goes by fork (see SERVE_FORK_MIN). */
static int
serve_by_fork(const struct serve *s)
{
	return s->fork && s->last_len >= serve_fork_min;
}

/*
 * Before any image is made, how large it will be: a struct mapped as is
 * with nothing of variable size is its own size; else unknown (large).
 */
static size_t
serve_guess_len(void)
{
	const struct smsup_machine	*m = &smsup_machine;

	if (m->save == NULL && m->format != NULL &&
	    strpbrk(m->format, "sAB") == NULL)
		return m->state_size;
	return SIZE_MAX;
}

/* How long the next read may wait: until a snapshot is due, or forever. */
static int
serve_wait_ms(const struct serve *s)
{
	uint64_t	 now, due;

	if (!s->started || s->dirty == 0 || s->snap_ms == 0 || s->child > 0 ||
	    (serve_by_fork(s) && s->snapfd == -1))
		return -1;
	now = serve_now_ms();
	due = s->snap_at + s->snap_ms;
	if (serve_by_fork(s) && due < s->retry_at)
		due = s->retry_at;
	return due <= now ? 0 : (int)(due - now);
}

static void
serve_config(struct serve *s, const struct frame *f)
{
	struct msg_reader	 r;
	uint32_t		 inputs, ms, flags = 0;
	uint64_t		 cap;

	msg_init(&r, f->payload, f->len);
	msg_get_u32(&r, &inputs);
	msg_get_u32(&r, &ms);
	msg_get_u64(&r, &cap);
	/* Flags came later: a CONFIG without them has none. */
	if (r.off + 4 <= r.len)
		msg_get_u32(&r, &flags);
	if (msg_end(&r) == -1)
		return;
	s->trace = flags & CONFIG_TRACE_STATE;
	s->fork = (flags & CONFIG_FORK) != 0;
	s->snap_inputs = inputs;
	s->snap_ms = ms;
	if (cap > 0 && cap < s->image_max)
		s->image_max = cap;
}

/*
 * LOAD_FD: the image is in the descriptor that came with the frame (a
 * memfd an upgrade's old worker filled, a snapshot file): restored, or
 * migrated, from a read-only mapping of it (the loop closes it).
 */
static int
serve_load_fd(struct serve *s, const struct frame *f)
{
	struct msg_reader	 r;
	struct stat		 st;
	uint64_t		 off, len;
	uint8_t			*p;
	int			 fd, rc;

	if ((fd = f->fd) == -1)
		return smsup_error("LOAD_FD came without a descriptor");
	msg_init(&r, f->payload, f->len);
	msg_get_u64(&r, &off);
	msg_get_u64(&r, &len);
	if (msg_end(&r) == -1 || fstat(fd, &st) == -1 || len == 0 ||
	    off > (uint64_t)st.st_size || len > (uint64_t)st.st_size - off ||
	    off + len > SIZE_MAX)
		return smsup_error("LOAD_FD: bad offset or length");
	p = mmap(NULL, (size_t)(off + len), PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return smsup_error("LOAD_FD: cannot map the image: %s",
		    strerror(errno));
	rc = state_restore(s->state, p + off, (size_t)len);
	s->last_len = (size_t)len;
	munmap(p, (size_t)(off + len));
	return rc;
}

static void
serve_start(struct serve *s, const struct frame *f)
{
	int	 rc;

	if (s->started) {
		serve_text(s, FRAME_W_FAIL, 0, "machine already started");
		return;
	}
	state_clearerr();
	if (f->type == FRAME_S_INIT)
		rc = smsup_machine.init(s->state);
	else if (f->type == FRAME_S_LOAD_FD)
		rc = serve_load_fd(s, f);
	else {
		rc = state_restore(s->state, f->payload, f->len);
		s->last_len = f->len;
	}
	state_clear_args();
	if (rc != 0) {
		serve_text(s, FRAME_W_FAIL, 0, state_lasterr());
		return;
	}
	s->started = 1;
	s->snap_at = serve_now_ms();
	frame_put(&s->out, FRAME_W_READY, 0, NULL, 0);
}

/*
 * The state's image in a frame of this type. A traced state that cannot
 * be saved goes as an empty W_STATE; a failed IMAGE is a W_FAIL.
 */
static void
serve_image(struct serve *s, uint8_t type, uint64_t id, int trace)
{
	size_t	 at;

	at = frame_begin(&s->out, type, 0, id);
	if (at == (size_t)-1 || state_save(s->state, &s->out,
	    (size_t)s->image_max) == -1) {
		frame_abort(&s->out, at);
		if (trace)
			frame_put(&s->out, type, id, NULL, 0);
		else
			serve_text(s, FRAME_W_FAIL, id, state_lasterr());
		return;
	}
	s->last_len = buf_used(&s->out) - at - FRAME_HDR_LEN;
	frame_end(&s->out, at);
}

static int
serve_flush(struct serve *s)
{
	return chan_flush(&s->ch, &s->out);
}

/* The answer has the request's id: 0 for upgrades, a token for queries. */
static void
serve_serialize(struct serve *s, const struct frame *f)
{
	struct msg_reader	 r;
	uint64_t		 cap, max = s->lim.image_max - 4096, len64;
	uint32_t		 flags = 0;
	size_t			 at, len;
	uint8_t			 n[8];
	int			 fd;

	msg_init(&r, f->payload, f->len);
	if (msg_get_u64(&r, &cap) == 0 && cap < max)
		max = cap;
	/* Flags came later: a SERIALIZE without them has none. */
	if (r.off + 4 <= r.len)
		msg_get_u32(&r, &flags);
	if (!s->started) {
		serve_text(s, FRAME_W_FAIL, f->id, "machine not started");
		return;
	}
	if (!(flags & SERIALIZE_FD)) {
		cap = s->image_max;
		s->image_max = max;
		serve_image(s, FRAME_W_IMAGE, f->id, 0);
		s->image_max = cap;
		return;
	}
	/* Large: the image in a sealed memfd, passed; small: inline. */
	at = frame_begin(&s->out, FRAME_W_IMAGE, 0, f->id);
	if (at == (size_t)-1 || state_image(s->state, (size_t)max,
	    SERVE_FD_MIN, &s->out, &fd, &len) == -1) {
		frame_abort(&s->out, at);
		serve_text(s, FRAME_W_FAIL, f->id, state_lasterr());
		return;
	}
	if (fd == -1) {
		s->last_len = buf_used(&s->out) - at - FRAME_HDR_LEN;
		frame_end(&s->out, at);
		return;
	}
	frame_abort(&s->out, at);
	s->last_len = len;
	len64 = len;
	msg_setle64(n, len64);
	/* A queue of descriptors full: they go first (the write blocks). */
	if (s->ch.nout == CHAN_FDS_MAX && serve_flush(s) == -1) {
		close(fd);
		return;
	}
	if (chan_put_fd(&s->ch, &s->out, FRAME_W_IMAGE_FD, f->id, n, sizeof n,
	    fd) == -1)
		serve_text(s, FRAME_W_FAIL, f->id, "too many descriptors "
		    "queued");
}


static int
serve_hello(struct serve *s)
{
	const char *const	*v;
	const char		*env;
	size_t			 at;
	uint32_t		 n = 0;

	for (v = smsup_machine.migrates_from; v != NULL && *v != NULL; v++)
		n++;
	at = frame_begin(&s->out, FRAME_W_HELLO, 0, (uint64_t)getpid());
	msg_put_str(&s->out, smsup_machine.name);
	msg_put_str(&s->out, smsup_machine.version);
	msg_put_str(&s->out, smsup_machine.format);
	msg_put_u32(&s->out, n);
	for (v = smsup_machine.migrates_from; v != NULL && *v != NULL; v++)
		msg_put_str(&s->out, *v);
	msg_put_str(&s->out, smsup_machine.fields != NULL ?
	    smsup_machine.fields : "");
	/* SMSUP_INLINE_IMAGES=1: every image inline, as workers before. */
	env = getenv("SMSUP_INLINE_IMAGES");
	msg_put_u32(&s->out, env != NULL && strcmp(env, "1") == 0 ? 0 :
	    HELLO_CAP_FD | HELLO_CAP_FORK | HELLO_CAP_ARG);
	if (frame_end(&s->out, at) == -1)
		return -1;
	return serve_flush(s);
}

/* Returns 1 to stop, 0 to go on, -1 on a protocol error. */
static int
serve_frame(struct serve *s, struct frame *f)
{
	switch (f->type) {
	case FRAME_S_INPUT:
		serve_input(s, f);
		return 0;
	case FRAME_S_INIT:
	case FRAME_S_LOAD:
	case FRAME_S_LOAD_FD:
		serve_start(s, f);
		return 0;
	case FRAME_S_SERIALIZE:
		serve_serialize(s, f);
		return 0;
	case FRAME_S_CONFIG:
		serve_config(s, f);
		return 0;
	case FRAME_S_SNAPFILE:
		serve_snapfile(s, f);
		return 0;
	case FRAME_S_ARG:
		if (s->started || state_set_arg((int)f->id, f->payload,
		    f->len) == -1) {
			fprintf(stderr, "%s: bad ARG frame from the supervisor"
			    "\n", smsup_machine.name);
			return -1;
		}
		return 0;
	case FRAME_S_STOP:
		return 1;
	default:
		fprintf(stderr, "%s: unexpected frame type 0x%02x from the "
		    "supervisor\n", smsup_machine.name, f->type);
		return -1;
	}
}

/*
 * The progress page the supervisor gave us (SMSUP_PROGRESS_FD): mapped,
 * its descriptor closed. Without one, the supervisor has to replay what
 * we had one input at a time to find the one we died in.
 */
static void
serve_progress_map(void)
{
	const char	*env = getenv("SMSUP_PROGRESS_FD");
	char		*end;
	long		 fd;
	void		*p;

	if (env == NULL)
		return;
	errno = 0;
	fd = strtol(env, &end, 10);
	unsetenv("SMSUP_PROGRESS_FD");
	if (errno != 0 || *end != '\0' || fd < 3 || fd > INT_MAX)
		return;
	p = mmap(NULL, PROGRESS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    (int)fd, 0);
	close((int)fd);
	if (p == MAP_FAILED)
		return;
	serve_progress = p;
	serve_progress->in_step = 0;
	__atomic_store_n(&serve_progress->magic, PROGRESS_MAGIC,
	    __ATOMIC_RELEASE);
}

/* Serve the supervisor on fd until it says STOP or closes; exit status. */
int
serve_run(int fd, void *state)
{
	struct serve	 s;
	struct frame	 f;
	ssize_t		 n;
	const char	*env;
	uint64_t	 batch;
	int		 rc, wait, done = 0;

	memset(&s, 0, sizeof s);
	s.fd = fd;
	s.snapfd = s.childfd = -1;
	s.last_len = serve_guess_len();
	serve_fork_min = SERVE_FORK_MIN;
	if ((env = getenv("SMSUP_SNAPSHOT_FORK_MIN")) != NULL)
		serve_fork_min = strtoull(env, NULL, 10);
	chan_init(&s.ch, fd);
	s.state = state;
	s.lim.max = FRAME_MAX_DEFAULT;
	s.lim.image_max = FRAME_IMAGE_MAX_DEFAULT;
	s.image_max = FRAME_IMAGE_MAX_DEFAULT - 4096;
	serve_crash_hooks(&s);
	serve_progress_map();
	if (serve_hello(&s) == -1)
		return 1;

	while (!done) {
		/* Room for a read and for the terminator serve_input adds. */
		if (buf_reserve(&s.in, 65536) == -1)
			return 1;
		/*
		 * Idle with inputs since the snapshot: wake up when it is due;
		 * with a snapshot child, when it is done.
		 */
		if ((wait = serve_wait_ms(&s)) >= 0 || s.child > 0) {
			struct pollfd	 pfd[2] = { { fd, POLLIN, 0 },
					    { s.childfd, POLLIN, 0 } };

			rc = poll(pfd, s.child > 0 ? 2 : 1, wait);
			if (rc == -1 && errno != EINTR)
				return 1;
			if (rc > 0 && s.child > 0 && pfd[1].revents != 0)
				serve_snapshot_reap(&s);
			if (rc == 0)
				serve_snapshot(&s, 1);
			if (rc <= 0 || pfd[0].revents == 0) {
				if (serve_flush(&s) == -1)
					return 1;
				continue;
			}
		}
		n = chan_recv(&s.ch, s.in.data + s.in.len,
		    s.in.cap - s.in.len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return 1;
		if (n == 0)
			break;
		s.in.len += (size_t)n;
		f.len = 0;
		batch = serve_coarse_ms();
		while ((rc = frame_parse(buf_head(&s.in), buf_used(&s.in),
		    &s.lim, &f)) == FRAME_OK) {
			if (frame_has_fd(f.type))
				f.fd = chan_take(&s.ch);
			/*
			 * Answers of a long batch go as they come: the
			 * supervisor's step deadline counts from the last.
			 */
			if (f.type == FRAME_S_INPUT && buf_used(&s.out) > 0 &&
			    serve_coarse_ms() - batch >= SERVE_FLUSH_MS) {
				if (serve_flush(&s) == -1)
					return 1;
				batch = serve_coarse_ms();
			}
			rc = serve_frame(&s, &f);
			if (f.fd != -1)
				close(f.fd);
			buf_consume(&s.in, FRAME_HDR_LEN + f.len);
			if (rc == -1)
				return 1;
			if (rc == 1) {
				done = 1;
				break;
			}
		}
		if (rc < 0 && !done) {
			fprintf(stderr, "%s: %s\n", smsup_machine.name,
			    frame_strerror(rc));
			return 1;
		}
		if (rc == FRAME_MORE && f.len > 0 &&
		    buf_reserve(&s.in, FRAME_HDR_LEN + f.len + 1) == -1)
			return 1;
		serve_snapshot(&s, 0);
		if (serve_flush(&s) == -1)
			return 1;
	}
	serve_snapshot_abandon(&s);
	if (s.started && smsup_machine.destroy != NULL)
		smsup_machine.destroy(state);
	serve_self = NULL;
	chan_close(&s.ch);
	buf_free(&s.in);
	buf_free(&s.out);
	return 0;
}
