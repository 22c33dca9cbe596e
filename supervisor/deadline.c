/*
 * deadline.c: how long a worker may keep its supervisor waiting. While
 * the serving worker owes answers (inputs given to it, inputs replayed
 * into it, serialize requests), it must give one within the machine's
 * --step-timeout of the last one it gave; if it does not, it is killed
 * and handled as a crash (recover.c): the input it was applying, if its
 * progress page says it was in one, is dropped as the cause, and every
 * other input is given to the next worker.
 *
 * Nothing runs per input: an answer only notes the loop's time, and the
 * timer, started when the worker starts to owe, looks at that time when
 * it fires and goes back to sleep for what is left (libev's lazy timer).
 */
#include <signal.h>
#include <stdio.h>

#include "smsup.h"

static void	deadline_cb(struct ev_loop *, ev_timer *, int);

void
deadline_init(struct machine *m)
{
	ev_init(&m->step_timer, deadline_cb);
	m->step_timer.data = m;
}

/* Whether the serving worker owes its supervisor an answer. */
static int
deadline_owes(const struct machine *m)
{
	return m->worker != NULL && m->ready &&
	    (m->forwarded > 0 || m->discard > 0 || m->nserial > 0);
}

/* The worker was given something to answer. */
void
deadline_owed(struct machine *m)
{
	if (m->opts.step_timeout <= 0 || ev_is_active(&m->step_timer))
		return;
	m->progress_at = ev_now(EV_DEFAULT);
	ev_timer_set(&m->step_timer, m->opts.step_timeout, 0.);
	ev_timer_start(EV_DEFAULT, &m->step_timer);
}

/* The worker answered something. */
void
deadline_progress(struct machine *m)
{
	m->progress_at = ev_now(EV_DEFAULT);
}

void
deadline_stop(struct machine *m)
{
	ev_timer_stop(EV_DEFAULT, &m->step_timer);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct machine	*m = w->data;
	double		 left;
	char		 why[128];

	(void)revents;
	if (!deadline_owes(m) || m->opts.step_timeout <= 0)
		return;
	left = m->progress_at + m->opts.step_timeout - ev_now(loop);
	if (left > 0.001) {
		ev_timer_set(w, left, 0.);
		ev_timer_start(loop, w);
		return;
	}
	snprintf(why, sizeof why, "gave no answer in %gs (--step-timeout)",
	    m->opts.step_timeout);
	log_warnx("%s: worker (pid %ld) %s: killing it", m->name,
	    (long)m->worker->pid, why);
	child_kill_why(m->worker, why);
}
