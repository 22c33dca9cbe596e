/*
 * cmd-state.c: `smsup state [--raw] NAME`: the machine's state as JSON,
 * decoded from its tpl image and format (serialize/tpljson.c), or the
 * state image itself with --raw (what `BIN --sm-migrate` reads). A large
 * image comes as the worker's memfd (R_STATE_FD): it is mapped here and
 * sent on by sendfile(2), so neither the supervisor nor this client
 * holds a copy.
 */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "smsup.h"

static int	cmd_state_exec(const char *, int, char **);

const struct cmd_entry cmd_state_entry = {
	"state", "[--raw] [-t seconds] NAME", cmd_state_exec
};

static const struct option cmd_state_long[] = {
	{ "raw",	no_argument,	NULL,	'r' },
	{ NULL,		0,		NULL,	0 }
};

static int
cmd_state_write(const uint8_t *p, size_t len)
{
	size_t	 n;

	while (len > 0) {
		if ((n = fwrite(p, 1, len, stdout)) == 0) {
			perror("smsup: stdout");
			return EXIT_FAIL;
		}
		p += n;
		len -= n;
	}
	if (fflush(stdout) != 0) {
		perror("smsup: stdout");
		return EXIT_FAIL;
	}
	return 0;
}

/* The len bytes of memfd fd to stdout, by sendfile if it can. */
static int
cmd_state_send(int fd, const uint8_t *p, size_t len)
{
	off_t	 off = 0;
	ssize_t	 n;

	while ((size_t)off < len) {
		n = sendfile(STDOUT_FILENO, fd, &off, len - (size_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EINVAL || errno == ENOSYS) &&
		    off == 0)
			return cmd_state_write(p, len);
		if (n <= 0) {
			fprintf(stderr, "smsup: stdout: %s\n", n == 0 ?
			    "short write" : strerror(errno));
			return EXIT_FAIL;
		}
	}
	return 0;
}

/* Map the image of an R_STATE_FD answer: NULL, said, if it cannot be. */
static const uint8_t *
cmd_state_map(int fd, uint64_t len)
{
	struct stat	 st;
	void		*p;

	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    (uint64_t)st.st_size < len || len == 0 || len > SIZE_MAX) {
		fprintf(stderr, "smsup: malformed state answer (descriptor)\n");
		return NULL;
	}
	if ((p = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0)) ==
	    MAP_FAILED) {
		fprintf(stderr, "smsup: cannot map the state image of %llu "
		    "bytes: %s\n", (unsigned long long)len, strerror(errno));
		return NULL;
	}
	return p;
}

static int
cmd_state_exec(const char *path, int argc, char **argv)
{
	struct buf		 p = { 0 }, in = { 0 }, out = { 0 };
	struct msg_reader	 r;
	struct reply		 rep;
	struct image		 img;
	const uint8_t		*image;
	uint64_t		 len;
	char			 fields[1024], err[256];
	int			 rc, c, raw = 0;

	while ((c = getopt_long(argc, argv, "rt:", cmd_state_long, NULL)) !=
	    -1)
		if (c == 'r')
			raw = 1;
		else if (c == 't') {
			if (units_parse_seconds(optarg, 86400,
			    &client_timeout) == -1) {
				fprintf(stderr, "smsup: bad value '%s' for -t "
				    "(seconds, up to 86400)\n", optarg);
				return EXIT_USAGE;
			}
		} else
			return cmd_usage(&cmd_state_entry);
	if (argc - optind != 1)
		return cmd_usage(&cmd_state_entry);
	if (raw && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "smsup: --raw writes a binary image: redirect "
		    "it to a file or a pipe\n");
		return EXIT_USAGE;
	}
	msg_put_str(&p, argv[optind]);
	msg_put_u32(&p, STATE_TAKES_FD);
	rc = client_ask(path, FRAME_C_STATE, &p, &in, &rep, 0);
	buf_free(&p);
	if (rc == 0 && rep.type != FRAME_R_STATE &&
	    rep.type != FRAME_R_STATE_FD)
		rc = client_error(&rep);
	if (rc != 0) {
		buf_free(&in);
		return rc;
	}
	msg_init(&r, rep.data, rep.len);
	if (msg_get_str(&r, fields, sizeof fields) == -1 ||
	    (rep.type == FRAME_R_STATE_FD && (msg_get_u64(&r, &len) == -1 ||
	    msg_end(&r) == -1))) {
		fprintf(stderr, "smsup: malformed state answer\n");
		return EXIT_FAIL;
	}
	if (rep.type == FRAME_R_STATE) {
		image = rep.data + r.off;
		len = rep.len - r.off;
	} else if ((image = cmd_state_map(rep.fd, len)) == NULL)
		return EXIT_FAIL;
	if ((rc = image_decode(image, (size_t)len, &img)) != IMAGE_OK) {
		fprintf(stderr, "smsup: %s sent a bad image: %s\n",
		    argv[optind], image_strerror(rc));
		return EXIT_FAIL;
	}
	if (raw && rep.fd != -1)
		rc = cmd_state_send(rep.fd, image, (size_t)len);
	else if (raw)
		rc = cmd_state_write(image, (size_t)len);
	else if (tpljson_render(img.tpl, img.tpl_len, fields, &out, err,
	    sizeof err) == -1) {
		fprintf(stderr, "smsup: cannot decode the state of %s (%s): "
		    "%s\n", argv[optind], img.format, err);
		rc = EXIT_FAIL;
	} else if (buf_add(&out, "\n", 1) == -1)
		rc = EXIT_FAIL;
	else
		rc = cmd_state_write(buf_head(&out), buf_used(&out));
	buf_free(&out);
	buf_free(&in);
	return rc;
}
