/*
 * cluster-server.c: the supervisor as one node of a cluster (smsup run
 * --node ID=HOST:PORT --peer ID=HOST:PORT ...). Raft (cluster-node.c)
 * goes under the machines: what changes them (run, stop, inputs) is not
 * done by the node a client asks but proposed to raft, and done by every
 * node, in log order, once it is committed. The client is answered by
 * the node it asked, once that node has applied its entry: a call by its
 * own worker's output, a send as soon as it is committed, a run once the
 * machine is ready there.
 *
 * The machines of a cluster keep no state directory of their own: raft's
 * log (in the state directory's raft/) is their journal, and a node that
 * starts again gets them back by replaying it into fresh workers. Only the
 * leader takes proposals; a follower says which node leads.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster-node.h"
#include "msg.h"
#include "smsup.h"

/* A proposal this node made, and the client waiting for it. */
struct cluster_wait {
	TAILQ_ENTRY(cluster_wait) entry;
	uint64_t		 cookie;	/* the entry's request number */
	struct client		*client;	/* referenced */
	uint64_t		 id;		/* the client's request id */
	int			 kind;		/* CLUSTER_*, or CLUSTER_CHANGE */
	int			 call;
	int			 answered;
	uint64_t		 node;		/* CLUSTER_CHANGE: added or
						   removed */
	int			 add;
};
#define CLUSTER_CHANGE	-1	/* a membership change, not an entry */
TAILQ_HEAD(cluster_waits, cluster_wait);

static struct cluster_node	*cluster_node;
static struct cluster_waits	 cluster_waits =
				    TAILQ_HEAD_INITIALIZER(cluster_waits);
static uint64_t			 cluster_client;	/* this process's id */
static uint64_t			 cluster_cookie;

int
cluster_server_active(void)
{
	return cluster_node != NULL;
}

/* Answers ------------------------------------------------------------- */

static void
cluster_wait_free(struct cluster_wait *w)
{
	TAILQ_REMOVE(&cluster_waits, w, entry);
	server_client_unref(w->client);
	free(w);
}

static struct cluster_wait *
cluster_wait_find(uint64_t cookie)
{
	struct cluster_wait	*w;

	TAILQ_FOREACH(w, &cluster_waits, entry)
		if (w->cookie == cookie)
			return w;
	return NULL;
}

/* Who leads, for a client that asked a follower. */
static void
cluster_leader_text(char *s, size_t len)
{
	struct cluster_info	 in;

	cluster_node_info(cluster_node, &in);
	if (in.leader == 0)
		snprintf(s, len, "no leader is known yet");
	else if (in.leader == in.id)
		snprintf(s, len, "it is stepping down: try again");
	else
		snprintf(s, len, "node %" PRIu64 " at %s leads: ask it",
		    (uint64_t)in.leader, in.leader_addr);
}

/* Whether this node leads; if not, c's request id is told who does. */
int
cluster_server_leads(struct client *c, uint64_t id)
{
	struct cluster_info	 in;
	char			 who[160];

	cluster_node_info(cluster_node, &in);
	if (in.role == RAFT_LEADER)
		return 1;
	cluster_leader_text(who, sizeof who);
	server_client_replyf(c, FRAME_R_ERROR, id, "not the leader of the "
	    "cluster: %s", who);
	return 0;
}

/* Propose e for client c's request id; 0, or -1 with c answered. */
static int
cluster_propose(struct client *c, uint64_t id, struct cluster_entry *e)
{
	struct cluster_wait	*w;

	if (!cluster_server_leads(c, id))
		return -1;
	if ((w = calloc(1, sizeof *w)) == NULL) {
		server_client_replyf(c, FRAME_R_ERROR, id, "out of memory");
		return -1;
	}
	e->client = cluster_client;
	e->request = w->cookie = ++cluster_cookie;
	w->client = c;
	w->id = id;
	w->kind = e->kind;
	w->call = e->call;
	if (cluster_node_propose(cluster_node, e, w->cookie) == -1) {
		free(w);
		server_client_replyf(c, FRAME_R_ERROR, id, "cannot propose: "
		    "the node is stopping or out of memory");
		return -1;
	}
	server_client_ref(c);
	TAILQ_INSERT_TAIL(&cluster_waits, w, entry);
	return 0;
}

void
cluster_server_input(struct client *c, uint64_t id, int call,
    const char *name, const void *in, size_t len)
{
	struct cluster_entry	 e;

	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_INPUT;
	e.call = call;
	snprintf(e.machine, sizeof e.machine, "%s", name);
	e.input = in;
	e.len = len;
	cluster_propose(c, id, &e);
}

void
cluster_server_run(struct client *c, uint64_t id, const char *name,
    const char *path)
{
	struct cluster_entry	 e;

	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_RUN;
	snprintf(e.machine, sizeof e.machine, "%s", name);
	snprintf(e.path, sizeof e.path, "%s", path);
	cluster_propose(c, id, &e);
}

void
cluster_server_stop_machine(struct client *c, uint64_t id, const char *name)
{
	struct cluster_entry	 e;

	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_STOP;
	snprintf(e.machine, sizeof e.machine, "%s", name);
	cluster_propose(c, id, &e);
}

/* Applying what was committed ---------------------------------------- */

/* Every machine of a cluster: memory only, raft's log is its journal. */
static void
cluster_machine_opts(struct machine_opts *o)
{
	opts_default(o);
	o->durability = DURABILITY_NONE;
	/* A step cut short on one node only would be dropped there only. */
	o->step_timeout = 0;
}

static void
cluster_apply_run(struct cluster_wait *w, raft_index index,
    const struct cluster_entry *e)
{
	struct machine_opts	 o;
	struct machine		*m;
	char			 err[512];

	if ((m = machine_find(e->machine)) != NULL) {
		if (w != NULL)
			server_client_replyf(w->client, FRAME_R_OK, w->id,
			    "%s: already running version %s", m->name,
			    m->version);
		return;
	}
	cluster_machine_opts(&o);
	if ((m = machine_start(e->machine, e->path, &o, err, sizeof err)) ==
	    NULL) {
		log_warnx("%s: cannot start (cluster entry %" PRIu64 "): %s",
		    e->machine, (uint64_t)index, err);
		if (w != NULL)
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "%s: %s", e->machine, err);
		return;
	}
	m->clustered = 1;
	if (w != NULL)
		machine_wait(m, w->client, w->id);
}

/* The entry's machine, or NULL with its waiter (if any) told. */
static struct machine *
cluster_machine(struct cluster_wait *w, const struct cluster_entry *e)
{
	struct machine	*m;

	if ((m = machine_find(e->machine)) == NULL && w != NULL)
		server_client_replyf(w->client, FRAME_R_ERROR, w->id,
		    "no such machine: %s", e->machine);
	return m;
}

static void
cluster_apply_stop(struct cluster_wait *w, const struct cluster_entry *e)
{
	struct machine	*m;
	char		 err[512];

	if ((m = cluster_machine(w, e)) == NULL)
		return;
	switch (machine_stop(m, w != NULL ? w->client : NULL,
	    w != NULL ? w->id : 0, err, sizeof err)) {
	case -1:
		log_warnx("%s", err);
		if (w != NULL)
			server_client_reply(w->client, FRAME_R_ERROR, w->id,
			    err, strlen(err));
		break;
	case 1:
		if (w != NULL)
			server_client_replyf(w->client, FRAME_R_OK, w->id,
			    "stopped");
		break;
	}
}

static void
cluster_apply_input(struct cluster_wait *w, raft_index index,
    const struct cluster_entry *e)
{
	struct machine	*m;
	struct client	*c = w != NULL && w->call ? w->client : NULL;
	char		 err[512];

	if ((m = cluster_machine(w, e)) == NULL)
		return;
	if (machine_input(m, c, c != NULL ? w->id : 0, e->input, e->len, err,
	    sizeof err) == -1) {
		log_warnx("%s: cluster entry %" PRIu64 " not applied here: %s",
		    m->name, (uint64_t)index, err);
		if (w != NULL)
			server_client_reply(w->client, FRAME_R_ERROR, w->id,
			    err, strlen(err));
		return;
	}
	if (m->ntracers > 0)
		inspect_input(m, w != NULL ? w->client : NULL, e->call,
		    m->next_seq - 1, e->input, e->len);
	/* A send is acknowledged once committed: it is. */
	if (w != NULL && !w->call)
		server_client_reply(w->client, FRAME_R_ACCEPTED, w->id, NULL,
		    0);
}

static void
cluster_entry_cb(void *arg, raft_index index, const struct cluster_entry *e)
{
	struct cluster_wait	*w = NULL;

	(void)arg;
	if (server_shutting_down)
		return;	/* replayed from the log at the next start */
	if (e->client == cluster_client && e->client != 0 &&
	    (w = cluster_wait_find(e->request)) != NULL)
		w->answered = 1;
	switch (e->kind) {
	case CLUSTER_RUN:
		cluster_apply_run(w, index, e);
		break;
	case CLUSTER_STOP:
		cluster_apply_stop(w, e);
		break;
	case CLUSTER_INPUT:
		cluster_apply_input(w, index, e);
		break;
	default:
		log_warnx("cluster entry %" PRIu64 ": kind %d not taken by this "
		    "version of smsup", (uint64_t)index, e->kind);
		if (w != NULL)
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "not taken by this version of smsup");
	}
}

static void
cluster_outcome_cb(void *arg, uint64_t cookie, int status, int result,
    const char *text)
{
	struct cluster_wait	*w;
	char			 who[160];

	(void)arg;
	if ((w = cluster_wait_find(cookie)) == NULL)
		return;
	if (w->kind == CLUSTER_CHANGE && status == 0) {
		server_client_replyf(w->client, FRAME_R_OK, w->id, w->add ?
		    "node %" PRIu64 " added: it has the log and votes" :
		    "node %" PRIu64 " removed", w->node);
		log_info("cluster: node %" PRIu64 " %s", w->node, w->add ?
		    "added" : "removed");
	} else if (!w->answered) {
		if (status == RAFT_NOTLEADER) {
			cluster_leader_text(who, sizeof who);
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "not the leader of the cluster: %s", who);
		} else if (status != 0 && w->kind == CLUSTER_CHANGE)
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "cannot %s node %" PRIu64 ": %s", w->add ? "add" :
			    "remove", w->node, text);
		else if (status != 0)
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "%s", text);
		else if (result == CLUSTER_DUPLICATE)
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "applied before (a retried request)");
		else if (result == CLUSTER_REFUSED)
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "refused by the cluster");
		else
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "committed, but not applied by this node (it is "
			    "shutting down)");
	}
	cluster_wait_free(w);
}

/*
 * A raft snapshot's machines, as of every entry applied so far: each
 * machine's way back, as a restart would take it (its base image and the
 * inputs since, every input committed so far being in one or the other):
 *	u32 format (1) | u32 n | n x (str name, str path, u64 last input
 *	in the image, u64 last input, bytes image, bytes INPUT frames)
 * No worker is asked anything: the machines go on serving.
 */
#define CLUSTER_IMAGES_FORMAT	1

static void
cluster_snapshot_cb(void *arg, raft_index index, struct cluster_node *n)
{
	struct machine	*m;
	struct buf	 b = { 0 };
	const uint8_t	*img;
	size_t		 len, at;
	uint32_t	 count = 0;
	int		 rc = 0;

	(void)arg;
	rc |= msg_put_u32(&b, CLUSTER_IMAGES_FORMAT);
	at = buf_used(&b);
	rc |= msg_put_u32(&b, 0);
	TAILQ_FOREACH(m, &machines, entry) {
		if (m->state == MS_STOPPING || rc != 0)
			continue;	/* a committed stop: gone */
		img = base_map(m, &len);
		rc |= msg_put_str(&b, m->name);
		rc |= msg_put_str(&b, m->path);
		rc |= msg_put_u64(&b, m->snap_seq);
		rc |= msg_put_u64(&b, m->next_seq - 1);
		rc |= msg_put_bytes(&b, img, img != NULL ? len : 0);
		rc |= msg_put_bytes(&b, buf_head(&m->journal),
		    buf_used(&m->journal));
		if (img != NULL)
			base_unmap(m, img, len);
		count++;
	}
	if (rc == 0)
		msg_setle32((uint8_t *)buf_head(&b) + at, count);
	else
		log_warnx("cluster: snapshot at %" PRIu64 " not taken: out of "
		    "memory", (uint64_t)index);
	cluster_node_snapshot_done(n, buf_head(&b), buf_used(&b), rc == 0);
	buf_free(&b);
}

/*
 * Read the machines of a snapshot: each given to take (if not NULL) as
 * name, path and state. The number read, or -1 if it does not read whole.
 */
static int
cluster_images_read(const uint8_t *p, size_t len,
    void (*take)(const char *, const char *, const struct machine_given *,
    raft_index), raft_index index)
{
	struct machine_given	 g;
	struct msg_reader	 r;
	char			 name[SMSUP_NAME_MAX + 1], path[PATH_MAX];
	uint32_t		 format, count, i;

	msg_init(&r, p, len);
	msg_get_u32(&r, &format);
	if (msg_get_u32(&r, &count) == -1 || format != CLUSTER_IMAGES_FORMAT)
		return -1;
	for (i = 0; i < count; i++) {
		memset(&g, 0, sizeof g);
		msg_get_str(&r, name, sizeof name);
		msg_get_str(&r, path, sizeof path);
		msg_get_u64(&r, &g.snap_seq);
		msg_get_u64(&r, &g.last);
		msg_get_bytes(&r, &g.base, &g.base_len);
		if (msg_get_bytes(&r, &g.journal, &g.journal_len) == -1 ||
		    !image_name_valid(name) || path[0] != '/' ||
		    g.last < g.snap_seq)
			return -1;
		if (take != NULL)
			take(name, path, &g, index);
	}
	return msg_end(&r) == 0 ? (int)count : -1;
}

/* In raft's thread: touches nothing. */
static int
cluster_restore_check(const uint8_t *p, size_t len)
{
	return cluster_images_read(p, len, NULL, 0) == -1 ? -1 : 0;
}

static void
cluster_restore_one(const char *name, const char *path,
    const struct machine_given *g, raft_index index)
{
	struct machine_opts	 o;
	struct machine		*m;
	char			 err[512];

	cluster_machine_opts(&o);
	if ((m = machine_start_given(name, path, &o, g, err, sizeof err)) !=
	    NULL)
		m->clustered = 1;
	else
		log_warnx("%s: cannot start from the cluster's snapshot at %"
		    PRIu64 ": %s", name, (uint64_t)index, err);
}

/*
 * Every machine replaced by those of a snapshot (a node behind, or one
 * starting from its own last snapshot), checked whole in raft's thread.
 */
static int
cluster_restore_cb(void *arg, raft_index index, const uint8_t *p, size_t len)
{
	struct machine	*m, *next;
	int		 n;

	(void)arg;
	if (cluster_images_read(p, len, NULL, 0) == -1)
		fatalx("cluster: the snapshot at %" PRIu64 " does not read",
		    (uint64_t)index);
	for (m = TAILQ_FIRST(&machines); m != NULL; m = next) {
		next = TAILQ_NEXT(m, entry);
		machine_discard(m, "replaced by the cluster's snapshot");
	}
	n = cluster_images_read(p, len, cluster_restore_one, index);
	log_info("cluster: %d machine%s restored from the snapshot at %" PRIu64,
	    n, n == 1 ? "" : "s", (uint64_t)index);
	return 0;
}

static const struct cluster_node_ops cluster_server_ops = {
	.entry = cluster_entry_cb,
	.outcome = cluster_outcome_cb,
	.snapshot = cluster_snapshot_cb,
	.restore = cluster_restore_cb,
	.restore_check = cluster_restore_check,
};

/* Starting, stopping, status ------------------------------------------ */

int
cluster_server_start(char *err, size_t len)
{
	struct cluster_node_conf	*c;
	unsigned			 i;

	if ((c = cluster_opts_conf()) == NULL)
		return 0;
	if (snprintf(c->dir, sizeof c->dir, "%s/raft", store_root_dir()) >=
	    (int)sizeof c->dir) {
		snprintf(err, len, "state directory path too long");
		return -1;
	}
	if (mkdir(c->dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, len, "%s: %s", c->dir, strerror(errno));
		return -1;
	}
	while (cluster_client == 0)
		if (getrandom(&cluster_client, sizeof cluster_client, 0) !=
		    sizeof cluster_client)
			cluster_client = (uint64_t)getpid() << 32 |
			    (uint64_t)time(NULL);
	if (cluster_opts_can_listen(c->addr, err, len) == -1)
		return -1;
	if ((cluster_node = cluster_node_start(c, &cluster_server_ops, NULL,
	    EV_DEFAULT, err, len)) == NULL)
		return -1;
	log_info("cluster: node %" PRIu64 " at %s, with %u peer%s (raft log "
	    "in %s)", (uint64_t)c->id, c->addr, c->npeers,
	    c->npeers == 1 ? "" : "s", c->dir);
	for (i = 0; i < c->npeers; i++)
		log_info("cluster: peer %" PRIu64 " at %s",
		    (uint64_t)c->peers[i].id, c->peers[i].addr);
	return 0;
}

void
cluster_server_stop(void)
{
	struct cluster_wait	*w;

	if (cluster_node == NULL)
		return;
	cluster_node_stop(cluster_node);
	cluster_node = NULL;
	while ((w = TAILQ_FIRST(&cluster_waits)) != NULL) {
		if (!w->answered)
			server_client_replyf(w->client, FRAME_R_ERROR, w->id,
			    "the supervisor is shutting down: it may or may "
			    "not be applied");
		cluster_wait_free(w);
	}
}

static const char *
cluster_role_name(int role)
{
	switch (role) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	default:
		return "unavailable";
	}
}

/* A membership change asked of the leader. */
static void
cluster_server_change(struct client *c, uint64_t id, int add, raft_id node,
    const char *addr)
{
	struct cluster_wait	*w;
	int			 rc;

	if (!cluster_server_leads(c, id))
		return;
	if ((w = calloc(1, sizeof *w)) == NULL) {
		server_client_replyf(c, FRAME_R_ERROR, id, "out of memory");
		return;
	}
	w->cookie = ++cluster_cookie;
	w->client = c;
	w->id = id;
	w->kind = CLUSTER_CHANGE;
	w->node = node;
	w->add = add;
	rc = add ? cluster_node_add(cluster_node, node, addr, w->cookie) :
	    cluster_node_remove(cluster_node, node, w->cookie);
	if (rc == -1) {
		free(w);
		server_client_replyf(c, FRAME_R_ERROR, id, "the node is "
		    "stopping or out of memory");
		return;
	}
	server_client_ref(c);
	TAILQ_INSERT_TAIL(&cluster_waits, w, entry);
	log_info("cluster: %s node %" PRIu64 "%s%s", add ? "adding" :
	    "removing", (uint64_t)node, add ? " at " : "", add ? addr : "");
}

static void	cluster_server_status(struct client *, uint64_t);

/* C_CLUSTER: empty (status), or u32 op and its arguments. -1: malformed. */
int
cluster_server_request(struct client *c, const struct frame *f)
{
	struct msg_reader	 r;
	struct cluster_peer	 p;
	uint64_t		 id = 0;
	uint32_t		 op;
	char			 err[256], spec[128];

	if (f->len == 0) {
		cluster_server_status(c, f->id);
		return 0;
	}
	memset(&p, 0, sizeof p);
	msg_init(&r, f->payload, f->len);
	msg_get_u32(&r, &op);
	if (op == CLUSTER_OP_ADD || op == CLUSTER_OP_REMOVE) {
		msg_get_u64(&r, &id);
		p.id = id;
	}
	if (op == CLUSTER_OP_ADD)
		msg_get_str(&r, p.addr, sizeof p.addr);
	if (msg_end(&r) == -1 || p.id == 0 || (op != CLUSTER_OP_ADD &&
	    op != CLUSTER_OP_REMOVE))
		return -1;
	if (cluster_node == NULL) {
		server_client_replyf(c, FRAME_R_ERROR, f->id, "this supervisor "
		    "is not a node of a cluster (smsup run --node ...)");
		return 0;
	}
	if (op == CLUSTER_OP_ADD) {
		snprintf(spec, sizeof spec, "%" PRIu64 "=%s", (uint64_t)p.id,
		    p.addr);
		if (cluster_opts_spec(spec, &p, err, sizeof err) == -1) {
			server_client_replyf(c, FRAME_R_ERROR, f->id, "%s", err);
			return 0;
		}
	}
	cluster_server_change(c, f->id, op == CLUSTER_OP_ADD, p.id, p.addr);
	return 0;
}

/* C_CLUSTER: R_CLUSTER with raft's view, or R_ERROR out of a cluster. */
static void
cluster_server_status(struct client *c, uint64_t id)
{
	struct cluster_info	 in;
	struct buf		 b = { 0 };
	unsigned		 i;
	int			 rc = 0;

	if (cluster_node == NULL) {
		server_client_replyf(c, FRAME_R_ERROR, id, "this supervisor is "
		    "not a node of a cluster (smsup run --node ...)");
		return;
	}
	cluster_node_info(cluster_node, &in);
	rc |= msg_put_u64(&b, in.id);
	rc |= msg_put_str(&b, cluster_role_name(in.role));
	rc |= msg_put_u64(&b, in.term);
	rc |= msg_put_u64(&b, in.leader);
	rc |= msg_put_str(&b, in.leader_addr);
	rc |= msg_put_u64(&b, in.commit);
	rc |= msg_put_u64(&b, in.applied);
	rc |= msg_put_u64(&b, in.last);
	rc |= msg_put_u32(&b, in.nservers);
	for (i = 0; i < in.nservers; i++) {
		rc |= msg_put_u64(&b, in.servers[i].id);
		rc |= msg_put_str(&b, in.servers[i].addr);
		rc |= msg_put_str(&b, in.servers[i].role == RAFT_VOTER ?
		    "voter" : in.servers[i].role == RAFT_STANDBY ? "standby" :
		    "spare");
	}
	if (rc != 0)
		server_client_replyf(c, FRAME_R_ERROR, id, "out of memory");
	else
		server_client_reply(c, FRAME_R_CLUSTER, id, buf_head(&b),
		    buf_used(&b));
	buf_free(&b);
}
