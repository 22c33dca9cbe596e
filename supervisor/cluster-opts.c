/*
 * cluster-opts.c: the settings of a node of a cluster: `smsup run`'s
 * --node, --peer, --join, --election-timeout and --log-snapshot, or the
 * same lines of smsup.conf's cluster block; each checked as it comes,
 * then the whole (cluster_opts_check), and the node's own address tried
 * before raft is given it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster-node.h"
#include "smsup.h"

static struct cluster_node_conf	 cluster_opts;
static int			 cluster_opts_set;	/* any given */

/* "ID=HOST:PORT" into p; -1 with err. */
int
cluster_opts_spec(const char *spec, struct cluster_peer *p, char *err,
    size_t len)
{
	const char		*eq, *colon;
	char			*end;
	unsigned long long	 id;
	unsigned long		 port;

	errno = 0;
	id = strtoull(spec, &end, 10);
	eq = end;
	if (errno != 0 || end == spec || *eq != '=' || id == 0 ||
	    id > 1000000) {
		snprintf(err, len, "bad node '%s': expected ID=HOST:PORT with "
		    "ID a number from 1", spec);
		return -1;
	}
	if ((colon = strrchr(eq + 1, ':')) == NULL || colon == eq + 1 ||
	    (port = strtoul(colon + 1, &end, 10)) == 0 || port > 65535 ||
	    *end != '\0' || strlen(eq + 1) >= sizeof p->addr) {
		snprintf(err, len, "bad node '%s': expected ID=HOST:PORT",
		    spec);
		return -1;
	}
	p->id = id;
	snprintf(p->addr, sizeof p->addr, "%s", eq + 1);
	return 0;
}

/* One cluster setting into c (*configured: c has been set up). */
static int
cluster_opts_take(struct cluster_node_conf *c, int *configured, int ch,
    const char *arg, char *err, size_t len)
{
	struct cluster_peer		 p;
	double				 s;
	unsigned long			 n;
	unsigned			 i;
	char				*end;

	/*
	 * Raft draws each follower's timeout between its election timeout
	 * and twice that: ours (--election-timeout, 1 s) is the longest one
	 * drawn, so a lost leader is replaced within about it.
	 */
	if (!*configured) {
		c->election_ms = 500;
		c->heartbeat_ms = 100;
		c->snapshot_threshold = 1024;
		c->snapshot_trailing = 128;
		c->bootstrap = 1;
	}
	*configured = 1;
	switch (ch) {
	case OPT_CODE_NODE:
		if (c->id != 0) {
			snprintf(err, len, "--node given twice");
			return -1;
		}
		if (cluster_opts_spec(arg, &p, err, len) == -1)
			return -1;
		c->id = p.id;
		snprintf(c->addr, sizeof c->addr, "%s", p.addr);
		break;
	case OPT_CODE_PEER:
		if (cluster_opts_spec(arg, &p, err, len) == -1)
			return -1;
		if (c->npeers == CLUSTER_NODES_MAX - 1) {
			snprintf(err, len, "at most %d nodes", CLUSTER_NODES_MAX);
			return -1;
		}
		c->peers[c->npeers++] = p;
		break;
	case OPT_CODE_ELECTION:
		errno = 0;
		s = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' ||
		    !(s >= 0.05 && s <= 60)) {
			snprintf(err, len, "bad value '%s' for "
			    "--election-timeout (0.05 to 60 seconds)", arg);
			return -1;
		}
		c->election_ms = (unsigned)(s * 500);
		c->heartbeat_ms = (unsigned)(s * 100) ? (unsigned)(s * 100) : 1;
		break;
	case OPT_CODE_JOIN:
		c->bootstrap = 0;
		break;
	case OPT_CODE_LOG_SNAPSHOT:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || n < 16 ||
		    n > 1000000) {
			snprintf(err, len, "bad value '%s' for --log-snapshot "
			    "(16 to 1000000 entries)", arg);
			return -1;
		}
		c->snapshot_threshold = (unsigned)n;
		c->snapshot_trailing = (unsigned)n / 8;
		break;
	}
	for (i = 0; i < c->npeers; i++)
		if (c->peers[i].id == c->id) {
			snprintf(err, len, "node %" PRIu64 " is both --node and "
			    "--peer", (uint64_t)c->id);
			return -1;
		}
	return 0;
}

int
cluster_opts_option(int ch, const char *arg, char *err, size_t len)
{
	return cluster_opts_take(&cluster_opts, &cluster_opts_set, ch, arg,
	    err, len);
}

static int	cluster_opts_whole(const struct cluster_node_conf *, char *,
		    size_t);

/*
 * Whether a configuration file's cluster settings hold (changes nothing):
 * -1 if they do; else the index of the first that does not, or n if they
 * do not hold together (whole: the block is complete).
 */
int
cluster_opts_check_conf(const struct conf_cluster *cl, int n, int whole,
    char *err, size_t len)
{
	struct cluster_node_conf	 c;
	int				 i, configured = 0;

	memset(&c, 0, sizeof c);
	for (i = 0; i < n; i++)
		if (cluster_opts_take(&c, &configured, cl[i].code,
		    cl[i].value, err, len) == -1)
			return i;
	if (whole && cluster_opts_whole(&c, err, len) == -1)
		return n;
	return -1;
}

/* 0 if not a node, 1 if its settings hold together, -1 with err. */
int
cluster_opts_check(char *err, size_t len)
{
	if (!cluster_opts_set)
		return 0;
	return cluster_opts_whole(&cluster_opts, err, len) == -1 ? -1 : 1;
}

static int
cluster_opts_whole(const struct cluster_node_conf *c, char *err, size_t len)
{
	unsigned			 i, j;

	if (c->id == 0) {
		snprintf(err, len, "--peer, --join and the cluster's settings "
		    "need --node ID=HOST:PORT");
		return -1;
	}
	if (!c->bootstrap && c->npeers > 0) {
		snprintf(err, len, "--join takes no --peer: the cluster's "
		    "leader adds this node (smsup cluster add)");
		return -1;
	}
	for (i = 0; i < c->npeers; i++) {
		if (c->peers[i].id == c->id ||
		    strcmp(c->peers[i].addr, c->addr) == 0) {
			snprintf(err, len, "node %" PRIu64 " (%s) is given "
			    "twice", (uint64_t)c->peers[i].id,
			    c->peers[i].addr);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (c->peers[j].id == c->peers[i].id ||
			    strcmp(c->peers[j].addr, c->peers[i].addr) == 0) {
				snprintf(err, len, "node %" PRIu64 " (%s) is "
				    "given twice", (uint64_t)c->peers[i].id,
				    c->peers[i].addr);
				return -1;
			}
	}
	return 1;
}

/* Whether this node's address can be listened on: raft says only "I/O". */
int
cluster_opts_can_listen(const char *addr, char *err, size_t len)
{
	struct addrinfo	 hints, *res;
	char		 host[CLUSTER_ADDR_MAX];
	char		*colon;
	int		 fd, rc, one = 1;

	snprintf(host, sizeof host, "%s", addr);
	if ((colon = strrchr(host, ':')) == NULL)
		return 0;
	*colon = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(err, len, "--node %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	rc = 0;
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) !=
	    -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
			snprintf(err, len, "cannot listen on %s: %s", addr,
			    strerror(errno));
			rc = -1;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return rc;
}

/* Whether this node's address can be listened on (0 if it is no node). */
int
cluster_opts_try_listen(char *err, size_t len)
{
	return cluster_opts_set ? cluster_opts_can_listen(cluster_opts.addr,
	    err, len) : 0;
}

/* The node's settings, or NULL if this supervisor is no node. */
struct cluster_node_conf *
cluster_opts_conf(void)
{
	return cluster_opts_set ? &cluster_opts : NULL;
}

