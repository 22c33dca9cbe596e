/*
 * cmd-state.c: `smsup state [--raw] NAME`: the machine's state as JSON,
 * decoded from its tpl image and format (serialize/tpljson.c), or the
 * state image itself with --raw (what `BIN --sm-migrate` reads). A large
 * image comes as the worker's memfd (R_STATE_FD): it is mapped here and
 * sent on by sendfile(2), so neither the supervisor nor this client
 * holds a copy. `smsup state --file FILE` does the same offline, for an
 * image or a snapshot file of the state directory (checked first).
 */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "journal.h"
#include "json.h"
#include "msg.h"
#include "smsup.h"

static int	cmd_state_exec(const char *, int, char **);

const struct cmd_entry cmd_state_entry = {
	"state", "[--raw] [-t seconds] NAME | --file FILE [--fields NAMES]",
	cmd_state_exec
};

static const struct option cmd_state_long[] = {
	{ "raw",	no_argument,		NULL,	'r' },
	{ "file",	required_argument,	NULL,	'f' },
	{ "fields",	required_argument,	NULL,	'F' },
	{ NULL,		0,			NULL,	0 }
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

/* Map the image of an answer's memfd: NULL, said, if it cannot be. */
const uint8_t *
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

/*
 * The image (len bytes at p; in memfd fd unless it is -1) of `what`: as
 * JSON with its fields named, or itself with raw.
 */
int
cmd_state_out(const char *what, const uint8_t *p, size_t len,
    const char *fields, int raw, int fd)
{
	struct buf	 out = { 0 };
	struct image	 img;
	char		 err[256];
	int		 rc;

	if ((rc = image_decode(p, len, &img)) != IMAGE_OK) {
		fprintf(stderr, "smsup: %s: a bad state image: %s\n", what,
		    image_strerror(rc));
		return EXIT_FAIL;
	}
	if (raw && fd != -1)
		rc = cmd_state_send(fd, p, len);
	else if (raw)
		rc = cmd_state_write(p, len);
	else if (tpljson_render(img.tpl, img.tpl_len, fields, &out, err,
	    sizeof err) == -1) {
		fprintf(stderr, "smsup: cannot decode the state of %s (%s): "
		    "%s\n", what, img.format, err);
		rc = EXIT_FAIL;
	} else if (buf_add(&out, "\n", 1) == -1)
		rc = EXIT_FAIL;
	else
		rc = cmd_state_write(buf_head(&out), buf_used(&out));
	buf_free(&out);
	return rc;
}

/* Whether a stream read so far is not an image or snapshot (said). */
static int
cmd_state_stream_bad(const struct buf *b, const char *file)
{
	size_t	 n = buf_used(b);

	/* (Both magics are 8 bytes.) */
	if (n >= IMAGE_MAGIC_LEN && memcmp(buf_head(b), IMAGE_MAGIC,
	    IMAGE_MAGIC_LEN) != 0 && memcmp(buf_head(b), JOURNAL_SNAP_MAGIC,
	    IMAGE_MAGIC_LEN) != 0) {
		fprintf(stderr, "smsup: %s: not a state image nor a snapshot "
		    "file\n", file);
		return 1;
	}
	if (n > (size_t)FRAME_IMAGE_MAX_DEFAULT + JOURNAL_SNAP_HDR_LEN) {
		fprintf(stderr, "smsup: %s: larger than a state image may be "
		    "(%u bytes)\n", file, FRAME_IMAGE_MAX_DEFAULT);
		return 1;
	}
	return 0;
}

/*
 * --file: an image (from `state --raw` or `--sm-migrate`) or a snapshot
 * file, its checksum checked; "-" is standard input.
 */
static int
cmd_state_file(const char *file, const char *fields, int raw)
{
	struct buf	 b = { 0 };
	struct stat	 st;
	const uint8_t	*p = NULL, *img;
	const char	*why;
	uint64_t	 seq, epoch;
	size_t		 len = 0, n;
	ssize_t		 k;
	void		*map = MAP_FAILED;
	int		 fd, rc;

	if (strcmp(file, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "smsup: %s: %s\n", file, strerror(errno));
		return EXIT_FAIL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= SIZE_MAX &&
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) != MAP_FAILED) {
		p = map;
		len = (size_t)st.st_size;
	} else {
		/* A stream: its first bytes say what it is, and it is capped. */
		while ((k = buf_reserve(&b, 1 << 16) == -1 ? -1 :
		    read(fd, b.data + b.len, b.cap - b.len)) > 0) {
			b.len += (size_t)k;
			if (cmd_state_stream_bad(&b, file)) {
				rc = EXIT_FAIL;
				goto out;
			}
		}
		if (k == -1) {
			fprintf(stderr, "smsup: %s: %s\n", file,
			    strerror(errno));
			rc = EXIT_FAIL;
			goto out;
		}
		p = buf_head(&b);
		len = buf_used(&b);
	}
	n = sizeof JOURNAL_SNAP_MAGIC - 1;
	if (len >= n && memcmp(p, JOURNAL_SNAP_MAGIC, n) == 0) {
		if (journal_snapshot_decode(p, len, &seq, &epoch, &img, &n,
		    &why) == -1) {
			fprintf(stderr, "smsup: %s: a bad snapshot file: %s\n",
			    file, why);
			rc = EXIT_FAIL;
			goto out;
		}
		p = img;
		len = n;
	}
	rc = cmd_state_out(file, p, len, fields, raw, -1);
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd != STDIN_FILENO)
		close(fd);
	buf_free(&b);
	return rc;
}

static int
cmd_state_exec(const char *path, int argc, char **argv)
{
	struct buf		 p = { 0 }, in = { 0 };
	struct msg_reader	 r;
	struct reply		 rep;
	const uint8_t		*image;
	const char		*file = NULL, *given = NULL;
	uint64_t		 len;
	char			 fields[1024];
	int			 rc, c, raw = 0;

	while ((c = getopt_long(argc, argv, "rt:", cmd_state_long, NULL)) !=
	    -1)
		if (c == 'r')
			raw = 1;
		else if (c == 'f')
			file = optarg;
		else if (c == 'F') {
			if (tpljson_fields_valid(optarg, fields,
			    sizeof fields) == -1) {
				fprintf(stderr, "smsup: --fields: %s\n",
				    fields);
				return EXIT_USAGE;
			}
			given = optarg;
		} else if (c == 't') {
			if (units_parse_seconds(optarg, 86400,
			    &client_timeout) == -1) {
				fprintf(stderr, "smsup: bad value '%s' for -t "
				    "(seconds, up to 86400)\n", optarg);
				return EXIT_USAGE;
			}
		} else
			return cmd_usage(&cmd_state_entry);
	if (argc - optind != (file == NULL) || (given != NULL && file == NULL))
		return cmd_usage(&cmd_state_entry);
	if (raw && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "smsup: --raw writes a binary image: redirect "
		    "it to a file or a pipe\n");
		return EXIT_USAGE;
	}
	if (file != NULL)
		return cmd_state_file(file, given != NULL ? given : "", raw);
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
	rc = cmd_state_out(argv[optind], image, (size_t)len, fields, raw,
	    rep.fd);
	buf_free(&in);
	return rc;
}
