/*
 * server-client.c: one client connected to the control socket: decode its
 * requests, hand them to machines and upgrades, and send the answers. A
 * malformed or unknown request is answered with an error and the client is
 * dropped; other clients are not affected.
 */
#include <sys/socket.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "smsup.h"

struct client {
	LIST_ENTRY(client)	 entry;
	struct peer		*peer;
	int			 refs;	/* 1 + one per answer owed */
	int			 gone;
	int			 finishing; /* reads no more; closes when done */
	pid_t			 pid;	/* SO_PEERCRED, for traces; 0 unknown */
};

static LIST_HEAD(, client)	 clients = LIST_HEAD_INITIALIZER(clients);
size_t				 server_input_max = FRAME_MAX_DEFAULT;
int				 server_nclients;	/* connected */

static void	server_client_dispatch(struct peer *, const struct frame *,
		    void *);
static void	server_client_lost(struct peer *, const char *, void *);
static void	server_client_eof(struct peer *, const char *, int, void *);

struct client *
server_client_new(int fd)
{
	/* Room for an input of --max-input, or for any other request. */
	const size_t		 max = server_input_max + 4096 < 16384 ?
	    16384 : server_input_max + 4096;
	const struct frame_limits lim = { max, max };
	struct client	*c;
	struct ucred	 cred;
	socklen_t	 clen = sizeof cred;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->refs = 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		c->pid = cred.pid;
	if ((c->peer = peer_new(fd, &lim, server_client_dispatch,
	    server_client_lost, c)) == NULL) {
		free(c);
		return NULL;
	}
	peer_set_stop(c->peer, server_client_eof);
	peer_set_out_high(c->peer, CLIENT_BACKLOG_BYTES);
	peer_set_budget(c->peer);
	LIST_INSERT_HEAD(&clients, c, entry);
	server_nclients++;
	return c;
}

/* On the way out: one last try to write every client's answers. */
void
server_client_flush_all(void)
{
	struct client	*c;

	LIST_FOREACH(c, &clients, entry)
		if (!c->gone)
			peer_flush_now(c->peer);
}

pid_t
server_client_pid(const struct client *c)
{
	return c->pid;
}

/* Stop (+1) or resume (-1) reading c's requests: backpressure. */
void
server_client_hold(struct client *c, int delta)
{
	if (!c->gone)
		peer_hold(c->peer, delta);
}

/* Bytes queued for c and not yet written (its trace lags this much). */
size_t
server_client_backlog(const struct client *c)
{
	return c->gone ? 0 : buf_used(peer_wbuf(c->peer));
}

void
server_client_ref(struct client *c)
{
	c->refs++;
}

/*
 * Drop a reference. A finishing client is closed once nothing but its own
 * reference is left: every answer it was owed has been queued.
 */
void
server_client_unref(struct client *c)
{
	if (--c->refs == 0)
		free(c);
	else if (c->refs == 1 && c->finishing && !c->gone)
		peer_finish(c->peer);	/* may free c */
}

/* Read no more from c; close it once every answer it is owed is out. */
static void
server_client_finish(struct client *c)
{
	if (c->finishing || c->gone)
		return;
	c->finishing = 1;
	/*
	 * Its traces end (dropping their references); the last unref then
	 * closes it if nothing else is owed, and may free it.
	 */
	server_client_ref(c);
	inspect_client_gone(c);
	server_client_unref(c);
}

/* EOF (a half-close) or a malformed frame: answer what is owed, then close. */
static void
server_client_eof(struct peer *p, const char *why, int malformed, void *arg)
{
	struct client	*c = arg;

	(void)p;
	if (malformed) {
		log_warnx("client sent a bad frame (%s): dropped", why);
		server_client_reply(c, FRAME_R_ERROR, 0, why, strlen(why));
	}
	server_client_finish(c);
}

static void
server_client_drop(struct client *c)
{
	if (c->gone)
		return;
	c->gone = 1;
	inspect_client_gone(c);
	LIST_REMOVE(c, entry);
	server_nclients--;
	server_client_left();
	peer_free(c->peer);
	c->peer = NULL;
	server_client_unref(c);
}

void
server_client_reply(struct client *c, uint8_t type, uint64_t id,
    const void *data, size_t len)
{
	if (c->gone)
		return;
	if (peer_send(c->peer, type, id, data, len) == -1)
		server_client_drop(c);
}

/* Whether this client asked to be given descriptors. */
int
server_client_takes_fds(const struct client *c)
{
	return !c->gone && peer_takes_fds(c->peer);
}

/*
 * A reply with a descriptor (a dup goes): -1 if this client takes none.
 * One that does but has too many queued gets an error instead.
 */
int
server_client_reply_fd(struct client *c, uint8_t type, uint64_t id,
    const void *data, size_t len, int fd)
{
	if (c->gone)
		return 0;
	if (!peer_takes_fds(c->peer))
		return -1;
	if (peer_send_fd(c->peer, type, id, data, len, fd) == -1)
		server_client_replyf(c, FRAME_R_ERROR, id, "cannot pass the "
		    "state image: too many wait for this client to read them");
	return 0;
}

void
server_client_replyf(struct client *c, uint8_t type, uint64_t id,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 text[1024];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof text)
		n = sizeof text - 1;
	server_client_reply(c, type, id, text, (size_t)n);
}

static void
server_client_lost(struct peer *p, const char *why, void *arg)
{
	struct client	*c = arg;

	(void)p;
	log_debug("client %s", why);
	server_client_drop(c);
}

static struct machine *
server_client_machine(struct client *c, uint64_t id, const char *name)
{
	struct machine	*m;

	if ((m = machine_find(name)) == NULL)
		server_client_replyf(c, FRAME_R_ERROR, id, "no such machine: "
		    "%s", name);
	return m;
}

/*
 * A request whose payload is one machine name: 1 with *mp set, 0 if there
 * is no such machine (answered), -1 if malformed.
 */
static int
server_client_named(struct client *c, const struct frame *f,
    struct machine **mp)
{
	struct msg_reader	 r;
	char			 name[SMSUP_NAME_MAX + 1];

	msg_init(&r, f->payload, f->len);
	msg_get_str(&r, name, sizeof name);
	if (msg_end(&r) == -1)
		return -1;
	return (*mp = server_client_machine(c, f->id, name)) != NULL;
}

static int
server_client_input(struct client *c, const struct frame *f)
{
	struct msg_reader	 r;
	struct machine		*m;
	const uint8_t		*in;
	size_t			 len;
	char			 name[SMSUP_NAME_MAX + 1], err[512];
	int			 call = f->type == FRAME_C_CALL;

	msg_init(&r, f->payload, f->len);
	msg_get_str(&r, name, sizeof name);
	msg_get_bytes(&r, &in, &len);
	if (msg_end(&r) == -1)
		return -1;
	/* In a cluster, the leader proposes it; every node applies it. */
	if (cluster_server_active() && !cluster_server_leads(c, f->id))
		return 0;
	if ((m = server_client_machine(c, f->id, name)) == NULL)
		return 0;
	if (len > server_input_max) {
		server_client_replyf(c, FRAME_R_ERROR, f->id, "input of %zu "
		    "bytes is larger than the cap of %zu (--max-input)", len,
		    server_input_max);
		return 0;
	}
	if (server_shutting_down) {
		server_client_replyf(c, FRAME_R_ERROR, f->id, "supervisor is "
		    "shutting down");
		return 0;
	}
	/* Too far behind: not now; this very request waits, unread. */
	if ((m->state == MS_RUNNING || m->state == MS_STARTING ||
	    m->state == MS_RESTARTING) && backlog_full(m)) {
		backlog_throttle(m, c);
		peer_defer(c->peer);
		return 0;
	}
	if (cluster_server_active()) {
		cluster_server_input(c, f->id, call, name, in, len);
		return 0;
	}
	if (machine_input(m, call ? c : NULL, f->id, in, len, err,
	    sizeof err) == -1) {
		server_client_reply(c, FRAME_R_ERROR, f->id, err, strlen(err));
		return 0;
	}
	if (m->ntracers > 0)
		inspect_input(m, c, call, m->next_seq - 1, in, len);
	if (!call && machine_ack_durable(m, c, f->id) == -1)
		server_client_reply(c, FRAME_R_ACCEPTED, f->id, NULL, 0);
	return 0;
}

/* Whether a STATUS request names machine name (no names: every one). */
static int
server_client_wants(const struct frame *f, const char *name)
{
	struct msg_reader	 r;
	char			 want[SMSUP_NAME_MAX + 1];
	uint32_t		 n, i;

	msg_init(&r, f->payload, f->len);
	msg_get_u32(&r, &n);
	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (msg_get_str(&r, want, sizeof want) == 0 &&
		    strcmp(want, name) == 0)
			return 1;
	return 0;
}

static int
server_client_status(struct client *c, const struct frame *f)
{
	struct msg_reader	 r;
	struct machine		*m;
	struct buf		 b = { 0 };
	char			 name[SMSUP_NAME_MAX + 1];
	uint32_t		 n, i, rows = 0, flags = 0;

	msg_init(&r, f->payload, f->len);
	if (msg_get_u32(&r, &n) == -1 || n > 4096)
		return -1;
	/* Check every name first: one unknown name is an error. */
	for (i = 0; i < n; i++) {
		if (msg_get_str(&r, name, sizeof name) == -1)
			return -1;
		if (server_client_machine(c, f->id, name) == NULL)
			return 0;
	}
	if (r.off < r.len)
		msg_get_u32(&r, &flags);	/* STATUS_DETAIL */
	if (msg_end(&r) == -1)
		return -1;
	msg_put_u32(&b, 0);
	TAILQ_FOREACH(m, &machines, entry) {
		if (!server_client_wants(f, m->name))
			continue;
		status_row_put(m, &b, flags);
		rows++;
	}
	msg_setle32(b.data, rows);
	server_client_reply(c, FRAME_R_STATUS, f->id, b.data, b.len);
	buf_free(&b);
	return 0;
}

static int
server_client_run(struct client *c, const struct frame *f)
{
	struct msg_reader	 r;
	struct machine		*m;
	struct machine_opts	 opts;
	char			 name[SMSUP_NAME_MAX + 1], path[PATH_MAX];
	char			 err[512];

	msg_init(&r, f->payload, f->len);
	msg_get_str(&r, name, sizeof name);
	msg_get_str(&r, path, sizeof path);
	if (opts_decode(&r, &opts) == -1 || msg_end(&r) == -1 ||
	    !image_name_valid(name) || path[0] != '/')
		return -1;
	if (server_shutting_down) {
		server_client_replyf(c, FRAME_R_ERROR, f->id, "supervisor is "
		    "shutting down");
		return 0;
	}
	if (cluster_server_active()) {
		cluster_server_run(c, f->id, name, path);
		return 0;
	}
	if ((m = machine_find(name)) == NULL) {
		if ((m = machine_start(name, path, &opts, err, sizeof err)) ==
		    NULL)
			server_client_replyf(c, FRAME_R_ERROR, f->id, "%s: %s",
			    name, err);
		else
			machine_wait(m, c, f->id);
		return 0;
	}
	if (strcmp(m->path, path) != 0 && m->state != MS_FAILED) {
		server_client_replyf(c, FRAME_R_ERROR, f->id, "%s already runs "
		    "%s (use smsup upgrade %s=%s)", name, m->path, name, path);
		return 0;
	}
	switch (m->state) {
	case MS_RUNNING:
		server_client_replyf(c, FRAME_R_OK, f->id, "%s: already "
		    "running version %s (pid %ld)", name, m->version,
		    m->worker ? (long)m->worker->pid : 0L);
		break;
	case MS_STARTING:
	case MS_RESTARTING:
		machine_wait(m, c, f->id);
		break;
	case MS_STOPPING:
		server_client_replyf(c, FRAME_R_ERROR, f->id, "%s is stopping",
		    name);
		break;
	case MS_FAILED:
		if (opts.fresh) {
			server_client_replyf(c, FRAME_R_ERROR, f->id, "%s: stop "
			    "it first (smsup stop %s) to start afresh", name,
			    name);
			break;
		}
		free(m->path);
		opts.durability = m->opts.durability;	/* its store stays */
		m->opts = opts;
		if ((m->path = strdup(path)) == NULL ||
		    machine_restart(m, err, sizeof err) == -1) {
			server_client_replyf(c, FRAME_R_ERROR, f->id, "%s: %s",
			    name, m->path ? err : "out of memory");
			break;
		}
		machine_wait(m, c, f->id);
		break;
	}
	return 0;
}

/* UPGRADE --dry-run: one machine, rehearsed; the answer takes a memfd. */
static int
server_client_dry_run(struct client *c, uint64_t id,
    const struct upgrade_spec *spec, uint32_t n, const char *extra,
    double timeout)
{
	struct machine	*m;
	char		 err[512];

	if (n != 1) {
		server_client_replyf(c, FRAME_R_ERROR, id, "upgrade --dry-run "
		    "rehearses one machine at a time");
		return 0;
	}
	if ((m = server_client_machine(c, id, spec->name)) == NULL)
		return 0;
	peer_give_fds(c->peer);
	if (rehearse_start(m, spec->path, extra, timeout, c, id, err,
	    sizeof err) == -1)
		server_client_reply(c, FRAME_R_ERROR, id, err, strlen(err));
	return 0;
}

static int
server_client_upgrade(struct client *c, const struct frame *f)
{
	struct msg_reader	 r;
	struct upgrade_spec	*specs;
	uint32_t		 flags, timeout_ms, probation_ms, n, i;
	uint32_t		 has_extra = 0;
	char			 err[512], extra[OPTS_ARG_MAX + 1];
	int			 rc = 0;

	msg_init(&r, f->payload, f->len);
	msg_get_u32(&r, &flags);
	msg_get_u32(&r, &timeout_ms);
	msg_get_u32(&r, &probation_ms);
	if (msg_get_u32(&r, &n) == -1 || n == 0 || n > SMSUP_UPGRADE_MAX)
		return -1;
	if ((specs = calloc(n, sizeof *specs)) == NULL) {
		server_client_replyf(c, FRAME_R_ERROR, f->id, "out of memory");
		return 0;
	}
	for (i = 0; i < n; i++) {
		msg_get_str(&r, specs[i].name, sizeof specs[i].name);
		msg_get_str(&r, specs[i].path, sizeof specs[i].path);
		if (specs[i].path[0] != '\0' && specs[i].path[0] != '/')
			r.err = 1;
	}
	/* Came later: u32 1 and the text of --extra. */
	if (r.off < r.len && msg_get_u32(&r, &has_extra) == 0 &&
	    has_extra == 1)
		msg_get_str(&r, extra, sizeof extra);
	else if (has_extra != 0)
		r.err = 1;
	if (msg_end(&r) == -1)
		rc = -1;
	else if (flags & UPGRADE_DRY_RUN)
		rc = server_client_dry_run(c, f->id, specs, n, has_extra ?
		    extra : NULL, timeout_ms / 1000.);
	else if (upgrade_request(specs, (int)n, flags, timeout_ms / 1000.,
	    probation_ms == UINT32_MAX ? -1. : probation_ms / 1000.,
	    has_extra ? extra : NULL, c, f->id, err, sizeof err) == -1)
		server_client_reply(c, FRAME_R_ERROR, f->id, err, strlen(err));
	free(specs);
	return rc;
}

/* RESTART: a failed machine starts again from its saved state. */
static int
server_client_restart(struct client *c, const struct frame *f)
{
	struct machine	*m;
	char		 err[512];
	int		 rc;

	if ((rc = server_client_named(c, f, &m)) != 1)
		return rc;
	if (machine_restart(m, err, sizeof err) == -1)
		server_client_replyf(c, FRAME_R_ERROR, f->id, "%s (only a "
		    "failed machine restarts)", err);
	else
		machine_wait(m, c, f->id);
	return 0;
}

static int
server_client_history(struct client *c, const struct frame *f)
{
	struct machine	*m;
	struct buf	 b = { 0 };
	int		 rc;

	if ((rc = server_client_named(c, f, &m)) != 1)
		return rc;
	upgrade_report_rows(m, &b);
	server_client_reply(c, FRAME_R_HISTORY, f->id, b.data, b.len);
	buf_free(&b);
	return 0;
}

/*
 * STATE: the image, once the worker has applied what came before. A
 * client that takes descriptors (STATE_TAKES_FD) is given a large one's
 * memfd, as the worker made it: its bytes never cross our memory.
 */
static int
server_client_state(struct client *c, const struct frame *f)
{
	struct msg_reader	 r;
	struct machine		*m;
	char			 name[SMSUP_NAME_MAX + 1], err[512];
	uint32_t		 flags = 0;

	msg_init(&r, f->payload, f->len);
	msg_get_str(&r, name, sizeof name);
	/* Clients before descriptors send the name alone. */
	if (r.off < r.len)
		msg_get_u32(&r, &flags);
	if (msg_end(&r) == -1)
		return -1;
	if ((m = server_client_machine(c, f->id, name)) == NULL)
		return 0;
	if (flags & STATE_TAKES_FD)
		peer_give_fds(c->peer);
	if (inspect_query(m, c, f->id, err, sizeof err) == -1)
		server_client_reply(c, FRAME_R_ERROR, f->id, err, strlen(err));
	return 0;
}

/* TRACE: R_OK, then one R_TRACE per event until the client hangs up. */
static int
server_client_trace(struct client *c, const struct frame *f)
{
	struct msg_reader	 r;
	struct machine		*m;
	char			 name[SMSUP_NAME_MAX + 1];
	uint32_t		 flags;

	msg_init(&r, f->payload, f->len);
	msg_get_str(&r, name, sizeof name);
	msg_get_u32(&r, &flags);
	if (msg_end(&r) == -1)
		return -1;
	if ((m = server_client_machine(c, f->id, name)) == NULL)
		return 0;
	if (inspect_trace(m, c, f->id, !(flags & TRACE_NO_STATE)) == -1) {
		server_client_replyf(c, FRAME_R_ERROR, f->id, "out of memory");
		return 0;
	}
	if (m->worker != NULL && m->ready)
		server_client_replyf(c, FRAME_R_OK, f->id, "tracing %s: version "
		    "%s, pid %ld, %s", m->name, m->version,
		    (long)m->worker->pid, machine_state_name(m));
	else
		server_client_replyf(c, FRAME_R_OK, f->id, "tracing %s: %s",
		    m->name, machine_state_name(m));
	return 0;
}

static int
server_client_stop(struct client *c, const struct frame *f)
{
	struct machine	*m;
	char		 err[512];
	int		 rc;

	if ((rc = server_client_named(c, f, &m)) != 1)
		return rc;
	if (cluster_server_active()) {
		if (cluster_server_leads(c, f->id))
			cluster_server_stop_machine(c, f->id, m->name);
		return 0;
	}
	switch (machine_stop(m, c, f->id, err, sizeof err)) {
	case -1:
		server_client_reply(c, FRAME_R_ERROR, f->id, err, strlen(err));
		break;
	case 1:
		server_client_replyf(c, FRAME_R_OK, f->id, "stopped");
		break;
	}
	return 0;
}

static void
server_client_dispatch(struct peer *p, const struct frame *f, void *arg)
{
	struct client	*c = arg;
	int		 rc;

	(void)p;
	switch (f->type) {
	case FRAME_C_CALL:
	case FRAME_C_SEND:
		rc = server_client_input(c, f);
		break;
	case FRAME_C_STATUS:
		rc = server_client_status(c, f);
		break;
	case FRAME_C_RUN:
		rc = server_client_run(c, f);
		break;
	case FRAME_C_UPGRADE:
		rc = server_client_upgrade(c, f);
		break;
	case FRAME_C_STOP:
		rc = server_client_stop(c, f);
		break;
	case FRAME_C_HISTORY:
		rc = server_client_history(c, f);
		break;
	case FRAME_C_RESTART:
		rc = server_client_restart(c, f);
		break;
	case FRAME_C_STATE:
		rc = server_client_state(c, f);
		break;
	case FRAME_C_TRACE:
		rc = server_client_trace(c, f);
		break;
	case FRAME_C_CLUSTER:
		rc = cluster_server_request(c, f);
		break;
	case FRAME_C_SHUTDOWN:
		server_client_replyf(c, FRAME_R_OK, f->id, "shutting down");
		server_shutdown();
		return;
	default:
		log_warnx("client sent unknown request type 0x%02x: dropped",
		    f->type);
		server_client_replyf(c, FRAME_R_ERROR, f->id, "unknown request "
		    "type 0x%02x", f->type);
		peer_stop(c->peer);
		server_client_finish(c);
		return;
	}
	if (rc == -1) {
		log_warnx("client sent a malformed %s request: dropped",
		    frame_type_name(f->type));
		server_client_replyf(c, FRAME_R_ERROR, f->id, "malformed %s "
		    "request", frame_type_name(f->type));
		peer_stop(c->peer);
		server_client_finish(c);
	}
}
