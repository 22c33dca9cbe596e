/*
 * child-exec.c: starting a worker as another user or group, or under
 * resource limits, which posix_spawn cannot do: fork, then in the child
 * only system calls (the supervisor has threads: nothing that takes a
 * lock), everything looked up before the fork. An exec that fails sends
 * its errno back on a close-on-exec pipe, as posix_spawn reports it.
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

struct child_creds {
	int	 set_ids;
	uid_t	 uid;
	gid_t	 gid;
	gid_t	 groups[CHILD_GROUPS_MAX];
	int	 ngroups;
};

/* Whether o asks for anything posix_spawn cannot give. */
int
child_exec_needed(const struct machine_opts *o)
{
	return o->user[0] != '\0' || o->group[0] != '\0' ||
	    o->limit_memory > 0 || o->limit_files > 0 || o->limit_cpu > 0;
}

/* Look the user and group up now (NSS is not for after fork). */
static int
child_exec_creds(const struct machine_opts *o, struct child_creds *cr,
    char *err, size_t errlen)
{
	struct passwd	*pw;
	struct group	*gr;

	memset(cr, 0, sizeof *cr);
	if (o->user[0] == '\0' && o->group[0] == '\0')
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
 * Start path as the worker: its channel chan becomes fd 3, stdin
 * /dev/null, stdout our stderr, nothing else open; o's user, group and
 * limits apply. 0 with *pid set, or an errno value (err says more).
 */
int
child_exec(pid_t *pid, const char *path, char **argv, char **env, int chan,
    const struct machine_opts *o, char *err, size_t errlen)
{
	struct child_creds	 cr;
	sigset_t		 all, none, old;
	int			 pfd[2], e, null, sig;
	ssize_t			 n;

	if (child_exec_creds(o, &cr, err, errlen) == -1)
		return EPERM;
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return errno;
	/* Out of the way of fds 3 and 4, which the child sets up. */
	if (pfd[1] < 5) {
		e = fcntl(pfd[1], F_DUPFD_CLOEXEC, 5);
		close(pfd[1]);
		if ((pfd[1] = e) == -1) {
			close(pfd[0]);
			return errno;
		}
	}
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, &old);	/* no handler in the child */
	if ((*pid = fork()) == -1) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	if (*pid == 0) {
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if ((null = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(null, STDIN_FILENO) == -1 ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) == -1 ||
		    dup2(chan, 3) == -1 || dup2(pfd[1], 4) == -1 ||
		    fcntl(4, F_SETFD, FD_CLOEXEC) == -1 ||
		    close_range(5, ~0U, 0) == -1)
			_exit(126);
		child_exec_limit(RLIMIT_AS, o->limit_memory);
		child_exec_limit(RLIMIT_NOFILE, o->limit_files);
		child_exec_limit(RLIMIT_CPU, o->limit_cpu);
		if (cr.set_ids && (setgroups((size_t)cr.ngroups,
		    cr.groups) == -1 || setgid(cr.gid) == -1 ||
		    setuid(cr.uid) == -1))
			e = errno;
		else {
			execve(path, argv, env);
			e = errno;
		}
		(void)!write(4, &e, sizeof e);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pfd[1]);
	while ((n = read(pfd[0], &e, sizeof e)) == -1 && errno == EINTR)
		;
	close(pfd[0]);
	if (n == (ssize_t)sizeof e) {
		while (waitpid(*pid, NULL, 0) == -1 && errno == EINTR)
			;
		snprintf(err, errlen, "%s: cannot execute%s%s%s%s: %s", path,
		    cr.set_ids ? " as " : "", o->user, o->group[0] ? ":" : "",
		    o->group, strerror(e));
		return e;
	}
	return 0;
}
