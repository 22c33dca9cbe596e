/*
 * cluster-fsm.c: raft's FSM for a cluster of supervisors (cluster.h).
 * Each committed command entry is decoded and given to the machine layer
 * with its index; an input whose (client, request) was applied before is
 * not given again (Raft's client sessions). A client's session keeps the
 * highest request applied and a window of the 64 below it, so requests
 * retried out of order are applied once each; a request older than the
 * window counts as applied. The table is part of the replicated state:
 * it changes only in apply and restore, identically on every node, and
 * at CLUSTER_CLIENTS_MAX the session applied longest ago is dropped.
 *
 * Entries are padded with zeros to a multiple of 8 bytes: raft's libuv
 * log stores payloads aligned, and gives back their padded bytes.
 *
 * A raft snapshot is
 *	"SMSUPCLU" | u32 format (1) | u64 index | u32 n
 *	| n x (u64 client, u64 highest request, u64 window, u64 index)
 *	| the machine layer's images (cluster_ops.snapshot)
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "msg.h"

#define CLUSTER_SNAP_MAGIC	"SMSUPCLU"
#define CLUSTER_SNAP_FORMAT	1
#define CLUSTER_WINDOW		64

struct cluster_session {
	uint64_t	 client;
	uint64_t	 high;		/* the highest request applied */
	uint64_t	 window;	/* bit i: request high - 1 - i applied */
	uint64_t	 index;		/* where it was last applied */
};

struct cluster_fsm {
	struct raft_fsm		 fsm;
	struct raft		*raft;
	const struct cluster_ops *ops;
	void			*arg;
	struct cluster_session	*s;	/* sorted by client */
	size_t			 n, cap;
	raft_index		 applied;
	struct cluster_entry	 e;	/* the one being applied */
	const struct raft_buffer *cur;	/* its bytes */
};

static int	cluster_results[] = { CLUSTER_APPLIED, CLUSTER_DUPLICATE,
		    CLUSTER_REFUSED };

int
cluster_fsm_result(void *result)
{
	return result != NULL ? *(int *)result : CLUSTER_APPLIED;
}

/* Entries ---------------------------------------------------------- */

int
cluster_entry_encode(const struct cluster_entry *e, struct raft_buffer *out)
{
	struct buf	 b = { 0 };
	uint8_t		 k = (uint8_t)e->kind;
	int		 rc = 0;

	rc |= buf_add(&b, &k, 1);
	rc |= msg_put_u64(&b, e->client);
	rc |= msg_put_u64(&b, e->request);
	switch (e->kind) {
	case CLUSTER_INPUT:
		k = e->call ? 1 : 0;
		rc |= buf_add(&b, &k, 1);
		rc |= msg_put_str(&b, e->machine);
		rc |= msg_put_bytes(&b, e->input, e->len);
		break;
	case CLUSTER_RUN:
		rc |= msg_put_str(&b, e->machine);
		rc |= msg_put_str(&b, e->path);
		rc |= msg_put_str(&b, e->digest);
		break;
	case CLUSTER_STOP:
		rc |= msg_put_str(&b, e->machine);
		break;
	case CLUSTER_UPGRADE:
		rc |= msg_put_str(&b, e->machine);
		rc |= msg_put_str(&b, e->path);
		rc |= msg_put_str(&b, e->digest);
		rc |= msg_put_str(&b, e->version);
		rc |= msg_put_str(&b, e->extra);
		break;
	default:
		rc = -1;
	}
	/* raft's disk log keeps payloads 8-byte aligned: pad with zeros. */
	while (rc == 0 && buf_used(&b) % 8 != 0)
		rc |= buf_add(&b, "", 1);
	if (rc != 0 || (out->base = raft_malloc(buf_used(&b))) == NULL) {
		buf_free(&b);
		return -1;
	}
	memcpy(out->base, buf_head(&b), buf_used(&b));
	out->len = buf_used(&b);
	buf_free(&b);
	return 0;
}

int
cluster_entry_decode(const void *p, size_t len, struct cluster_entry *e)
{
	struct msg_reader	 r;
	const uint8_t		*q = p;
	uint8_t			 call;

	memset(e, 0, sizeof *e);
	if (len < 1)
		return -1;
	e->kind = q[0];
	msg_init(&r, q + 1, len - 1);
	msg_get_u64(&r, &e->client);
	msg_get_u64(&r, &e->request);
	switch (e->kind) {
	case CLUSTER_INPUT:
		if (r.off + 1 > r.len)
			return -1;
		call = r.p[r.off++];
		e->call = call == 1;
		msg_get_str(&r, e->machine, sizeof e->machine);
		msg_get_bytes(&r, &e->input, &e->len);
		if (call > 1 || e->client == 0 || e->request == 0)
			r.err = 1;
		break;
	case CLUSTER_RUN:
		msg_get_str(&r, e->machine, sizeof e->machine);
		msg_get_str(&r, e->path, sizeof e->path);
		msg_get_str(&r, e->digest, sizeof e->digest);
		break;
	case CLUSTER_STOP:
		msg_get_str(&r, e->machine, sizeof e->machine);
		break;
	case CLUSTER_UPGRADE:
		msg_get_str(&r, e->machine, sizeof e->machine);
		msg_get_str(&r, e->path, sizeof e->path);
		msg_get_str(&r, e->digest, sizeof e->digest);
		msg_get_str(&r, e->version, sizeof e->version);
		msg_get_str(&r, e->extra, sizeof e->extra);
		break;
	default:
		return -1;
	}
	/* What follows is the padding to 8 bytes: zeros, fewer than 8. */
	if (r.err || r.len - r.off >= 8)
		return -1;
	for (; r.off < r.len; r.off++)
		if (r.p[r.off] != 0)
			return -1;
	return e->machine[0] == '\0' ? -1 : 0;
}

/* Sessions ---------------------------------------------------------- */

/* The position of client in the table, or where it would go. */
static size_t
cluster_session_at(const struct cluster_fsm *c, uint64_t client, int *found)
{
	size_t	 lo = 0, hi = c->n, mid;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->s[mid].client == client) {
			*found = 1;
			return mid;
		}
		if (c->s[mid].client < client)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t
cluster_fsm_session(const struct cluster_fsm *c, uint64_t client)
{
	int	 found;
	size_t	 i = cluster_session_at(c, client, &found);

	return found ? c->s[i].high : 0;
}

raft_index
cluster_fsm_applied(const struct cluster_fsm *c)
{
	return c->applied;
}

/* Drop the session applied longest ago (the same one on every node). */
static void
cluster_session_evict(struct cluster_fsm *c)
{
	size_t	 i, old = 0;

	for (i = 1; i < c->n; i++)
		if (c->s[i].index < c->s[old].index)
			old = i;
	memmove(&c->s[old], &c->s[old + 1], (c->n - old - 1) * sizeof *c->s);
	c->n--;
}

/*
 * Whether (client, request) is new, and if so record it as applied at
 * index: 1 new, 0 a duplicate, -1 out of memory.
 */
static int
cluster_session_take(struct cluster_fsm *c, uint64_t client,
    uint64_t request, raft_index index)
{
	struct cluster_session	*s, *v;
	uint64_t		 d;
	size_t			 i, cap;
	int			 found;

	i = cluster_session_at(c, client, &found);
	if (!found) {
		if (c->n == CLUSTER_CLIENTS_MAX) {
			cluster_session_evict(c);
			i = cluster_session_at(c, client, &found);
		}
		if (c->n == c->cap) {
			cap = c->cap ? c->cap * 2 : 64;
			if ((v = realloc(c->s, cap * sizeof *v)) == NULL)
				return -1;
			c->s = v;
			c->cap = cap;
		}
		memmove(&c->s[i + 1], &c->s[i], (c->n - i) * sizeof *c->s);
		c->n++;
		s = &c->s[i];
		s->client = client;
		s->high = request;
		s->window = 0;
		s->index = index;
		return 1;
	}
	s = &c->s[i];
	if (request > s->high) {
		d = request - s->high;
		s->window = d >= CLUSTER_WINDOW ? 0 :
		    (s->window << d) | (UINT64_C(1) << (d - 1));
		s->high = request;
		s->index = index;
		return 1;
	}
	if (request == s->high)
		return 0;
	d = s->high - request;		/* 1 .. */
	if (d > CLUSTER_WINDOW || (s->window & (UINT64_C(1) << (d - 1))))
		return 0;
	s->window |= UINT64_C(1) << (d - 1);
	s->index = index;
	return 1;
}

/* The FSM ----------------------------------------------------------- */

static int
cluster_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
    void **result)
{
	struct cluster_fsm	*c = fsm->data;
	struct cluster_entry	*e = &c->e;
	raft_index		 index;
	int			 rc = CLUSTER_APPLIED, t;

	/* Raft moves last_applied past an entry once it is applied. */
	index = c->raft != NULL ? raft_last_applied(c->raft) + 1 :
	    c->applied + 1;
	c->applied = index;
	/* An entry no node can read is refused the same way everywhere. */
	if (cluster_entry_decode(buf->base, buf->len, e) == -1)
		rc = CLUSTER_REFUSED;
	else if (e->kind == CLUSTER_INPUT && (t = cluster_session_take(c,
	    e->client, e->request, index)) <= 0) {
		if (t == -1)
			return RAFT_NOMEM;
		rc = CLUSTER_DUPLICATE;
	} else {
		c->cur = buf;
		if (c->ops->entry(c->arg, index, e) != 0)
			rc = CLUSTER_REFUSED;
		c->cur = NULL;
	}
	*result = &cluster_results[rc];
	return 0;
}

const void *
cluster_fsm_entry_bytes(const struct cluster_fsm *c, size_t *len)
{
	if (c->cur == NULL)
		return NULL;
	*len = c->cur->len;
	return c->cur->base;
}

/* b's bytes as the raft buffer *out (raft_malloc'd); -1. */
static int
cluster_raft_buffer(const struct buf *b, struct raft_buffer *out)
{
	if ((out->base = raft_malloc(buf_used(b) ? buf_used(b) : 1)) == NULL)
		return -1;
	memcpy(out->base, buf_head(b), buf_used(b));
	out->len = buf_used(b);
	return 0;
}

static int
cluster_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
    unsigned *n_bufs)
{
	struct cluster_fsm	*c = fsm->data;
	struct buf		 b = { 0 };
	size_t			 i;
	int			 rc = 0, async = fsm->version == 3;

	rc |= buf_add(&b, CLUSTER_SNAP_MAGIC, 8);
	rc |= msg_put_u32(&b, CLUSTER_SNAP_FORMAT);
	rc |= msg_put_u64(&b, c->applied);
	rc |= msg_put_u32(&b, (uint32_t)c->n);
	for (i = 0; i < c->n && rc == 0; i++) {
		rc |= msg_put_u64(&b, c->s[i].client);
		rc |= msg_put_u64(&b, c->s[i].high);
		rc |= msg_put_u64(&b, c->s[i].window);
		rc |= msg_put_u64(&b, c->s[i].index);
	}
	/* Synchronous: the images now; asynchronous: begun, taken later. */
	if (rc != 0 || (!async && c->ops->snapshot(c->arg, &b) != 0) ||
	    (*bufs = raft_malloc(2 * sizeof **bufs)) == NULL) {
		buf_free(&b);
		return RAFT_NOMEM;
	}
	if (cluster_raft_buffer(&b, &(*bufs)[0]) == -1) {
		raft_free(*bufs);
		buf_free(&b);
		return RAFT_NOMEM;
	}
	*n_bufs = 1;
	buf_free(&b);
	if (async && c->ops->snapshot_start != NULL)
		c->ops->snapshot_start(c->arg, c->applied);
	return 0;
}

/* Off raft's loop: the machines' images as a second buffer. */
static int
cluster_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[],
    unsigned *n_bufs)
{
	struct cluster_fsm	*c = fsm->data;
	struct buf		 b = { 0 };
	int			 rc = 0;

	if (*n_bufs != 1 || c->ops->snapshot(c->arg, &b) != 0 ||
	    cluster_raft_buffer(&b, &(*bufs)[1]) == -1)
		rc = RAFT_NOMEM;
	else
		*n_bufs = 2;
	buf_free(&b);
	return rc;
}

static int
cluster_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
    unsigned *n_bufs)
{
	unsigned	 i;

	(void)fsm;
	for (i = 0; i < *n_bufs; i++)
		raft_free((*bufs)[i].base);
	raft_free(*bufs);
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/*
 * A snapshot replaces the table and the machines. On success buf's bytes
 * are ours to free; on failure raft frees them.
 */
static int
cluster_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct cluster_fsm	*c = fsm->data;
	struct cluster_session	*s = NULL;
	struct msg_reader	 r;
	uint64_t		 applied, prev;
	uint32_t		 format, n, i;
	int			 rc = RAFT_MALFORMED;

	if (buf->len < 8 || memcmp(buf->base, CLUSTER_SNAP_MAGIC, 8) != 0)
		goto out;
	msg_init(&r, (const uint8_t *)buf->base + 8, buf->len - 8);
	msg_get_u32(&r, &format);
	msg_get_u64(&r, &applied);
	msg_get_u32(&r, &n);
	if (r.err || format != CLUSTER_SNAP_FORMAT ||
	    n > CLUSTER_CLIENTS_MAX || (uint64_t)n * 32 > r.len - r.off)
		goto out;
	if (n > 0 && (s = calloc(n, sizeof *s)) == NULL) {
		rc = RAFT_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		msg_get_u64(&r, &s[i].client);
		msg_get_u64(&r, &s[i].high);
		msg_get_u64(&r, &s[i].window);
		msg_get_u64(&r, &s[i].index);
		if (i > 0 && s[i].client <= s[i - 1].client)
			r.err = 1;
	}
	/* The machine layer is told the index it restores to. */
	prev = c->applied;
	c->applied = applied;
	if (r.err || c->ops->restore(c->arg, r.p + r.off, r.len - r.off) != 0) {
		c->applied = prev;
		free(s);
		goto out;
	}
	free(c->s);
	c->s = s;
	c->n = c->cap = n;
	c->applied = applied;
	raft_free(buf->base);
	rc = 0;
out:
	return rc;
}

struct cluster_fsm *
cluster_fsm_new(const struct cluster_ops *ops, void *arg)
{
	struct cluster_fsm	*c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->ops = ops;
	c->arg = arg;
	c->fsm.version = 1;
	c->fsm.data = c;
	c->fsm.apply = cluster_apply;
	c->fsm.snapshot = cluster_snapshot;
	c->fsm.restore = cluster_restore;
	return c;
}

void
cluster_fsm_free(struct cluster_fsm *c)
{
	if (c == NULL)
		return;
	free(c->s);
	free(c);
}

struct raft_fsm *
cluster_fsm_raft(struct cluster_fsm *c)
{
	return &c->fsm;
}

void
cluster_fsm_attach(struct cluster_fsm *c, struct raft *r)
{
	c->raft = r;
}

void
cluster_fsm_async(struct cluster_fsm *c)
{
	c->fsm.version = 3;
	c->fsm.snapshot_async = cluster_snapshot_async;
	c->fsm.snapshot_finalize = cluster_snapshot_finalize;
}
