/*
 * sup-store.c: unit tests of the state directory (store.c) on real files:
 * every state a SIGKILL can leave between the steps of writing a new
 * snapshot and journal loads to the state of that moment; strikes are
 * kept; torn, corrupt and unreadable files are cut, passed over or moved
 * aside; the layout of the version before is read and converted.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "journal.h"
#include "smsup.h"

static char	 root[PATH_MAX];

static void
setup(void)
{
	char	 tmpl[] = "/tmp/sup-store.XXXXXX";

	ev_default_loop(0);
	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(root, sizeof root, "%s", tmpl);
}

static void
teardown(void)
{
	char	 cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static void
input(struct buf *b, uint64_t seq)
{
	char	 text[32];

	snprintf(text, sizeof text, "input %llu", (unsigned long long)seq);
	frame_put(b, FRAME_S_INPUT, seq, text, strlen(text));
}

/* The seqs of frames, as "4,5,6". */
static void
seqs(const struct buf *frames, char *out, size_t len)
{
	static const struct frame_limits lim = { 1 << 20, 1 << 20 };
	const uint8_t	*p = buf_head(frames);
	size_t		 left = buf_used(frames), n = 0;
	struct frame	 f;

	out[0] = '\0';
	while (frame_parse(p, left, &lim, &f) == FRAME_OK) {
		n += (size_t)snprintf(out + n, len - n, "%s%llu", n ? "," : "",
		    (unsigned long long)f.id);
		p += FRAME_HDR_LEN + f.len;
		left -= FRAME_HDR_LEN + f.len;
	}
}

static void
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
run(const char *fmt, ...)
{
	va_list	 ap;
	char	 cmd[4 * PATH_MAX];

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Load machine m from state directory dir: what it holds. */
struct loaded {
	int	 rc;
	char	 image[64];
	uint64_t snap_seq, last;
	char	 seqs[256];
	char	 err[512];
};

static struct loaded
load(const char *dir)
{
	struct loaded	 l;
	struct buf	 image = { 0 }, frames = { 0 };
	struct store_image fi;
	struct store	*s;
	char		 path[PATH_MAX];
	ssize_t		 n;

	memset(&l, 0, sizeof l);
	snprintf(path, sizeof path, "%s/%s", root, dir);
	cr_assert_eq(store_lock(path, l.err, sizeof l.err), 0, "%s", l.err);
	cr_assert_not_null(s = store_open("m", DURABILITY_BATCH, l.err,
	    sizeof l.err));
	l.rc = store_load(s, &image, &fi, &l.snap_seq, &frames, &l.last, l.err,
	    sizeof l.err);
	/* An image of a snapshot file stays there, named by its fd. */
	if (fi.fd != -1) {
		cr_assert_lt(fi.len, sizeof l.image);
		n = pread(fi.fd, l.image, fi.len, (off_t)fi.off);
		cr_assert_eq(n, (ssize_t)fi.len);
		l.image[n] = '\0';
		close(fi.fd);
	} else
		snprintf(l.image, sizeof l.image, "%.*s",
		    (int)buf_used(&image), (const char *)buf_head(&image));
	seqs(&frames, l.seqs, sizeof l.seqs);
	store_close(s);
	store_unlock();
	buf_free(&image);
	buf_free(&frames);
	return l;
}

/*
 * The history every test starts from, in dir "a": inputs 1..5, a snapshot
 * at 3, inputs 6..8 with 7 struck off, a snapshot at 6, input 9. The
 * state: snapshot at 6, inputs 8 and 9. Copies of the directory are taken
 * at the instants of interest: "before" just before the second snapshot,
 * "after" just after it.
 */
static void
history(void)
{
	struct buf	 b = { 0 }, frames = { 0 }, img = { 0 };
	struct store_image fi;
	struct store	*s;
	uint64_t	 snap, last, i;
	char		 path[PATH_MAX], err[512];

	snprintf(path, sizeof path, "%s/a", root);
	cr_assert_eq(store_lock(path, err, sizeof err), 0, "%s", err);
	cr_assert_not_null(s = store_open("m", DURABILITY_BATCH, err,
	    sizeof err));
	cr_assert_eq(store_load(s, &img, &fi, &snap, &frames, &last, err,
	    sizeof err), 0);
	cr_assert_eq(fi.fd, -1);
	for (i = 1; i <= 5; i++) {
		buf_reset(&b);
		input(&b, i);
		store_append(s, buf_head(&b), buf_used(&b));
	}
	cr_assert_eq(store_flush(s), STORE_DONE);
	buf_reset(&frames);
	input(&frames, 4);
	input(&frames, 5);
	cr_assert_eq(store_snapshot(s, 3, "IMG3", 4, &frames), 0);
	for (i = 6; i <= 8; i++) {
		buf_reset(&b);
		input(&b, i);
		store_append(s, buf_head(&b), buf_used(&b));
	}
	store_strike(s, 7);
	cr_assert_eq(store_flush(s), STORE_DONE);
	run("cp -a %s/a %s/before", root, root);
	buf_reset(&frames);
	input(&frames, 8);
	cr_assert_eq(store_snapshot(s, 6, "IMG6", 4, &frames), 0);
	run("cp -a %s/a %s/after", root, root);
	buf_reset(&b);
	input(&b, 9);
	store_append(s, buf_head(&b), buf_used(&b));
	cr_assert_eq(store_flush(s), STORE_DONE);
	store_close(s);
	store_unlock();
	buf_free(&b);
	buf_free(&frames);
	buf_free(&img);
}

/* The newest file of kind in dir's machine: its name. */
static void
newest(const char *dir, const char *kind, char *out, size_t len)
{
	char	 cmd[PATH_MAX + 128];
	FILE	*f;

	snprintf(cmd, sizeof cmd, "ls %s/%s/m | grep '^%s\\.[0-9]*$' | "
	    "sort -t. -k2 -n | tail -1", root, dir, kind);
	cr_assert_not_null(f = popen(cmd, "r"));
	cr_assert_not_null(fgets(out, (int)len, f));
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

Test(store, the_state_as_written)
{
	struct loaded	 l;

	history();
	l = load("a");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	cr_assert_str_eq(l.image, "IMG6");
	cr_assert_eq(l.snap_seq, 6);
	cr_assert_str_eq(l.seqs, "8,9");
	cr_assert_eq(l.last, 9);
	/* And again: a clean load changes nothing. */
	l = load("a");
	cr_assert_str_eq(l.seqs, "8,9");
}

Test(store, killed_between_the_snapshot_and_its_journal)
{
	struct loaded	 l;
	char		 j[64];

	history();
	/* The new snapshot renamed in, its journal not yet. */
	newest("after", "journal", j, sizeof j);
	run("rm %s/after/m/%s", root, j);
	l = load("after");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	cr_assert_str_eq(l.image, "IMG3");
	cr_assert_eq(l.snap_seq, 3);
	cr_assert_str_eq(l.seqs, "4,5,6,8", "7 stays struck off");
	cr_assert_eq(l.last, 8);
	/* It wrote a new pair: loading again gives the same. */
	l = load("after");
	cr_assert_str_eq(l.seqs, "4,5,6,8");
}

Test(store, killed_before_anything_was_renamed)
{
	struct loaded	 l;

	history();
	/* Only temporary files of the new pair, and garbage in them. */
	run("cd %s/before/m && head -c 100 /dev/urandom >snapshot.9.tmp && "
	    "head -c 50 /dev/urandom >journal.9.tmp", root);
	l = load("before");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	cr_assert_str_eq(l.image, "IMG3");
	cr_assert_str_eq(l.seqs, "4,5,6,8");
	cr_assert_eq(l.last, 8);
}

Test(store, killed_after_both_renames)
{
	struct loaded	 l;

	history();
	l = load("after");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	cr_assert_str_eq(l.image, "IMG6");
	cr_assert_str_eq(l.seqs, "8");
	cr_assert_eq(l.last, 8);
}

Test(store, a_corrupt_snapshot_falls_back)
{
	struct loaded	 l;
	char		 s[64];

	history();
	newest("a", "snapshot", s, sizeof s);
	run("printf Z | dd of=%s/a/m/%s bs=1 seek=45 conv=notrunc "
	    "2>/dev/null", root, s);
	l = load("a");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	cr_assert_str_eq(l.image, "IMG3");
	cr_assert_str_eq(l.seqs, "4,5,6,8,9");
	cr_assert_eq(l.last, 9);
}

Test(store, every_snapshot_corrupt_is_refused)
{
	struct loaded	 l;

	history();
	run("cd %s/a/m && for f in snapshot.*; do printf Z | dd of=$f bs=1 "
	    "seek=45 conv=notrunc 2>/dev/null; done && ls >../../ls.before",
	    root);
	l = load("a");
	cr_assert_eq(l.rc, -1);
	cr_assert(strstr(l.err, "refusing to guess") != NULL, "%s", l.err);
	run("cd %s/a/m && ls | cmp -s - ../../ls.before", root);
}

Test(store, an_unreadable_journal_is_moved_aside)
{
	struct loaded	 l;
	char		 j[64];

	history();
	newest("a", "journal", j, sizeof j);
	run("head -c 64 /dev/urandom >%s/a/m/%s", root, j);
	l = load("a");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	/* The older pair, without what only the bad journal had. */
	cr_assert_str_eq(l.image, "IMG3");
	cr_assert_str_eq(l.seqs, "4,5,6,8");
	run("ls %s/a/m/%s.bad-* >/dev/null", root, j);
	l = load("a");
	cr_assert_str_eq(l.seqs, "4,5,6,8");
}

Test(store, a_torn_tail_is_cut)
{
	struct loaded	 l;
	struct stat	 st;
	char		 j[64], path[PATH_MAX];

	history();
	newest("a", "journal", j, sizeof j);
	snprintf(path, sizeof path, "%s/a/m/%s", root, j);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(truncate(path, st.st_size - 3), 0);
	l = load("a");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	cr_assert_str_eq(l.image, "IMG6");
	cr_assert_str_eq(l.seqs, "8");
	cr_assert_eq(stat(path, &st), 0);
	l = load("a");
	cr_assert_str_eq(l.seqs, "8");
}

Test(store, the_layout_before_is_converted)
{
	struct buf	 b = { 0 }, f = { 0 };
	struct loaded	 l;
	uint8_t		 v1[12];
	char		 path[PATH_MAX];
	FILE		*out;
	uint64_t	 i;

	run("mkdir -p -m 700 %s/old %s/old/m", root, root);
	/* A version 1 snapshot (no epoch) at seq 3, a journal of 4 and 5. */
	store_unlock();
	cr_assert_eq(journal_snapshot_encode(&b, 3, 0, "OLD3", 4), 0);
	memmove(b.data + JOURNAL_HDR_LEN + 8, b.data + JOURNAL_HDR_LEN + 16,
	    b.len - JOURNAL_HDR_LEN - 16);
	b.len -= 8;
	b.data[8] = 1;
	snprintf(path, sizeof path, "%s/old/m/snapshot", root);
	cr_assert_not_null(out = fopen(path, "w"));
	fwrite(b.data, 1, b.len, out);
	fclose(out);
	memcpy(v1, JOURNAL_LOG_MAGIC, 8);
	v1[8] = 1;
	v1[9] = v1[10] = v1[11] = 0;
	buf_reset(&b);
	buf_add(&b, v1, sizeof v1);
	for (i = 4; i <= 5; i++) {
		buf_reset(&f);
		input(&f, i);
		journal_record_add(&b, buf_head(&f), buf_used(&f));
	}
	snprintf(path, sizeof path, "%s/old/m/journal", root);
	cr_assert_not_null(out = fopen(path, "w"));
	fwrite(b.data, 1, b.len, out);
	fclose(out);
	l = load("old");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	cr_assert_str_eq(l.image, "OLD3");
	cr_assert_str_eq(l.seqs, "4,5");
	cr_assert_eq(l.last, 5);
	/* Converted: the old names are gone, the new ones load the same. */
	run("test ! -e %s/old/m/snapshot && test ! -e %s/old/m/journal", root,
	    root);
	l = load("old");
	cr_assert_str_eq(l.image, "OLD3");
	cr_assert_str_eq(l.seqs, "4,5");
	buf_free(&b);
	buf_free(&f);
}

Test(store, a_link_is_never_followed)
{
	struct loaded	 l;
	char		 j[64];

	history();
	newest("a", "journal", j, sizeof j);
	run("echo precious >%s/victim && rm %s/a/m/%s && "
	    "ln -s %s/victim %s/a/m/%s", root, root, j, root, root, j);
	l = load("a");
	cr_assert_eq(l.rc, 1, "%s", l.err);
	run("grep -qx precious %s/victim", root);
}
