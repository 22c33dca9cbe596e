/*
 * child-exec.c: starting a worker process. vfork (fork to change users),
 * then in the child only system calls (the supervisor has threads:
 * nothing that takes a lock, nothing written to our memory),
 * everything looked up before the fork: the descriptors set up (its
 * channel as fd 3, its progress page as fd 4, stdin /dev/null, stdout and
 * stderr a pipe that child.c logs, nothing else: never our terminal or
 * our log file), default signal dispositions and an empty mask, a session
 * of its own (so no controlling terminal either), the machine's user
 * (with its HOME, USER and LOGNAME), group and resource limits; then it
 * executes the very file that paths.c checked, by its
 * descriptor (execveat), so that nothing renamed in meanwhile can be run
 * instead. An exec that fails sends its errno back on a close-on-exec
 * pipe, as posix_spawn reports it.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup.h"

#define CHILD_GROUPS_MAX	64
#define CHILD_FD_ERR		5	/* the exec error pipe, close-on-exec */
#define CHILD_FD_BIN		6	/* the binary (kept open for scripts) */

struct child_creds {
	int	 set_ids;
	uid_t	 uid;
	gid_t	 gid;
	gid_t	 groups[CHILD_GROUPS_MAX];
	int	 ngroups;
	char	 home[PATH_MAX + 8];	/* HOME=..., of --user */
	char	 user[2][OPTS_NAME_MAX + 16];	/* USER=, LOGNAME= */
};

/* Look the user and group up now (NSS is not for after fork). */
static int
child_exec_creds(const struct machine_opts *o, struct child_creds *cr,
    char *err, size_t errlen)
{
	struct passwd	*pw;
	struct group	*gr;

	memset(cr, 0, sizeof *cr);
	if (o == NULL || (o->user[0] == '\0' && o->group[0] == '\0'))
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errlen, "--user and --group need the supervisor "
		    "to run as root");
		return -1;
	}
	cr->set_ids = 1;
	cr->uid = geteuid();
	cr->gid = getegid();
	if (o->user[0] != '\0') {
		if ((pw = getpwnam(o->user)) == NULL) {
			snprintf(err, errlen, "no such user: %s", o->user);
			return -1;
		}
		cr->uid = pw->pw_uid;
		cr->gid = pw->pw_gid;
		snprintf(cr->home, sizeof cr->home, "HOME=%s", pw->pw_dir);
		snprintf(cr->user[0], sizeof cr->user[0], "USER=%s",
		    pw->pw_name);
		snprintf(cr->user[1], sizeof cr->user[1], "LOGNAME=%s",
		    pw->pw_name);
		cr->ngroups = CHILD_GROUPS_MAX;
		if (getgrouplist(o->user, pw->pw_gid, cr->groups,
		    &cr->ngroups) == -1) {
			snprintf(err, errlen, "%s: more than %d groups",
			    o->user, CHILD_GROUPS_MAX);
			return -1;
		}
	}
	if (o->group[0] != '\0') {
		if ((gr = getgrnam(o->group)) == NULL) {
			snprintf(err, errlen, "no such group: %s", o->group);
			return -1;
		}
		cr->gid = gr->gr_gid;
		cr->groups[0] = gr->gr_gid;
		cr->ngroups = 1;
	}
	if (cr->ngroups == 0) {
		cr->groups[0] = cr->gid;
		cr->ngroups = 1;
	}
	return 0;
}

static void
child_exec_limit(int res, uint64_t v)
{
	struct rlimit	 rl;

	if (v == 0)
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (setrlimit(res, &rl) == -1)
		_exit(126);
}

/*
 * The environment of a worker of another user: its own HOME and names.
 * (Not inlined into child_exec: its locals would live across the vfork.)
 */
static __attribute__((noinline)) char **
child_exec_env(char **env, struct child_creds *cr)
{
	char	**v;
	size_t	  n, i, j;

	if (cr->home[0] == '\0')
		return env;
	for (n = 0; env[n] != NULL; n++)
		;
	if ((v = calloc(n + 4, sizeof *v)) == NULL)
		return NULL;
	for (i = j = 0; i < n; i++)
		if (strncmp(env[i], "HOME=", 5) != 0 &&
		    strncmp(env[i], "USER=", 5) != 0 &&
		    strncmp(env[i], "LOGNAME=", 8) != 0)
			v[j++] = env[i];
	v[j++] = cr->home;
	v[j++] = cr->user[0];
	v[j++] = cr->user[1];
	v[j] = NULL;
	return v;
}

/* In the child: descriptors at their places, or _exit. */
static void
child_exec_fds(int chan, int progress, int out, int errw, int bin,
    int script)
{
	int	 c, p = -1, o, e, b, null;

	/* Out of the way of 1 to 6 first: they may be any of those. */
	if ((c = fcntl(chan, F_DUPFD, 10)) == -1 ||
	    (progress != -1 && (p = fcntl(progress, F_DUPFD, 10)) == -1) ||
	    (o = fcntl(out, F_DUPFD, 10)) == -1 ||
	    (e = fcntl(errw, F_DUPFD, 10)) == -1 ||
	    (b = fcntl(bin, F_DUPFD, 10)) == -1)
		_exit(126);
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 ||
	    dup2(o, STDOUT_FILENO) == -1 || dup2(o, STDERR_FILENO) == -1 ||
	    dup2(c, 3) == -1 || (p != -1 && dup2(p, 4) == -1) ||
	    dup2(e, CHILD_FD_ERR) == -1 ||
	    fcntl(CHILD_FD_ERR, F_SETFD, FD_CLOEXEC) == -1 ||
	    dup2(b, CHILD_FD_BIN) == -1 ||
	    (!script && fcntl(CHILD_FD_BIN, F_SETFD, FD_CLOEXEC) == -1))
		_exit(126);
	if (p == -1)
		close(4);
	if (close_range(CHILD_FD_BIN + 1, ~0U, 0) == -1)
		_exit(126);
}

/*
 * Start the binary open at bin (path names it, for messages and argv[0])
 * as the worker: its channel chan becomes fd 3, its progress page
 * progress (-1: none) fd 4, out its stdout and stderr; o's user, group
 * and limits apply. 0 with *pid set, or an errno value (err says more).
 */
int
child_exec(pid_t *pid, int bin, const char *path, char **argv, char **env0,
    int chan, int progress, int out, const struct machine_opts *o,
    char *err, size_t errlen)
{
	struct child_creds	 cr;
	sigset_t		 all, none, old;
	char			 magic[2], **env;
	int			 pfd[2], e, sig, script;
	ssize_t			 n;

	if (child_exec_creds(o, &cr, err, errlen) == -1)
		return EPERM;
	if ((env = child_exec_env(env0, &cr)) == NULL)
		return ENOMEM;
	/* A script needs its file open: the kernel hands it /dev/fd/6. */
	script = pread(bin, magic, 2, 0) == 2 && magic[0] == '#' &&
	    magic[1] == '!';
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		e = errno;
		if (env != env0)
			free(env);
		return e;
	}
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, &old);	/* no handler in the child */
	/*
	 * vfork, as posix_spawn does: no copy of our page tables, which made
	 * 1,000 workers spawned at once take over 5 s. Changing users needs
	 * a child of its own (glibc's setuid signals every thread of ours).
	 */
	if ((*pid = cr.set_ids ? fork() : vfork()) == -1) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(pfd[0]);
		close(pfd[1]);
		if (env != env0)
			free(env);
		return e;
	}
	if (*pid == 0) {
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		child_exec_fds(chan, progress, out, pfd[1], bin, script);
		if (o != NULL) {
			child_exec_limit(RLIMIT_AS, o->limit_memory);
			child_exec_limit(RLIMIT_NOFILE, o->limit_files);
			child_exec_limit(RLIMIT_CPU, o->limit_cpu);
		}
		if (cr.set_ids && (setgroups((size_t)cr.ngroups,
		    cr.groups) == -1 || setgid(cr.gid) == -1 ||
		    setuid(cr.uid) == -1))
			e = errno;
		else {
			execveat(CHILD_FD_BIN, "", argv, env, AT_EMPTY_PATH);
			e = errno;
		}
		(void)!write(CHILD_FD_ERR, &e, sizeof e);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (env != env0)
		free(env);
	close(pfd[1]);
	while ((n = read(pfd[0], &e, sizeof e)) == -1 && errno == EINTR)
		;
	close(pfd[0]);
	if (n == (ssize_t)sizeof e) {
		while (waitpid(*pid, NULL, 0) == -1 && errno == EINTR)
			;
		snprintf(err, errlen, "%s: cannot execute%s%s%s%s: %s", path,
		    cr.set_ids ? " as " : "", cr.set_ids ? o->user : "",
		    cr.set_ids && o->group[0] ? ":" : "",
		    cr.set_ids ? o->group : "", strerror(e));
		return e;
	}
	return 0;
}
