/*
 * upgrade-report.c: what upgrades did, for people: the last
 * SMSUP_HISTORY upgrades of each machine (`smsup history`, and the last
 * one in `smsup status NAME`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "smsup.h"

/* Remember an upgrade's outcome (ok: 1 done, 0 failed, 2 nothing to do). */
void
upgrade_report_add(struct machine *m, int ok, const char *text)
{
	struct upgrade_record	*r;

	/* Most machines are never upgraded: no history until one is. */
	if (m->hist == NULL &&
	    (m->hist = calloc(SMSUP_HISTORY, sizeof *m->hist)) == NULL)
		return;
	r = &m->hist[m->nhist % SMSUP_HISTORY];
	free(r->text);
	if ((r->text = strdup(text)) == NULL)
		return;
	r->when = (int64_t)time(NULL);
	r->ok = ok;
	m->nhist++;
	inspect_note(m, "%s", text);
}

void
upgrade_report_free(struct machine *m)
{
	unsigned	 i;

	if (m->hist == NULL)
		return;
	for (i = 0; i < SMSUP_HISTORY; i++)
		free(m->hist[i].text);
	free(m->hist);
	m->hist = NULL;
}

const struct upgrade_record *
upgrade_report_last(const struct machine *m)
{
	if (m->nhist == 0 || m->hist == NULL)
		return NULL;
	return &m->hist[(m->nhist - 1) % SMSUP_HISTORY];
}

/* u32 count, then per upgrade, oldest first: u64 when, u32 ok, str text. */
void
upgrade_report_rows(const struct machine *m, struct buf *b)
{
	const struct upgrade_record	*r;
	unsigned			 i, n, first;

	n = m->hist == NULL ? 0 : m->nhist < SMSUP_HISTORY ? m->nhist :
	    SMSUP_HISTORY;
	first = m->nhist - n;
	msg_put_u32(b, n);
	for (i = first; i < m->nhist; i++) {
		r = &m->hist[i % SMSUP_HISTORY];
		msg_put_u64(b, (uint64_t)r->when);
		msg_put_u32(b, (uint32_t)r->ok);
		msg_put_str(b, r->text);
	}
}
