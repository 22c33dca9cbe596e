/*
 * wrk-lib.c: unit tests of the worker library: machine checks, images
 * saved, loaded and migrated, and the worker protocol loop (run in a
 * forked child over a socketpair).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "crc32c.h"
#include "frame.h"
#include "image.h"
#include "msg.h"
#include "worker-int.h"

struct pair {
	int32_t	 old;
	int32_t	 n;
};

static int
t_init(void *state)
{
	memset(state, 0, sizeof(struct pair));
	return 0;
}

static int
t_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct pair	*p = state;
	int		 i;

	if (smsup_input_is(in, len, "incr")) {
		p->n++;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "long")) {
		for (i = 0; i < 100; i++)
			smsup_reply(out, "%s", "0123456789");
		return smsup_reply(out, "%0600d", 7);
	}
	if (len > 5 && strncmp(in, "echo ", 5) == 0)
		return smsup_reply(out, "%s", in + 5);
	return smsup_error("unknown input '%s'", in);
}

static int
t_migrate(void *state, const struct smsup_image *old)
{
	struct pair	*p = state;
	int32_t		 n;

	if (smsup_image_unpack(old, "S(i)", &n) == -1)
		return -1;
	p->old = p->n = n;
	return 0;
}

SMSUP_MACHINE(
	.name = "counter",
	.version = "2",
	.format = "S(ii)",
	.state_size = sizeof(struct pair),
	.migrates_from = SMSUP_VERSIONS("1"),
	.init = t_init,
	.step = t_step,
	.migrate = t_migrate,
);

/* A version-1 image holding n, made with tpl as counter v1 would. */
static void
v1_image(struct buf *b, const char *name, int32_t n)
{
	tpl_node	*tn;
	void		*tpl;
	size_t		 len;

	tn = tpl_map("S(i)", &n);
	tpl_pack(tn, 0);
	cr_assert_eq(tpl_dump(tn, TPL_MEM, &tpl, &len), 0);
	tpl_free(tn);
	cr_assert_eq(image_encode(b, name, "1", "S(i)", tpl, len), 0);
	free(tpl);
}

Test(worker, machine_checks)
{
	struct smsup_machine	 m = smsup_machine;

	state_hooks();
	cr_assert_null(state_check(&m));
	m.abi = 99;
	cr_assert_str_eq(state_check(&m),
	    "built against another smsup worker ABI");
	m = smsup_machine;
	m.name = "no spaces";
	cr_assert_str_eq(state_check(&m), "invalid machine name");
	m = smsup_machine;
	m.format = "A(i)";
	cr_assert_str_eq(state_check(&m),
	    "this format needs save and load callbacks");
	m = smsup_machine;
	m.format = "S(i)S(i)";
	cr_assert_not_null(state_check(&m), "two structs");
	m = smsup_machine;
	m.migrates_from = SMSUP_VERSIONS("2");
	cr_assert_str_eq(state_check(&m),
	    "migrates_from lists the machine's own version");
	m = smsup_machine;
	m.migrate = NULL;
	cr_assert_str_eq(state_check(&m),
	    "migrates_from needs a migrate callback");
	m = smsup_machine;
	m.step = NULL;
	cr_assert_str_eq(state_check(&m), "init and step are required");
	/* The format against the struct, as tpl lays it out. */
	m = smsup_machine;
	m.state_size = 16;
	cr_assert_str_eq(state_check(&m), "format S(ii) maps a struct of 8 "
	    "bytes (aligned to 4), but state_size is 16: every field of the "
	    "state needs its letter, of its width");
	m.format = "S(iI)";
	cr_assert_null(state_check(&m), "{int32_t; int64_t} is 16 bytes");
	m.format = "S(cjIs)";
	m.state_size = 24;
	cr_assert_null(state_check(&m), "{char; int16_t; int64_t; char *}");
	m.format = "S(III)";
	m.state_size = 8;
	cr_assert_not_null(strstr(state_check(&m), "maps a struct of 24 "));
	m.format = "f";
	cr_assert_null(state_check(&m), "a double");
	m.format = "S(c#8)";
	cr_assert_str_eq(state_check(&m), "invalid tpl format S(c#8): '#' "
	    "takes no length in the format: write S(c#), and give the length "
	    "to tpl_map in save and load");
	m.format = "S(ix)";
	cr_assert_str_eq(state_check(&m), "invalid tpl format S(ix): 'x' at 4 "
	    "(tpl's letters are i j u v I U c s f B, with #, S(...), A(...), "
	    "$(...))");
	m.format = "S(i";
	cr_assert_str_eq(state_check(&m), "invalid tpl format S(i: a '(' is "
	    "not closed");
}

Test(worker, save_and_load_same_version)
{
	struct pair	 a = { 5, 9 }, b;
	struct buf	 img = { 0 };

	state_hooks();
	cr_assert_eq(state_save(&a, &img, 1 << 20), 0, "%s",
	    state_lasterr());
	cr_assert_eq(state_restore(&b, img.data, img.len), 0, "%s",
	    state_lasterr());
	cr_assert_eq(b.old, 5);
	cr_assert_eq(b.n, 9);
	/* The cap on the tpl part is enforced. */
	buf_reset(&img);
	cr_assert_eq(state_save(&a, &img, 4), -1);
	cr_assert(strstr(state_lasterr(), "exceeds the cap") != NULL);
	cr_assert_eq(img.len, 0);
	buf_free(&img);
}

Test(worker, migrates_from_one_like_erlang_code_change)
{
	struct pair	 p;
	struct buf	 img = { 0 };

	state_hooks();
	v1_image(&img, "counter", 2);
	cr_assert_eq(state_restore(&p, img.data, img.len), 0, "%s",
	    state_lasterr());
	cr_assert_eq(p.old, 2);
	cr_assert_eq(p.n, 2);
	buf_free(&img);
}

Test(worker, refuses_what_it_cannot_migrate)
{
	struct pair	 p;
	struct buf	 img = { 0 };
	struct image	 hdr;

	state_hooks();
	v1_image(&img, "kv", 2);
	cr_assert_eq(state_restore(&p, img.data, img.len), -1);
	cr_assert_str_eq(state_lasterr(), "image is of machine kv, not counter");

	buf_reset(&img);
	cr_assert_eq(image_encode(&img, "counter", "7", "S(i)", "tpl", 3), 0);
	cr_assert_eq(state_restore(&p, img.data, img.len), -1);
	cr_assert_str_eq(state_lasterr(),
	    "counter 2 cannot migrate from version 7 (accepts: 1)");

	/* A v1 image whose tpl bytes are damaged: an error, not a crash. */
	buf_reset(&img);
	v1_image(&img, "counter", 2);
	cr_assert_eq(image_decode(img.data, img.len, &hdr), IMAGE_OK);
	memset((uint8_t *)hdr.tpl + 3, 0xff, hdr.tpl_len - 3);
	cr_assert_eq(state_restore(&p, img.data, img.len), -1);
	cr_assert_eq(p.n, 0, "state left zeroed");

	cr_assert_eq(state_restore(&p, (const uint8_t *)"junk", 4), -1);
	cr_assert_str_eq(state_lasterr(), "state image truncated");
	buf_free(&img);
}

/* Read one frame from fd into b (blocking). */
static struct frame
next_frame(int fd, struct buf *b)
{
	static const struct frame_limits lim = { 1 << 20, 1 << 20 };
	struct frame	 f;
	ssize_t		 n;

	buf_compact(b);
	while (frame_parse(buf_head(b), buf_used(b), &lim, &f) != FRAME_OK) {
		cr_assert_eq(buf_reserve(b, 4096), 0);
		n = read(fd, b->data + b->len, b->cap - b->len);
		cr_assert_gt(n, 0, "worker closed early");
		b->len += (size_t)n;
	}
	buf_consume(b, FRAME_HDR_LEN + f.len);
	return f;
}

static void
send_frame(int fd, uint8_t type, uint64_t id, const void *p, size_t len)
{
	struct buf	 b = { 0 };

	frame_put(&b, type, id, p, len);
	cr_assert_eq(write(fd, b.data, b.len), (ssize_t)b.len);
	buf_free(&b);
}

/* LOAD_FD of the image in a new memfd, saying it is len bytes. */
static void
load_fd(int fd, const struct buf *img, uint64_t len)
{
	struct chan	 c;
	struct buf	 out = { 0 };
	uint8_t		 pos[16];
	int		 m;

	cr_assert_neq(m = memfd_create("t", MFD_CLOEXEC), -1);
	cr_assert_eq(write(m, img->data, img->len), (ssize_t)img->len);
	msg_setle64(pos, 0);
	msg_setle64(pos + 8, len);
	chan_init(&c, fd);
	cr_assert_eq(chan_put_fd(&c, &out, FRAME_S_LOAD_FD, 0, pos,
	    sizeof pos, m), 0);
	cr_assert_eq(chan_flush(&c, &out), 0);
	buf_free(&out);
}

/* Descriptors ride with their frames, in order; too many break it. */
Test(worker, chan)
{
	static const struct frame_limits lim = { 1 << 20, 1 << 20 };
	struct chan	 a, b;
	struct buf	 out = { 0 };
	struct frame	 f;
	uint8_t		 bytes[256];
	char		 got[8];
	size_t		 total;
	ssize_t		 n;
	int		 sv[2], m[2], i, fd;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	chan_init(&a, sv[0]);
	chan_init(&b, sv[1]);
	for (i = 0; i < 2; i++) {
		cr_assert_neq(m[i] = memfd_create("t", MFD_CLOEXEC), -1);
		cr_assert_eq(write(m[i], i ? "second" : "first", 6), 6);
	}
	frame_put(&out, FRAME_S_INPUT, 1, "plain", 5);
	cr_assert_eq(chan_put_fd(&a, &out, FRAME_S_LOAD_FD, 2, "x", 1,
	    m[0]), 0);
	frame_put(&out, FRAME_S_INPUT, 3, "plain", 5);
	cr_assert_eq(chan_put_fd(&a, &out, FRAME_S_LOAD_FD, 4, "y", 1,
	    m[1]), 0);
	cr_assert_eq(chan_plain(&a, &out), FRAME_HDR_LEN + 5);
	cr_assert_eq(chan_flush(&a, &out), 0);
	cr_assert_eq(a.nout, 0);
	/* Read it all: both descriptors, in the order of their frames. */
	total = 0;
	while (total < 4 * FRAME_HDR_LEN + 12) {
		cr_assert_gt(n = chan_recv(&b, bytes + total,
		    sizeof bytes - total), 0);
		total += (size_t)n;
	}
	cr_assert_eq(total, 4 * FRAME_HDR_LEN + 12);
	cr_assert_eq(frame_parse(bytes, total, &lim, &f), FRAME_OK);
	cr_assert_eq(f.id, 1);
	for (i = 0; i < 2; i++) {
		cr_assert_neq(fd = chan_take(&b), -1);
		memset(got, 0, sizeof got);
		cr_assert_eq(pread(fd, got, 6, 0), 6);
		cr_assert_str_eq(got, i ? "second" : "first");
		close(fd);
	}
	cr_assert_eq(chan_take(&b), -1);

	/* Descriptors on frames that take none pile up: past 8, broken. */
	for (i = 0; i < CHAN_FDS_MAX + 1; i++) {
		cr_assert_neq(fd = memfd_create("t", MFD_CLOEXEC), -1);
		cr_assert_eq(chan_put_fd(&a, &out, FRAME_S_INPUT, 5, "z", 1,
		    fd), 0);
		cr_assert_eq(chan_flush(&a, &out), 0);
	}
	for (i = 0; i < CHAN_FDS_MAX; i++)
		cr_assert_gt(chan_recv(&b, bytes, FRAME_HDR_LEN + 1), 0);
	cr_assert_eq(chan_recv(&b, bytes, FRAME_HDR_LEN + 1), -1);
	cr_assert_eq(errno, EPROTO);
	buf_free(&out);
	chan_close(&a);
	chan_close(&b);
	close(sv[0]);
	close(sv[1]);
}

Test(worker, protocol)
{
	struct buf		 in = { 0 }, img = { 0 };
	struct msg_reader	 r;
	struct frame		 f;
	struct image		 hdr;
	char			 s[64];
	uint32_t		 n;
	int			 sv[2], status;
	pid_t			 pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		state_hooks();
		_exit(serve_run(sv[1], calloc(1, sizeof(struct pair))));
	}
	close(sv[1]);

	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_HELLO);
	cr_assert_eq(f.id, (uint64_t)pid);
	msg_init(&r, f.payload, f.len);
	msg_get_str(&r, s, sizeof s);
	cr_assert_str_eq(s, "counter");
	msg_get_str(&r, s, sizeof s);
	cr_assert_str_eq(s, "2");
	msg_get_str(&r, s, sizeof s);
	cr_assert_str_eq(s, "S(ii)");
	msg_get_u32(&r, &n);
	cr_assert_eq(n, 1);
	msg_get_str(&r, s, sizeof s);
	cr_assert_str_eq(s, "1");
	msg_get_str(&r, s, sizeof s);		/* field names: none */
	cr_assert_str_eq(s, "");
	/* It takes descriptors, forks snapshots, takes init arguments. */
	msg_get_u32(&r, &n);
	cr_assert_eq(n, HELLO_CAP_FD | HELLO_CAP_FORK | HELLO_CAP_ARG);
	cr_assert_eq(msg_end(&r), 0);

	/* An input before the state exists is an error, not a crash. */
	send_frame(sv[0], FRAME_S_INPUT, 1, "incr", 4);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_ERROR);

	/*
	 * Start from a v1 image of 40, in a memfd passed with LOAD_FD (one
	 * whose length goes past the file first: refused, not started).
	 */
	v1_image(&img, "counter", 40);
	load_fd(sv[0], &img, img.len + 1);
	cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_FAIL);
	load_fd(sv[0], &img, img.len);
	cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_READY);

	/* Pipelined inputs come back in order, each with its id. */
	send_frame(sv[0], FRAME_S_INPUT, 10, "incr", 4);
	send_frame(sv[0], FRAME_S_INPUT, 11, "echo hi there", 13);
	send_frame(sv[0], FRAME_S_INPUT, 12, "nope", 4);
	send_frame(sv[0], FRAME_S_INPUT, 13, "long", 4);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_OUTPUT);
	cr_assert_eq(f.id, 10);
	cr_assert_eq(f.len, 2);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.id, 11);
	cr_assert_eq(f.len, 8);
	cr_assert(memcmp(f.payload, "hi there", 8) == 0);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_ERROR);
	cr_assert_eq(f.id, 12);
	cr_assert(memcmp(f.payload, "unknown input 'nope'", f.len) == 0);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_OUTPUT);
	cr_assert_eq(f.len, 1600);

	/* The image holds {40, 41}. */
	send_frame(sv[0], FRAME_S_SERIALIZE, 0, NULL, 0);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_IMAGE);
	cr_assert_eq(image_decode(f.payload, f.len, &hdr), IMAGE_OK);
	cr_assert_str_eq(hdr.version, "2");
	cr_assert_str_eq(hdr.format, "S(ii)");
	{
		struct smsup_image	 si = { hdr.name, hdr.version,
		    hdr.format, hdr.tpl, hdr.tpl_len };
		struct pair		 p;

		cr_assert_eq(smsup_image_unpack(&si, "S(ii)", &p), 0);
		cr_assert_eq(p.old, 40);
		cr_assert_eq(p.n, 41);
		cr_assert_eq(smsup_image_unpack(&si, "S(i)", &p), -1);
	}

	/* A state query: its token comes back with the image. */
	send_frame(sv[0], FRAME_S_SERIALIZE, 77, NULL, 0);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_IMAGE);
	cr_assert_eq(f.id, 77);

	/* Traced: the state follows each answer (CONFIG_TRACE_STATE). */
	{
		uint8_t	 cfg[20] = { 0 };

		msg_setle32(cfg + 16, CONFIG_TRACE_STATE);
		send_frame(sv[0], FRAME_S_CONFIG, 0, cfg, sizeof cfg);
		send_frame(sv[0], FRAME_S_INPUT, 14, "incr", 4);
		send_frame(sv[0], FRAME_S_INPUT, 15, "nope", 4);
		cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_OUTPUT);
		f = next_frame(sv[0], &in);
		cr_assert_eq(f.type, FRAME_W_STATE);
		cr_assert_eq(f.id, 14);
		cr_assert_eq(image_decode(f.payload, f.len, &hdr), IMAGE_OK);
		cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_ERROR);
		f = next_frame(sv[0], &in);
		cr_assert_eq(f.type, FRAME_W_STATE);
		cr_assert_eq(f.id, 15);
		/* And not once the trace is off (a CONFIG without flags). */
		send_frame(sv[0], FRAME_S_CONFIG, 0, cfg, 16);
		send_frame(sv[0], FRAME_S_INPUT, 16, "incr", 4);
		send_frame(sv[0], FRAME_S_SERIALIZE, 78, NULL, 0);
		cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_OUTPUT);
		f = next_frame(sv[0], &in);
		cr_assert_eq(f.type, FRAME_W_IMAGE);
		cr_assert_eq(f.id, 78);
	}

	send_frame(sv[0], FRAME_S_STOP, 0, NULL, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);
	buf_free(&in);
	buf_free(&img);
}

/* SNAPFILE of a new unnamed file, its image to go at off. */
static int
snapfile(int fd, uint64_t off)
{
	struct chan	 c;
	struct buf	 out = { 0 };
	uint8_t		 pos[8];
	int		 m;

	cr_assert_neq(m = memfd_create("snap", MFD_CLOEXEC), -1);
	msg_setle64(pos, off);
	chan_init(&c, fd);
	/* (The channel closes what it sent.) */
	cr_assert_eq(chan_put_fd(&c, &out, FRAME_S_SNAPFILE, 0, pos,
	    sizeof pos, dup(m)), 0);
	cr_assert_eq(chan_flush(&c, &out), 0);
	buf_free(&out);
	return m;
}

/*
 * Snapshots by fork: configured so (CONFIG_FORK, one every input), the
 * worker waits for a file, then a child writes the image after off in it
 * while the worker answers; SNAPSHOT_FILE says its length and CRC.
 */
Test(worker, snapshot_by_fork)
{
	struct buf		 in = { 0 };
	struct msg_reader	 r;
	struct frame		 f;
	struct image		 hdr;
	uint8_t			 cfg[20] = { 0 }, *p;
	uint64_t		 len;
	uint32_t		 crc, ms;
	int			 sv[2], status, m, seen;
	pid_t			 pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		state_hooks();
		/* Its 8 bytes would go inline, as small states do. */
		setenv("SMSUP_SNAPSHOT_FORK_MIN", "0", 1);
		_exit(serve_run(sv[1], calloc(1, sizeof(struct pair))));
	}
	close(sv[1]);
	cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_HELLO);
	msg_setle32(cfg, 1);
	msg_setle32(cfg + 16, CONFIG_FORK);
	send_frame(sv[0], FRAME_S_CONFIG, 0, cfg, sizeof cfg);
	send_frame(sv[0], FRAME_S_INIT, 0, NULL, 0);
	cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_READY);

	/* No file yet: no snapshot, inline or not. */
	send_frame(sv[0], FRAME_S_INPUT, 1, "incr", 4);
	send_frame(sv[0], FRAME_S_SERIALIZE, 5, NULL, 0);
	cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_OUTPUT);
	cr_assert_eq(next_frame(sv[0], &in).type, FRAME_W_IMAGE);

	/* The file comes: the state after input 1 goes to it. */
	m = snapfile(sv[0], 64);
	send_frame(sv[0], FRAME_S_INPUT, 2, "incr", 4);
	for (seen = 0; seen < 2;) {
		f = next_frame(sv[0], &in);
		if (f.type == FRAME_W_OUTPUT) {
			cr_assert_eq(f.id, 2);
			seen++;
			continue;
		}
		cr_assert_eq(f.type, FRAME_W_SNAPSHOT_FILE);
		cr_assert(f.id == 1 || f.id == 2);
		msg_init(&r, f.payload, f.len);
		msg_get_u64(&r, &len);
		msg_get_u32(&r, &crc);
		msg_get_u32(&r, &ms);		/* how long the child took */
		cr_assert_eq(msg_end(&r), 0);
		cr_assert_lt(ms, 10000);
		p = mmap(NULL, 64 + len, PROT_READ, MAP_SHARED, m, 0);
		cr_assert_neq(p, MAP_FAILED);
		cr_assert_eq(crc32c(0, p + 64, len), crc);
		cr_assert_eq(image_decode(p + 64, len, &hdr), IMAGE_OK);
		cr_assert_str_eq(hdr.format, "S(ii)");
		munmap(p, 64 + len);
		seen++;
	}
	close(m);

	/* Nothing more until another file comes (input 2 is not written). */
	send_frame(sv[0], FRAME_S_SERIALIZE, 6, NULL, 0);
	f = next_frame(sv[0], &in);
	cr_assert_eq(f.type, FRAME_W_IMAGE);
	cr_assert_eq(f.id, 6);

	send_frame(sv[0], FRAME_S_STOP, 0, NULL, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);
	buf_free(&in);
}

Test(worker, protocol_errors_end_the_worker)
{
	uint8_t	 junk[FRAME_HDR_LEN] = { 0 };
	int	 sv[2], status;
	pid_t	 pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(serve_run(sv[1], calloc(1, sizeof(struct pair))));
	}
	close(sv[1]);
	/* A frame of another protocol version. */
	junk[4] = 99;
	cr_assert_eq(write(sv[0], junk, sizeof junk), (ssize_t)sizeof junk);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	close(sv[0]);
}
