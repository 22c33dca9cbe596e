/* queue.c: a growable ring of pending entries; no allocation once grown. */
#include <stdlib.h>
#include <string.h>

#include "smsup.h"

int
queue_push(struct pqueue *q, const struct pending *p)
{
	struct pending	*v;
	size_t		 ncap, first;

	if (q->n == q->cap) {
		ncap = q->cap ? q->cap * 2 : 8;
		if ((v = calloc(ncap, sizeof *v)) == NULL)
			return -1;
		/* Unroll the ring into the new array. */
		first = q->cap - q->head;
		if (first > q->n)
			first = q->n;
		if (q->n > 0) {
			memcpy(v, q->v + q->head, first * sizeof *v);
			memcpy(v + first, q->v, (q->n - first) * sizeof *v);
		}
		free(q->v);
		q->v = v;
		q->cap = ncap;
		q->head = 0;
	}
	q->v[(q->head + q->n) % q->cap] = *p;
	q->n++;
	return 0;
}

struct pending *
queue_head(struct pqueue *q)
{
	return q->n > 0 ? &q->v[q->head] : NULL;
}

struct pending *
queue_at(struct pqueue *q, size_t i)
{
	return i < q->n ? &q->v[(q->head + i) % q->cap] : NULL;
}

/* Take back the entry pushed last. */
void
queue_unpush(struct pqueue *q)
{
	if (q->n > 0 && --q->n == 0)
		q->head = 0;
}

void
queue_pop(struct pqueue *q)
{
	if (q->n == 0)
		return;
	q->head = (q->head + 1) % q->cap;
	if (--q->n == 0)
		q->head = 0;
}

void
queue_free(struct pqueue *q)
{
	free(q->v);
	memset(q, 0, sizeof *q);
}

/* Remove the entry at index i, keeping the order of the others. */
void
queue_remove(struct pqueue *q, size_t i)
{
	size_t	 k;

	if (i >= q->n)
		return;
	for (k = i; k + 1 < q->n; k++)
		q->v[(q->head + k) % q->cap] = q->v[(q->head + k + 1) % q->cap];
	if (--q->n == 0)
		q->head = 0;
}
