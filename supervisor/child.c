/*
 * child.c: worker processes. A child is started by child-exec.c from the
 * binary paths.c checked (by its descriptor, never through a shell), with
 * its end of a socketpair as fd 3 (SMSUP_FD=3), its progress page as fd 4
 * (SMSUP_PROGRESS_FD=4, see progress.h), its stdout and stderr a pipe
 * whose lines go to our log, each after "NAME[PID]: " (at most
 * CHILD_LINES_MAX a second; the rest are counted), a small explicit
 * environment and no other descriptor of ours; it leads a session of its
 * own, which goes with it when we kill it. It is gone once both its
 * exit status and the end of its channel have been seen: then its owner's
 * gone callback runs, once, with the reason (an exit of its own says its
 * last line of output too: a worker that cannot start says why on
 * stderr), and the child is freed.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "progress.h"
#include "smsup.h"

extern char	**environ;

#define CHILD_LINE_MAX	512	/* bytes of a line of the worker's logged */
#define CHILD_LINES_MAX	100	/* lines a second */

/* What a worker writes on stdout and stderr (child->out). */
struct child_out {
	ev_io		 io;
	char		 name[SMSUP_NAME_MAX + 1];
	char		 line[CHILD_LINE_MAX + 1];
	size_t		 len;
	int		 cut;		/* the line is longer: rest skipped */
	ev_tstamp	 second;	/* lines are counted a second */
	unsigned	 lines;
	uint64_t	 skipped;
};

static void	child_exit_cb(struct ev_loop *, ev_child *, int);
static void	child_peer_frame(struct peer *, const struct frame *, void *);
static void	child_peer_lost(struct peer *, const char *, void *);

/* "exited with status 1", "killed by signal 11 (Segmentation fault)". */
void
child_describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "ended with status 0x%x", status);
}

/* Whether variable `var` (NAME=VALUE) is in the list (names, separated). */
static int
child_env_listed(const char *var, const char *list)
{
	size_t	 n = strcspn(var, "="), k;

	while (list != NULL && *list != '\0') {
		list += strspn(list, " ,:");
		k = strcspn(list, " ,:");
		if (k == n && k > 0 && strncmp(var, list, n) == 0)
			return 1;
		list += k;
	}
	return 0;
}

/*
 * The worker's environment: explicit and small. Of ours, only the
 * variables of CHILD_ENV_PASS and of $SMSUP_WORKER_ENV (names separated by
 * spaces, commas or colons), then SMSUP_FD=3 and SMSUP_MACHINE=name.
 */
#define CHILD_ENV_PASS	"PATH HOME USER LOGNAME LANG LC_ALL LC_CTYPE " \
			"LC_MESSAGES TZ TMPDIR"
static char **
child_env(const char *name, char *machine, size_t len)
{
	const char	 *extra = getenv("SMSUP_WORKER_ENV");
	char		**env;
	size_t		  n, i, j;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 4, sizeof *env)) == NULL)
		return NULL;
	for (i = j = 0; i < n; i++)
		if (strncmp(environ[i], "SMSUP_", 6) != 0 &&
		    (child_env_listed(environ[i], CHILD_ENV_PASS) ||
		    child_env_listed(environ[i], extra)))
			env[j++] = environ[i];
	env[j++] = "SMSUP_FD=3";
	env[j++] = "SMSUP_PROGRESS_FD=4";
	snprintf(machine, len, "SMSUP_MACHINE=%s", name);
	env[j++] = machine;
	env[j] = NULL;
	return env;
}

/* One line of the worker's: to the log, escaped, within the rate. */
static void
child_out_line(struct child *c)
{
	struct child_out	*o = c->out;
	ev_tstamp		 now = ev_now(EV_DEFAULT);
	size_t			 i;

	if (now - o->second >= 1) {
		if (o->skipped > 0)
			log_warnx("%s[%ld]: %llu more lines not logged", o->name,
			    (long)c->pid, (unsigned long long)o->skipped);
		o->second = now;
		o->lines = 0;
		o->skipped = 0;
	}
	for (i = 0; i < o->len; i++)
		if ((unsigned char)o->line[i] < 0x20 || o->line[i] == 0x7f)
			o->line[i] = '?';
	if (o->len > 0)
		snprintf(c->last, sizeof c->last, "%.*s%s", (int)o->len,
		    o->line, o->cut ? "..." : "");
	if (o->lines++ >= CHILD_LINES_MAX) {
		o->skipped++;
		return;
	}
	log_info("%s[%ld]: %.*s%s", o->name, (long)c->pid, (int)o->len,
	    o->line, o->cut ? "..." : "");
}

/* Read what the worker wrote; at its end, log what is left. */
static void
child_out_read(struct child *c)
{
	struct child_out	*o = c->out;
	char			 b[4096], *nl, *p;
	ssize_t			 n;
	size_t			 k;

	for (;;) {
		n = read(o->io.fd, b, sizeof b);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (p = b; p < b + n; p += k) {
			nl = memchr(p, '\n', (size_t)(b + n - p));
			k = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(b + n - p);
			if (o->len + k - (nl != NULL) <= CHILD_LINE_MAX) {
				memcpy(o->line + o->len, p, k - (nl != NULL));
				o->len += k - (nl != NULL);
			} else
				o->cut = 1;
			if (nl != NULL) {
				child_out_line(c);
				o->len = 0;
				o->cut = 0;
			}
		}
	}
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		if (o->len > 0)
			child_out_line(c);
		ev_io_stop(EV_DEFAULT, &o->io);
		close(o->io.fd);
		free(o);
		c->out = NULL;
	}
}

static void
child_out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	child_out_read(w->data);
}

/* The child is gone: what it wrote is logged, its pipe closed. */
static void
child_out_close(struct child *c)
{
	if (c->out == NULL)
		return;
	child_out_read(c);
	if (c->out == NULL)
		return;
	if (c->out->len > 0)
		child_out_line(c);
	ev_io_stop(EV_DEFAULT, &c->out->io);
	close(c->out->io.fd);
	free(c->out);
	c->out = NULL;
}

/* A page for the child to say which input it applies (progress.h). */
static int
child_progress_page(struct child *c)
{
	int	 fd;
	void	*p;

	fd = memfd_create("smsup-progress", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return -1;
	/* Sealed: a worker that shrank it would make our reads fault. */
	if (ftruncate(fd, PROGRESS_SIZE) == -1 || fcntl(fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == -1 ||
	    (p = mmap(NULL, PROGRESS_SIZE, PROT_READ, MAP_SHARED, fd, 0)) ==
	    MAP_FAILED) {
		close(fd);
		return -1;
	}
	c->progress = p;
	return fd;
}

/*
 * Spawn the worker binary at path for machine name. The callbacks get its
 * frames and its end. NULL with err set if it could not be started.
 */
struct child *
child_spawn(const char *path, const char *name,
    const struct machine_opts *o, child_frame_cb *frame, child_gone_cb *gone,
    void *arg, char *err, size_t errlen)
{
	static const struct frame_limits lim = {
		FRAME_MAX_DEFAULT, FRAME_IMAGE_MAX_DEFAULT
	};
	struct child	*c;
	char		*argv[2], **env, machine[128];
	int		 sv[2], out[2], bin, page, rc;

	if ((bin = paths_open_binary(path, err, errlen)) == -1)
		return NULL;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(bin);
		return NULL;
	}
	c->snapfd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		close(bin);
		free(c);
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) == -1 || (c->out = calloc(1,
	    sizeof *c->out)) == NULL) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(bin);
		close(sv[0]);
		close(sv[1]);
		free(c);
		return NULL;
	}
	if ((page = child_progress_page(c)) == -1)
		log_warn("%s: no progress page", name);

	argv[0] = (char *)path;
	argv[1] = NULL;
	env = child_env(name, machine, sizeof machine);
	err[0] = '\0';
	if (env == NULL)
		rc = ENOMEM;
	else
		rc = child_exec(&c->pid, bin, path, argv, env, sv[1], page,
		    out[1], o, err, errlen);
	free(env);
	close(bin);
	close(sv[1]);
	close(out[1]);
	if (page != -1)
		close(page);
	if (rc != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: cannot execute: %s", path,
			    strerror(rc));
		close(sv[0]);
		close(out[0]);
		free(c->out);
		if (c->progress != NULL)
			munmap((void *)c->progress, PROGRESS_SIZE);
		free(c);
		return NULL;
	}
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	snprintf(c->out->name, sizeof c->out->name, "%s", name);
	ev_io_init(&c->out->io, child_out_cb, out[0], EV_READ);
	c->out->io.data = c;
	ev_io_start(EV_DEFAULT, &c->out->io);

	/* The child watcher starts now, in this callback (libev reaps). */
	ev_child_init(&c->cw, child_exit_cb, c->pid, 0);
	c->cw.data = c;
	ev_child_start(EV_DEFAULT, &c->cw);

	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	c->peer = peer_new(sv[0], &lim, child_peer_frame, child_peer_lost, c);
	if (c->peer == NULL) {
		close(sv[0]);
		kill(c->pid, SIGKILL);
		c->frame = NULL;
		c->gone = NULL;
		snprintf(err, errlen, "out of memory");
		return NULL;	/* freed by child_exit_cb */
	}
	peer_pass_fds(c->peer);
	c->frame = frame;
	c->gone = gone;
	c->arg = arg;
	c->started = units_now();
	return c;
}

/*
 * Whether the child is inside an input, by its progress page: 1 with *seq
 * set, 0 if not, -1 if it does not say (no page, or a worker that does
 * not use it).
 */
int
child_progress(const struct child *c, uint64_t *seq)
{
	const volatile struct progress_page *p = c->progress;

	if (p == NULL || p->magic != PROGRESS_MAGIC)
		return -1;
	if (__atomic_load_n(&c->progress->in_step, __ATOMIC_ACQUIRE) == 0)
		return 0;
	*seq = p->seq;
	return 1;
}

/* Both the exit status and the channel's end are in: report and free. */
static void
child_finish(struct child *c, const char *why)
{
	char		 reason[512];
	child_gone_cb	*gone = c->gone;
	size_t		 n;

	if (!c->exited || c->peer != NULL || c->busy)
		return;
	/* What it wrote before it went, for its last words. */
	if (c->out != NULL)
		child_out_read(c);
	if (c->out != NULL && c->out->len > 0) {
		child_out_line(c);
		c->out->len = 0;
		c->out->cut = 0;
	}
	if (gone != NULL) {
		if (why != NULL)
			snprintf(reason, sizeof reason, "%s", why);
		else if (c->killed[0] != '\0')
			snprintf(reason, sizeof reason, "%s", c->killed);
		else if (c->broke[0] != '\0')
			snprintf(reason, sizeof reason, "broke the protocol: %s",
			    c->broke);
		else {
			child_describe_exit(c->status, reason, sizeof reason);
			n = strlen(reason);
			if (c->last[0] != '\0')
				snprintf(reason + n, sizeof reason - n,
				    ", its last words: \"%s\"", c->last);
		}
		c->gone = NULL;
		c->frame = NULL;
		gone(c, reason);
	}
	child_out_close(c);
	if (c->progress != NULL)
		munmap((void *)c->progress, PROGRESS_SIZE);
	if (c->snapfd != -1)
		close(c->snapfd);
	free(c->from);
	free(c);
}

static void
child_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child	*c = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	c->exited = 1;
	c->status = w->rstatus;
	/* Frames it wrote before exiting may still be unread: take them. */
	c->busy = 1;
	if (c->peer != NULL)
		peer_drain(c->peer);
	if (c->peer != NULL) {
		peer_free(c->peer);
		c->peer = NULL;
	}
	c->busy = 0;
	child_finish(c, NULL);
}

static void
child_peer_frame(struct peer *p, const struct frame *f, void *arg)
{
	struct child	*c = arg;

	(void)p;
	/* Its last words: the input it was applying when it died. */
	if (f->type == FRAME_W_CRASH) {
		c->crash_seq = f->id;
		snprintf(c->crash, sizeof c->crash, "%.*s", (int)f->len,
		    f->payload);
		return;
	}
	if (c->frame != NULL)
		c->frame(c, f);
}

/* The channel ended: a worker without its channel is of no use. */
static void
child_peer_lost(struct peer *p, const char *why, void *arg)
{
	struct child	*c = arg;

	/* Garbage or a frame too large: not trusted, whatever it does next. */
	if (peer_malformed(p) && c->broke[0] == '\0')
		snprintf(c->broke, sizeof c->broke, "%s", why);
	if (c->peer == p) {
		peer_free(p);
		c->peer = NULL;
	}
	if (!c->exited) {
		log_debug("pid %ld: channel %s: killing it", (long)c->pid, why);
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
	}
	child_finish(c, NULL);
}

/* Kill the child; its owner hears nothing more of it. */
void
child_kill(struct child *c)
{
	c->frame = NULL;
	c->gone = NULL;
	/* Its session too: what a worker forked goes with it. */
	if (!c->exited) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
	}
	if (c->peer != NULL) {
		peer_free(c->peer);
		c->peer = NULL;
	}
	child_finish(c, NULL);
}

/* Kill the child for a reason of ours; its owner hears it as gone. */
void
child_kill_why(struct child *c, const char *why)
{
	if (c->killed[0] == '\0')
		snprintf(c->killed, sizeof c->killed, "%s", why);
	if (!c->exited) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
	}
}

/* Ask the child to finish its inputs and exit; its owner is detached. */
void
child_retire(struct child *c)
{
	c->frame = NULL;
	c->gone = NULL;
	if (c->peer != NULL)
		peer_send(c->peer, FRAME_S_STOP, 0, NULL, 0);
}

/* The versions the child migrates from, as "1, 2", or "none". */
const char *
child_accepted(const struct child *c, char *out, size_t len)
{
	uint32_t	 i;
	size_t		 n = 0;

	snprintf(out, len, "none");
	for (i = 0; i < c->nfrom && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? ", " : "",
		    c->from[i]);
	return out;
}

int
child_accepts(const struct child *c, const char *version)
{
	uint32_t	 i;

	for (i = 0; i < c->nfrom; i++)
		if (strcmp(c->from[i], version) == 0)
			return 1;
	return 0;
}

/* Take a HELLO: who the binary says it is. 0, or -1 with err set. */
int
child_hello(struct child *c, const struct frame *f, char *err, size_t len)
{
	struct msg_reader	 r;
	uint32_t		 i;

	msg_init(&r, f->payload, f->len);
	msg_get_str(&r, c->type, sizeof c->type);
	msg_get_str(&r, c->version, sizeof c->version);
	msg_get_str(&r, c->format, sizeof c->format);
	msg_get_u32(&r, &c->nfrom);
	if (r.err || c->nfrom > SMSUP_MAX_FROM || (c->nfrom > 0 &&
	    (c->from = calloc(c->nfrom, sizeof *c->from)) == NULL)) {
		c->nfrom = 0;
		snprintf(err, len, "malformed HELLO");
		return -1;
	}
	for (i = 0; i < c->nfrom; i++)
		msg_get_str(&r, c->from[i], sizeof c->from[i]);
	/* Field names (worker ABI 2) are optional. */
	if (r.off < r.len && msg_get_str(&r, c->fields, sizeof c->fields) ==
	    0 && tpljson_fields_valid(c->fields, NULL, 0) == -1)
		r.err = 1;
	/* And then what it can do (worker ABI 3). */
	if (r.off < r.len)
		msg_get_u32(&r, &c->caps);
	if (msg_end(&r) == -1 || !image_name_valid(c->type) ||
	    !image_version_valid(c->version) ||
	    !image_format_valid(c->format)) {
		snprintf(err, len, "malformed HELLO");
		return -1;
	}
	c->hello = 1;
	return 0;
}

/* The worker's resident memory in bytes, from /proc; 0 if unknown. */
uint64_t
child_rss(const struct child *c)
{
	char			 path[64], line[128];
	unsigned long long	 size, rss;
	FILE			*f;
	int			 n;

	snprintf(path, sizeof path, "/proc/%ld/statm", (long)c->pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fgets(line, sizeof line, f) != NULL &&
	    sscanf(line, "%llu %llu", &size, &rss) == 2;
	fclose(f);
	return n ? (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}
