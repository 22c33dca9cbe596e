/*
 * clu-node.c: a cluster node (cluster-node.c) as the supervisor runs it:
 * raft on a thread of its own per node, three nodes on 127.0.0.1, the
 * libev loop of this process given what each commits. Inputs proposed to
 * the leader are applied by every node in the same order (one chain);
 * snapshots are taken off raft's loop, as of a marker in the entries;
 * the leader stopped, another is elected and serves; the stopped node,
 * started again on its directory with a machine layer of nothing,
 * restores its snapshot and catches up; a follower refuses a proposal.
 */
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "cluster-node.h"

#define NODES	3

struct model {
	uint64_t		 chain;
	uint64_t		 inputs;
	unsigned		 restores, snapshots;
	/* The outcomes of its proposals. */
	unsigned		 applied, refused, errors, misordered;
	uint64_t		 last_request;	/* of client 7 applied here */
	char			 error[160];
};

struct node {
	struct cluster_node	*node;
	struct cluster_node_conf conf;
	struct model		 m;
};

static struct node	 nodes[NODES];
static struct ev_loop	*loop;

static void
m_entry(void *arg, raft_index index, const struct cluster_entry *e)
{
	struct model	*m = arg;
	size_t		 i;

	m->chain = (m->chain ^ index) * UINT64_C(0x100000001b3);
	for (i = 0; i < e->len; i++)
		m->chain = (m->chain ^ e->input[i]) * UINT64_C(0x100000001b3);
	m->inputs++;
	if (e->client == 7)
		m->last_request = e->request;
}

static void
m_outcome(void *arg, uint64_t cookie, int status, int result,
    const char *text)
{
	struct model	*m = arg;

	if (status != 0) {
		m->errors++;
		snprintf(m->error, sizeof m->error, "%s", text);
	} else if (result == CLUSTER_APPLIED) {
		m->applied++;
		/* Its entry came first. */
		if (m->last_request < cookie)
			m->misordered++;
	} else
		m->refused++;
}

static void
m_snapshot(void *arg, raft_index index, struct cluster_node *n)
{
	struct model	*m = arg;

	(void)index;
	m->snapshots++;
	cluster_node_snapshot_done(n, m, 16, 1);
}

static int
m_restore(void *arg, raft_index index, const uint8_t *p, size_t len)
{
	struct model	*m = arg;

	(void)index;
	if (len != 16)
		return -1;
	memcpy(m, p, 16);
	m->restores++;
	return 0;
}

static const struct cluster_node_ops ops = {
	.entry = m_entry, .outcome = m_outcome, .snapshot = m_snapshot,
	.restore = m_restore,
};

static void
node_start(unsigned i)
{
	char	 err[256];

	nodes[i].node = cluster_node_start(&nodes[i].conf, &ops, &nodes[i].m,
	    loop, err, sizeof err);
	cr_assert_not_null(nodes[i].node, "node %u: %s", i + 1, err);
}

static void
tick(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Run the loop for up to ms, or until done() says so. */
static int
run_until(int (*done)(void), unsigned ms)
{
	ev_tstamp	 end = ev_time() + ms / 1000.0;

	while (!done() && ev_time() < end)
		ev_run(loop, EVRUN_ONCE);
	return done();
}

static int
leader(void)
{
	struct cluster_info	 in;
	unsigned		 i;

	for (i = 0; i < NODES; i++) {
		if (nodes[i].node == NULL)
			continue;
		cluster_node_info(nodes[i].node, &in);
		if (in.role == RAFT_LEADER)
			return (int)i;
	}
	return -1;
}

static int
has_leader(void)
{
	return leader() != -1;
}

static uint64_t	 want;

static int
all_applied(void)
{
	unsigned	 i;

	for (i = 0; i < NODES; i++)
		if (nodes[i].node != NULL && nodes[i].m.inputs < want)
			return 0;
	return 1;
}

/* Every node has taken a snapshot (raft's, with the marker's images). */
static int
all_snapshotted(void)
{
	unsigned	 i;

	for (i = 0; i < NODES; i++)
		if (nodes[i].node != NULL && nodes[i].m.snapshots == 0)
			return 0;
	return 1;
}

static uint64_t	 next_req = 1;

static void
propose(unsigned i, unsigned count)
{
	struct cluster_entry	 e;
	char			 text[32];

	while (count-- > 0) {
		memset(&e, 0, sizeof e);
		e.kind = CLUSTER_INPUT;
		e.client = 7;
		e.request = next_req;
		snprintf(e.machine, sizeof e.machine, "m");
		snprintf(text, sizeof text, "in %llu",
		    (unsigned long long)next_req);
		e.input = (const uint8_t *)text;
		e.len = strlen(text);
		cr_assert_eq(cluster_node_propose(nodes[i].node, &e, next_req),
		    0);
		next_req++;
	}
}

static unsigned	 acked_at;

static int
acked(void)
{
	return nodes[acked_at].m.applied + nodes[acked_at].m.errors >= want;
}

/* Propose count inputs through node i; how many it says were applied. */
static unsigned
commit_through(unsigned i, unsigned count)
{
	struct model	*m = &nodes[i].m;
	unsigned	 applied = m->applied, errors = m->errors;

	acked_at = i;
	want = m->applied + m->errors + count;
	propose(i, count);
	cr_assert(run_until(acked, 20000), "node %u: %u of %u answered", i + 1,
	    m->applied + m->errors - applied - errors, count);
	if (m->errors > errors)
		next_req -= m->errors - errors;	/* never applied */
	return m->applied - applied;
}

Test(cluster_node, replicate_fail_over_catch_up, .timeout = 60)
{
	char		 tmpl[] = "/tmp/smsup-clu-node.XXXXXX", *root, cmd[128];
	unsigned	 i, j, base = 30000 + ((unsigned)getpid() % 9000) * 3;
	int		 l, l2;
	ev_timer	 t;

	signal(SIGPIPE, SIG_IGN);	/* as the supervisor does */
	cr_assert_not_null(root = mkdtemp(tmpl));
	loop = EV_DEFAULT;
	ev_timer_init(&t, tick, 0.01, 0.01);
	ev_timer_start(loop, &t);
	for (i = 0; i < NODES; i++) {
		struct cluster_node_conf *c = &nodes[i].conf;

		memset(&nodes[i], 0, sizeof nodes[i]);
		c->id = i + 1;
		snprintf(c->addr, sizeof c->addr, "127.0.0.1:%u", base + i);
		for (j = 0; j < NODES; j++) {
			if (j == i)
				continue;
			c->peers[c->npeers].id = j + 1;
			snprintf(c->peers[c->npeers].addr,
			    sizeof c->peers[c->npeers].addr, "127.0.0.1:%u",
			    base + j);
			c->npeers++;
		}
		c->bootstrap = 1;
		snprintf(c->dir, sizeof c->dir, "%s/%u", root, i + 1);
		cr_assert_eq(mkdir(c->dir, 0700), 0);
		c->election_ms = 300;
		c->heartbeat_ms = 50;
		c->snapshot_threshold = 64;
		c->snapshot_trailing = 16;
		node_start(i);
	}
	cr_assert(run_until(has_leader, 10000), "no leader in 10 s");
	l = leader();

	/* 500 inputs through the leader: one chain on every node. */
	cr_assert_eq(commit_through((unsigned)l, 500), 500, "errors %u: %s",
	    nodes[l].m.errors, nodes[l].m.error);
	cr_assert_eq(nodes[l].m.misordered, 0, "an outcome before its entry");
	want = 500;
	cr_assert(run_until(all_applied, 10000), "not every node applied 500");
	for (i = 0; i < NODES; i++)
		cr_assert_eq(nodes[i].m.chain, nodes[0].m.chain,
		    "node %u's chain", i + 1);
	/* A follower given the entries in a few batches snapshots late. */
	cr_assert(run_until(all_snapshotted, 10000), "snapshots taken: %u %u "
	    "%u", nodes[0].m.snapshots, nodes[1].m.snapshots,
	    nodes[2].m.snapshots);

	/* A follower refuses, and says so. */
	i = ((unsigned)l + 1) % NODES;
	cr_assert_eq(commit_through(i, 1), 0, "a follower applied");
	cr_assert_eq(nodes[i].m.errors, 1);
	cr_assert_str_eq(nodes[i].m.error, "not the leader");

	/* The leader stops: another is elected, and serves. */
	cluster_node_stop(nodes[l].node);
	nodes[l].node = NULL;
	cr_assert(run_until(has_leader, 5000), "no new leader in 5 s");
	l2 = leader();
	cr_assert_neq(l2, l);
	cr_assert_eq(commit_through((unsigned)l2, 100), 100, "errors: %s",
	    nodes[l2].m.error);

	/* The old leader, started again with nothing: catches up. */
	memset(&nodes[l].m, 0, sizeof nodes[l].m);
	node_start((unsigned)l);
	want = 600;
	cr_assert(run_until(all_applied, 20000), "node %d applied %llu of 600 "
	    "(%u restores)", l + 1, (unsigned long long)nodes[l].m.inputs,
	    nodes[l].m.restores);
	cr_assert(nodes[l].m.restores > 0, "node %d restored no snapshot",
	    l + 1);
	for (i = 0; i < NODES; i++)
		cr_assert_eq(nodes[i].m.chain, nodes[l2].m.chain,
		    "node %u's chain after the catch-up", i + 1);

	for (i = 0; i < NODES; i++)
		cluster_node_stop(nodes[i].node);
	ev_timer_stop(loop, &t);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}
