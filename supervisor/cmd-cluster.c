/*
 * cmd-cluster.c: `smsup cluster status [--json]`: raft's view of the
 * cluster this supervisor is a node of: its role and term, the leader,
 * the commit, applied and last indexes of the log, and its members;
 * `smsup cluster add ID=HOST:PORT` and `remove ID`: membership changes,
 * asked of the leader.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "smsup.h"

static int	cmd_cluster_exec(const char *, int, char **);

const struct cmd_entry cmd_cluster_entry = {
	"cluster", "status [--json] | add ID=HOST:PORT | remove ID",
	cmd_cluster_exec
};

#define CMD_CLUSTER_SERVERS	16

struct cmd_cluster_view {
	uint64_t	 id, term, leader, commit, applied, last;
	char		 role[32], leader_addr[128];
	uint32_t	 n;
	struct {
		uint64_t id;
		char	 addr[128];
		char	 role[16];
	}		 s[CMD_CLUSTER_SERVERS];
};

static int
cmd_cluster_read(const struct reply *rep, struct cmd_cluster_view *v)
{
	struct msg_reader	 r;
	uint32_t		 i;

	memset(v, 0, sizeof *v);
	msg_init(&r, rep->data, rep->len);
	msg_get_u64(&r, &v->id);
	msg_get_str(&r, v->role, sizeof v->role);
	msg_get_u64(&r, &v->term);
	msg_get_u64(&r, &v->leader);
	msg_get_str(&r, v->leader_addr, sizeof v->leader_addr);
	msg_get_u64(&r, &v->commit);
	msg_get_u64(&r, &v->applied);
	msg_get_u64(&r, &v->last);
	if (msg_get_u32(&r, &v->n) == -1 || v->n > CMD_CLUSTER_SERVERS)
		return -1;
	for (i = 0; i < v->n; i++) {
		msg_get_u64(&r, &v->s[i].id);
		msg_get_str(&r, v->s[i].addr, sizeof v->s[i].addr);
		msg_get_str(&r, v->s[i].role, sizeof v->s[i].role);
	}
	return msg_end(&r);
}

static int
cmd_cluster_json(const struct cmd_cluster_view *v)
{
	struct buf	 b = { 0 };
	uint32_t	 i;
	int		 rc = 0;

	rc |= buf_add(&b, "{", 1);
	rc |= json_put_key(&b, 1, "id");
	rc |= json_put_u64(&b, v->id);
	rc |= json_put_key(&b, 0, "role");
	rc |= json_put_cstr(&b, v->role);
	rc |= json_put_key(&b, 0, "term");
	rc |= json_put_u64(&b, v->term);
	rc |= json_put_key(&b, 0, "leader");
	if (v->leader == 0)
		rc |= json_put_raw(&b, "null");
	else {
		rc |= buf_add(&b, "{", 1);
		rc |= json_put_key(&b, 1, "id");
		rc |= json_put_u64(&b, v->leader);
		rc |= json_put_key(&b, 0, "address");
		rc |= json_put_cstr(&b, v->leader_addr);
		rc |= buf_add(&b, "}", 1);
	}
	rc |= json_put_key(&b, 0, "commit");
	rc |= json_put_u64(&b, v->commit);
	rc |= json_put_key(&b, 0, "applied");
	rc |= json_put_u64(&b, v->applied);
	rc |= json_put_key(&b, 0, "last");
	rc |= json_put_u64(&b, v->last);
	rc |= json_put_key(&b, 0, "servers");
	rc |= buf_add(&b, "[", 1);
	for (i = 0; i < v->n; i++) {
		rc |= buf_add(&b, i == 0 ? "{" : ",{", i == 0 ? 1 : 2);
		rc |= json_put_key(&b, 1, "id");
		rc |= json_put_u64(&b, v->s[i].id);
		rc |= json_put_key(&b, 0, "address");
		rc |= json_put_cstr(&b, v->s[i].addr);
		rc |= json_put_key(&b, 0, "role");
		rc |= json_put_cstr(&b, v->s[i].role);
		rc |= buf_add(&b, "}", 1);
	}
	rc |= buf_add(&b, "]}\n", 3);
	if (rc == 0)
		fwrite(buf_head(&b), 1, buf_used(&b), stdout);
	buf_free(&b);
	return rc == 0 ? 0 : EXIT_FAIL;
}

static void
cmd_cluster_text(const struct cmd_cluster_view *v)
{
	uint32_t	 i;

	printf("node      %" PRIu64 ", %s, term %" PRIu64 "\n", v->id, v->role,
	    v->term);
	if (v->leader == 0)
		printf("leader    none known\n");
	else
		printf("leader    node %" PRIu64 " at %s\n", v->leader,
		    v->leader_addr);
	printf("log       commit %" PRIu64 ", applied %" PRIu64 ", last %"
	    PRIu64 "\n", v->commit, v->applied, v->last);
	printf("\nID  ADDRESS                 ROLE\n");
	for (i = 0; i < v->n; i++)
		printf("%-3" PRIu64 " %-23s %s%s%s\n", v->s[i].id,
		    v->s[i].addr, v->s[i].role, v->s[i].id == v->id ?
		    ", this node" : "", v->s[i].id == v->leader ?
		    ", leader" : "");
}

/* add ID=HOST:PORT, remove ID: asked of the leader, answered once done. */
static int
cmd_cluster_change(const char *path, const char *op, const char *arg)
{
	struct buf		 p = { 0 };
	unsigned long long	 id;
	const char		*addr = "";
	char			*end;
	int			 rc;

	errno = 0;
	id = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || id == 0 ||
	    (strcmp(op, "add") == 0 ? *end != '=' || end[1] == '\0' :
	    *end != '\0')) {
		fprintf(stderr, "smsup: bad node '%s': expected %s\n", arg,
		    strcmp(op, "add") == 0 ? "ID=HOST:PORT" : "an ID");
		return EXIT_USAGE;
	}
	if (strcmp(op, "add") == 0)
		addr = end + 1;
	msg_put_u32(&p, strcmp(op, "add") == 0 ? CLUSTER_OP_ADD :
	    CLUSTER_OP_REMOVE);
	msg_put_u64(&p, id);
	if (strcmp(op, "add") == 0)
		msg_put_str(&p, addr);
	rc = client_simple(path, FRAME_C_CLUSTER, &p);
	buf_free(&p);
	return rc;
}

static int
cmd_cluster_exec(const char *path, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_cluster_view	 v;
	struct buf		 in = { 0 };
	struct reply		 rep;
	int			 ch, json = 0, rc;

	if (argc == 3 && (strcmp(argv[1], "add") == 0 ||
	    strcmp(argv[1], "remove") == 0))
		return cmd_cluster_change(path, argv[1], argv[2]);
	if (argc < 2 || strcmp(argv[1], "status") != 0)
		return cmd_usage(&cmd_cluster_entry);
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			return cmd_usage(&cmd_cluster_entry);
		json = 1;
	}
	if (argc != optind)
		return cmd_usage(&cmd_cluster_entry);
	rc = client_ask(path, FRAME_C_CLUSTER, NULL, &in, &rep,
	    FRAME_R_CLUSTER);
	if (rc != 0) {
		buf_free(&in);
		return rc;
	}
	if (cmd_cluster_read(&rep, &v) == -1) {
		fprintf(stderr, "smsup: malformed cluster answer\n");
		buf_free(&in);
		return EXIT_FAIL;
	}
	buf_free(&in);
	if (json)
		return cmd_cluster_json(&v);
	cmd_cluster_text(&v);
	return 0;
}
