/*
 * server-conf.c: the supervisor's configuration file at work. At start the
 * machines of the file start; on SIGHUP the file is read again, as nginx
 * and sshd do: machines new to it start, machines removed from it stop,
 * the others take their settings and are upgraded (to their new binary,
 * or to whatever their binary now is). A file with an error changes
 * nothing: the error is logged with file and line and the running
 * configuration stays. Without a file, SIGHUP upgrades every machine.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsup.h"

static char	 server_conf_file[PATH_MAX];

void
server_conf_set(const char *file)
{
	snprintf(server_conf_file, sizeof server_conf_file, "%s", file);
}

/* Settings that can change in a running machine take effect now. */
static void
server_conf_retune(struct machine *m, const struct conf_machine *cm)
{
	struct machine_opts	 o = cm->opts;

	if (o.durability != m->opts.durability)
		log_warnx("%s: durability stays %s until the machine is "
		    "stopped and started again", m->name,
		    opts_durability_name(m->opts.durability));
	o.durability = m->opts.durability;
	o.fresh = 0;
	/* The init argument is the saved state's (machine_open_store). */
	if (o.has_init_arg != m->opts.has_init_arg ||
	    strcmp(o.init_arg, m->opts.init_arg) != 0)
		log_warnx("%s: init-arg is only for a machine started from "
		    "nothing: it stays the one it started with", m->name);
	o.has_init_arg = m->opts.has_init_arg;
	memcpy(o.init_arg, m->opts.init_arg, sizeof o.init_arg);
	if (memcmp(&o, &m->opts, sizeof o) == 0)
		return;
	m->opts = o;
	if (m->worker != NULL && m->worker->peer != NULL && m->worker->hello)
		recover_config(m, m->worker);
	log_info("%s: settings changed", m->name);
}

/* Start the machines of c (at start: every one). */
static void
server_conf_start(const struct conf *c, int i)
{
	struct machine	*m;
	char		 err[512];

	if ((m = machine_start(c->m[i].name, c->m[i].path, &c->m[i].opts, err,
	    sizeof err)) == NULL) {
		log_warnx("%s: cannot start: %s", c->m[i].name, err);
		return;
	}
	m->from_conf = 1;
}

void
server_conf_apply(const struct conf *c)
{
	int	 i;

	for (i = 0; i < c->n; i++)
		server_conf_start(c, i);
}

/* SIGHUP. 0 when applied (or with no file), -1 when the file is rejected. */
int
server_conf_reload(void)
{
	struct conf	 c;
	struct machine	*m, *next;
	char		 err[1024], why[512];
	int		 i, started = 0, stopped = 0, kept = 0;

	/* A node alone would leave the other nodes' machines behind. */
	if (cluster_server_active()) {
		log_warnx("SIGHUP: a node of a cluster reloads and upgrades "
		    "nothing: its machines are the cluster's");
		return 0;
	}
	if (server_conf_file[0] == '\0') {
		log_info("SIGHUP: upgrading machines with a new binary");
		upgrade_hup();
		return 0;
	}
	if (conf_load(server_conf_file, &c, err, sizeof err) == -1 ||
	    conf_check_binaries(&c, server_conf_file, err, sizeof err) == -1) {
		log_warnx("SIGHUP: %s: configuration rejected, the running one "
		    "stays", err);
		conf_free(&c);
		return -1;
	}
	if (c.cluster)
		log_warnx("SIGHUP: %s: its cluster block is read at start only",
		    server_conf_file);
	/* Removed from the file: stopped (machines run by hand stay). */
	for (m = TAILQ_FIRST(&machines); m != NULL; m = next) {
		next = TAILQ_NEXT(m, entry);
		for (i = 0; i < c.n; i++)
			if (strcmp(c.m[i].name, m->name) == 0)
				break;
		if (i < c.n || !m->from_conf)
			continue;
		log_info("%s: not in %s any more: stopping", m->name,
		    server_conf_file);
		if (machine_stop(m, NULL, 0, why, sizeof why) == -1)
			log_warnx("%s: %s", m->name, why);
		stopped++;
	}
	for (i = 0; i < c.n; i++) {
		if ((m = machine_find(c.m[i].name)) == NULL) {
			server_conf_start(&c, i);
			started++;
			continue;
		}
		kept++;
		m->from_conf = 1;
		server_conf_retune(m, &c.m[i]);
		if (m->state == MS_RUNNING && m->ready)
			upgrade_hup_one(m, c.m[i].path);
		else if (strcmp(m->path, c.m[i].path) != 0)
			log_warnx("%s: %s, its binary changes at its next "
			    "upgrade", m->name, machine_state_name(m));
	}
	log_info("SIGHUP: %s reloaded: %d machines started, %d stopping, %d "
	    "checked for upgrades", server_conf_file, started, stopped, kept);
	conf_free(&c);
	return 0;
}
