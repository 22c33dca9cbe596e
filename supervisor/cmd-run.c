/*
 * cmd-run.c: `smsup run [-dv] [options] [NAME[=PATH]...]`. If a supervisor
 * answers on the socket, ask it to start the machines and wait until they
 * are ready. If none does, become it: in the foreground (the machines
 * start in this process, the log goes to stderr), or with -d in the
 * background, then act as a client of it.
 */
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "smsup.h"

static int	cmd_run_exec(const char *, int, char **);
static int	cmd_run_main(const char *, int, char **, char ***, char ***,
		    struct conf *);

const struct cmd_entry cmd_run_entry = {
	"run", "[-dqv] [-c file] [--pid-file file] [--state-dir dir]"
	" [--max-input bytes]\n"
	"                 [--durability always|batch|none]\n"
	"                 [--restart permanent|transient|temporary]"
	" [--max-restarts R/T]\n"
	"                 [--snapshot-inputs N] [--snapshot-interval seconds]"
	" [--fresh]\n"
	"                 [--snapshot-fork yes|no] [--step-timeout seconds]"
	" [--init-arg text]\n"
	"                 [--upgrade-timeout seconds] [--probation seconds]"
	" [--max-image bytes]\n"
	"                 [--user user] [--group group] [--limit-memory bytes]\n"
	"                 [--limit-files N] [--limit-cpu seconds]\n"
	"                 [--node ID=HOST:PORT (--peer ID=HOST:PORT ... |"
	" --join)\n"
	"                 [--election-timeout seconds]"
	" [--log-snapshot entries]]\n"
	"                 [NAME[=PATH] ...]", cmd_run_exec
};

/* Ask the supervisor on fd to run the n machines; print what it says. */
static int
cmd_run_client(int fd, char **names, char **paths, int n,
    const struct machine_opts *o, uint32_t set)
{
	struct buf	 p = { 0 }, in = { 0 };
	struct reply	 r;
	int		 i, rc = 0;

	for (i = 0; i < n; i++) {
		buf_reset(&p);
		msg_put_str(&p, names[i]);
		msg_put_str(&p, paths[i]);
		opts_encode(&p, o, set);
		if (client_send(fd, FRAME_C_RUN, (uint64_t)i + 1, &p) == -1) {
			fprintf(stderr, "smsup: lost the supervisor\n");
			return EXIT_FAIL;
		}
	}
	for (i = 0; i < n; i++) {
		if (client_recv(fd, &in, &r) != 1) {
			fprintf(stderr, "smsup: the supervisor closed the "
			    "connection without answering\n");
			rc = EXIT_FAIL;
			break;
		}
		if (r.type == FRAME_R_OK)
			printf("%.*s\n", (int)r.len, (const char *)r.data);
		else
			rc = client_error(&r);
	}
	buf_free(&p);
	buf_free(&in);
	return rc;
}

/*
 * Write the pid file: the supervisor's pid and a newline, atomically,
 * through a temporary file made anew (never one found there, never a
 * link another user put in the directory).
 */
static int
cmd_run_pidfile(const char *file)
{
	struct stat	 st;
	char		 tmp[PATH_MAX], line[32];
	int		 fd, n;

	if (file == NULL)
		return 0;
	n = snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	snprintf(line, sizeof line, "%ld\n", (long)getpid());
	/* A stale one of ours goes; anything else is not ours to touch. */
	if (lstat(tmp, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid())
		unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		return -1;
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    close(fd) == -1 || rename(tmp, file) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * The background supervisor, as daemon(3) and OpenBSD's daemons do it
 * with a second fork: a new session whose leader exits, so it can never
 * acquire a terminal again; / as its directory; its log next to the
 * socket. The first child exits at once; the client waits on the socket.
 */
static void
cmd_run_daemon(int fd, int lockfd, int lfd, const char *path,
    const char *pidfile, struct conf *conf, int level, int report)
{
	pid_t	 pid;
	int	 null, rc;

	if (setsid() == -1)
		_exit(EXIT_FAIL);
	switch (fork()) {
	case -1:
		_exit(EXIT_FAIL);
	case 0:
		break;
	default:
		_exit(0);
	}
	/* Tell the client who the supervisor is; so does the lock file. */
	pid = getpid();
	store_lock_pid();
	if (write(report, &pid, sizeof pid) != (ssize_t)sizeof pid)
		_exit(EXIT_FAIL);
	close(report);
	if (chdir("/") == -1)
		_exit(EXIT_FAIL);
	if ((null = open("/dev/null", O_RDWR)) == -1)
		_exit(EXIT_FAIL);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(lfd, STDERR_FILENO);
	close(null);
	close(lfd);
	log_init(level);
	if (cmd_run_pidfile(pidfile) == -1)
		log_warn("pid file %s", pidfile);
	rc = server_loop(fd, lockfd, path, NULL, NULL, 0, NULL, conf);
	if (pidfile != NULL)
		unlink(pidfile);
	if (conf != NULL)
		conf_free(conf);
	_exit(rc);
}

static int
cmd_run_main(const char *sock, int argc, char **argv, char ***np,
    char ***pp, struct conf *conf)
{
	struct machine_opts	  o;
	struct conf		 *cf = NULL;
	uint32_t		  set = 0;
	const char		 *state_opt = NULL, *conf_file = NULL;
	const char		 *pidfile = NULL, *path = sock;
	char			**names, **paths, err[1024], root[PATH_MAX];
	char			  pidabs[PATH_MAX], sockabs[PATH_MAX];
	int			  ch, i, j, n, fd, lockfd = -1, detach = 0;
	int			  logfd;
	int			  report[2];
	uint64_t		  max_input = 0;
	int			  verbose = 0, quiet = 0, rc, clustered;
	int			  clopt = 0;
	pid_t			  pid;

	opts_default(&o);
	while ((ch = getopt_long(argc, argv, "c:dqv", opts_long, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			conf_file = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'p':
			if (paths_absolute(optarg, pidabs, sizeof pidabs) ==
			    -1) {
				fprintf(stderr, "smsup: %s: path too long\n",
				    optarg);
				return EXIT_USAGE;
			}
			pidfile = pidabs;
			break;
		case 'i':
			if (units_parse_size(optarg, &max_input) == -1 ||
			    max_input < 1024 || max_input > FRAME_MAX_DEFAULT) {
				fprintf(stderr, "smsup: bad value '%s' for "
				    "--max-input (1K to 16M)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'S':
			state_opt = optarg;
			break;
		case '?':
			return cmd_usage(&cmd_run_entry);
		case OPT_CODE_NODE:
		case OPT_CODE_PEER:
		case OPT_CODE_ELECTION:
		case OPT_CODE_LOG_SNAPSHOT:
		case OPT_CODE_JOIN:
			if (cluster_opts_option(ch, optarg, err,
			    sizeof err) == -1) {
				fprintf(stderr, "smsup: %s\n", err);
				return EXIT_USAGE;
			}
			clopt = 1;
			break;
		default:
			if (opts_parse(ch, optarg, &o, &set, err,
			    sizeof err) == -1) {
				fprintf(stderr, "smsup: %s\n", err);
				return EXIT_USAGE;
			}
		}
	}
	if (conf_file != NULL) {
		if (conf_load(conf_file, conf, err, sizeof err) == -1 ||
		    conf_check_binaries(conf, conf_file, err, sizeof err) ==
		    -1) {
			fprintf(stderr, "smsup: %s\n", err);
			return EXIT_FAIL;
		}
		cf = conf;
		/* -S and $SMSUP_SOCKET win over the file; so does --state-dir. */
		if (conf->socket[0] != '\0' && !paths_socket_given)
			path = conf->socket;
		if (conf->state_dir[0] != '\0' && state_opt == NULL)
			state_opt = conf->state_dir;
		/* The file's cluster block, or the command line's: one. */
		if (conf->cluster && clopt) {
			fprintf(stderr, "smsup: %s has a cluster block: give "
			    "the cluster there or on the command line, not "
			    "both\n", conf_file);
			return EXIT_USAGE;
		}
		for (i = 0; i < conf->ncl; i++)
			if (cluster_opts_option(conf->cl[i].code,
			    conf->cl[i].value, err, sizeof err) == -1) {
				fprintf(stderr, "smsup: %s:%d: %s\n", conf_file,
				    conf->cl[i].line, err);
				return EXIT_FAIL;
			}
	}
	n = argc - optind;
	if ((clustered = cluster_opts_check(err, sizeof err)) == -1) {
		fprintf(stderr, "smsup: %s\n", err);
		return EXIT_USAGE;
	}
	if (clustered && (n > 0 || (cf != NULL && cf->n > 0))) {
		fprintf(stderr, "smsup: the machines of a cluster are started "
		    "once it has a leader, with smsup run NAME=PATH there\n");
		return EXIT_USAGE;
	}
	*np = names = calloc((size_t)n + 1, sizeof *names);
	*pp = paths = calloc((size_t)n + 1, sizeof *paths);
	if (names == NULL || paths == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		names[i] = malloc(SMSUP_NAME_MAX + 1);
		paths[i] = malloc(PATH_MAX);
		if (names[i] == NULL || paths[i] == NULL)
			fatal("malloc");
		if ((rc = paths_spec(argv[optind + i], names[i],
		    SMSUP_NAME_MAX + 1, paths[i], PATH_MAX, err, sizeof err)) <
		    0) {
			fprintf(stderr, "smsup: %s\n", err);
			return rc == -2 ? EXIT_USAGE : EXIT_FAIL;
		}
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0) {
				fprintf(stderr, "smsup: machine %s named twice"
				    "\n", names[i]);
				return EXIT_USAGE;
			}
		for (j = 0; cf != NULL && j < cf->n; j++)
			if (strcmp(names[i], cf->m[j].name) == 0) {
				fprintf(stderr, "smsup: machine %s is in %s "
				    "too\n", names[i], conf_file);
				return EXIT_USAGE;
			}
	}

	/*
	 * A supervisor that detaches leaves its directory: every path it
	 * keeps is made absolute first (the state directory, the pid file
	 * and the configuration file are too).
	 */
	if (paths_absolute(path, sockabs, sizeof sockabs) == -1 ||
	    strlen(sockabs) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
		fprintf(stderr, "smsup: %s: socket path too long\n", path);
		return EXIT_USAGE;
	}
	path = sockabs;

	/* Find the supervisor, or become it (tmux's lock dance). */
	for (i = 0; (fd = client_connect(path)) == -1; i++) {
		if (errno != ENOENT && errno != ECONNREFUSED) {
			fprintf(stderr, "smsup: %s: %s\n", path,
			    strerror(errno));
			return EXIT_NOSERVER;
		}
		if ((fd = server_listen(path, &lockfd, err, sizeof err)) >= 0)
			break;
		if (fd == -1) {
			fprintf(stderr, "smsup: %s\n", err);
			return EXIT_FAIL;
		}
		if (i == 100) {
			fprintf(stderr, "smsup: another supervisor holds "
			    "%s.lock but does not answer\n", path);
			return EXIT_NOSERVER;
		}
		usleep(50000);
	}

	if (lockfd != -1) {
		if (max_input > 0)
			server_input_max = (size_t)max_input;
		/* A node that cannot listen says so here, not in its log. */
		if (clustered && cluster_opts_try_listen(err, sizeof err) ==
		    -1) {
			fprintf(stderr, "smsup: %s\n", err);
			close(fd);
			unlink(path);
			close(lockfd);
			return EXIT_FAIL;
		}
		/* The state directory is ours too, or nothing is. */
		if (store_root_path(state_opt, root, sizeof root) == -1 ||
		    store_lock(root, err, sizeof err) == -1) {
			if (errno == ENAMETOOLONG)
				snprintf(err, sizeof err, "state directory "
				    "path too long");
			fprintf(stderr, "smsup: %s\n", err);
			close(fd);
			unlink(path);
			close(lockfd);
			return EXIT_FAIL;
		}
		if (conf_file != NULL) {
			if (paths_absolute(conf_file, root, sizeof root) == -1)
				fatalx("%s: path too long", conf_file);
			server_conf_set(root);
		}
		if (!detach) {
			/* In the foreground: -v traces every machine. */
			log_init(quiet ? LOG_LEVEL_WARN : verbose > 1 ?
			    LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
			if (verbose > 0)
				inspect_foreground_on();
			if (cmd_run_pidfile(pidfile) == -1)
				fatal("pid file %s", pidfile);
			rc = server_loop(fd, lockfd, path, names, paths, n, &o,
			    cf);
			if (pidfile != NULL)
				unlink(pidfile);
			return rc;
		}
		/* The log next to the socket: a file of ours, never a link. */
		snprintf(root, sizeof root, "%s.log", path);
		if ((logfd = paths_open_private(root, O_WRONLY | O_CREAT |
		    O_APPEND, err, sizeof err)) == -1) {
			fprintf(stderr, "smsup: %s\n", err);
			close(fd);
			unlink(path);
			close(lockfd);
			return EXIT_FAIL;
		}
		fflush(NULL);
		if (pipe2(report, O_CLOEXEC) == -1 || (pid = fork()) == -1)
			fatal("fork");
		if (pid == 0) {
			close(report[0]);
			cmd_run_daemon(fd, lockfd, logfd, path, pidfile, cf, quiet ?
			    LOG_LEVEL_WARN : verbose > 1 ? LOG_LEVEL_DEBUG :
			    LOG_LEVEL_INFO, report[1]);
		}
		close(logfd);
		close(report[1]);
		close(fd);
		close(lockfd);
		waitpid(pid, NULL, 0);	/* the first child: gone at once */
		if (read(report[0], &pid, sizeof pid) != (ssize_t)sizeof pid ||
		    (fd = client_connect(path)) == -1) {
			fprintf(stderr, "smsup: the supervisor did not start "
			    "(see %s.log)\n", path);
			return EXIT_FAIL;
		}
		close(report[0]);
		printf("smsup: supervisor started (pid %ld), log in %s.log\n",
		    (long)pid, path);
	} else if (clustered) {
		fprintf(stderr, "smsup: a supervisor already runs on %s: "
		    "--node applies to one that starts\n", path);
		close(fd);
		return EXIT_FAIL;
	} else if (conf_file != NULL) {
		fprintf(stderr, "smsup: a supervisor already runs on %s: send "
		    "it SIGHUP to reload %s\n", path, conf_file);
		close(fd);
		return EXIT_FAIL;
	} else if (n == 0) {
		fprintf(stderr, "smsup: a supervisor already runs on %s\n",
		    path);
		close(fd);
		return EXIT_FAIL;
	} else if (state_opt != NULL)
		fprintf(stderr, "smsup: --state-dir ignored: the supervisor "
		    "on %s has its own\n", path);
	rc = cmd_run_client(fd, names, paths, n, &o, set);
	close(fd);
	return rc;
}

/* The names and paths are the caller's to free, whatever happened. */
static int
cmd_run_exec(const char *sock, int argc, char **argv)
{
	struct conf	  conf;
	char		**names = NULL, **paths = NULL;
	int		  rc, i;

	memset(&conf, 0, sizeof conf);
	rc = cmd_run_main(sock, argc, argv, &names, &paths, &conf);
	conf_free(&conf);
	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	for (i = 0; paths != NULL && paths[i] != NULL; i++)
		free(paths[i]);
	free(names);
	free(paths);
	return rc;
}
