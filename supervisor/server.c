/*
 * server.c: the supervisor process: the control socket (found or created
 * under a lock, as tmux does), the signals, and an orderly shutdown.
 *
 * SIGHUP reloads the configuration file (server-conf.c), or without one
 * upgrades every machine whose binary reports a new version.
 * SIGTERM, SIGINT and `smsup shutdown` stop the machines (each answers the
 * inputs it has accepted) and exit 0; a second signal kills the workers.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup.h"

int			 server_shutting_down;
static int		 server_fd = -1;
static char		 server_path[PATH_MAX];
static ev_io		 server_accept_io;
static ev_signal	 server_sig[3];
static ev_timer		 server_shutdown_timer;
static ev_prepare	 server_prepare;

/*
 * Accepting pauses when descriptors run out (EMFILE, ENFILE: for a
 * moment, as nginx does, logged once a period) and while the clients
 * would leave too few for the machines (their workers, journals,
 * snapshots and the syncer's): new clients then wait in the listen
 * backlog, and those connected are served.
 */
#define SERVER_ACCEPT_PAUSE	0.5	/* seconds after EMFILE */
#define SERVER_FD_RESERVE	96	/* descriptors kept from clients */
#define SERVER_FD_PER_MACHINE	10	/* two workers (an upgrade), their
				   output, journal, directory, restart
				   base, snapshot file, one being written */
static ev_timer		 server_accept_timer;
static int		 server_accept_paused;	/* 1 EMFILE, 2 the cap */
static uint64_t		 server_refused;	/* since the last log */
static double		 server_refused_logged;

/* Create the socket's directory (mode 0700) if it does not exist. */
static int
server_mkdir(const char *path, char *err, size_t len)
{
	struct stat	 st;
	char		 dir[PATH_MAX], *slash;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* Ours (or root's), and nobody else may replace what is in it. */
	if (lstat(dir, &st) == -1) {
		snprintf(err, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid() &&
	    st.st_uid != 0) || ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(st.st_mode & S_ISVTX))) {
		snprintf(err, len, "%s: unsafe directory for the socket (it "
		    "must be ours, and not writable by others unless sticky)",
		    dir);
		return -1;
	}
	return 0;
}

/*
 * Become the supervisor for the socket at path: take path.lock, check that
 * nobody answers on the socket, replace a stale socket and listen. Returns
 * the listening fd (and the lock's in *lockfd), -2 if another supervisor
 * holds the lock or answers, -1 with err set.
 */
int
server_listen(const char *path, int *lockfd, char *err, size_t len)
{
	struct sockaddr_un	 sun;
	char			 lock[PATH_MAX];
	mode_t			 mask;
	int			 lfd, fd;

	if (server_mkdir(path, err, len) == -1)
		return -1;
	snprintf(lock, sizeof lock, "%s.lock", path);
	if ((lfd = paths_open_private(lock, O_RDWR | O_CREAT, err, len)) ==
	    -1)
		return -1;
	if (flock(lfd, LOCK_EX | LOCK_NB) == -1) {
		close(lfd);
		if (errno == EWOULDBLOCK)
			return -2;
		snprintf(err, len, "%s: %s", lock, strerror(errno));
		return -1;
	}
	/* Under the lock: a socket that answers belongs to a supervisor. */
	if ((fd = client_connect(path)) != -1) {
		close(fd);
		close(lfd);
		return -2;
	}
	unlink(path);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		snprintf(err, len, "socket: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	mask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		umask(mask);
		snprintf(err, len, "%s: %s", path, strerror(errno));
		close(fd);
		close(lfd);
		return -1;
	}
	umask(mask);
	*lockfd = lfd;
	return fd;
}

/*
 * Only our own user and root may talk to us (SO_PEERCRED), whatever the
 * socket's mode says. Others get a refusal that tells them nothing else.
 */
static int
server_peer_allowed(int fd)
{
	static const char	 msg[] = "permission denied";
	struct ucred		 cred;
	socklen_t		 len = sizeof cred;
	struct buf		 b = { 0 };

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED");
		return 0;
	}
	if (cred.uid == geteuid() || cred.uid == 0)
		return 1;
	log_warnx("refused a client of uid %ld (pid %ld): only uid %ld and "
	    "root may control this supervisor", (long)cred.uid,
	    (long)cred.pid, (long)geteuid());
	if (frame_put(&b, FRAME_R_ERROR, 0, msg, sizeof msg - 1) == 0)
		(void)!write(fd, buf_head(&b), buf_used(&b));
	buf_free(&b);
	return 0;
}

/* How many clients may be connected, leaving the machines their own. */
static int
server_clients_max(void)
{
	struct rlimit	 rl;
	long		 n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return INT_MAX;
	n = (long)rl.rlim_cur - SERVER_FD_RESERVE -
	    SERVER_FD_PER_MACHINE * (long)machine_count();
	return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
}

static void
server_accept_pause(int why, double seconds)
{
	if (server_accept_paused || server_fd == -1)
		return;
	server_accept_paused = why;
	ev_io_stop(EV_DEFAULT, &server_accept_io);
	if (seconds > 0) {
		ev_timer_set(&server_accept_timer, seconds, 0.);
		ev_timer_start(EV_DEFAULT, &server_accept_timer);
	}
}

static void
server_accept_resume(void)
{
	if (!server_accept_paused || server_fd == -1)
		return;
	server_accept_paused = 0;
	ev_timer_stop(EV_DEFAULT, &server_accept_timer);
	ev_io_start(EV_DEFAULT, &server_accept_io);
}

static void
server_accept_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	server_accept_resume();
}

/* A client left: accepting may go on. */
void
server_client_left(void)
{
	if (server_accept_paused == 2 && server_nclients < server_clients_max())
		server_accept_resume();
}

static void
server_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int	 fd, max = server_clients_max();

	(void)revents;
	for (;;) {
		if (server_nclients >= max) {
			if (ev_now(loop) - server_refused_logged >= 60) {
				log_warnx("%d clients connected, as many as the "
				    "descriptors allow (RLIMIT_NOFILE, less %d "
				    "for the machines): new ones wait", max,
				    SERVER_FD_RESERVE + SERVER_FD_PER_MACHINE *
				    machine_count());
				server_refused_logged = ev_now(loop);
			}
			server_accept_pause(2, 0);
			return;
		}
		fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				server_refused++;
				if (ev_now(loop) - server_refused_logged >= 60) {
					log_warnx("accept: %s: not accepting "
					    "for %gs (%llu times since the last "
					    "warning)", strerror(errno),
					    SERVER_ACCEPT_PAUSE,
					    (unsigned long long)server_refused);
					server_refused_logged = ev_now(loop);
					server_refused = 0;
				}
				server_accept_pause(1, SERVER_ACCEPT_PAUSE);
				return;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (!server_peer_allowed(fd)) {
			close(fd);
			continue;
		}
		if (server_client_new(fd) == NULL) {
			log_warnx("out of memory for a client");
			close(fd);
		}
	}
}

/* Stop listening: from now on clients find no supervisor here. */
static void
server_unlisten(void)
{
	if (server_fd == -1)
		return;
	ev_io_stop(EV_DEFAULT, &server_accept_io);
	ev_timer_stop(EV_DEFAULT, &server_accept_timer);
	close(server_fd);
	server_fd = -1;
	unlink(server_path);
}

static void
server_finish(void)
{
	server_client_flush_all();
	ev_break(EV_DEFAULT, EVBREAK_ALL);
}

void
server_machine_gone(void)
{
	if (server_shutting_down && machine_count() == 0)
		server_finish();
}

static void
server_shutdown_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct machine	*m;

	(void)loop;
	(void)w;
	(void)revents;
	TAILQ_FOREACH(m, &machines, entry)
		if (m->worker != NULL)
			kill(m->worker->pid, SIGKILL);
	log_warnx("machines not stopped in time: killed");
}

/* Stop every machine, then leave the loop. */
void
server_shutdown(void)
{
	struct machine	*m, *next;
	char		 err[256];

	if (server_shutting_down)
		return;
	server_shutting_down = 1;
	log_info("shutting down");
	notify_stopping();
	server_unlisten();
	for (m = TAILQ_FIRST(&machines); m != NULL; m = next) {
		next = TAILQ_NEXT(m, entry);
		if (m->upgrade != NULL)
			upgrade_cancel(m, "the supervisor is shutting down");
		if (machine_stop(m, NULL, 0, err, sizeof err) == -1)
			log_warnx("%s", err);
	}
	ev_timer_init(&server_shutdown_timer, server_shutdown_timer_cb,
	    SMSUP_STOP_TIMEOUT + 1, 0.);
	ev_timer_start(EV_DEFAULT, &server_shutdown_timer);
	server_machine_gone();
}

static void
server_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct machine	*m;

	(void)loop;
	(void)revents;
	if (w->signum == SIGHUP) {
		notify_reloading();
		server_conf_reload();
		return;
	}
	if (!server_shutting_down) {
		server_shutdown();
		return;
	}
	log_warnx("%s again: killing the workers", strsignal(w->signum));
	TAILQ_FOREACH(m, &machines, entry)
		if (m->worker != NULL)
			kill(m->worker->pid, SIGKILL);
	server_finish();
}

/*
 * Before the loop sleeps: what was accepted goes to the journals first,
 * then every answer and forwarded input is written out.
 */
static void
server_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	machine_persist_all();
	notify_check();
}

/*
 * Run the supervisor on the listening socket fd until shutdown, starting
 * the machines of conf (if any) and the n machines names[i]=paths[i]
 * first. Returns the exit status.
 */
int
server_loop(int fd, int lockfd, const char *path, char **names, char **paths,
    int n, const struct machine_opts *opts, const struct conf *conf)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
	struct ev_loop	*loop;
	struct rlimit	 rl;
	char		 err[512];
	int		 i;

	if ((loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("cannot initialise the event loop");
	/*
	 * Blocks of 1 MiB and more (inputs, images) are mapped on their own
	 * and given back when freed: glibc would otherwise raise the
	 * threshold and carve them from a heap that floods fragment.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	/* Two descriptors a machine (its worker, its journal), and clients. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit");
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);	/* a file size limit is an error */
	server_fd = fd;
	ev_prepare_init(&server_prepare, server_prepare_cb);
	ev_prepare_start(loop, &server_prepare);
	snprintf(server_path, sizeof server_path, "%s", path);
	ev_io_init(&server_accept_io, server_accept_cb, fd, EV_READ);
	ev_io_start(loop, &server_accept_io);
	ev_init(&server_accept_timer, server_accept_timer_cb);
	server_refused_logged = -1e9;
	for (i = 0; i < 3; i++) {
		ev_signal_init(&server_sig[i], server_signal_cb, sigs[i]);
		ev_signal_start(loop, &server_sig[i]);
	}
	log_info("supervisor %s (pid %ld) listening on %s, state in %s",
	    SMSUP_VERSION_STRING, (long)getpid(), path, store_root_dir());
	if (cluster_server_start(err, sizeof err) == -1)
		fatalx("cluster: %s", err);
	notify_init();
	if (conf != NULL)
		server_conf_apply(conf);
	for (i = 0; i < n; i++)
		if (machine_start(names[i], paths[i], opts, err, sizeof err) ==
		    NULL)
			log_warnx("%s: cannot start: %s", names[i], err);

	ev_run(loop, 0);

	cluster_server_stop();
	server_unlisten();
	close(lockfd);
	log_info("supervisor exiting");
	return 0;
}
