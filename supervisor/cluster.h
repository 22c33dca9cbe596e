/*
 * cluster.h: the glue between canonical raft and the machines (issue 14),
 * behind one small interface. Raft replicates a log of entries; this glue
 * is raft's FSM: it decodes each committed entry and hands it, in log
 * order and with its index, to the machine layer through cluster_ops
 * (machine.c in the supervisor, a model in the tests). It keeps what
 * must be the same on every node besides the machines' states: the
 * client table (Raft's client sessions: an input retried after a leader
 * change is applied once) and the machines' versions, and it makes raft
 * snapshots of them and of the machines' images.
 */
#ifndef SMSUP_CLUSTER_H
#define SMSUP_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#include "buf.h"

/*
 * Entry kinds (the first byte of a command entry), then u64 client and
 * u64 request (who proposed it: an input's session, and for any kind the
 * proposal its node answers), then:
 */
enum {
	CLUSTER_INPUT = 1,	/* u8 call, str machine, bytes input */
	CLUSTER_RUN,		/* str machine, str path, str digest */
	CLUSTER_STOP,		/* str machine */
	CLUSTER_UPGRADE,	/* str machine, str path, str digest, str
				   version, str extra */
};

#define CLUSTER_CLIENTS_MAX	65536	/* sessions kept (oldest dropped) */
#define CLUSTER_MACHINES_MAX	4096

struct cluster_entry {
	int		 kind;
	uint64_t	 client;
	uint64_t	 request;
	int		 call;
	char		 machine[65];
	char		 path[4096];
	char		 digest[65];	/* sha256 of the binary, hex */
	char		 version[65];	/* UPGRADE: the version it brings */
	char		 extra[1025];
	const uint8_t	*input;		/* into the entry's buffer */
	size_t		 len;
};

/* What became of an entry, for the node that proposed it. */
enum {
	CLUSTER_APPLIED = 0,	/* given to the machine layer */
	CLUSTER_DUPLICATE,	/* this client's request was applied before */
	CLUSTER_REFUSED,	/* the machine layer refused it (the same
				   everywhere: say, no such machine) */
};

/* The machine layer: every call in log order, the same on every node. */
struct cluster_ops {
	/* An input (or a run, stop or upgrade) committed at index. */
	int	(*entry)(void *, raft_index, const struct cluster_entry *);
	/* The machines' images as of the last entry given, appended. */
	int	(*snapshot)(void *, struct buf *);
	/* Replace every machine with those of an image snapshot made. */
	int	(*restore)(void *, const uint8_t *, size_t);
	/*
	 * Asynchronous snapshots (cluster_fsm_async): a snapshot as of the
	 * entries given so far is begun (in raft's loop, quick), then
	 * snapshot is called on another thread, where it may wait.
	 */
	void	(*snapshot_start)(void *, raft_index);
};

struct cluster_fsm;

struct cluster_fsm *cluster_fsm_new(const struct cluster_ops *, void *);
void		 cluster_fsm_free(struct cluster_fsm *);
/* The raft FSM; the raft it serves, for the index of what it applies. */
struct raft_fsm	*cluster_fsm_raft(struct cluster_fsm *);
void		 cluster_fsm_attach(struct cluster_fsm *, struct raft *);
/* Take snapshots as raft's version 3 FSM: ops->snapshot off its loop. */
void		 cluster_fsm_async(struct cluster_fsm *);
/* The encoded bytes of the entry ops->entry is given (while it runs). */
const void	*cluster_fsm_entry_bytes(const struct cluster_fsm *, size_t *);
/* The result raft_apply's callback gets: CLUSTER_APPLIED, ... */
int		 cluster_fsm_result(void *);
/* The last request of client applied (0: none) and the index applied. */
uint64_t	 cluster_fsm_session(const struct cluster_fsm *, uint64_t);
raft_index	 cluster_fsm_applied(const struct cluster_fsm *);

/* An entry as a raft buffer (raft_malloc'd) for raft_apply; -1. */
int		 cluster_entry_encode(const struct cluster_entry *,
		    struct raft_buffer *);
/* 0, or -1 if the bytes are not an entry. */
int		 cluster_entry_decode(const void *, size_t,
		    struct cluster_entry *);

#endif
