/*
 * cluster-node.h: one node of a cluster of supervisors, run by raft on a
 * thread of its own (cluster-node.c); what the libev loop of the
 * supervisor sees of it: propose entries, change the membership, read
 * raft's view, and get back in log order what was committed.
 */
#ifndef SMSUP_CLUSTER_NODE_H
#define SMSUP_CLUSTER_NODE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#include "cluster.h"

#define CLUSTER_NODES_MAX	9
#define CLUSTER_ADDR_MAX	64	/* HOST:PORT */

struct cluster_peer {
	raft_id		 id;
	char		 addr[CLUSTER_ADDR_MAX];
};

struct cluster_node_conf {
	raft_id		 id;
	char		 addr[CLUSTER_ADDR_MAX];
	struct cluster_peer peers[CLUSTER_NODES_MAX - 1];
	unsigned	 npeers;
	int		 bootstrap;	/* node of the first configuration */
	char		 dir[PATH_MAX];	/* raft's log and snapshots */
	unsigned	 election_ms;
	unsigned	 heartbeat_ms;
	unsigned	 snapshot_threshold;	/* entries between snapshots */
	unsigned	 snapshot_trailing;	/* entries kept after one */
};

/* Raft's view of the cluster, as of its last look (every 50 ms). */
struct cluster_info {
	raft_id		 id;
	int		 role;		/* RAFT_FOLLOWER, ... */
	raft_term	 term;
	raft_id		 leader;	/* 0: none known */
	char		 leader_addr[CLUSTER_ADDR_MAX];
	raft_index	 commit, applied, last;
	unsigned	 nservers;
	struct {
		raft_id	 id;
		char	 addr[CLUSTER_ADDR_MAX];
		int	 role;		/* RAFT_VOTER, ... */
	}		 servers[CLUSTER_NODES_MAX];
};

struct cluster_node;
struct ev_loop;

/* What the node gives the libev loop, in the order raft produced it. */
struct cluster_node_ops {
	/* An entry committed at index (inputs already deduplicated). */
	void	(*entry)(void *, raft_index, const struct cluster_entry *);
	/*
	 * What became of a proposal or a membership change: status 0 and
	 * result CLUSTER_APPLIED, DUPLICATE or REFUSED; or raft's error
	 * and its text. A proposal's outcome comes after its entry.
	 */
	void	(*outcome)(void *, uint64_t, int, int, const char *);
	/*
	 * Take the images of the machines as of every entry given so far
	 * (index), then call cluster_node_snapshot_done, now or later.
	 */
	void	(*snapshot)(void *, raft_index, struct cluster_node *);
	/* Replace the machines with those of a snapshot (as of index). */
	int	(*restore)(void *, raft_index, const uint8_t *, size_t);
	/*
	 * Whether a snapshot's machines can be read: called in raft's
	 * thread, before raft takes the snapshot for restored (pure).
	 */
	int	(*restore_check)(const uint8_t *, size_t);
};

struct cluster_node *cluster_node_start(const struct cluster_node_conf *,
		    const struct cluster_node_ops *, void *, struct ev_loop *,
		    char *, size_t);
void		 cluster_node_stop(struct cluster_node *);
int		 cluster_node_propose(struct cluster_node *,
		    const struct cluster_entry *, uint64_t);
int		 cluster_node_add(struct cluster_node *, raft_id, const char *,
		    uint64_t);
int		 cluster_node_remove(struct cluster_node *, raft_id, uint64_t);
void		 cluster_node_info(struct cluster_node *, struct cluster_info *);
void		 cluster_node_snapshot_done(struct cluster_node *, const void *,
		    size_t, int);

#endif
