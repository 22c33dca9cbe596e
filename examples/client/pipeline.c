/*
 * pipeline.c: a program that talks to a machine with the smsup client
 * library: it pipelines N calls (or sends) on one connection, at most W
 * in flight, from its own poll() loop, and counts the answers.
 *
 *	pipeline [-s] [-S socket] [-n N] [-w W] [-t seconds] MACHINE INPUT
 *
 * "%n" in INPUT becomes the request's number (1 to N). Build it with
 *	cc pipeline.c $(pkg-config --cflags --libs smsup-client)
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smsup/client.h>

struct counts {
	unsigned long	 n[8];		/* by status */
	char		 last[256];	/* the last output or error */
};

static void
answer(struct smsup_client *c, uint64_t id, int status, const char *data,
    size_t len, void *arg)
{
	struct counts	*k = arg;

	(void)c;
	(void)id;
	if (status >= 0 && status < 8)
		k->n[status]++;
	snprintf(k->last, sizeof k->last, "%.*s", (int)len, data);
}

/* INPUT with "%n" replaced by i. */
static size_t
input(const char *tmpl, unsigned long i, char *out, size_t len)
{
	const char	*p = strstr(tmpl, "%n");
	int		 n;

	if (p == NULL)
		n = snprintf(out, len, "%s", tmpl);
	else
		n = snprintf(out, len, "%.*s%lu%s", (int)(p - tmpl), tmpl, i,
		    p + 2);
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

int
main(int argc, char **argv)
{
	struct smsup_client	*c;
	struct counts		 k;
	struct pollfd		 pfd;
	const char		*sock = NULL;
	char			 err[512], in[4096];
	unsigned long		 n = 1, w = 1000, i = 1;
	double			 timeout = 0;
	int			 ch, send = 0, rc, st;

	while ((ch = getopt(argc, argv, "sS:n:w:t:")) != -1)
		switch (ch) {
		case 's': send = 1; break;
		case 'S': sock = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'w': w = strtoul(optarg, NULL, 10); break;
		case 't': timeout = strtod(optarg, NULL); break;
		default: goto usage;
		}
	if (argc - optind != 2 || w == 0)
		goto usage;
	if ((c = smsup_client_open(sock, &st, err, sizeof err)) == NULL) {
		fprintf(stderr, "pipeline: %s\n", err);
		return st == SMSUP_CLIENT_NOSERVER ? 3 : 1;
	}
	smsup_client_set_timeout(c, timeout);
	memset(&k, 0, sizeof k);
	/* The loop any program would have: poll the client's descriptor. */
	while (i <= n || smsup_client_pending(c) > 0) {
		for (; i <= n && smsup_client_pending(c) < w; i++) {
			size_t len = input(argv[optind + 1], i, in, sizeof in);

			rc = send ? smsup_client_send_async(c, argv[optind], in,
			    len, answer, &k, NULL) : smsup_client_call_async(c,
			    argv[optind], in, len, answer, &k, NULL);
			if (rc != SMSUP_CLIENT_OK) {
				fprintf(stderr, "pipeline: request %lu: %s: "
				    "%s\n", i, smsup_client_strerror(rc),
				    smsup_client_error(c));
				i = n + 1;
				break;
			}
		}
		pfd.fd = smsup_client_fd(c);
		pfd.events = (short)smsup_client_events(c);
		if (pfd.events == 0)
			break;
		poll(&pfd, 1, smsup_client_timeout_ms(c));
		if (smsup_client_process(c) != SMSUP_CLIENT_OK)
			i = n + 1;	/* lost: every pending one was told */
	}
	printf("%lu ok, %lu errors, %lu timed out, %lu lost; last: %s\n",
	    k.n[SMSUP_CLIENT_OK], k.n[SMSUP_CLIENT_ERROR],
	    k.n[SMSUP_CLIENT_TIMEOUT], k.n[SMSUP_CLIENT_LOST], k.last);
	smsup_client_close(c);
	return k.n[SMSUP_CLIENT_OK] == n ? 0 : 1;
usage:
	fprintf(stderr, "usage: pipeline [-s] [-S socket] [-n N] [-w W] "
	    "[-t seconds] MACHINE INPUT\n");
	return 2;
}
