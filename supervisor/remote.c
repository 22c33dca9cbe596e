/*
 * remote.c: `smsup -H ssh://[user@]host[:port] COMMAND ...` (or
 * $SMSUP_HOST): run the command with the smsup of another host, over
 * OpenSSH, as docker's ssh:// hosts do. The user's keys, agent and
 * ~/.ssh/config apply; no listener and no authentication of our own.
 *
 * The command line is rebuilt for the remote shell with every word single
 * quoted. $SMSUP_SSH replaces "ssh" (words split at spaces, for options),
 * $SMSUP_REMOTE the remote "smsup".
 */
#include <sys/wait.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup.h"

extern char	**environ;

#define REMOTE_ARGS_MAX	64

/* Split ssh://[user@]host[:port] (host may be [v6]). 0, or -1. */
static int
remote_parse(const char *url, char *dest, size_t dlen, char *port,
    size_t plen)
{
	const char	*s, *colon = NULL, *end;
	size_t		 n;

	if (strncmp(url, "ssh://", 6) != 0)
		return -1;
	s = url + 6;
	end = s + strlen(s);
	if (end > s && end[-1] == '/')
		end--;
	if (*s == '\0' || *s == '-' || *s == '@' || memchr(s, '/',
	    (size_t)(end - s)) != NULL)
		return -1;
	/* The port follows the last ':' outside brackets. */
	{
		const char	*rb = memchr(s, ']', (size_t)(end - s));
		const char	*p;

		for (p = rb != NULL ? rb : s; p < end; p++)
			if (*p == ':')
				colon = p;
	}
	port[0] = '\0';
	if (colon != NULL) {
		n = (size_t)(end - colon - 1);
		if (n == 0 || n >= plen || strspn(colon + 1, "0123456789") < n)
			return -1;
		memcpy(port, colon + 1, n);
		port[n] = '\0';
		end = colon;
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= dlen)
		return -1;
	memcpy(dest, s, n);
	dest[n] = '\0';
	/* No option injection through the host or the user. */
	if (dest[0] == '-' || strstr(dest, "@-") != NULL ||
	    strpbrk(dest, " \t\n'\"\\;&|$`") != NULL)
		return -1;
	return 0;
}

/* Append s to b single-quoted for a POSIX shell. */
static void
remote_quote(struct buf *b, const char *s)
{
	buf_add(b, "'", 1);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_add(b, "'\\''", 4);
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "'", 1);
}

int
remote_exec(const char *url, const char *sopt, int argc, char **argv)
{
	char		*av[REMOTE_ARGS_MAX + 8], dest[512], port[8];
	char		*ssh, *w, *save = NULL;
	const char	*remote;
	struct buf	 cmd = { 0 };
	pid_t		 pid;
	int		 n = 0, i, status, rc;

	if (remote_parse(url, dest, sizeof dest, port, sizeof port) == -1) {
		fprintf(stderr, "smsup: bad host '%s' (expected "
		    "ssh://[user@]host[:port])\n", url);
		return EXIT_USAGE;
	}
	if ((ssh = strdup(getenv("SMSUP_SSH") != NULL &&
	    *getenv("SMSUP_SSH") != '\0' ? getenv("SMSUP_SSH") : "ssh")) ==
	    NULL)
		fatal("strdup");
	for (w = strtok_r(ssh, " ", &save); w != NULL && n < REMOTE_ARGS_MAX;
	    w = strtok_r(NULL, " ", &save))
		av[n++] = w;
	if (port[0] != '\0') {
		av[n++] = "-p";
		av[n++] = port;
	}
	av[n++] = "--";
	av[n++] = dest;
	if ((remote = getenv("SMSUP_REMOTE")) == NULL || *remote == '\0')
		remote = "smsup";
	remote_quote(&cmd, remote);
	if (sopt != NULL) {
		buf_add(&cmd, " -S ", 4);
		remote_quote(&cmd, sopt);
	}
	for (i = 0; i < argc; i++) {
		buf_add(&cmd, " ", 1);
		remote_quote(&cmd, argv[i]);
	}
	buf_add(&cmd, "", 1);
	av[n++] = (char *)buf_head(&cmd);
	av[n] = NULL;
	if ((rc = posix_spawnp(&pid, av[0], NULL, NULL, av, environ)) != 0) {
		fprintf(stderr, "smsup: %s: %s\n", av[0], strerror(rc));
		return EXIT_NOSERVER;
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	free(ssh);
	buf_free(&cmd);
	if (!WIFEXITED(status)) {
		fprintf(stderr, "smsup: %s killed by signal %d\n", av[0],
		    WTERMSIG(status));
		return EXIT_FAIL;
	}
	/* 255 is ssh's own failure: no connection, no login. */
	if (WEXITSTATUS(status) == 255) {
		fprintf(stderr, "smsup: cannot reach %s over ssh\n", dest);
		return EXIT_NOSERVER;
	}
	return WEXITSTATUS(status);
}
