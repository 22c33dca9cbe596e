/*
 * clu-uv.c: the raft glue on raft's real libuv transport and disk log:
 * three nodes on 127.0.0.1 in one libuv loop, each with its own
 * directory; two of them commit 300 inputs while the third is down
 * (snapshots every 32 entries, 8 kept), then the third starts and
 * catches up by snapshot install: its machine layer is restored from
 * a snapshot and given the entries after it, and ends with the same
 * chain and the same client sessions as the others.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "cluster.h"

#define NODES	3
#define INPUTS	300

struct model {
	uint64_t	 chain;
	uint64_t	 inputs;
	unsigned	 restores;
};

static int
m_entry(void *arg, raft_index index, const struct cluster_entry *e)
{
	struct model	*m = arg;
	const uint8_t	*p = e->input;
	size_t		 i;

	m->chain = (m->chain ^ index) * UINT64_C(0x100000001b3);
	for (i = 0; i < e->len; i++)
		m->chain = (m->chain ^ p[i]) * UINT64_C(0x100000001b3);
	m->inputs++;
	return 0;
}

static int
m_snapshot(void *arg, struct buf *b)
{
	struct model	*m = arg;

	return buf_add(b, m, 16);
}

static int
m_restore(void *arg, const uint8_t *p, size_t len)
{
	struct model	*m = arg;

	if (len != 16)
		return -1;
	memcpy(m, p, 16);
	m->restores++;
	return 0;
}

static const struct cluster_ops m_ops = {
	.entry = m_entry, .snapshot = m_snapshot, .restore = m_restore,
};

struct node {
	struct raft_uv_transport transport;
	struct raft_io		 io;
	struct raft		 raft;
	struct cluster_fsm	*fsm;
	struct model		 m;
	char			 dir[64], addr[32];
	int			 started, closed;
};

static struct node	 nodes[NODES];
static uv_loop_t	 loop;
static int		 acked;

static void
node_start(struct node *n, unsigned id, unsigned base)
{
	struct raft_configuration conf;
	unsigned		 i;
	char			 a[32];

	cr_assert_eq(raft_uv_tcp_init(&n->transport, &loop), 0);
	cr_assert_eq(raft_uv_init(&n->io, &loop, n->dir, &n->transport), 0);
	n->fsm = cluster_fsm_new(&m_ops, &n->m);
	cr_assert_eq(raft_init(&n->raft, &n->io, cluster_fsm_raft(n->fsm), id,
	    n->addr), 0);
	cluster_fsm_attach(n->fsm, &n->raft);
	raft_configuration_init(&conf);
	for (i = 0; i < NODES; i++) {
		snprintf(a, sizeof a, "127.0.0.1:%u", base + i);
		cr_assert_eq(raft_configuration_add(&conf, i + 1, a,
		    RAFT_VOTER), 0);
	}
	cr_assert_eq(raft_bootstrap(&n->raft, &conf), 0);
	raft_configuration_close(&conf);
	raft_set_snapshot_threshold(&n->raft, 32);
	raft_set_snapshot_trailing(&n->raft, 8);
	raft_set_election_timeout(&n->raft, 300);
	raft_set_heartbeat_timeout(&n->raft, 50);
	/*
	 * A follower taking a snapshot of its own refuses one installed
	 * meanwhile: the leader tries again after this (default 30 s).
	 */
	raft_set_install_snapshot_timeout(&n->raft, 500);
	cr_assert_eq(raft_start(&n->raft), 0);
	n->started = 1;
}

static void
apply_cb(struct raft_apply *req, int status, void *result)
{
	if (status == 0 && cluster_fsm_result(result) == CLUSTER_APPLIED)
		acked++;
	free(req);
}

/* Run the loop for up to ms, or until done() says so. */
static void
run_until(int (*done)(void), unsigned ms)
{
	uint64_t	 end = uv_now(&loop) + ms;

	while (!done() && uv_now(&loop) < end) {
		uv_run(&loop, UV_RUN_ONCE);
		uv_update_time(&loop);
	}
}

static int	next_req = 1;

static int
leader_of_two(void)
{
	return raft_state(&nodes[0].raft) == RAFT_LEADER ||
	    raft_state(&nodes[1].raft) == RAFT_LEADER;
}

static int
all_acked(void)
{
	return acked >= INPUTS;
}

static int
third_caught_up(void)
{
	return nodes[2].m.inputs == INPUTS && nodes[0].m.inputs == INPUTS &&
	    nodes[1].m.inputs == INPUTS;
}

static void
timer_cb(uv_timer_t *t)
{
	struct raft		*r = NULL;
	struct raft_apply	*req;
	struct raft_buffer	 b;
	struct cluster_entry	 e;
	char			 text[32];
	int			 i;

	(void)t;
	for (i = 0; i < NODES; i++)
		if (nodes[i].started && raft_state(&nodes[i].raft) ==
		    RAFT_LEADER)
			r = &nodes[i].raft;
	if (r == NULL)
		return;
	/* Ten a tick, each once (acked is counted by the leader). */
	for (i = 0; i < 10 && next_req <= INPUTS; i++, next_req++) {
		memset(&e, 0, sizeof e);
		e.kind = CLUSTER_INPUT;
		e.client = 1;
		e.request = (uint64_t)next_req;
		snprintf(e.machine, sizeof e.machine, "m");
		snprintf(text, sizeof text, "in %d", next_req);
		e.input = (const uint8_t *)text;
		e.len = strlen(text);
		cr_assert_eq(cluster_entry_encode(&e, &b), 0);
		req = calloc(1, sizeof *req);
		cr_assert_eq(raft_apply(r, req, &b, 1, apply_cb), 0);
	}
}

static void
close_cb(struct raft *r)
{
	unsigned	 i;

	for (i = 0; i < NODES; i++)
		if (&nodes[i].raft == r) {
			raft_uv_close(&nodes[i].io);
			raft_uv_tcp_close(&nodes[i].transport);
			nodes[i].closed = 1;
		}
}

static int
all_closed(void)
{
	unsigned	 i;

	for (i = 0; i < NODES; i++)
		if (nodes[i].started && !nodes[i].closed)
			return 0;
	return 1;
}

Test(cluster_uv, a_node_down_catches_up_by_snapshot, .timeout = 60)
{
	char		 tmpl[] = "/tmp/smsup-clu-uv.XXXXXX", *root;
	uv_timer_t	 timer;
	/* Three ports of our own: 4 per pid, below 60,000. */
	unsigned	 i, base = 20000 + ((unsigned)getpid() % 10000) * 4;

	cr_assert_not_null(root = mkdtemp(tmpl));
	cr_assert_eq(uv_loop_init(&loop), 0);
	for (i = 0; i < NODES; i++) {
		memset(&nodes[i], 0, sizeof nodes[i]);
		snprintf(nodes[i].dir, sizeof nodes[i].dir, "%s/%u", root, i);
		mkdir(nodes[i].dir, 0700);
		snprintf(nodes[i].addr, sizeof nodes[i].addr, "127.0.0.1:%u",
		    base + i);
	}
	node_start(&nodes[0], 1, base);
	node_start(&nodes[1], 2, base);
	run_until(leader_of_two, 10000);
	cr_assert(leader_of_two(), "no leader of two nodes in 10 s");
	uv_timer_init(&loop, &timer);
	uv_timer_start(&timer, timer_cb, 10, 10);
	run_until(all_acked, 20000);
	cr_assert_eq(acked, INPUTS, "%d of %d committed by two nodes", acked,
	    INPUTS);
	/* Now the third: its log is long gone from the others. */
	node_start(&nodes[2], 3, base);
	run_until(third_caught_up, 20000);
	uv_timer_stop(&timer);
	for (i = 0; i < NODES; i++)
		cr_assert_eq(nodes[i].m.inputs, INPUTS, "node %u applied %llu "
		    "inputs, %u restores; last applied %llu %llu %llu, last "
		    "index %llu", i, (unsigned long long)nodes[i].m.inputs,
		    nodes[i].m.restores,
		    (unsigned long long)raft_last_applied(&nodes[0].raft),
		    (unsigned long long)raft_last_applied(&nodes[1].raft),
		    (unsigned long long)raft_last_applied(&nodes[2].raft),
		    (unsigned long long)raft_last_index(&nodes[0].raft));
	cr_assert_eq(nodes[2].m.chain, nodes[0].m.chain, "node 3's chain");
	cr_assert_eq(nodes[1].m.chain, nodes[0].m.chain, "node 2's chain");
	cr_assert(nodes[2].m.restores > 0, "node 3 did not install a snapshot");
	cr_assert_eq(cluster_fsm_session(nodes[2].fsm, 1), INPUTS,
	    "node 3's client table");
	for (i = 0; i < NODES; i++)
		raft_close(&nodes[i].raft, close_cb);
	uv_close((uv_handle_t *)&timer, NULL);
	run_until(all_closed, 5000);
	uv_run(&loop, UV_RUN_NOWAIT);
	for (i = 0; i < NODES; i++)
		cluster_fsm_free(nodes[i].fsm);
	uv_loop_close(&loop);
	{
		char	 cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		cr_assert_eq(system(cmd), 0);
	}
}
