/*
 * bench.c: `make bench`. Measures smsup and, in the same run, raw
 * baselines written for the same message sizes: call round trips, pipelined
 * throughput, upgrade pauses (by state size too), the latency of a client
 * flooding inputs during upgrades, 1,000 machines, idle CPU, and a
 * cluster of three nodes (cluster.c). Writes
 * build/bench/results.md and results.json. --quick is the short run CI
 * does so the harness never rots.
 *
 * It drives the real `smsup` binary through the same client code
 * (supervisor/client.c), with its own socket and state directory.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "msg.h"
#include "smsup.h"

struct figure {
	char	 name[80];
	char	 unit[16];
	double	 value;
	double	 baseline;	/* < 0: none */
	char	 target[64];
	int	 met;		/* 1 met, 0 missed, -1 no target */
};

static struct figure	 figs[64];
static int		 nfig;
static pid_t		 bench_sup = -1;	/* the supervisor running */
static double		 alone_rtt_p50, alone_sends;	/* for the cluster */
int			 quick;
char			 dir[PATH_MAX], sock[PATH_MAX], bin[PATH_MAX];
char			 build[PATH_MAX];

void
bench_fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (bench_sup > 0)
		kill(bench_sup, SIGKILL);
	if (dir[0] != '\0')
		bench_sh("pkill -KILL -f '%s/' 2>/dev/null", dir);
	exit(1);
}

double
bench_us(uint64_t ns)
{
	return (double)ns / 1000.;
}

static int
bench_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n values, sorted in place. */
double
bench_quantile(double *v, size_t n, double q)
{
	size_t	 i;

	qsort(v, n, sizeof *v, bench_cmp);
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

void
bench_figure(const char *name, const char *unit, double value,
    double baseline, const char *target, int met)
{
	struct figure	*f = &figs[nfig++];

	snprintf(f->name, sizeof f->name, "%s", name);
	snprintf(f->unit, sizeof f->unit, "%s", unit);
	f->value = value;
	f->baseline = baseline;
	snprintf(f->target, sizeof f->target, "%s", target);
	f->met = met;
	printf("  %-44s %12.1f %-6s", name, value, unit);
	if (baseline >= 0)
		printf(" (baseline %.1f, x%.2f)", baseline, value / baseline);
	if (met >= 0)
		printf(" [%s: %s]", target, met ? "met" : "MISSED");
	printf("\n");
	fflush(stdout);
}

/* Run a shell command line; its status. */
int
bench_sh(const char *fmt, ...)
{
	va_list	 ap;
	char	 cmd[4096];
	pid_t	 pid;
	int	 st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Start a supervisor with these `run` arguments; returns its pid. */
pid_t
bench_start(const char *args)
{
	char	 cmd[4096];
	pid_t	 pid;
	int	 fd, i;

	snprintf(cmd, sizeof cmd, "exec '%s' run %s 2>>'%s/log'", bin, args,
	    dir);
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	bench_sup = pid;
	/* Until it answers and none of its machines is still starting. */
	for (i = 0; i < 1000; i++) {
		if ((fd = client_connect(sock)) != -1) {
			close(fd);
			if (bench_started())
				return pid;
		}
		usleep(10000);
	}
	bench_fatal("the supervisor did not start (see %s/log)", dir);
	return -1;
}

/*
 * The status rows of every machine (*n of them, static: valid until the
 * next call); *took, if not NULL, the time the answer took.
 */
struct status_row *
bench_rows(uint32_t *n, uint64_t *took)
{
	static struct status_row *rows;
	struct buf		 p = { 0 }, in = { 0 };
	struct reply		 r;
	struct msg_reader	 mr;
	uint64_t		 t = units_now();
	uint32_t		 i;
	int			 fd;

	msg_put_u32(&p, 0);
	msg_put_u32(&p, 0);
	if ((fd = client_connect(sock)) == -1)
		return NULL;
	if (client_request(fd, FRAME_C_STATUS, &p, &in, &r) != 1 ||
	    r.type != FRAME_R_STATUS)
		bench_fatal("status");
	if (took != NULL)
		*took = units_now() - t;
	close(fd);
	msg_init(&mr, r.data, r.len);
	if (msg_get_u32(&mr, n) == -1 || *n > 100000 ||
	    (rows = reallocarray(rows, *n + 1, sizeof *rows)) == NULL)
		bench_fatal("malformed status answer");
	for (i = 0; i < *n; i++)
		if (status_row_get(&mr, &rows[i]) == -1)
			bench_fatal("malformed status answer");
	buf_free(&p);
	buf_free(&in);
	return rows;
}

/* Whether no machine of the supervisor is starting. */
int
bench_started(void)
{
	struct status_row	*rows;
	uint32_t		 n, i;

	if ((rows = bench_rows(&n, NULL)) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(rows[i].state, "starting") == 0)
			return 0;
	return 1;
}

void
bench_stop(pid_t pid)
{
	bench_sh("'%s' shutdown >/dev/null 2>&1", bin);
	waitpid(pid, NULL, 0);
	bench_sup = -1;
	bench_sh("rm -rf '%s/state'", dir);
}

/* A CALL or SEND payload: machine name, input. */
static void
bench_input(struct buf *p, const char *name, const char *input)
{
	buf_reset(p);
	msg_put_str(p, name);
	msg_put_bytes(p, input, strlen(input));
}

/* One call; its output as text in out (if any). 0 if answered OUTPUT. */
int
bench_call(int fd, const char *name, const char *input, char *out,
    size_t len)
{
	struct buf	 p = { 0 }, in = { 0 };
	struct reply	 r;
	int		 rc = -1;

	bench_input(&p, name, input);
	if (client_request(fd, FRAME_C_CALL, &p, &in, &r) == 1) {
		if (out != NULL)
			snprintf(out, len, "%.*s", (int)r.len, r.data);
		rc = r.type == FRAME_R_OUTPUT ? 0 : -1;
	}
	buf_free(&p);
	buf_free(&in);
	return rc;
}

/*
 * Send n requests of one payload over fd, at most window in flight, and
 * read their n answers. If lat is given, each answer's latency (ns) goes
 * there. Returns the number of error answers.
 */
size_t
bench_pipeline(int fd, uint8_t type, const struct buf *payload, size_t n,
    size_t window, double *lat)
{
	struct buf	 out = { 0 }, in = { 0 };
	struct pollfd	 pfd = { fd, 0, 0 };
	struct reply	 r;
	uint64_t	*sent = NULL;
	size_t		 next = 0, done = 0, errors = 0;
	ssize_t		 w;
	int		 rc;

	if (lat != NULL && (sent = calloc(window, sizeof *sent)) == NULL)
		bench_fatal("calloc");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (done < n) {
		while (next < n && next - done < window && buf_used(&out) <
		    (1u << 20)) {
			if (sent != NULL)
				sent[next % window] = units_now();
			frame_put(&out, type, next + 1, buf_head(payload),
			    buf_used(payload));
			next++;
		}
		pfd.events = POLLIN | (buf_used(&out) ? POLLOUT : 0);
		if (poll(&pfd, 1, 10000) <= 0)
			bench_fatal("pipeline stalled at %zu/%zu", done, n);
		if (pfd.revents & POLLOUT) {
			w = write(fd, buf_head(&out), buf_used(&out));
			if (w > 0)
				buf_consume(&out, (size_t)w);
		}
		if (!(pfd.revents & POLLIN))
			continue;
		while ((rc = client_recv(fd, &in, &r)) == 1) {
			if (r.type == FRAME_R_ERROR)
				errors++;
			if (sent != NULL)
				lat[done] = (double)(units_now() -
				    sent[(r.id - 1) % window]);
			done++;
		}
		if (rc == 0 || (rc == -1 && errno != EAGAIN))
			bench_fatal("lost the supervisor");
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	free(sent);
	buf_free(&out);
	buf_free(&in);
	return errors;
}

/* Blocking I/O of exactly n bytes. */
void
bench_io(int fd, void *p, size_t n, int writing)
{
	ssize_t	 k;

	while (n > 0) {
		k = writing ? write(fd, p, n) : read(fd, p, n);
		if (k <= 0)
			bench_fatal("raw %s: %s", writing ? "write" : "read",
			    k == 0 ? "closed" : strerror(errno));
		p = (char *)p + k;
		n -= (size_t)k;
	}
}

/*
 * The raw round trip: client <-> middle <-> echo over two socketpairs,
 * with frames of the sizes smsup carries (a CALL, an INPUT, an OUTPUT, an
 * answer). p50 and p99 in us.
 */
static void
bench_raw_rtt(size_t n, double *p50, double *p99)
{
	int	 a[2], b[2];
	char	 buf[256];
	double	*lat = calloc(n, sizeof *lat);
	size_t	 i, call = FRAME_HDR_LEN + 4 + 7 + 4 + 4;
	size_t	 input = FRAME_HDR_LEN + 4, output = FRAME_HDR_LEN + 2;
	pid_t	 mid, echo;
	uint64_t t;

	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	memset(buf, 'x', sizeof buf);
	if ((echo = fork()) == 0) {
		for (;;) {
			bench_io(b[1], buf, input, 0);
			bench_io(b[1], buf, output, 1);
		}
	}
	if ((mid = fork()) == 0) {
		for (;;) {
			bench_io(a[1], buf, call, 0);
			bench_io(b[0], buf, input, 1);
			bench_io(b[0], buf, output, 0);
			bench_io(a[1], buf, output, 1);
		}
	}
	for (i = 0; i < n; i++) {
		t = units_now();
		bench_io(a[0], buf, call, 1);
		bench_io(a[0], buf, output, 0);
		lat[i] = (double)(units_now() - t);
	}
	kill(mid, SIGKILL);
	kill(echo, SIGKILL);
	waitpid(mid, NULL, 0);
	waitpid(echo, NULL, 0);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	*p50 = bench_us((uint64_t)bench_quantile(lat, n, 0.5));
	*p99 = bench_us((uint64_t)bench_quantile(lat, n, 0.99));
	free(lat);
}

/*
 * The raw pipelined chain: the client writes frames in batches into a
 * pipe, a middle process forwards them to a sink through another pipe and
 * answers each with an acknowledgement frame; like smsup's send, batched
 * the same way (a window of frames). Inputs per second.
 */
static double
bench_raw_pipeline(size_t n, size_t frame, size_t window)
{
	int		 up[2], down[2], ack[2];
	size_t		 batch = window / 2, sent = 0, acked = 0, k, rest;
	size_t		 ackf = FRAME_HDR_LEN, bufsz, out;
	uint8_t		*buf;
	uint64_t	 t;
	pid_t		 mid, sink;
	ssize_t		 r;

	bufsz = batch * frame + batch * ackf;
	buf = calloc(1, bufsz);
	pipe(up);
	pipe(down);
	pipe(ack);
	if ((sink = fork()) == 0) {
		close(down[1]);
		close(up[0]);
		close(up[1]);
		close(ack[0]);
		close(ack[1]);
		while (read(down[0], buf, bufsz) > 0)
			;
		_exit(0);
	}
	if ((mid = fork()) == 0) {
		/* Forward the bytes; acknowledge each whole frame seen. */
		close(up[1]);
		close(ack[0]);
		close(down[0]);
		rest = 0;
		while ((r = read(up[0], buf, batch * frame)) > 0) {
			bench_io(down[1], buf, (size_t)r, 1);
			rest += (size_t)r;
			k = rest / frame;
			rest %= frame;
			memset(buf, 0, k * ackf);
			bench_io(ack[1], buf, k * ackf, 1);
		}
		_exit(0);
	}
	close(up[0]);
	close(down[0]);
	close(down[1]);
	close(ack[1]);
	/* Both ways at once, as smsup's clients do: poll, never block. */
	fcntl(up[1], F_SETFL, O_NONBLOCK);
	fcntl(ack[0], F_SETFL, O_NONBLOCK);
	memset(buf, 'x', batch * frame);
	t = units_now();
	rest = 0;
	out = 0;	/* bytes of the current batch still to write */
	while (acked < n) {
		struct pollfd	 pfd[2] = { { up[1], 0, 0 }, { ack[0], POLLIN,
		    0 } };

		if (out == 0 && sent < n && sent - acked < window) {
			k = batch < n - sent ? batch : n - sent;
			out = k * frame;
			sent += k;
		}
		pfd[0].events = out > 0 ? POLLOUT : 0;
		if (poll(pfd, 2, 10000) <= 0)
			bench_fatal("raw pipeline stalled");
		if ((pfd[0].revents & POLLOUT) && (r = write(up[1], buf,
		    out)) > 0)
			out -= (size_t)r;
		if ((pfd[1].revents & POLLIN) && (r = read(ack[0], buf +
		    batch * frame, bufsz - batch * frame)) > 0) {
			rest += (size_t)r;
			acked += rest / ackf;
			rest %= ackf;
		}
	}
	t = units_now() - t;
	close(up[1]);
	close(ack[0]);
	waitpid(mid, NULL, 0);
	waitpid(sink, NULL, 0);
	free(buf);
	return (double)n / ((double)t / 1e9);
}

/* The pause of one upgrade, from its report ("pause 87us"), in us. */
double
bench_upgrade(const char *name, const char *path)
{
	struct buf	 p = { 0 }, in = { 0 };
	struct reply	 r;
	double		 v;
	char		 unit[8], *at;
	int		 fd;

	msg_put_u32(&p, UPGRADE_FORCE);
	msg_put_u32(&p, 600000);
	msg_put_u32(&p, 0);
	msg_put_u32(&p, 1);
	msg_put_str(&p, name);
	msg_put_str(&p, path);
	if ((fd = client_connect(sock)) == -1 ||
	    client_request(fd, FRAME_C_UPGRADE, &p, &in, &r) != 1)
		bench_fatal("upgrade: no answer");
	close(fd);
	if (r.type != FRAME_R_OK)
		bench_fatal("upgrade failed: %.*s", (int)r.len, r.data);
	((char *)r.data)[r.len - 1] = '\0';
	if ((at = strstr((char *)r.data, "pause ")) == NULL ||
	    sscanf(at + 6, "%lf%7[a-z]", &v, unit) != 2)
		bench_fatal("no pause in: %s", r.data);
	buf_free(&p);
	buf_free(&in);
	if (strcmp(unit, "ns") == 0)
		return v / 1000;
	if (strcmp(unit, "ms") == 0)
		return v * 1000;
	if (strcmp(unit, "s") == 0)
		return v * 1e6;
	return v;
}

static void
bench_rtt(void)
{
	size_t	 n = quick ? 2000 : 20000, i;
	double	*lat = calloc(n, sizeof *lat), raw50, raw99, p50, p99;
	pid_t	 sup;
	int	 fd;

	printf("call round trip\n");
	sup = bench_start("counter");
	fd = client_connect(sock);
	for (i = 0; i < n / 10; i++)
		bench_call(fd, "counter", "incr", NULL, 0);
	for (i = 0; i < n; i++) {
		uint64_t t = units_now();

		if (bench_call(fd, "counter", "incr", NULL, 0) != 0)
			bench_fatal("call failed");
		lat[i] = (double)(units_now() - t);
	}
	close(fd);
	bench_stop(sup);
	p50 = bench_us((uint64_t)bench_quantile(lat, n, 0.5));
	p99 = bench_us((uint64_t)bench_quantile(lat, n, 0.99));
	bench_raw_rtt(n, &raw50, &raw99);
	bench_figure("call round trip p50", "us", p50, raw50, "<= 1.5x raw",
	    p50 <= 1.5 * raw50);
	alone_rtt_p50 = p50;
	bench_figure("call round trip p99", "us", p99, raw99, "", -1);
	free(lat);
}

/* Pipelined sends from k clients (processes), then one call to sync. */
static double
bench_sends(const char *args, int k, size_t n)
{
	struct buf	 p = { 0 };
	uint64_t	 t;
	pid_t		 sup, kids[8];
	int		 i, fd;
	char		 out[64];

	sup = bench_start(args);
	bench_input(&p, "counter", "incr");
	t = units_now();
	for (i = 0; i < k; i++) {
		if ((kids[i] = fork()) == 0) {
			fd = client_connect(sock);
			_exit(bench_pipeline(fd, FRAME_C_SEND, &p, n / (size_t)k,
			    4096, NULL) == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < k; i++)
		waitpid(kids[i], NULL, 0);
	fd = client_connect(sock);
	bench_call(fd, "counter", "count", out, sizeof out);
	t = units_now() - t;
	close(fd);
	bench_stop(sup);
	if (strtoull(out, NULL, 10) != (unsigned long long)(n / (size_t)k *
	    (size_t)k))
		bench_fatal("count %s after %zu sends", out, n);
	buf_free(&p);
	return (double)n / ((double)t / 1e9);
}

static void
bench_throughput(void)
{
	size_t	 n = quick ? 200000 : 2000000;
	size_t	 frame = FRAME_HDR_LEN + 4 + 7 + 4 + 4;
	double	 raw, one, four, mem, snap, always;

	printf("pipelined throughput (send)\n");
	raw = bench_raw_pipeline(n, frame, 4096);
	one = bench_sends("counter", 1, n);
	four = bench_sends("counter", 4, n);
	mem = bench_sends("--durability none --snapshot-inputs 0 "
	    "--snapshot-interval 0 counter", 1, n);
	snap = bench_sends("--durability none counter", 1, n);
	always = bench_sends("--durability always counter", 1, n);
	bench_figure("send, 1 client (defaults: batch, snapshots)", "in/s",
	    one, raw, ">= 5M/s", one >= 5e6);
	alone_sends = one;
	bench_figure("send, 4 clients (defaults)", "in/s", four, raw,
	    ">= 5M/s", four >= 5e6);
	bench_figure("send, 1 client, memory only, no snapshots", "in/s", mem,
	    raw, ">= 5M/s", mem >= 5e6);
	bench_figure("default snapshots, vs memory only without", "in/s",
	    snap, mem, "cost < 10%", snap >= 0.9 * mem);
	bench_figure("durability batch (default), vs memory only", "in/s",
	    one, mem, "", -1);
	bench_figure("durability always, vs memory only", "in/s", always,
	    mem, "", -1);
}

static void
bench_pauses(void)
{
	size_t	 n = quick ? 20 : 200, i;
	double	*v = calloc(n, sizeof *v), p50, p99;
	char	 v1[PATH_MAX], v2[PATH_MAX];
	pid_t	 sup;

	printf("upgrade pause, small state\n");
	snprintf(v1, sizeof v1, "%s/examples/counter-v1", build);
	snprintf(v2, sizeof v2, "%s/examples/counter-v2", build);
	sup = bench_start("counter");
	for (i = 0; i < n; i++)
		v[i] = bench_upgrade("counter", i % 2 ? v1 : v2);
	bench_stop(sup);
	p50 = bench_quantile(v, n, 0.5);
	p99 = bench_quantile(v, n, 0.99);
	bench_figure("upgrade pause p50 (counter)", "us", p50, -1,
	    "<= 100us", p50 <= 100);
	bench_figure("upgrade pause p99 (counter)", "us", p99, -1,
	    "<= 1ms", p99 <= 1000);
	free(v);
}

/* A client floods calls while upgrades go back and forth. */
static void
bench_flood(void)
{
	size_t	 n = quick ? 100000 : 1000000, ups = quick ? 10 : 50, i;
	double	*lat = calloc(n, sizeof *lat), p99, max;
	char	 v1[PATH_MAX], v2[PATH_MAX];
	struct buf p = { 0 };
	pid_t	 sup, up;
	int	 fd;

	printf("latency of a flooding client during upgrades\n");
	snprintf(v1, sizeof v1, "%s/examples/counter-v1", build);
	snprintf(v2, sizeof v2, "%s/examples/counter-v2", build);
	sup = bench_start("counter");
	if ((up = fork()) == 0) {
		usleep(50000);
		for (i = 0; i < ups; i++) {
			bench_upgrade("counter", i % 2 ? v1 : v2);
			usleep(10000);
		}
		_exit(0);
	}
	fd = client_connect(sock);
	bench_input(&p, "counter", "incr");
	if (bench_pipeline(fd, FRAME_C_CALL, &p, n, 256, lat) != 0)
		bench_fatal("errors while flooding");
	waitpid(up, NULL, 0);
	close(fd);
	bench_stop(sup);
	p99 = bench_us((uint64_t)bench_quantile(lat, n, 0.99)) / 1000;
	max = bench_us((uint64_t)lat[n - 1]) / 1000;
	bench_figure("flooding client during upgrades, p99", "ms", p99, -1,
	    "<= 5ms", p99 <= 5);
	bench_figure("flooding client during upgrades, max", "ms", max, -1,
	    "<= 20ms", max <= 20);
	free(lat);
	buf_free(&p);
}

/* A memory figure of /proc/PID/status (VmRSS, VmHWM), KiB. */
long
bench_vm_kib(pid_t pid, const char *key)
{
	char	 path[64], line[256];
	long	 v = -1;
	size_t	 n = strlen(key);
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static long
bench_cpu_ticks(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) == NULL || (p = strrchr(buf, ')')) ==
	    NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	    "%*u %lu %lu", &ut, &st) != 2) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return (long)(ut + st);
}

/* Status of every machine; how many report `version`. */
static int
bench_versions(const char *version, uint64_t *took)
{
	struct status_row	*rows;
	uint32_t		 n, i;
	int			 count = 0;

	if ((rows = bench_rows(&n, took)) == NULL)
		bench_fatal("status");
	for (i = 0; i < n; i++)
		if (strcmp(rows[i].version, version) == 0 &&
		    strcmp(rows[i].state, "running") == 0)
			count++;
	return count;
}

static void
bench_scale(void)
{
	int		 n = quick ? 100 : 1000, i, fd, lost = 0;
	struct buf	 p = { 0 }, in = { 0 };
	struct reply	 r;
	uint64_t	 t, st;
	char		 path[PATH_MAX], name[32], out[32];
	long		 ticks, rss;
	pid_t		 sup;

	printf("%d machines\n", n);
	snprintf(path, sizeof path, "%s/counter", dir);
	bench_sh("install -m 0755 '%s/examples/counter-v1' '%s'", build, path);
	sup = bench_start("");
	fd = client_connect(sock);
	t = units_now();
	for (i = 0; i < n; i++) {
		struct machine_opts	 o;

		opts_default(&o);
		snprintf(name, sizeof name, "c%d", i);
		buf_reset(&p);
		msg_put_str(&p, name);
		msg_put_str(&p, path);
		opts_encode(&p, &o, 0);
		client_send(fd, FRAME_C_RUN, (uint64_t)i + 1, &p);
	}
	for (i = 0; i < n; i++)
		if (client_recv(fd, &in, &r) != 1 || r.type != FRAME_R_OK)
			bench_fatal("run: %.*s", (int)r.len, r.data);
	t = units_now() - t;
	bench_figure("start all machines", "s", (double)t / 1e9, -1,
	    "<= 2s", (double)t / 1e9 <= 2);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "c%d", i);
		bench_call(fd, name, "incr", NULL, 0);
	}
	bench_versions("1", &st);
	bench_figure("status of all machines", "ms", (double)st / 1e6, -1,
	    "<= 50ms", (double)st / 1e6 <= 50);

	bench_sh("install -m 0755 '%s/examples/counter-v2' '%s.new' && "
	    "mv '%s.new' '%s'", build, path, path, path);
	t = units_now();
	kill(sup, SIGHUP);
	while (bench_versions("2", NULL) < n) {
		if (units_now() - t > 60e9)
			bench_fatal("not all upgraded after 60s");
		usleep(20000);
	}
	t = units_now() - t;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "c%d", i);
		if (bench_call(fd, name, "count", out, sizeof out) != 0 ||
		    strcmp(out, "1") != 0)
			lost++;
	}
	bench_figure("SIGHUP-upgrade all machines", "s", (double)t / 1e9,
	    -1, "<= 5s", (double)t / 1e9 <= 5);
	bench_figure("inputs lost by the upgrade of all", "", lost, -1, "0",
	    lost == 0);
	rss = bench_vm_kib(sup, "VmRSS");
	bench_figure("supervisor RSS", "MiB", (double)rss / 1024, -1,
	    "< 16MiB", rss < 16 * 1024);

	/* Idle: no CPU at all for 2 seconds. */
	close(fd);
	usleep(200000);
	ticks = bench_cpu_ticks(sup);
	sleep(2);
	ticks = bench_cpu_ticks(sup) - ticks;
	bench_figure("supervisor CPU when idle, 2s", "ticks", (double)ticks,
	    -1, "0", ticks == 0);
	bench_stop(sup);
	buf_free(&p);
	buf_free(&in);
}

static void
bench_write(void)
{
	char	 path[PATH_MAX];
	FILE	*md, *js;
	int	 i;

	snprintf(path, sizeof path, "%s/bench", build);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/bench/results.md", build);
	if ((md = fopen(path, "w")) == NULL)
		bench_fatal("%s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "%s/bench/results.json", build);
	if ((js = fopen(path, "w")) == NULL)
		bench_fatal("%s: %s", path, strerror(errno));
	fprintf(md, "| figure | smsup | baseline | ratio | target |\n");
	fprintf(md, "|---|---|---|---|---|\n");
	fprintf(js, "{\"quick\":%s,\"figures\":[", quick ? "true" : "false");
	for (i = 0; i < nfig; i++) {
		struct figure	*f = &figs[i];
		char		 base[32] = "-", ratio[32] = "-";

		if (f->baseline >= 0) {
			snprintf(base, sizeof base, "%.1f", f->baseline);
			snprintf(ratio, sizeof ratio, "%.2f", f->value /
			    f->baseline);
		}
		fprintf(md, "| %s | %.1f %s | %s | %s | %s%s |\n", f->name,
		    f->value, f->unit, base, ratio, f->target, f->met < 0 ?
		    "" : f->met ? " (met)" : " (missed)");
		fprintf(js, "%s{\"name\":\"%s\",\"unit\":\"%s\",\"value\":%.3f,"
		    "\"baseline\":%s,\"ratio\":%s,\"target\":\"%s\",\"met\":%s}",
		    i ? "," : "", f->name, f->unit, f->value, f->baseline >= 0 ?
		    base : "null", f->baseline >= 0 ? ratio : "null",
		    f->target, f->met < 0 ? "null" : f->met ? "true" : "false");
	}
	fprintf(js, "]}\n");
	fclose(md);
	fclose(js);
	printf("results in %s/bench/results.{md,json}\n", build);
}

int
main(int argc, char **argv)
{
	char	 tmpl[] = "/tmp/smsup-bench.XXXXXX";

	if (argc >= 2 && strcmp(argv[1], "--quick") == 0) {
		quick = 1;
		argc--;
		argv++;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: bench [--quick] BUILD_DIR\n");
		return 2;
	}
	if (realpath(argv[1], build) == NULL)
		bench_fatal("%s: %s", argv[1], strerror(errno));
	if (mkdtemp(tmpl) == NULL)
		bench_fatal("mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof dir, "%s", tmpl);
	snprintf(sock, sizeof sock, "%s/control.sock", dir);
	snprintf(bin, sizeof bin, "%s/smsup", build);
	setenv("SMSUP_SOCKET", sock, 1);
	{
		char	 st[PATH_MAX];

		snprintf(st, sizeof st, "%s/state", dir);
		setenv("SMSUP_STATE_DIR", st, 1);
	}
	setenv("SMSUP_PATH", dir, 1);
	bench_sh("install -m 0755 '%s/examples/counter-v1' '%s/counter'",
	    build, dir);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("smsup bench%s, %s\n", quick ? " --quick" : "", dir);
	bench_rtt();
	bench_throughput();
	bench_pauses();
	bench_big();
	bench_flood();
	bench_scale();
	bench_cluster(alone_rtt_p50, alone_sends);
	bench_write();
	bench_sh("rm -rf '%s'", dir);
	return 0;
}
