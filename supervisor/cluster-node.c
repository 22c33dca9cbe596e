/*
 * cluster-node.c: one node of a cluster of supervisors (cluster.h):
 * canonical raft on its libuv TCP transport and its disk log, on a thread
 * of its own with its own libuv loop. Raft is only ever called from that
 * thread. The libev loop talks to it through two queues under one lock:
 * what it asks (proposals, membership changes, the stop) wakes the raft
 * thread by a uv_async; what raft gives back (committed entries in log
 * order, the outcome of each proposal, snapshots to take, snapshots to
 * restore) wakes the libev loop by an ev_async, and is handed to
 * cluster_node_ops there, in the order raft produced it.
 *
 * A raft snapshot is taken as raft's version 3 FSM: in raft's loop the
 * client table is copied and a marker queued behind the entries applied
 * so far; on a thread of raft's pool the images wait for the libev side,
 * which takes them when it reaches the marker (cluster_node_snapshot_done).
 * Raft's loop is never blocked by a machine.
 */
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "cluster.h"
#include "cluster-node.h"

/* What the raft thread gives the libev loop. */
enum { NQ_ENTRY, NQ_OUTCOME, NQ_SNAPSHOT, NQ_RESTORE };
/* What the libev loop asks the raft thread. */
enum { RQ_PROPOSE, RQ_ADD, RQ_ASSIGN, RQ_REMOVE, RQ_UNDO };

struct cluster_item {
	STAILQ_ENTRY(cluster_item) entry;
	int			 kind;
	raft_index		 index;
	uint64_t		 cookie;	/* the request's, for outcomes */
	int			 status;	/* raft's: 0 done */
	int			 undone;	/* RQ_UNDO: why the add failed */
	int			 result;	/* CLUSTER_APPLIED, ... */
	raft_id			 id;		/* membership */
	char			 addr[CLUSTER_ADDR_MAX];
	char			 text[160];	/* an outcome's error */
	struct raft_buffer	 buf;		/* RQ_PROPOSE: raft_malloc'd */
	size_t			 len;
	uint8_t			 data[];	/* NQ_ENTRY, NQ_RESTORE */
};
STAILQ_HEAD(cluster_items, cluster_item);

/* A proposal or change in flight in raft, and whom to tell. */
struct cluster_req {
	union {
		struct raft_apply	 apply;
		struct raft_change	 change;
	} u;
	struct cluster_node	*node;
	struct cluster_item	*item;
};

struct cluster_node {
	struct cluster_node_conf conf;
	const struct cluster_node_ops *ops;
	void			*arg;

	/* The raft thread's. */
	pthread_t		 thread;
	uv_loop_t		 loop;
	uv_async_t		 wake;
	uv_timer_t		 tick;
	struct raft_uv_transport transport;
	struct raft_io		 io;
	struct raft		 raft;
	struct cluster_fsm	*fsm;
	int			 closing;

	/* The libev loop's. */
	struct ev_loop		*ev;
	ev_async		 ready;

	/* Shared, under lock. */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct cluster_items	 toraft;	/* RQ_* */
	struct cluster_items	 toev;		/* NQ_* */
	int			 stopping;
	struct cluster_info	 info;
	/* The images of a snapshot asked for: waited for by raft's pool. */
	int			 snap_waiting;	/* a marker is queued */
	int			 snap_done;	/* answered: snap_rc, snap */
	int			 snap_rc;
	struct buf		 snap;
};

static void	cluster_node_push(struct cluster_node *, struct cluster_item *);

static struct cluster_item *
cluster_item_new(int kind, size_t len)
{
	struct cluster_item	*it;

	if ((it = calloc(1, sizeof *it + len)) == NULL)
		return NULL;
	it->kind = kind;
	it->len = len;
	return it;
}

/* The raft thread --------------------------------------------------- */

/* Copy raft's view into info, for cluster_node_info (under lock). */
static void
cluster_node_observe(struct cluster_node *n)
{
	struct cluster_info	*in = &n->info;
	struct raft		*r = &n->raft;
	const char		*addr = NULL;
	raft_id			 leader = 0;
	unsigned		 i;

	raft_leader(r, &leader, &addr);
	pthread_mutex_lock(&n->lock);
	in->id = n->conf.id;
	in->role = raft_state(r);
	in->term = r->current_term;
	in->leader = leader;
	snprintf(in->leader_addr, sizeof in->leader_addr, "%s",
	    addr != NULL ? addr : "");
	in->commit = r->commit_index;
	in->applied = raft_last_applied(r);
	in->last = raft_last_index(r);
	in->nservers = 0;
	for (i = 0; i < r->configuration.n && i < CLUSTER_NODES_MAX; i++) {
		in->servers[i].id = r->configuration.servers[i].id;
		snprintf(in->servers[i].addr, sizeof in->servers[i].addr, "%s",
		    r->configuration.servers[i].address);
		in->servers[i].role = r->configuration.servers[i].role;
		in->nservers++;
	}
	pthread_mutex_unlock(&n->lock);
}

/* An outcome for the libev side (raft thread). */
static void
cluster_node_outcome(struct cluster_node *n, struct cluster_item *it,
    int status, int result)
{
	it->kind = NQ_OUTCOME;
	it->status = status;
	it->result = result;
	if (status != 0 && it->text[0] == '\0') {
		snprintf(it->text, sizeof it->text, "%s",
		    status == RAFT_NOTLEADER || status == RAFT_LEADERSHIPLOST ?
		    "not the leader" : raft_errmsg(&n->raft)[0] != '\0' ?
		    raft_errmsg(&n->raft) : raft_strerror(status));
		if (status == RAFT_LEADERSHIPLOST)
			snprintf(it->text, sizeof it->text, "leadership lost "
			    "before it was committed: it may or may not be "
			    "applied");
	}
	cluster_node_push(n, it);
}

static void
cluster_node_applied(struct raft_apply *req, int status, void *result)
{
	struct cluster_req	*cr = req->data;

	cluster_node_outcome(cr->node, cr->item, status,
	    status == 0 ? cluster_fsm_result(result) : CLUSTER_REFUSED);
	free(cr);
}

static void
cluster_node_changed(struct raft_change *req, int status)
{
	struct cluster_req	*cr = req->data;
	struct cluster_node	*n = cr->node;
	struct cluster_item	*it = cr->item;

	/* A node added is made a voter once it has the log. */
	if (status == 0 && it->kind == RQ_ADD) {
		it->kind = RQ_ASSIGN;
		memset(&cr->u, 0, sizeof cr->u);
		cr->u.change.data = cr;
		if ((status = raft_assign(&n->raft, &cr->u.change, it->id,
		    RAFT_VOTER, cluster_node_changed)) == 0)
			return;
	}
	/*
	 * Added but never a voter (it never caught up: not running, say):
	 * taken out again, so that a failed add changes nothing.
	 */
	if (status != 0 && it->kind == RQ_ASSIGN) {
		it->kind = RQ_UNDO;
		it->undone = status;
		snprintf(it->text, sizeof it->text, "%s",
		    raft_errmsg(&n->raft)[0] != '\0' ? raft_errmsg(&n->raft) :
		    raft_strerror(status));
		memset(&cr->u, 0, sizeof cr->u);
		cr->u.change.data = cr;
		if (raft_remove(&n->raft, &cr->u.change, it->id,
		    cluster_node_changed) == 0)
			return;
	}
	if (it->kind == RQ_UNDO)
		status = it->undone;
	/* Whoever is told sees the new members in cluster_node_info. */
	cluster_node_observe(n);
	cluster_node_outcome(n, it, status, CLUSTER_APPLIED);
	free(cr);
}

/* Do what the libev loop asked. */
static void
cluster_node_serve(struct cluster_node *n, struct cluster_item *it)
{
	struct cluster_req	*cr;
	int			 rc;

	if ((cr = calloc(1, sizeof *cr)) == NULL) {
		if (it->buf.base != NULL)
			raft_free(it->buf.base);
		it->buf.base = NULL;
		cluster_node_outcome(n, it, RAFT_NOMEM, CLUSTER_REFUSED);
		return;
	}
	cr->node = n;
	cr->item = it;
	switch (it->kind) {
	case RQ_PROPOSE:
		cr->u.apply.data = cr;
		rc = raft_apply(&n->raft, &cr->u.apply, &it->buf, 1,
		    cluster_node_applied);
		if (rc != 0)
			raft_free(it->buf.base);	/* raft took nothing */
		it->buf.base = NULL;
		break;
	case RQ_ADD:
		cr->u.change.data = cr;
		rc = raft_add(&n->raft, &cr->u.change, it->id, it->addr,
		    cluster_node_changed);
		break;
	case RQ_REMOVE:
		cr->u.change.data = cr;
		rc = raft_remove(&n->raft, &cr->u.change, it->id,
		    cluster_node_changed);
		break;
	default:
		rc = RAFT_INVALID;
	}
	if (rc != 0) {
		free(cr);
		cluster_node_outcome(n, it, rc, CLUSTER_REFUSED);
	}
}

static void
cluster_node_closed(struct raft *r)
{
	struct cluster_node	*n = r->data;

	raft_uv_close(&n->io);
	raft_uv_tcp_close(&n->transport);
	uv_close((uv_handle_t *)&n->wake, NULL);
	uv_close((uv_handle_t *)&n->tick, NULL);
}

static void
cluster_node_wake(uv_async_t *a)
{
	struct cluster_node	*n = a->data;
	struct cluster_items	 work = STAILQ_HEAD_INITIALIZER(work);
	struct cluster_item	*it;
	int			 stopping;

	pthread_mutex_lock(&n->lock);
	STAILQ_CONCAT(&work, &n->toraft);
	stopping = n->stopping;
	pthread_mutex_unlock(&n->lock);
	while ((it = STAILQ_FIRST(&work)) != NULL) {
		STAILQ_REMOVE_HEAD(&work, entry);
		if (stopping || n->closing) {
			if (it->buf.base != NULL)
				raft_free(it->buf.base);
			free(it);
			continue;
		}
		cluster_node_serve(n, it);
	}
	if (stopping && !n->closing) {
		n->closing = 1;
		uv_timer_stop(&n->tick);
		raft_close(&n->raft, cluster_node_closed);
	}
	if (!n->closing)
		cluster_node_observe(n);
}

static void
cluster_node_tick(uv_timer_t *t)
{
	cluster_node_observe(t->data);
}

static void *
cluster_node_main(void *arg)
{
	struct cluster_node	*n = arg;

	uv_run(&n->loop, UV_RUN_DEFAULT);
	return NULL;
}

/* The FSM's side, in raft's loop (and its pool for the images). ----- */

static int
cluster_node_entry(void *arg, raft_index index, const struct cluster_entry *e)
{
	struct cluster_node	*n = arg;
	struct cluster_item	*it;
	const void		*p;
	size_t			 len = 0;

	(void)e;
	if ((p = cluster_fsm_entry_bytes(n->fsm, &len)) == NULL ||
	    (it = cluster_item_new(NQ_ENTRY, len)) == NULL)
		return -1;	/* refused, as on every node short of memory */
	memcpy(it->data, p, len);
	it->index = index;
	cluster_node_push(n, it);
	return 0;
}

static void
cluster_node_snapshot_start(void *arg, raft_index index)
{
	struct cluster_node	*n = arg;
	struct cluster_item	*it;

	pthread_mutex_lock(&n->lock);
	n->snap_waiting = 1;
	n->snap_done = 0;
	n->snap_rc = -1;
	buf_reset(&n->snap);
	pthread_mutex_unlock(&n->lock);
	if ((it = cluster_item_new(NQ_SNAPSHOT, 0)) == NULL) {
		pthread_mutex_lock(&n->lock);
		n->snap_done = 1;
		pthread_mutex_unlock(&n->lock);
		return;
	}
	it->index = index;
	cluster_node_push(n, it);
}

/* On a thread of raft's pool: wait for the images. */
static int
cluster_node_snapshot(void *arg, struct buf *b)
{
	struct cluster_node	*n = arg;
	int			 rc;

	pthread_mutex_lock(&n->lock);
	while (!n->snap_done && !n->stopping)
		pthread_cond_wait(&n->cond, &n->lock);
	rc = n->snap_done ? n->snap_rc : -1;
	if (rc == 0 && buf_add(b, buf_head(&n->snap), buf_used(&n->snap)) != 0)
		rc = -1;
	n->snap_waiting = 0;
	buf_reset(&n->snap);
	pthread_mutex_unlock(&n->lock);
	return rc;
}

static int
cluster_node_restore(void *arg, const uint8_t *p, size_t len)
{
	struct cluster_node	*n = arg;
	struct cluster_item	*it;

	/* Refused here, raft refuses it: a node never runs on half of one. */
	if (n->ops->restore_check != NULL && n->ops->restore_check(p, len) != 0)
		return -1;
	if ((it = cluster_item_new(NQ_RESTORE, len)) == NULL)
		return -1;
	memcpy(it->data, p, len);
	it->index = cluster_fsm_applied(n->fsm);
	cluster_node_push(n, it);
	return 0;
}

static const struct cluster_ops cluster_node_fsm_ops = {
	.entry = cluster_node_entry,
	.snapshot = cluster_node_snapshot,
	.restore = cluster_node_restore,
	.snapshot_start = cluster_node_snapshot_start,
};

/* The libev side ------------------------------------------------------ */

static void
cluster_node_push(struct cluster_node *n, struct cluster_item *it)
{
	pthread_mutex_lock(&n->lock);
	STAILQ_INSERT_TAIL(&n->toev, it, entry);
	pthread_mutex_unlock(&n->lock);
	ev_async_send(n->ev, &n->ready);
}

static void
cluster_node_ready(struct ev_loop *loop, ev_async *w, int revents)
{
	struct cluster_node	*n = w->data;
	struct cluster_items	 work = STAILQ_HEAD_INITIALIZER(work);
	struct cluster_item	*it;
	struct cluster_entry	 e;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&n->lock);
	STAILQ_CONCAT(&work, &n->toev);
	pthread_mutex_unlock(&n->lock);
	while ((it = STAILQ_FIRST(&work)) != NULL) {
		STAILQ_REMOVE_HEAD(&work, entry);
		switch (it->kind) {
		case NQ_ENTRY:
			if (cluster_entry_decode(it->data, it->len, &e) == 0)
				n->ops->entry(n->arg, it->index, &e);
			break;
		case NQ_OUTCOME:
			n->ops->outcome(n->arg, it->cookie, it->status,
			    it->result, it->text);
			break;
		case NQ_SNAPSHOT:
			n->ops->snapshot(n->arg, it->index, n);
			break;
		case NQ_RESTORE:
			n->ops->restore(n->arg, it->index, it->data, it->len);
			break;
		}
		free(it);
	}
}

void
cluster_node_snapshot_done(struct cluster_node *n, const void *p, size_t len,
    int ok)
{
	pthread_mutex_lock(&n->lock);
	if (n->snap_waiting && !n->snap_done) {
		buf_reset(&n->snap);
		n->snap_rc = ok && buf_add(&n->snap, p, len) == 0 ? 0 : -1;
		n->snap_done = 1;
		pthread_cond_broadcast(&n->cond);
	}
	pthread_mutex_unlock(&n->lock);
}

static int
cluster_node_ask(struct cluster_node *n, struct cluster_item *it)
{
	pthread_mutex_lock(&n->lock);
	if (n->stopping) {
		pthread_mutex_unlock(&n->lock);
		if (it->buf.base != NULL)
			raft_free(it->buf.base);
		free(it);
		return -1;
	}
	STAILQ_INSERT_TAIL(&n->toraft, it, entry);
	pthread_mutex_unlock(&n->lock);
	uv_async_send(&n->wake);
	return 0;
}

int
cluster_node_propose(struct cluster_node *n, const struct cluster_entry *e,
    uint64_t cookie)
{
	struct cluster_item	*it;

	if ((it = cluster_item_new(RQ_PROPOSE, 0)) == NULL)
		return -1;
	it->cookie = cookie;
	if (cluster_entry_encode(e, &it->buf) == -1) {
		free(it);
		return -1;
	}
	return cluster_node_ask(n, it);
}

int
cluster_node_add(struct cluster_node *n, raft_id id, const char *addr,
    uint64_t cookie)
{
	struct cluster_item	*it;

	if ((it = cluster_item_new(RQ_ADD, 0)) == NULL)
		return -1;
	it->cookie = cookie;
	it->id = id;
	snprintf(it->addr, sizeof it->addr, "%s", addr);
	return cluster_node_ask(n, it);
}

int
cluster_node_remove(struct cluster_node *n, raft_id id, uint64_t cookie)
{
	struct cluster_item	*it;

	if ((it = cluster_item_new(RQ_REMOVE, 0)) == NULL)
		return -1;
	it->cookie = cookie;
	it->id = id;
	return cluster_node_ask(n, it);
}

void
cluster_node_info(struct cluster_node *n, struct cluster_info *in)
{
	pthread_mutex_lock(&n->lock);
	*in = n->info;
	pthread_mutex_unlock(&n->lock);
}

/* Starting and stopping ----------------------------------------------- */

static int
cluster_peer_cmp(const void *a, const void *b)
{
	const struct cluster_peer *p = a, *q = b;

	return p->id < q->id ? -1 : p->id > q->id;
}

/* Close what start opened, up to stage, and free the node. */
static void
cluster_node_unwind(struct cluster_node *n, int stage)
{
	if (stage >= 4) {
		/* raft_init succeeded: its close callback closes the rest. */
		raft_close(&n->raft, cluster_node_closed);
	} else if (stage >= 1) {
		if (stage >= 3)
			raft_uv_close(&n->io);
		if (stage >= 2)
			raft_uv_tcp_close(&n->transport);
		uv_close((uv_handle_t *)&n->wake, NULL);
		uv_close((uv_handle_t *)&n->tick, NULL);
	}
	if (stage >= 1) {
		uv_run(&n->loop, UV_RUN_DEFAULT);
		uv_loop_close(&n->loop);
	}
	cluster_fsm_free(n->fsm);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n);
}

struct cluster_node *
cluster_node_start(const struct cluster_node_conf *conf,
    const struct cluster_node_ops *ops, void *arg, struct ev_loop *ev,
    char *err, size_t errlen)
{
	struct cluster_node		*n;
	struct raft_configuration	 rc;
	struct cluster_peer		 all[CLUSTER_NODES_MAX];
	const char			*what;
	sigset_t			 sigs, old;
	unsigned			 i;
	int				 r, stage = 0;

	if ((n = calloc(1, sizeof *n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->conf = *conf;
	n->ops = ops;
	n->arg = arg;
	n->ev = ev;
	STAILQ_INIT(&n->toraft);
	STAILQ_INIT(&n->toev);
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	if ((n->fsm = cluster_fsm_new(&cluster_node_fsm_ops, n)) == NULL ||
	    uv_loop_init(&n->loop) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cluster_fsm_async(n->fsm);
	uv_async_init(&n->loop, &n->wake, cluster_node_wake);
	n->wake.data = n;
	uv_timer_init(&n->loop, &n->tick);
	n->tick.data = n;
	stage = 1;
	if ((r = raft_uv_tcp_init(&n->transport, &n->loop)) != 0) {
		snprintf(err, errlen, "raft transport: %s", raft_strerror(r));
		goto fail;
	}
	stage = 2;
	if ((r = raft_uv_init(&n->io, &n->loop, conf->dir,
	    &n->transport)) != 0) {
		snprintf(err, errlen, "raft log in %s: %s", conf->dir,
		    n->io.errmsg[0] != '\0' ? n->io.errmsg :
		    raft_strerror(r));
		goto fail;
	}
	stage = 3;
	/*
	 * Debian's raft 0.15 libuv I/O has async_work (uv_queue_work) but
	 * says version 1, which raft_init takes for "no async_work".
	 */
	if (n->io.async_work != NULL && n->io.version < 2)
		n->io.version = 2;
	if ((r = raft_init(&n->raft, &n->io, cluster_fsm_raft(n->fsm),
	    conf->id, conf->addr)) != 0) {
		what = "raft";
		goto raft_fail;
	}
	n->raft.data = n;
	stage = 4;
	cluster_fsm_attach(n->fsm, &n->raft);
	/* A node of the first configuration bootstraps it, once. */
	if (conf->bootstrap) {
		/* The same configuration on every node: ordered by id. */
		all[0].id = conf->id;
		snprintf(all[0].addr, sizeof all[0].addr, "%s", conf->addr);
		memcpy(&all[1], conf->peers, conf->npeers * sizeof all[0]);
		qsort(all, conf->npeers + 1, sizeof all[0], cluster_peer_cmp);
		raft_configuration_init(&rc);
		for (i = 0, r = 0; r == 0 && i <= conf->npeers; i++)
			r = raft_configuration_add(&rc, all[i].id, all[i].addr,
			    RAFT_VOTER);
		if (r == 0)
			r = raft_bootstrap(&n->raft, &rc);
		raft_configuration_close(&rc);
		if (r != 0 && r != RAFT_CANTBOOTSTRAP) {
			what = "bootstrap";
			goto raft_fail;
		}
	}
	raft_set_election_timeout(&n->raft, conf->election_ms);
	/*
	 * Pre-vote: a follower whose timer ran out asks before it stands, so
	 * the one that still hears the dead leader does not leave it in a
	 * term nobody wins: with two left, a leader in T to 2T, not 3T.
	 */
	raft_set_pre_vote(&n->raft, true);
	raft_set_heartbeat_timeout(&n->raft, conf->heartbeat_ms);
	raft_set_snapshot_threshold(&n->raft, conf->snapshot_threshold);
	raft_set_snapshot_trailing(&n->raft, conf->snapshot_trailing);
	/* A follower taking a snapshot refuses one: retry soon, not in 30 s. */
	raft_set_install_snapshot_timeout(&n->raft, 500);
	raft_uv_set_connect_retry_delay(&n->io, 200);
	/*
	 * Snapshots uncompressed: the images are the machines' own bytes,
	 * and raft 0.15 spins for ever in LZ4 on a truncated frame.
	 */
	raft_uv_set_snapshot_compression(&n->io, false);
	ev_async_init(&n->ready, cluster_node_ready);
	n->ready.data = n;
	ev_async_start(ev, &n->ready);
	if ((r = raft_start(&n->raft)) != 0) {
		ev_async_stop(ev, &n->ready);
		what = "raft start";
		goto raft_fail;
	}
	uv_timer_start(&n->tick, cluster_node_tick, 0, 50);
	cluster_node_observe(n);
	/* Signals are the libev loop's: the raft thread takes none. */
	sigfillset(&sigs);
	pthread_sigmask(SIG_SETMASK, &sigs, &old);
	r = pthread_create(&n->thread, NULL, cluster_node_main, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		snprintf(err, errlen, "thread: %s", strerror(r));
		ev_async_stop(ev, &n->ready);
		n->closing = 1;
		goto fail;
	}
	return n;
raft_fail:
	snprintf(err, errlen, "%s: %s", what, raft_errmsg(&n->raft)[0] !=
	    '\0' ? raft_errmsg(&n->raft) : raft_strerror(r));
fail:
	cluster_node_unwind(n, stage);
	return NULL;
}

void
cluster_node_stop(struct cluster_node *n)
{
	struct cluster_item	*it;

	if (n == NULL)
		return;
	pthread_mutex_lock(&n->lock);
	n->stopping = 1;
	pthread_cond_broadcast(&n->cond);	/* a snapshot waiting */
	pthread_mutex_unlock(&n->lock);
	uv_async_send(&n->wake);
	pthread_join(n->thread, NULL);
	uv_loop_close(&n->loop);
	ev_async_stop(n->ev, &n->ready);
	/* What raft gave and nobody took: dropped with the node. */
	while ((it = STAILQ_FIRST(&n->toev)) != NULL) {
		STAILQ_REMOVE_HEAD(&n->toev, entry);
		free(it);
	}
	while ((it = STAILQ_FIRST(&n->toraft)) != NULL) {
		STAILQ_REMOVE_HEAD(&n->toraft, entry);
		if (it->buf.base != NULL)
			raft_free(it->buf.base);
		free(it);
	}
	cluster_fsm_free(n->fsm);
	buf_free(&n->snap);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n);
}
