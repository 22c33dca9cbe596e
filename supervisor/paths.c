/* paths.c: the control socket's path, machine specs and binary checks. */
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup/client.h"
#include "smsup.h"

int	 paths_socket_given;	/* set by main: a config file does not override */

/* $TMPDIR if it is an absolute path, else /tmp. */
const char *
paths_tmpdir(void)
{
	const char	*t = getenv("TMPDIR");

	return t != NULL && t[0] == '/' ? t : "/tmp";
}

/*
 * The control socket: -S, else $SMSUP_SOCKET, else
 * $XDG_RUNTIME_DIR/smsup/control.sock, else $TMPDIR (or /tmp)
 * /smsup-UID/control.sock.
 */
int
paths_socket(const char *opt, char *out, size_t len)
{
	/* The client library's rule: programs find the same socket. */
	if (smsup_client_socket(opt, out, len) == -1)
		return -1;
	if (out[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* Make path absolute against the current directory, without resolving links. */
int
paths_absolute(const char *path, char *out, size_t len)
{
	char	 cwd[PATH_MAX];
	int	 n;

	if (path[0] == '/')
		n = snprintf(out, len, "%s", path);
	else {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return -1;
		while (path[0] == '.' && path[1] == '/')
			path += 2;
		n = snprintf(out, len, "%s/%s", cwd, path);
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Binaries, the configuration file and the state directory: as sshd's
 * StrictModes, whoever could change a binary or the file that names
 * binaries, or swap it or any directory above it, would choose what the
 * next start, upgrade or reload runs (as root, often); whoever could
 * plant a file or a link in the state directory would have us write
 * through it. So every directory on the way, as given and through every
 * symbolic link, must belong to us or root and be writable by nobody else
 * unless sticky; a binary must be a regular, executable file of ours or
 * root's that nobody else can write; the state directory must be ours
 * and writable by nobody else, sticky or not. The walk holds a descriptor
 * of each directory it checked and opens the next component relative to
 * it without following links, so what it returns is the very file it
 * checked: binaries are executed by that descriptor, the state directory's
 * files opened relative to it, and no rename or link swapped in meanwhile
 * is ever seen.
 */
#define PATHS_LINKS_MAX	40
#define PATHS_BINARY	1	/* the last component: an executable */
#define PATHS_STATE	2	/* a private directory, made if missing */
#define PATHS_CONFIG	3	/* a file nobody else can change */

static int
paths_owner_ok(const struct stat *st)
{
	return st->st_uid == geteuid() || st->st_uid == 0;
}

static int
paths_check_dir(int mode, const char *shown, const struct stat *st,
    int last, char *err, size_t errlen)
{
	const char	*what = mode == PATHS_BINARY ? "a binary under" :
			    mode == PATHS_CONFIG ? "a file under" :
			    last ? "the state directory" :
			    "a state directory under";

	if (!S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "%s: not a directory", shown);
		return -1;
	}
	if (!paths_owner_ok(st) || (last && st->st_uid != geteuid())) {
		snprintf(err, errlen, "refusing %s %s, owned by uid %ld, %s",
		    what, shown, (long)st->st_uid, last ? "not us" :
		    "neither us nor root");
		return -1;
	}
	if (last && (st->st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "refusing %s %s, writable by others "
		    "(chmod go-w %s)", what, shown, shown);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX)) {
		snprintf(err, errlen, "refusing %s %s, writable by others and "
		    "not sticky", what, shown);
		return -1;
	}
	return 0;
}

static int
paths_check_file(int mode, const char *path, const char *shown,
    const struct stat *st, char *err, size_t errlen)
{
	const char	*what = mode == PATHS_BINARY ? "binary" : "file";

	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (mode == PATHS_BINARY && (st->st_mode & 0111) == 0) {
		snprintf(err, errlen, "%s: not executable", path);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: refusing a %s writable by group or "
		    "others (chmod go-w %s)", path, what, shown);
		return -1;
	}
	if (!paths_owner_ok(st)) {
		snprintf(err, errlen, "%s: refusing a %s owned by uid %ld, "
		    "neither us nor root", path, what, (long)st->st_uid);
		return -1;
	}
	return 0;
}

/* Pop the first component of the '/'-separated list in rest into comp. */
static int
paths_next(char *rest, char *comp, size_t len)
{
	char	*s = rest, *e;
	size_t	 n;

	while (*s == '/')
		s++;
	if (*s == '\0')
		return 0;
	e = strchr(s, '/');
	n = e != NULL ? (size_t)(e - s) : strlen(s);
	if (n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(comp, s, n);
	comp[n] = '\0';
	memmove(rest, s + n, strlen(s + n) + 1);
	return 1;
}

/* Whether only separators are left. */
static int
paths_done(const char *rest)
{
	return rest[strspn(rest, "/")] == '\0';
}

/* at: the path of the directory walked to, for messages. */
static void
paths_at(char *at, size_t len, const char *comp)
{
	char	*slash;

	if (strcmp(comp, "..") == 0) {
		if ((slash = strrchr(at, '/')) != NULL && slash != at)
			*slash = '\0';
		else
			snprintf(at, len, "/");
	} else if (strcmp(at, "/") == 0)
		snprintf(at, len, "/%s", comp);
	else
		snprintf(at + strlen(at), len - strlen(at), "/%s", comp);
}

/*
 * The walk (see above) of the absolute path, for mode. Returns a
 * close-on-exec descriptor: of the binary (readable if we may read it, so
 * that scripts can be told from programs, else O_PATH), or of the state
 * directory (O_DIRECTORY); -1 with err set.
 */
static int
paths_walk(const char *path, int mode, char *err, size_t errlen)
{
	struct stat	 st, st2;
	char		 rest[PATH_MAX], comp[NAME_MAX + 1], link[PATH_MAX];
	char		 at[PATH_MAX], tmp[PATH_MAX];
	ssize_t		 n;
	int		 dfd, fd, rc, last, links = 0;

	if (path[0] != '/' || snprintf(rest, sizeof rest, "%s", path) >=
	    (int)sizeof rest) {
		snprintf(err, errlen, "%s: not an absolute path", path);
		return -1;
	}
	snprintf(at, sizeof at, "/");
	if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(dfd, &st) == -1) {
		snprintf(err, errlen, "/: %s", strerror(errno));
		goto fail;
	}
	if (paths_check_dir(mode, "/", &st, mode == PATHS_STATE &&
	    paths_done(rest), err, errlen) == -1)
		goto fail;
	while ((rc = paths_next(rest, comp, sizeof comp)) == 1) {
		if (strcmp(comp, ".") == 0)
			continue;
		fd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT && mode == PATHS_STATE &&
		    strcmp(comp, "..") != 0) {
			if (mkdirat(dfd, comp, 0700) == -1 && errno != EEXIST) {
				snprintf(err, errlen, "%s: %s", path,
				    strerror(errno));
				goto fail;
			}
			fd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd == -1 || fstat(fd, &st) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd != -1)
				close(fd);
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			close(fd);
			/* In a sticky directory others can plant links. */
			if (!paths_owner_ok(&st)) {
				snprintf(err, errlen, "%s: refusing a symbolic "
				    "link of uid %ld on the way (%s/%s)", path,
				    (long)st.st_uid, strcmp(at, "/") == 0 ? "" :
				    at, comp);
				goto fail;
			}
			n = readlinkat(dfd, comp, link, sizeof link - 1);
			if (n <= 0 || ++links > PATHS_LINKS_MAX) {
				snprintf(err, errlen, "%s: %s", path, n <= 0 ?
				    strerror(errno) : "too many links");
				goto fail;
			}
			link[n] = '\0';
			if (snprintf(tmp, sizeof tmp, "%s/%s", link, rest) >=
			    (int)sizeof tmp) {
				snprintf(err, errlen, "%s: path too long",
				    path);
				goto fail;
			}
			memcpy(rest, tmp, sizeof rest);
			if (link[0] == '/') {
				close(dfd);
				snprintf(at, sizeof at, "/");
				if ((dfd = open("/", O_PATH | O_DIRECTORY |
				    O_CLOEXEC)) == -1) {
					snprintf(err, errlen, "/: %s",
					    strerror(errno));
					goto fail;
				}
			}
			continue;
		}
		paths_at(at, sizeof at, comp);
		last = paths_done(rest);
		if (S_ISDIR(st.st_mode)) {
			if (paths_check_dir(mode, at, &st, mode == PATHS_STATE &&
			    last, err, errlen) == -1) {
				close(fd);
				goto fail;
			}
			if (!last || mode != PATHS_STATE) {
				close(dfd);
				dfd = fd;
				continue;
			}
			/* The state directory: a real one, the same. */
			close(fd);
			fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd == -1 || fstat(fd, &st2) == -1 ||
			    st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
				snprintf(err, errlen, "%s: changed while it was "
				    "checked", path);
				if (fd != -1)
					close(fd);
				goto fail;
			}
			close(dfd);
			return fd;
		}
		if (mode == PATHS_STATE || !last) {
			close(fd);
			snprintf(err, errlen, "%s: %s", path,
			    strerror(ENOTDIR));
			goto fail;
		}
		if (paths_check_file(mode, path, at, &st, err, errlen) == -1) {
			close(fd);
			goto fail;
		}
		/* Readable if we may: the same file, or none at all. */
		rc = openat(dfd, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (rc != -1) {
			if (fstat(rc, &st2) == 0 && st2.st_dev == st.st_dev &&
			    st2.st_ino == st.st_ino) {
				close(fd);
				fd = rc;
			} else
				close(rc);
		} else if (mode == PATHS_CONFIG) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			goto fail;
		}
		close(dfd);
		return fd;
	}
	if (rc == 0 && mode == PATHS_STATE && strcmp(at, "/") == 0) {
		snprintf(err, errlen, "%s: refusing / as the state directory",
		    path);
		goto fail;
	}
	snprintf(err, errlen, "%s: %s", path, rc == -1 ? strerror(errno) :
	    mode == PATHS_BINARY ? "not a regular file" : "not a directory");
fail:
	if (dfd != -1)
		close(dfd);
	return -1;
}

/*
 * A file of ours next to the socket or given on the command line (the
 * socket's lock and log, a pid file), perhaps in a sticky directory that
 * others share: never opened through a link (O_NOFOLLOW), and refused
 * unless it is a regular file of ours with one name, so that another
 * user cannot have us write into a file of their choosing. flags as
 * open(2) (O_CREAT makes it 0600). -1 with err set.
 */
int
paths_open_private(const char *path, int flags, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		int	 saved = errno;

		snprintf(err, errlen, "%s: %s", path, lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode) ? "a symbolic link: refused" :
		    strerror(saved));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1) {
		snprintf(err, errlen, "%s: not a file of ours (another user may "
		    "have made it): refused", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The binary at path, to execute (see paths_walk); -1 with err set. */
int
paths_open_binary(const char *path, char *err, size_t errlen)
{
	return paths_walk(path, PATHS_BINARY, err, errlen);
}

/* A file that decides what runs (smsup.conf), to read; -1 with err set. */
int
paths_open_config(const char *path, char *err, size_t errlen)
{
	return paths_walk(path, PATHS_CONFIG, err, errlen);
}

/* The state directory at path, made if missing; -1 with err set. */
int
paths_open_state_dir(const char *path, char *err, size_t errlen)
{
	return paths_walk(path, PATHS_STATE, err, errlen);
}

/* 0 if path is a binary we would run (see above); else why not in err. */
int
paths_check_binary(const char *path, char *err, size_t errlen)
{
	int	 fd;

	if ((fd = paths_open_binary(path, err, errlen)) == -1)
		return -1;
	close(fd);
	return 0;
}

/*
 * Parse NAME[=PATH]. NAME alone is looked up as an executable NAME in the
 * directories of $SMSUP_PATH (colon-separated; default the current
 * directory). The path is made absolute. err says what went wrong: -2 for
 * a spec that is wrong as written (a usage error), -1 for a binary that
 * cannot be found.
 */
int
paths_spec(const char *spec, char *name, size_t namelen, char *path,
    size_t pathlen, char *err, size_t errlen)
{
	const char	*eq = strchr(spec, '='), *sp, *dir, *end;
	char		 cand[PATH_MAX];
	size_t		 n = eq ? (size_t)(eq - spec) : strlen(spec);

	if (n >= namelen) {
		snprintf(err, errlen, "machine name too long: %.*s", (int)n,
		    spec);
		return -2;
	}
	memcpy(name, spec, n);
	name[n] = '\0';
	if (!image_name_valid(name)) {
		snprintf(err, errlen, "invalid machine name '%s' (letters, "
		    "digits, '_', '.', '-'; at most %d)", name, SMSUP_NAME_MAX);
		return -2;
	}
	if (eq != NULL) {
		if (eq[1] == '\0') {
			snprintf(err, errlen, "%s: empty path", name);
			return -2;
		}
		if (paths_absolute(eq + 1, path, pathlen) == -1) {
			snprintf(err, errlen, "%s: %s", eq + 1,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if ((sp = getenv("SMSUP_PATH")) == NULL || *sp == '\0')
		sp = ".";
	for (dir = sp; ; dir = end + 1) {
		if ((end = strchr(dir, ':')) == NULL)
			end = dir + strlen(dir);
		if (end == dir)
			snprintf(cand, sizeof cand, "./%s", name);
		else
			snprintf(cand, sizeof cand, "%.*s/%s",
			    (int)(end - dir), dir, name);
		if (access(cand, X_OK) == 0 &&
		    paths_absolute(cand, path, pathlen) == 0)
			return 0;
		if (*end == '\0')
			break;
	}
	snprintf(err, errlen, "%s: no executable '%s' in SMSUP_PATH (%s)",
	    name, name, sp);
	return -1;
}
