/*
 * main.c: main() of every worker binary. Under smsup (SMSUP_FD set) it
 * serves the worker protocol; by hand it answers --sm-info and
 * --sm-migrate, and explains itself otherwise.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "worker-int.h"

static void
main_usage(const char *argv0)
{
	fprintf(stderr,
	    "usage: %s --sm-info | --sm-migrate [--extra TEXT] < old.img > "
	    "new.img\n"
	    "%s is machine %s version %s for smsup: run it with "
	    "`smsup run %s=PATH'\n", argv0, argv0, smsup_machine.name,
	    smsup_machine.version, smsup_machine.name);
}

/* Names, versions, formats and fields are validated: no escaping needed. */
static int
main_info(void)
{
	const char *const	*v;

	printf("{\"name\":\"%s\",\"version\":\"%s\",\"format\":\"%s\","
	    "\"migrates_from\":[", smsup_machine.name, smsup_machine.version,
	    smsup_machine.format);
	for (v = smsup_machine.migrates_from; v != NULL && *v != NULL; v++)
		printf("%s\"%s\"", v == smsup_machine.migrates_from ? "" : ",",
		    *v);
	printf("]");
	if (smsup_machine.fields != NULL)
		printf(",\"fields\":\"%s\"", smsup_machine.fields);
	printf("}\n");
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Read an image from stdin, migrate it, write this version's image. */
static int
main_migrate_io(void *state, struct buf *inb, struct buf *outb)
{
	size_t		 max = FRAME_IMAGE_MAX_DEFAULT;
	ssize_t		 n;

	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s: --sm-migrate: refusing to write an "
		    "image to a terminal\n", smsup_machine.name);
		return 1;
	}
	for (;;) {
		if (buf_reserve(inb, 65536) == -1) {
			fprintf(stderr, "%s: --sm-migrate: out of memory\n",
			    smsup_machine.name);
			return 1;
		}
		n = read(STDIN_FILENO, inb->data + inb->len,
		    inb->cap - inb->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "%s: --sm-migrate: stdin: %s\n",
			    smsup_machine.name, strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		inb->len += (size_t)n;
		if (inb->len > max) {
			fprintf(stderr, "%s: --sm-migrate: image larger than "
			    "%zu bytes\n", smsup_machine.name, max);
			return 1;
		}
	}
	if (state_restore(state, inb->data, inb->len) == -1 ||
	    state_save(state, outb, max) == -1) {
		fprintf(stderr, "%s: --sm-migrate: %s\n", smsup_machine.name,
		    state_lasterr());
		return 1;
	}
	while (buf_used(outb) > 0) {
		n = write(STDOUT_FILENO, buf_head(outb), buf_used(outb));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "%s: --sm-migrate: stdout: %s\n",
			    smsup_machine.name, strerror(errno));
			return 1;
		}
		buf_consume(outb, (size_t)n);
	}
	if (smsup_machine.destroy != NULL)
		smsup_machine.destroy(state);
	return 0;
}

static int
main_migrate(void *state)
{
	struct buf	 in = { 0 }, out = { 0 };
	int		 rc;

	rc = main_migrate_io(state, &in, &out);
	buf_free(&in);
	buf_free(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*why, *env;
	void		*state;
	char		*end;
	long		 fd;
	int		 rc;

	state_hooks();
	if ((why = state_check(&smsup_machine)) != NULL) {
		fprintf(stderr, "%s: bad machine definition: %s\n", argv[0],
		    why);
		return 70;
	}
	if ((state = calloc(1, smsup_machine.state_size)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 71;
	}
	if (argc == 2 && strcmp(argv[1], "--sm-info") == 0)
		rc = main_info();
	else if (argc == 2 && strcmp(argv[1], "--sm-migrate") == 0)
		rc = main_migrate(state);
	else if (argc == 4 && strcmp(argv[1], "--sm-migrate") == 0 &&
	    strcmp(argv[2], "--extra") == 0) {
		if (state_set_arg(ARG_EXTRA, argv[3], strlen(argv[3])) == -1) {
			fprintf(stderr, "%s: out of memory\n", argv[0]);
			rc = 71;
		} else
			rc = main_migrate(state);
	}
	else if (argc != 1 || (env = getenv("SMSUP_FD")) == NULL) {
		main_usage(argv[0]);
		rc = 64;
	} else {
		errno = 0;
		fd = strtol(env, &end, 10);
		if (errno != 0 || *end != '\0' || fd < 3 || fd > INT_MAX) {
			fprintf(stderr, "%s: bad SMSUP_FD '%s'\n", argv[0],
			    env);
			rc = 64;
		} else {
			unsetenv("SMSUP_FD");
			rc = serve_run((int)fd, state);
		}
	}
	free(state);
	return rc;
}
