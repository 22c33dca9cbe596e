/*
 * big.c: the large-state part of `make bench`: upgrade pauses by state
 * size against the raw memfd handoff, `state --raw` against a raw pipe,
 * a start from a large snapshot against reading its file, calls while a
 * large state snapshots by fork, and the supervisor's peak memory
 * meanwhile (bench.c runs them and writes the table).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "msg.h"
#include "smsup.h"

/* Fastest of pipe, vmsplice and a memfd handed over, for size bytes. */
static double
bench_raw_transfer(size_t size, const char **how)
{
	uint8_t		*src, *dst;
	int		 p[2], sv[2];
	uint64_t	 t, best = UINT64_MAX;
	size_t		 chunk = 1u << 20, off;
	struct iovec	 iov;
	pid_t		 pid;
	const char	*names[3] = { "pipe", "vmsplice", "memfd" };
	int		 m, fd;
	ssize_t		 k;

	src = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	memset(src, 7, size);
	for (m = 0; m < 3; m++) {
		pipe(p);
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		t = units_now();
		if ((pid = fork()) == 0) {
			/* The receiver: the bytes end up in its memory. */
			if (m < 2) {
				dst = malloc(size);
				for (off = 0; off < size; off += (size_t)k)
					if ((k = read(p[0], dst + off,
					    size - off)) <= 0)
						_exit(1);
			} else {
				char		 c;
				char		 ctl[CMSG_SPACE(sizeof(int))];
				struct msghdr	 msg = { 0 };
				struct iovec	 io = { &c, 1 };
				struct cmsghdr	*cm;

				msg.msg_iov = &io;
				msg.msg_iovlen = 1;
				msg.msg_control = ctl;
				msg.msg_controllen = sizeof ctl;
				if (recvmsg(sv[1], &msg, 0) != 1)
					_exit(1);
				cm = CMSG_FIRSTHDR(&msg);
				memcpy(&fd, CMSG_DATA(cm), sizeof fd);
				dst = mmap(NULL, size, PROT_READ, MAP_SHARED,
				    fd, 0);
				if (dst == MAP_FAILED || dst[size - 1] != 7)
					_exit(1);
			}
			_exit(0);
		}
		if (m == 0) {
			for (off = 0; off < size; off += chunk)
				bench_io(p[1], src + off, size - off < chunk ?
				    size - off : chunk, 1);
		} else if (m == 1) {
			for (off = 0; off < size; off += (size_t)k) {
				iov.iov_base = src + off;
				iov.iov_len = size - off < chunk ? size - off :
				    chunk;
				if ((k = vmsplice(p[1], &iov, 1, 0)) <= 0)
					break;
			}
		} else {
			/* Built in a memfd, as a worker would its image. */
			char		 c = 0;
			char		 ctl[CMSG_SPACE(sizeof(int))];
			struct msghdr	 msg = { 0 };
			struct iovec	 io = { &c, 1 };
			struct cmsghdr	*cm;
			uint8_t		*mp;

			fd = memfd_create("bench", MFD_CLOEXEC);
			ftruncate(fd, (off_t)size);
			mp = mmap(NULL, size, PROT_WRITE, MAP_SHARED, fd, 0);
			memcpy(mp, src, size);
			munmap(mp, size);
			msg.msg_iov = &io;
			msg.msg_iovlen = 1;
			msg.msg_control = ctl;
			msg.msg_controllen = sizeof ctl;
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof fd);
			memcpy(CMSG_DATA(cm), &fd, sizeof fd);
			sendmsg(sv[0], &msg, 0);
			close(fd);
		}
		waitpid(pid, NULL, 0);
		t = units_now() - t;
		close(p[0]);
		close(p[1]);
		close(sv[0]);
		close(sv[1]);
		if (t < best) {
			best = t;
			*how = names[m];
		}
	}
	munmap(src, size);
	return (double)best / 1e6;
}

static void
bench_state_sizes(void)
{
	static const size_t quick_sizes[] = { 1u << 20, 16u << 20 };
	static const size_t sizes[] = { 1u << 20, 100u << 20, 1u << 30 };
	const size_t	*sz = quick ? quick_sizes : sizes;
	size_t		 ns = quick ? 2 : 3, i;
	char		 v1[PATH_MAX], v2[PATH_MAX], in[64], name[80];
	char		 args[2 * PATH_MAX];
	const char	*how = "?";
	double		 pause, raw;
	pid_t		 sup;
	int		 fd;

	printf("upgrade pause by state size\n");
	snprintf(v1, sizeof v1, "%s/bench/blob-v1", build);
	snprintf(v2, sizeof v2, "%s/bench/blob-v2", build);
	for (i = 0; i < ns; i++) {
		snprintf(args, sizeof args, "--durability none "
		    "--snapshot-inputs 0 --snapshot-interval 0 --max-image "
		    "2047M --upgrade-timeout 120 blob='%s'", v1);
		sup = bench_start(args);
		fd = client_connect(sock);
		snprintf(in, sizeof in, "size %zu", sz[i]);
		if (bench_call(fd, "blob", in, NULL, 0) != 0)
			bench_fatal("blob %s failed", in);
		close(fd);
		pause = bench_upgrade("blob", v2) / 1000;
		fd = client_connect(sock);
		snprintf(in, sizeof in, "%zu:", sz[i]);
		if (bench_call(fd, "blob", "sum", name, sizeof name) != 0 ||
		    strncmp(name, in, strlen(in)) != 0)
			bench_fatal("blob state after the upgrade: %s", name);
		close(fd);
		bench_stop(sup);
		raw = bench_raw_transfer(sz[i], &how);
		snprintf(name, sizeof name, "upgrade pause, %zu MiB of state "
		    "(raw: %s)", sz[i] >> 20, how);
		bench_figure(name, "ms", pause, raw, sz[i] >= (1u << 30) ?
		    "<= 1.5x raw" : "", sz[i] >= (1u << 30) ? pause <= 1.5 *
		    raw : -1);
	}
	(void)v1;
}

/*
 * Calls (nop) for secs seconds to a blob machine holding size bytes, its
 * snapshots every snap seconds ("0": none); their p99 in ms, the
 * snapshots written by fork meanwhile, and the supervisor's peak RSS.
 */
static double
bench_calls_holding(size_t size, const char *snap, double secs,
    uint64_t *forks, long *hwm)
{
	struct status_row	*row;
	size_t			 n = 0, cap = 1 << 16;
	double			*lat = calloc(cap, sizeof *lat), p99;
	uint64_t		 t, end;
	uint32_t		 rows;
	char			 args[2 * PATH_MAX], cmd[64];
	pid_t			 sup;
	int			 fd;

	snprintf(args, sizeof args, "--snapshot-inputs 0 --snapshot-interval "
	    "%s --max-image 2047M blob='%s/bench/blob-v1'", snap, build);
	sup = bench_start(args);
	fd = client_connect(sock);
	snprintf(cmd, sizeof cmd, "size %zu", size);
	if (bench_call(fd, "blob", cmd, NULL, 0) != 0)
		bench_fatal("blob %s failed", cmd);
	end = units_now() + (uint64_t)(secs * 1e9);
	while ((t = units_now()) < end && n < cap) {
		if (bench_call(fd, "blob", "nop", NULL, 0) != 0)
			bench_fatal("call failed");
		lat[n++] = (double)(units_now() - t);
		usleep(1000);
	}
	if ((row = bench_rows(&rows, NULL)) == NULL || rows != 1)
		bench_fatal("status");
	*forks = row->forks;
	*hwm = bench_vm_kib(sup, "VmHWM");
	close(fd);
	bench_stop(sup);
	p99 = bench_us((uint64_t)bench_quantile(lat, n, 0.99)) / 1000;
	free(lat);
	return p99;
}

/* Snapshots by fork: what calls wait while a large state is written. */
static void
bench_snapshots(void)
{
	size_t		 size = quick ? 64u << 20 : 1u << 30;
	double		 secs = quick ? 2 : 6, on, off;
	uint64_t	 forks, none;
	long		 hwm, hwm0;
	char		 name[96];

	printf("calls while a large state snapshots\n");
	off = bench_calls_holding(size, "0", secs, &none, &hwm0);
	on = bench_calls_holding(size, "1", secs, &forks, &hwm);
	snprintf(name, sizeof name, "calls, %zu MiB snapshotting every 1s, "
	    "p99", size >> 20);
	bench_figure(name, "ms", on, off, "<= 20ms and 5x", on <= 20 &&
	    on <= 5 * off);
	snprintf(name, sizeof name, "snapshots written by fork in %.0fs",
	    secs);
	bench_figure(name, "", (double)forks, -1, ">= 1", forks >= 1);
	snprintf(name, sizeof name, "supervisor peak RSS, %zu MiB "
	    "snapshotting", size >> 20);
	bench_figure(name, "MiB", hwm / 1024., -1, "< 32MiB",
	    hwm / 1024. < 32);
}

/* Bytes a reader takes from fd to its end, into a small buffer. */
static size_t
bench_drain(int fd)
{
	static char	 b[1 << 20];
	size_t		 total = 0;
	ssize_t		 k;

	while ((k = read(fd, b, sizeof b)) > 0)
		total += (size_t)k;
	if (k == -1)
		bench_fatal("read: %s", strerror(errno));
	return total;
}

/*
 * `smsup state --raw blob` into a pipe read to its end: MB/s (best of
 * two); *len, the image's length.
 */
static double
bench_state_raw(size_t *len)
{
	uint64_t	 t, best = UINT64_MAX;
	pid_t		 pid;
	int		 p[2], i, st;

	for (i = 0; i < 2; i++) {
		if (pipe(p) == -1)
			bench_fatal("pipe: %s", strerror(errno));
		t = units_now();
		if ((pid = fork()) == 0) {
			dup2(p[1], STDOUT_FILENO);
			close(p[0]);
			close(p[1]);
			execl(bin, "smsup", "state", "--raw", "blob",
			    (char *)NULL);
			_exit(127);
		}
		close(p[1]);
		*len = bench_drain(p[0]);
		close(p[0]);
		if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bench_fatal("smsup state --raw failed");
		t = units_now() - t;
		if (t < best)
			best = t;
	}
	return (double)*len / ((double)best / 1e9) / 1e6;
}

/* The raw pipe: len bytes from a warm buffer to a reader, MB/s (best of 2). */
static double
bench_raw_pipe(size_t len)
{
	size_t		 chunk = 1u << 20, off;
	uint64_t	 t, best = UINT64_MAX;
	uint8_t		*src;
	pid_t		 pid;
	int		 p[2], i;

	if ((src = malloc(chunk)) == NULL)
		bench_fatal("malloc");
	memset(src, 7, chunk);
	for (i = 0; i < 2; i++) {
		if (pipe(p) == -1)
			bench_fatal("pipe: %s", strerror(errno));
		t = units_now();
		if ((pid = fork()) == 0) {
			close(p[0]);
			for (off = 0; off < len; off += chunk)
				bench_io(p[1], src, len - off < chunk ?
				    len - off : chunk, 1);
			_exit(0);
		}
		close(p[1]);
		if (bench_drain(p[0]) != len)
			bench_fatal("raw pipe: short");
		close(p[0]);
		waitpid(pid, NULL, 0);
		t = units_now() - t;
		if (t < best)
			best = t;
	}
	free(src);
	return (double)len / ((double)best / 1e9) / 1e6;
}

/* Read the file at path into fresh memory, as a worker would: ms. */
static double
bench_raw_read(const char *path)
{
	struct stat	 sb;
	uint64_t	 t;
	uint8_t		*p;
	pid_t		 pid;
	int		 fd, st;

	t = units_now();
	if ((pid = fork()) == 0) {
		if ((fd = open(path, O_RDONLY)) == -1 ||
		    fstat(fd, &sb) == -1 ||
		    (p = malloc((size_t)sb.st_size)) == NULL)
			_exit(1);
		bench_io(fd, p, (size_t)sb.st_size, 0);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		bench_fatal("reading %s failed", path);
	return (double)(units_now() - t) / 1e6;
}

/* The newest snapshot file of machine blob (its path in path). */
static void
bench_snapshot_path(char *path, size_t len)
{
	char	 cmd[PATH_MAX + 128];
	FILE	*f;

	snprintf(cmd, sizeof cmd, "ls '%s/state/blob' | grep -E "
	    "'^snapshot\\.[0-9]+$' | sort -t. -k2 -n | tail -1", dir);
	if ((f = popen(cmd, "r")) == NULL || fgets(path, (int)len, f) ==
	    NULL)
		bench_fatal("no snapshot file of blob");
	pclose(f);
	path[strcspn(path, "\n")] = '\0';
	snprintf(cmd, sizeof cmd, "%s/state/blob/%s", dir, path);
	snprintf(path, len, "%s", cmd);
}

/*
 * A machine holding size bytes: its snapshot written by fork, then
 * `state --raw` against a raw pipe; the supervisor SIGKILLed and started
 * again from the snapshot against reading the file; the supervisor's
 * peak memory through it all.
 */
static void
bench_big_moves(size_t size)
{
	struct status_row	*row;
	uint64_t		 t;
	uint32_t		 n;
	size_t			 len;
	double			 ours, raw;
	char			 args[2 * PATH_MAX], cmd[64], path[PATH_MAX];
	char			 name[96], out[64];
	pid_t			 sup;
	long			 hwm;
	int			 fd, i;

	printf("%zu MiB read and restarted\n", size >> 20);
	snprintf(args, sizeof args, "--snapshot-inputs 1 --snapshot-interval "
	    "0 --max-image 2047M --upgrade-timeout 120 blob='%s/bench/blob-v1'",
	    build);
	sup = bench_start(args);
	fd = client_connect(sock);
	snprintf(cmd, sizeof cmd, "size %zu", size);
	if (bench_call(fd, "blob", cmd, NULL, 0) != 0)
		bench_fatal("blob %s failed", cmd);
	close(fd);
	for (i = 0; ; i++) {
		if ((row = bench_rows(&n, NULL)) == NULL || n != 1)
			bench_fatal("status");
		if (row->forks >= 1)
			break;
		if (i == 6000)
			bench_fatal("no snapshot written by fork in 60s");
		usleep(10000);
	}

	ours = bench_state_raw(&len);
	if (len < size)
		bench_fatal("state --raw: %zu bytes", len);
	raw = bench_raw_pipe(len);
	snprintf(name, sizeof name, "state --raw, %zu MiB", size >> 20);
	bench_figure(name, "MB/s", ours, raw, ">= 0.5x raw pipe",
	    ours >= 0.5 * raw);

	/* A crash: the supervisor and its worker gone, started again. */
	row = bench_rows(&n, NULL);
	kill((pid_t)row->pid, SIGKILL);
	kill(sup, SIGKILL);
	waitpid(sup, NULL, 0);
	for (i = 0; kill((pid_t)row->pid, 0) == 0; i++) {
		if (i == 1000)
			bench_fatal("the worker outlived a SIGKILL");
		usleep(10000);
	}
	bench_snapshot_path(path, sizeof path);
	snprintf(args, sizeof args, "--snapshot-inputs 0 --snapshot-interval "
	    "0 --max-image 2047M blob='%s/bench/blob-v1'", build);
	t = units_now();
	sup = bench_start(args);
	fd = client_connect(sock);
	snprintf(cmd, sizeof cmd, "%zu:", size);
	if (bench_call(fd, "blob", "sum", out, sizeof out) != 0 ||
	    strncmp(out, cmd, strlen(cmd)) != 0)
		bench_fatal("blob after the restart: %s", out);
	t = units_now() - t;
	close(fd);
	raw = bench_raw_read(path);
	snprintf(name, sizeof name, "start from a %zu MiB snapshot",
	    size >> 20);
	bench_figure(name, "ms", (double)t / 1e6, raw, "<= 2x reading it",
	    (double)t / 1e6 <= 2 * raw);
	(void)bench_state_raw(&len);
	hwm = bench_vm_kib(sup, "VmHWM");
	bench_stop(sup);
	snprintf(name, sizeof name, "supervisor peak RSS, %zu MiB started "
	    "and read", size >> 20);
	bench_figure(name, "MiB", hwm / 1024., -1, "< 32MiB",
	    hwm / 1024. < 32);
}

/* Large states: upgrades by size, reads, restarts, snapshots. */
void
bench_big(void)
{
	bench_state_sizes();
	bench_big_moves(quick ? 64u << 20 : 1u << 30);
	bench_snapshots();
}
