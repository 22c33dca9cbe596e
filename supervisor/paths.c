/* paths.c: the control socket's path, machine specs and binary checks. */
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup.h"

int	 paths_socket_given;	/* set by main: a config file does not override */

/*
 * The control socket: -S, else $SMSUP_SOCKET, else
 * $XDG_RUNTIME_DIR/smsup/control.sock, else /tmp/smsup-UID/control.sock.
 */
int
paths_socket(const char *opt, char *out, size_t len)
{
	struct sockaddr_un	 sun;
	const char		*s;
	int			 n;

	if ((s = opt) != NULL || ((s = getenv("SMSUP_SOCKET")) != NULL &&
	    *s != '\0'))
		n = snprintf(out, len, "%s", s);
	else if ((s = getenv("XDG_RUNTIME_DIR")) != NULL && *s == '/')
		n = snprintf(out, len, "%s/smsup/control.sock", s);
	else
		n = snprintf(out, len, "/tmp/smsup-%ld/control.sock",
		    (long)getuid());
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
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

/* 0 if path is a regular, executable file; else why not in err. */
/*
 * As sshd's StrictModes: whoever can change the binary, or swap it in its
 * directory, decides what the next upgrade runs. Refuse a binary writable
 * by group or others, or under a directory writable by others that is not
 * sticky, or owned by another user than us or root.
 */
static int
paths_check_owner(const char *path, const struct stat *st, char *err,
    size_t errlen)
{
	struct stat	 dst;
	char		 dir[PATH_MAX], *slash;
	uid_t		 me = geteuid();

	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: refusing a binary writable by group "
		    "or others (chmod go-w %s)", path, path);
		return -1;
	}
	if (st->st_uid != me && st->st_uid != 0) {
		snprintf(err, errlen, "%s: refusing a binary owned by uid %ld, "
		    "neither us nor root", path, (long)st->st_uid);
		return -1;
	}
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return 0;
	while ((slash = strrchr(dir, '/')) != NULL) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(dir, &dst) == -1)
			break;
		if ((dst.st_mode & S_IWOTH) && !(dst.st_mode & S_ISVTX)) {
			snprintf(err, errlen, "%s: refusing a binary under %s, "
			    "writable by others and not sticky", path, dir);
			return -1;
		}
		if (slash == dir)
			break;
	}
	return 0;
}

int
paths_check_binary(const char *path, char *err, size_t errlen)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "%s: not executable", path);
		return -1;
	}
	return paths_check_owner(path, &st, err, errlen);
}

/*
 * Parse NAME[=PATH]. NAME alone is looked up as an executable NAME in the
 * directories of $SMSUP_PATH (colon-separated; default the current
 * directory). The path is made absolute. err says what went wrong.
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
		return -1;
	}
	memcpy(name, spec, n);
	name[n] = '\0';
	if (!image_name_valid(name)) {
		snprintf(err, errlen, "invalid machine name '%s' (letters, "
		    "digits, '_', '.', '-'; at most %d)", name, SMSUP_NAME_MAX);
		return -1;
	}
	if (eq != NULL) {
		if (eq[1] == '\0') {
			snprintf(err, errlen, "%s: empty path", name);
			return -1;
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
