/*
 * cluster.c: `make bench`, a cluster: three supervisors on 127.0.0.1 as
 * the nodes of one raft cluster, measured against one supervisor alone in
 * the same run: the call round trip through the leader (an input is
 * committed on a majority's disks, then applied), pipelined sends through
 * it (each acknowledged once committed), and the failover time (the
 * leader SIGKILLed, until another says it leads).
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "msg.h"
#include "smsup.h"

#define NODES	3

static pid_t	 nodes[NODES];
static char	 socks[NODES][PATH_MAX];

/* Whether node i answers and leads (-1: it does not answer). */
static int
bench_cluster_leads(int i)
{
	struct buf		 in = { 0 };
	struct reply		 r;
	struct msg_reader	 m;
	uint64_t		 id;
	char			 role[32];
	int			 fd, rc = -1;

	if ((fd = client_connect(socks[i])) == -1)
		return -1;
	if (client_request(fd, FRAME_C_CLUSTER, NULL, &in, &r) == 1 &&
	    r.type == FRAME_R_CLUSTER) {
		msg_init(&m, r.data, r.len);
		msg_get_u64(&m, &id);
		if (msg_get_str(&m, role, sizeof role) == 0)
			rc = strcmp(role, "leader") == 0;
	}
	close(fd);
	buf_free(&in);
	return rc;
}

/* The node that leads, waiting up to 10 s; not node skip. */
static int
bench_cluster_leader(int skip)
{
	int	 i, t;

	for (t = 0; t < 1000; t++) {
		for (i = 0; i < NODES; i++)
			if (i != skip && bench_cluster_leads(i) == 1)
				return i;
		usleep(5000);
	}
	bench_fatal("no leader in the cluster in 10 s (see %s/log)", dir);
}

static void
bench_cluster_start(int i, unsigned base)
{
	char	 peers[512] = "";
	size_t	 off = 0;
	int	 j, t, fd;

	for (j = 0; j < NODES; j++)
		if (j != i)
			off += (size_t)snprintf(peers + off, sizeof peers - off,
			    " --peer %d=127.0.0.1:%u", j + 1, base + (unsigned)j);
	snprintf(socks[i], sizeof socks[i], "%s/n%d.sock", dir, i + 1);
	if ((nodes[i] = fork()) == 0) {
		char	 cmd[4096];

		snprintf(cmd, sizeof cmd, "exec '%s' -S '%s' run --state-dir "
		    "'%s/st%d' --node %d=127.0.0.1:%u%s 2>>'%s/log'", bin,
		    socks[i], dir, i + 1, i + 1, base + (unsigned)i, peers,
		    dir);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (t = 0; t < 1000; t++) {
		if ((fd = client_connect(socks[i])) != -1) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	bench_fatal("node %d did not start (see %s/log)", i + 1, dir);
}

void
bench_cluster(double alone_rtt_p50, double alone_sends)
{
	struct buf	 p = { 0 };
	size_t		 n = quick ? 500 : 5000, sends = quick ? 20000 : 200000;
	size_t		 i;
	double		*lat = calloc(n, sizeof *lat), p50, p99, rate, ms;
	unsigned	 base = 36000 + ((unsigned)getpid() % 2000) * 4;
	uint64_t	 t;
	char		 out[64];
	int		 l, l2, fd;

	printf("a cluster of three nodes on 127.0.0.1\n");
	for (i = 0; i < NODES; i++)
		bench_cluster_start((int)i, base);
	l = bench_cluster_leader(-1);
	if (bench_sh("'%s' -S '%s' run counter >/dev/null", bin, socks[l]) != 0)
		bench_fatal("run counter on the leader (see %s/log)", dir);
	if ((fd = client_connect(socks[l])) == -1)
		bench_fatal("the leader");
	for (i = 0; i < n / 10; i++)
		bench_call(fd, "counter", "incr", NULL, 0);
	for (i = 0; i < n; i++) {
		t = units_now();
		if (bench_call(fd, "counter", "incr", NULL, 0) != 0)
			bench_fatal("a call through the cluster failed");
		lat[i] = (double)(units_now() - t);
	}
	msg_put_str(&p, "counter");
	msg_put_bytes(&p, "incr", 4);
	t = units_now();
	if (bench_pipeline(fd, FRAME_C_SEND, &p, sends, 4096, NULL) != 0)
		bench_fatal("a send through the cluster failed");
	bench_call(fd, "counter", "count", out, sizeof out);
	rate = (double)sends / ((double)(units_now() - t) / 1e9);
	close(fd);
	if (strtoull(out, NULL, 10) != n / 10 + n + sends)
		bench_fatal("count %s through the cluster", out);
	p50 = bench_us((uint64_t)bench_quantile(lat, n, 0.5));
	p99 = bench_us((uint64_t)bench_quantile(lat, n, 0.99));

	/* Failover: the leader killed, until another says it leads. */
	t = units_now();
	kill(nodes[l], SIGKILL);
	waitpid(nodes[l], NULL, 0);
	l2 = bench_cluster_leader(l);
	ms = (double)(units_now() - t) / 1e6;
	(void)l2;
	for (i = 0; i < NODES; i++)
		if ((int)i != l) {
			bench_sh("'%s' -S '%s' shutdown >/dev/null 2>&1", bin,
			    socks[i]);
			waitpid(nodes[i], NULL, 0);
		}
	bench_sh("pkill -KILL -f '%s/counter' 2>/dev/null; rm -rf '%s'/st?",
	    dir, dir);

	bench_figure("cluster call round trip p50", "us", p50, alone_rtt_p50,
	    "", -1);
	bench_figure("cluster call round trip p99", "us", p99, -1, "", -1);
	bench_figure("cluster sends, committed", "in/s", rate, alone_sends,
	    "", -1);
	bench_figure("cluster failover, leader SIGKILLed", "ms", ms, -1,
	    "<= 2x election timeout (2000 ms)", ms <= 2000);
	buf_free(&p);
	free(lat);
}
