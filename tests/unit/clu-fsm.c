/*
 * clu-fsm.c: unit tests of the raft glue (supervisor/cluster-fsm.c): the
 * entry codec, client sessions, and three nodes on raft's own
 * raft_fixture (in-memory network and clock) under seeded partitions,
 * kills, depositions and client retries, each node's machine layer a
 * model that chains every entry it is given. At the end every node has
 * the same chain, every acknowledged request was applied exactly once,
 * and every node upgraded at the same index. FAULTS=0135 (the digits of
 * the cases in run_seed) limits the faults drawn, to find which breaks.
 * A raft snapshot of one node restores another to the same sessions and
 * machines.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <raft.h>
#include <raft/fixture.h>

#include "cluster.h"
#include "msg.h"

#define NODES		3
#define CLIENTS		4
#define REQS		400	/* per client */

/* The machine layer of one node: a hash chain of what it was given. */
struct model {
	uint64_t	 chain;
	uint64_t	 inputs;
	raft_index	 upgraded_at;
	char		 version[16];
	uint8_t		 applied[CLIENTS + 1][REQS + 1];	/* times */
};

static uint64_t
chain_add(uint64_t h, const void *p, size_t n)
{
	const uint8_t	*q = p;

	while (n-- > 0)
		h = (h ^ *q++) * UINT64_C(0x100000001b3);
	return h;
}

static int
model_entry(void *arg, raft_index index, const struct cluster_entry *e)
{
	struct model	*m = arg;

	m->chain = chain_add(m->chain, &index, sizeof index);
	if (e->kind == CLUSTER_UPGRADE) {
		/* A migrate that fails, fails everywhere: the same entry. */
		if (strcmp(e->version, "bad") == 0)
			return -1;
		snprintf(m->version, sizeof m->version, "%s", e->version);
		m->upgraded_at = index;
		return 0;
	}
	cr_assert_eq(e->kind, CLUSTER_INPUT);
	cr_assert(e->client >= 1 && e->client <= CLIENTS);
	cr_assert(e->request >= 1 && e->request <= REQS);
	m->chain = chain_add(m->chain, e->input, e->len);
	m->inputs++;
	m->applied[e->client][e->request]++;
	return 0;
}

static int
model_snapshot(void *arg, struct buf *b)
{
	return buf_add(b, arg, sizeof(struct model));
}

static int
model_restore(void *arg, const uint8_t *p, size_t len)
{
	if (len != sizeof(struct model))
		return -1;
	memcpy(arg, p, len);
	return 0;
}

static const struct cluster_ops model_ops = {
	.entry = model_entry, .snapshot = model_snapshot,
	.restore = model_restore,
};

Test(cluster, entry_codec)
{
	struct cluster_entry	 e, d;
	struct raft_buffer	 b;

	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_INPUT;
	e.client = 7;
	e.request = 9;
	e.call = 1;
	snprintf(e.machine, sizeof e.machine, "counter");
	e.input = (const uint8_t *)"incr";
	e.len = 4;
	cr_assert_eq(cluster_entry_encode(&e, &b), 0);
	cr_assert_eq(cluster_entry_decode(b.base, b.len, &d), 0);
	cr_assert_eq(d.client, 7);
	cr_assert_eq(d.request, 9);
	cr_assert_eq(d.call, 1);
	cr_assert_str_eq(d.machine, "counter");
	cr_assert_eq(d.len, 4);
	cr_assert_eq(memcmp(d.input, "incr", 4), 0);
	/* Padded to 8 bytes (raft's disk log wants it), zeros. */
	cr_assert_eq(b.len, 40);
	/* Cut into the entry: not one; cut in the padding: still it. */
	for (size_t n = 0; n < b.len; n++)
		cr_assert_eq(cluster_entry_decode(b.base, n, &d), n < 37 ? -1 :
		    0, "%zu", n);
	((uint8_t *)b.base)[38] = 1;
	cr_assert_eq(cluster_entry_decode(b.base, b.len, &d), -1,
	    "padding that is not zeros");
	((uint8_t *)b.base)[38] = 0;
	((uint8_t *)b.base)[0] = 99;
	cr_assert_eq(cluster_entry_decode(b.base, b.len, &d), -1);
	raft_free(b.base);

	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_UPGRADE;
	snprintf(e.machine, sizeof e.machine, "counter");
	snprintf(e.path, sizeof e.path, "/opt/counter-v2");
	snprintf(e.version, sizeof e.version, "2");
	snprintf(e.extra, sizeof e.extra, "bonus 1");
	cr_assert_eq(cluster_entry_encode(&e, &b), 0);
	cr_assert_eq(cluster_entry_decode(b.base, b.len, &d), 0);
	cr_assert_str_eq(d.path, "/opt/counter-v2");
	cr_assert_str_eq(d.extra, "bonus 1");
	raft_free(b.base);
}

/* Apply an input entry directly, as raft would: the result. */
static int
direct(struct cluster_fsm *c, uint64_t client, uint64_t req)
{
	struct cluster_entry	 e;
	struct raft_buffer	 b;
	void			*res = NULL;
	int			 rc;

	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_INPUT;
	e.client = client;
	e.request = req;
	snprintf(e.machine, sizeof e.machine, "m");
	e.input = (const uint8_t *)"x";
	e.len = 1;
	cr_assert_eq(cluster_entry_encode(&e, &b), 0);
	rc = cluster_fsm_raft(c)->apply(cluster_fsm_raft(c), &b, &res);
	cr_assert_eq(rc, 0);
	raft_free(b.base);
	return cluster_fsm_result(res);
}

Test(cluster, sessions)
{
	struct model		*m = calloc(1, sizeof *m);
	struct cluster_fsm	*c = cluster_fsm_new(&model_ops, m);

	cr_assert_eq(direct(c, 1, 1), CLUSTER_APPLIED);
	cr_assert_eq(direct(c, 1, 1), CLUSTER_DUPLICATE, "a retry");
	cr_assert_eq(direct(c, 1, 3), CLUSTER_APPLIED);
	cr_assert_eq(direct(c, 1, 2), CLUSTER_APPLIED, "late, in the window");
	cr_assert_eq(direct(c, 1, 2), CLUSTER_DUPLICATE);
	cr_assert_eq(direct(c, 1, 3), CLUSTER_DUPLICATE);
	cr_assert_eq(direct(c, 1, 100), CLUSTER_APPLIED);
	cr_assert_eq(direct(c, 1, 36), CLUSTER_APPLIED, "64 below");
	cr_assert_eq(direct(c, 1, 35), CLUSTER_DUPLICATE, "past the window");
	cr_assert_eq(direct(c, 2, 1), CLUSTER_APPLIED, "another client");
	cr_assert_eq(cluster_fsm_session(c, 1), 100);
	cr_assert_eq(cluster_fsm_session(c, 3), 0);
	cr_assert_eq(m->applied[1][1], 1);
	cr_assert_eq(m->applied[1][2], 1);
	/* Garbage is refused, the same everywhere, and counted applied. */
	{
		struct raft_buffer	 b = { "\x01\x02", 2 };
		void			*res = NULL;

		cr_assert_eq(cluster_fsm_raft(c)->apply(cluster_fsm_raft(c),
		    &b, &res), 0);
		cr_assert_eq(cluster_fsm_result(res), CLUSTER_REFUSED);
	}
	cr_assert_eq(cluster_fsm_applied(c), 11);
	cluster_fsm_free(c);
	free(m);
}

/* A request in flight on the leader, until raft's callback. */
struct req {
	struct raft_apply	 a;
	uint64_t		 client, request;
	int			*acked;
};

static int	acked[CLIENTS + 1][REQS + 1];	/* 1: committed and told */

static void
req_cb(struct raft_apply *a, int status, void *result)
{
	struct req	*q = a->data;

	if (status == 0 && q->client != 0) {
		cr_assert(cluster_fsm_result(result) == CLUSTER_APPLIED ||
		    cluster_fsm_result(result) == CLUSTER_DUPLICATE);
		acked[q->client][q->request] = 1;
	}

	free(q);
}

/* Propose an entry to the leader, if there is one. */
static void
propose(struct raft_fixture *f, const struct cluster_entry *e)
{
	struct raft_buffer	 b;
	struct req		*q;
	struct raft		*r;
	unsigned		 l = raft_fixture_leader_index(f);

	if (l == NODES)
		return;
	r = raft_fixture_get(f, l);
	cr_assert_eq(cluster_entry_encode(e, &b), 0);
	q = calloc(1, sizeof *q);
	q->a.data = q;
	q->client = e->kind == CLUSTER_INPUT ? e->client : 0;
	q->request = e->request;
	if (raft_apply(r, &q->a, &b, 1, req_cb) != 0) {
		raft_free(b.base);
		free(q);
	}
}

static void
input_entry(struct cluster_entry *e, uint64_t client, uint64_t req)
{
	static char	 text[32];

	memset(e, 0, sizeof *e);
	e->kind = CLUSTER_INPUT;
	e->client = client;
	e->request = req;
	e->call = 1;
	snprintf(e->machine, sizeof e->machine, "m");
	snprintf(text, sizeof text, "%llu:%llu", (unsigned long long)client,
	    (unsigned long long)req);
	e->input = (const uint8_t *)text;
	e->len = strlen(text);
}

#define WINDOW	32

/* The client's oldest request not yet acknowledged (or its next). */
static uint64_t	 next_of[CLIENTS + 1];

static uint64_t
oldest(unsigned k)
{
	uint64_t	 j;

	for (j = 1; j < next_of[k] && acked[k][j]; j++)
		;
	return j;
}

static unsigned	 snap_threshold = 1000000;
static const char *faults;	/* the cases drawn: NULL for all */

static int
pick(void)
{
	const char	*f = getenv("FAULTS") != NULL ? getenv("FAULTS") : faults;
	int		 v = rand() % 40;

	if (f == NULL || v > 7)
		return v;
	return strchr(f, '0' + v) != NULL ? v : 39;
}

static void
run_seed(unsigned seed)
{
	struct raft_fixture	 f;
	struct raft_configuration conf;
	struct cluster_fsm	*c[NODES];
	struct model		*m[NODES];
	struct cluster_entry	 e;
	uint64_t		*next = next_of;
	raft_index		 last;
	unsigned		 i, j, k, step, ups = 0, round, pending;

	srand(seed);
	memset(acked, 0, sizeof acked);
	memset(&f, 0, sizeof f);
	cr_assert_eq(raft_fixture_initialize(&f), 0);
	for (i = 0; i < NODES; i++) {
		m[i] = calloc(1, sizeof *m[i]);
		snprintf(m[i]->version, sizeof m[i]->version, "1");
		c[i] = cluster_fsm_new(&model_ops, m[i]);
		cr_assert_eq(raft_fixture_grow(&f, cluster_fsm_raft(c[i])), 0);
		cluster_fsm_attach(c[i], raft_fixture_get(&f, i));
		/*
		 * No raft snapshots on the fixture: its in-memory log
		 * (src/fixture.c, to raft 0.18) forgets a snapshot installed
		 * on a follower, so a later truncation of a conflicting entry
		 * (after a partition) reads past its array, and with kills a
		 * revived node can find no leader. Snapshots are tested
		 * below, between two FSMs.
		 */
		raft_set_snapshot_threshold(raft_fixture_get(&f, i),
		    snap_threshold);
	}
	raft_configuration_init(&conf);
	cr_assert_eq(raft_fixture_configuration(&f, NODES, &conf), 0);
	cr_assert_eq(raft_fixture_bootstrap(&f, &conf), 0);
	raft_configuration_close(&conf);
	cr_assert_eq(raft_fixture_start(&f), 0);
	cr_assert(raft_fixture_step_until_has_leader(&f, 10000));
	for (k = 1; k <= CLIENTS; k++)
		next[k] = 1;
	for (step = 0; step < 4000; step++) {
		k = 1 + (unsigned)rand() % CLIENTS;
		switch (pick()) {
		case 0:		/* a partition: one node cut off */
			i = (unsigned)rand() % NODES;
			for (j = 0; j < NODES; j++)
				if (j != i) {
					raft_fixture_disconnect(&f, i, j);
					raft_fixture_disconnect(&f, j, i);
				}
			break;
		case 1:		/* healed */
			for (i = 0; i < NODES; i++)
				for (j = 0; j < NODES; j++)
					if (i != j)
						raft_fixture_reconnect(&f, i, j);
			break;
		case 2:		/* one node stops, then another comes back */
			i = (unsigned)rand() % NODES;
			for (j = 0; j < NODES; j++)
				if (!raft_fixture_alive(&f, j))
					raft_fixture_revive(&f, j);
			raft_fixture_kill(&f, i);
			break;
		case 3:		/* the leader deposed (all alive: the fixture's
				   own precondition) */
			for (j = 0; j < NODES && raft_fixture_alive(&f, j); j++)
				;
			if (j == NODES && raft_fixture_leader_index(&f) != NODES)
				raft_fixture_depose(&f);
			break;
		case 4:		/* an upgrade, one in three failing */
			memset(&e, 0, sizeof e);
			e.kind = CLUSTER_UPGRADE;
			snprintf(e.machine, sizeof e.machine, "m");
			snprintf(e.version, sizeof e.version, "%s", rand() % 3 ?
			    (ups++ % 2 ? "1" : "2") : "bad");
			propose(&f, &e);
			break;
		case 5: case 6: case 7:	/* a client retries an unanswered one */
			for (j = oldest(k); j < next[k] && acked[k][j]; j++)
				;
			if (j < next[k]) {
				input_entry(&e, k, j);
				propose(&f, &e);
			}
			break;
		default:
			/* A client keeps at most WINDOW unanswered (sessions
			 * remember 64 below the highest). */
			if (next[k] <= REQS && next[k] - oldest(k) < WINDOW) {
				input_entry(&e, k, next[k]);
				/* Counted sent whether or not a leader took it:
				 * the client retries it later (case 5). */
				propose(&f, &e);
				next[k]++;
			}
		}
		raft_fixture_step_n(&f, 1 + (unsigned)rand() % 4);
	}
	/* All healed and back; every request retried once more, in order. */
	for (i = 0; i < NODES; i++) {
		if (!raft_fixture_alive(&f, i))
			raft_fixture_revive(&f, i);
		for (j = 0; j < NODES; j++)
			if (i != j)
				raft_fixture_reconnect(&f, i, j);
	}
	/* Clients retry what was not answered, until all of it is. */
	for (round = 0; round < 50; round++) {
		cr_assert(raft_fixture_step_until_has_leader(&f, 30000));
		pending = 0;
		for (k = 1; k <= CLIENTS; k++)
			for (j = 1; j < next[k]; j++)
				if (!acked[k][j]) {
					input_entry(&e, k, j);
					propose(&f, &e);
					pending++;
				}
		if (pending == 0)
			break;
		raft_fixture_step_until_elapsed(&f, 2000);
	}
	cr_assert(raft_fixture_step_until_has_leader(&f, 30000));
	last = raft_last_index(raft_fixture_get(&f,
	    raft_fixture_leader_index(&f)));
	for (i = 0; i < NODES; i++)
		cr_assert(raft_fixture_step_until_applied(&f, i, last, 60000),
		    "seed %u: node %u never applied %llu", seed, i,
		    (unsigned long long)last);
	for (i = 0; i < NODES; i++) {
		cr_assert_eq(m[i]->chain, m[0]->chain, "seed %u: node %u's "
		    "chain differs", seed, i);
		cr_assert_eq(m[i]->inputs, m[0]->inputs);
		cr_assert_eq(m[i]->upgraded_at, m[0]->upgraded_at,
		    "seed %u: node %u upgraded at %llu, node 0 at %llu", seed, i,
		    (unsigned long long)m[i]->upgraded_at,
		    (unsigned long long)m[0]->upgraded_at);
		cr_assert_str_eq(m[i]->version, m[0]->version);
		for (k = 1; k <= CLIENTS; k++)
			for (j = 1; j < next[k]; j++)
				cr_assert_eq(m[i]->applied[k][j], 1, "seed %u: "
				    "node %u applied %u:%u %u times", seed, i,
				    k, j, m[i]->applied[k][j]);
	}
	for (k = 1; k <= CLIENTS; k++)
		for (j = 1; j < next[k]; j++)
			cr_assert(acked[k][j], "seed %u: %u:%u never acked",
			    seed, k, j);
	cr_assert_eq(m[0]->inputs, (next[1] - 1) + (next[2] - 1) +
	    (next[3] - 1) + (next[4] - 1));
	raft_fixture_close(&f);
	for (i = 0; i < NODES; i++) {
		cluster_fsm_free(c[i]);
		free(m[i]);
	}
}

Test(cluster, fixture_partitions_kills_retries, .timeout = 120)
{
	unsigned	 seed;

	for (seed = 1; seed <= 20; seed++)
		run_seed(seed);
}

Test(cluster, snapshot_restores_sessions_and_machines)
{
	struct model		*a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	struct cluster_fsm	*ca = cluster_fsm_new(&model_ops, a);
	struct cluster_fsm	*cb = cluster_fsm_new(&model_ops, b);
	struct raft_fsm		*fa = cluster_fsm_raft(ca), *fb = cluster_fsm_raft(cb);
	struct raft_buffer	*bufs, copy;
	unsigned		 n;

	cr_assert_eq(direct(ca, 1, 1), CLUSTER_APPLIED);
	cr_assert_eq(direct(ca, 1, 2), CLUSTER_APPLIED);
	cr_assert_eq(direct(ca, 2, 5), CLUSTER_APPLIED);
	cr_assert_eq(fa->snapshot(fa, &bufs, &n), 0);
	cr_assert_eq(n, 1);
	/* Corrupt copies are refused, and change nothing. */
	copy.len = bufs[0].len - 1;
	copy.base = raft_malloc(copy.len);
	memcpy(copy.base, bufs[0].base, copy.len);
	cr_assert_neq(fb->restore(fb, &copy), 0);
	raft_free(copy.base);		/* raft's, after a failed restore */
	cr_assert_eq(cluster_fsm_session(cb, 1), 0);
	copy.len = bufs[0].len;
	copy.base = raft_malloc(copy.len);
	memcpy(copy.base, bufs[0].base, copy.len);
	((uint8_t *)copy.base)[0] ^= 1;
	cr_assert_neq(fb->restore(fb, &copy), 0);
	raft_free(copy.base);
	/* The snapshot itself: b is a. */
	cr_assert_eq(fb->restore(fb, &bufs[0]), 0);
	raft_free(bufs);
	cr_assert_eq(cluster_fsm_session(cb, 1), 2);
	cr_assert_eq(cluster_fsm_session(cb, 2), 5);
	cr_assert_eq(cluster_fsm_applied(cb), 3);
	cr_assert_eq(b->chain, a->chain);
	cr_assert_eq(direct(cb, 1, 2), CLUSTER_DUPLICATE, "remembered");
	cr_assert_eq(direct(cb, 1, 3), CLUSTER_APPLIED);
	cluster_fsm_free(ca);
	cluster_fsm_free(cb);
	free(a);
	free(b);
}
