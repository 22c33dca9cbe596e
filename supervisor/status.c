/*
 * status.c: one row of `smsup status`, in one place: written from a machine
 * by the server's STATUS answer, read back by cmd-status.c and the bench.
 * A field added here is added to both ends at once.
 */
#include <limits.h>
#include <stdint.h>

#include "msg.h"
#include "smsup.h"

/* The row of one machine, as the server answers STATUS. */
void
status_row_put(struct machine *m, struct buf *b, uint32_t flags)
{
	const struct upgrade_record	*last = upgrade_report_last(m);
	uint64_t			 now = units_now();

	msg_put_str(b, m->name);
	msg_put_str(b, m->version);
	msg_put_u32(b, m->worker != NULL ? (uint32_t)m->worker->pid : 0);
	msg_put_str(b, machine_state_name(m));
	msg_put_u64(b, m->inputs);
	msg_put_u64(b, m->nheld);
	msg_put_u64(b, m->forwarded);
	msg_put_u64(b, m->ready ? now - m->since : 0);
	msg_put_u64(b, m->upgrades);
	msg_put_u64(b, m->last_pause);
	msg_put_u64(b, m->errors);
	msg_put_str(b, m->path);
	msg_put_str(b, m->why);
	msg_put_str(b, upgrade_report_last(m) ? upgrade_report_last(m)->text :
	    "");
	msg_put_u64(b, m->restarts);
	msg_put_str(b, m->last_crash);
	msg_put_str(b, m->store != NULL ? store_degraded(m->store) : "");
	msg_put_str(b, opts_durability_name(m->opts.durability));
	msg_put_str(b, m->type);
	msg_put_str(b, m->worker != NULL ? m->worker->format : "");
	msg_put_str(b, m->worker != NULL ? m->worker->fields : "");
	msg_put_u64(b, (flags & STATUS_DETAIL) && m->worker != NULL ?
	    child_rss(m->worker) : 0);
	msg_put_str(b, opts_restart_name(m->opts.restart));
	msg_put_u32(b, last != NULL ? (uint32_t)last->ok : 0);
	msg_put_u64(b, last != NULL ? (uint64_t)last->when : 0);
	msg_put_str(b, m->store != NULL ? store_note(m->store) : "");
	msg_put_u64(b, m->dropped);
	msg_put_u32(b, (uint32_t)(m->opts.step_timeout * 1000));
	msg_put_u32(b, m->store == NULL || !m->opts.snap_fork ?
	    STATUS_FORK_OFF : m->snapfork_off || (m->worker != NULL &&
	    m->worker->hello && !snapfork_wanted(m, m->worker)) ?
	    STATUS_FORK_CANNOT : STATUS_FORK_ON);
	msg_put_u64(b, m->snapforks);
	msg_put_u64(b, m->snapfork_fails);
	msg_put_u64(b, m->snapfork_ns);
	msg_put_u32(b, (uint32_t)m->opts.has_init_arg);
	msg_put_str(b, m->opts.init_arg);
}

/* A row as status_row_put wrote it; -1 if the answer is malformed. */
int
status_row_get(struct msg_reader *r, struct status_row *row)
{
	msg_get_str(r, row->name, sizeof row->name);
	msg_get_str(r, row->version, sizeof row->version);
	msg_get_u32(r, &row->pid);
	msg_get_str(r, row->state, sizeof row->state);
	msg_get_u64(r, &row->inputs);
	msg_get_u64(r, &row->held);
	msg_get_u64(r, &row->inflight);
	msg_get_u64(r, &row->uptime);
	msg_get_u64(r, &row->upgrades);
	msg_get_u64(r, &row->pause);
	msg_get_u64(r, &row->errors);
	msg_get_str(r, row->path, sizeof row->path);
	msg_get_str(r, row->why, sizeof row->why);
	msg_get_str(r, row->last, sizeof row->last);
	msg_get_u64(r, &row->restarts);
	msg_get_str(r, row->crash, sizeof row->crash);
	msg_get_str(r, row->degraded, sizeof row->degraded);
	msg_get_str(r, row->durability, sizeof row->durability);
	msg_get_str(r, row->type, sizeof row->type);
	msg_get_str(r, row->format, sizeof row->format);
	msg_get_str(r, row->fields, sizeof row->fields);
	msg_get_u64(r, &row->rss);
	msg_get_str(r, row->restart, sizeof row->restart);
	msg_get_u32(r, &row->last_ok);
	msg_get_u64(r, &row->last_when);
	msg_get_str(r, row->note, sizeof row->note);
	msg_get_u64(r, &row->dropped);
	msg_get_u32(r, &row->step_ms);
	msg_get_u32(r, &row->fork);
	msg_get_u64(r, &row->forks);
	msg_get_u64(r, &row->fork_fails);
	msg_get_u64(r, &row->fork_ns);
	msg_get_u32(r, &row->has_init_arg);
	msg_get_str(r, row->init_arg, sizeof row->init_arg);
	return r->err ? -1 : 0;
}
