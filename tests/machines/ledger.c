/*
 * ledger.c: the chaos harness's machine (tests/chaos). It keeps, for each
 * of 64 clients, the last sequence number applied, how many were applied
 * and a hash chain over them, and every number skipped: "C N" applies
 * client C's N-th input. N at or below the client's last is a violation
 * (applied twice or out of order); the numbers skipped are kept, so that
 * a checker can tell each acknowledged input applied from one lost.
 *
 *	C N [PAD]	apply (answers "ok C N"; PAD, after a space, is ignored)
 *	dump C		"last=L count=K chain=H skipped=a,b,..."
 *	check		"violations=V total=T generation=G skipped=S"
 *	pad BYTES	a ballast of that size, for large states
 *	boom		abort() in this input
 *	hang		never return from this input
 *	sleep MS	take that long
 *	arm FAULT	as fault.h: the fault travels to the next version
 *
 * Built as ledger-v1, -v2 and -v3 (-DLEDGER_VERSION); each migrates from
 * the others, counting migrations in generation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <smsup/worker.h>

#include "fault.h"

#define STR2(x)		#x
#define STR(x)		STR2(x)
#define LEDGER_CLIENTS	64
#define LEDGER_FORMAT	"UUUiU#U#U#A(U)B"
#define LEDGER_FIELDS	"generation,violations,total,fault,last,count," \
			"chain,skipped,pad"

struct ledger {
	uint64_t	 generation;
	uint64_t	 violations;
	uint64_t	 total;
	int32_t		 fault;
	uint64_t	 last[LEDGER_CLIENTS];
	uint64_t	 count[LEDGER_CLIENTS];
	uint64_t	 chain[LEDGER_CLIENTS];
	uint64_t	*skipped;	/* client << 56 | seq */
	size_t		 nskipped;
	uint8_t		*pad;
	uint32_t	 padlen;
};

/* splitmix64's finalizer: the chain is mix(chain ^ seq). */
static uint64_t
ledger_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int
ledger_init(void *state)
{
	memset(state, 0, sizeof(struct ledger));
	return 0;
}

static int
ledger_skip(struct ledger *l, unsigned c, uint64_t from, uint64_t to)
{
	uint64_t	*v, n;

	if (to - from > 1000000)
		return smsup_error("a gap of %" PRIu64 " inputs", to - from);
	v = realloc(l->skipped, (l->nskipped + (size_t)(to - from)) *
	    sizeof *v);
	if (v == NULL && to > from)
		return smsup_error("out of memory");
	if (v != NULL)
		l->skipped = v;
	for (n = from; n < to; n++)
		l->skipped[l->nskipped++] = (uint64_t)c << 56 | n;
	return 0;
}

static int
ledger_dump(struct ledger *l, unsigned c, struct smsup_output *out)
{
	size_t	 i;
	int	 first = 1;

	smsup_reply(out, "last=%" PRIu64 " count=%" PRIu64 " chain=%016"
	    PRIx64 " skipped=", l->last[c], l->count[c], l->chain[c]);
	for (i = 0; i < l->nskipped; i++) {
		if (l->skipped[i] >> 56 != c)
			continue;
		smsup_reply(out, "%s%" PRIu64, first ? "" : ",",
		    (uint64_t)(l->skipped[i] & ((UINT64_C(1) << 56) - 1)));
		first = 0;
	}
	return 0;
}

static int
ledger_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct ledger	*l = state;
	struct timespec	 ts;
	unsigned long long n;
	unsigned	 c;
	uint8_t		*p;
	uint32_t	 i;
	char		 extra;
	int		 fault, rc;

	fault_step();
	if (smsup_input_is(in, len, "check"))
		return smsup_reply(out, "violations=%" PRIu64 " total=%" PRIu64
		    " generation=%" PRIu64 " skipped=%zu", l->violations,
		    l->total, l->generation, l->nskipped);
	if (sscanf(in, "dump %u%c", &c, &extra) == 1 && c < LEDGER_CLIENTS)
		return ledger_dump(l, c, out);
	if (smsup_input_is(in, len, "boom"))
		abort();
	if (smsup_input_is(in, len, "hang"))
		for (;;)
			;
	if (sscanf(in, "sleep %llu%c", &n, &extra) == 1 && n < 600000) {
		ts.tv_sec = (time_t)(n / 1000);
		ts.tv_nsec = (long)(n % 1000) * 1000000;
		nanosleep(&ts, NULL);
		return smsup_reply(out, "ok");
	}
	if (sscanf(in, "pad %llu%c", &n, &extra) == 1) {
		if (n > (1ull << 31))
			return smsup_error("at most 2 GiB");
		if ((p = realloc(l->pad, n ? n : 1)) == NULL)
			return smsup_error("out of memory");
		for (i = l->padlen; i < n; i++)
			p[i] = (uint8_t)(i * 131);
		l->pad = p;
		l->padlen = (uint32_t)n;
		return smsup_reply(out, "ok");
	}
	if ((fault = fault_parse(in, len)) >= 0) {
		l->fault = fault;
		return smsup_reply(out, "ok");
	}
	/* "C N", or "C N " and any padding (large inputs). */
	rc = sscanf(in, "%u %llu%c", &c, &n, &extra);
	if ((rc != 2 && (rc != 3 || extra != ' ')) ||
	    c >= LEDGER_CLIENTS || n == 0 || n >= 1ull << 56)
		return smsup_error("usage: C N | dump C | check | pad BYTES | "
		    "boom | hang | sleep MS | arm FAULT");
	if (n <= l->last[c]) {
		l->violations++;
		return smsup_reply(out, "violation %u %llu after %" PRIu64, c,
		    n, l->last[c]);
	}
	if (n > l->last[c] + 1 && ledger_skip(l, c, l->last[c] + 1, n) == -1)
		return -1;
	l->last[c] = n;
	l->count[c]++;
	l->chain[c] = ledger_mix(l->chain[c] ^ n);
	l->total++;
	return smsup_reply(out, "ok %u %llu", c, n);
}

static tpl_node *
ledger_map(struct ledger *l, uint64_t *one, tpl_bin *tb)
{
	return tpl_map(LEDGER_FORMAT, &l->generation, &l->violations,
	    &l->total, &l->fault, l->last, LEDGER_CLIENTS, l->count,
	    LEDGER_CLIENTS, l->chain, LEDGER_CLIENTS, one, tb);
}

static tpl_node *
ledger_save(void *state)
{
	struct ledger	*l = state;
	tpl_bin		 tb = { l->pad, l->padlen };
	tpl_node	*tn;
	uint64_t	 one;
	size_t		 i;

	/* A slow serialization: a window to strike in (upgrade tests). */
	if (l->fault == FAULT_SAVESLOW)
		usleep(300000);
	if ((tn = ledger_map(l, &one, &tb)) == NULL)
		return NULL;
	for (i = 0; i < l->nskipped; i++) {
		one = l->skipped[i];
		tpl_pack(tn, 1);
	}
	tpl_pack(tn, 0);
	return tn;
}

/* An image of any version: they all have this format. */
static int
ledger_restore(struct ledger *l, const struct smsup_image *img)
{
	tpl_bin		 tb = { NULL, 0 };
	tpl_node	*tn;
	uint64_t	 one, *v;

	memset(l, 0, sizeof *l);
	if ((tn = smsup_image_map(img, LEDGER_FORMAT, &l->generation,
	    &l->violations, &l->total, &l->fault, l->last, LEDGER_CLIENTS,
	    l->count, LEDGER_CLIENTS, l->chain, LEDGER_CLIENTS, &one,
	    &tb)) == NULL)
		return -1;
	if (tpl_unpack(tn, 0) < 0) {
		tpl_free(tn);
		return smsup_error("cannot unpack the ledger");
	}
	while (tpl_unpack(tn, 1) > 0) {
		if ((v = realloc(l->skipped, (l->nskipped + 1) *
		    sizeof *v)) == NULL) {
			tpl_free(tn);
			return smsup_error("out of memory");
		}
		l->skipped = v;
		l->skipped[l->nskipped++] = one;
	}
	tpl_free(tn);
	l->pad = tb.addr;
	l->padlen = tb.sz;
	return 0;
}

static int
ledger_load(void *state, const struct smsup_image *img)
{
	return ledger_restore(state, img);
}

static int
ledger_migrate(void *state, const struct smsup_image *old)
{
	struct ledger	*l = state;

	if (ledger_restore(l, old) == -1)
		return -1;
	if (fault_migrate(l->fault) == -1)
		return -1;
	/*
	 * A late crash strikes once: the migrated state does not carry it,
	 * or every later migration (a supervisor started with an older
	 * binary) would crash its third input again, for ever.
	 */
	if (l->fault == FAULT_CRASHLATER)
		l->fault = FAULT_NONE;
	l->generation++;
	return 0;
}

static void
ledger_destroy(void *state)
{
	struct ledger	*l = state;

	free(l->skipped);
	free(l->pad);
}

SMSUP_MACHINE(
	.name = "ledger",
	.version = STR(LEDGER_VERSION),
	.format = LEDGER_FORMAT,
	.fields = LEDGER_FIELDS,
	.state_size = sizeof(struct ledger),
#if LEDGER_VERSION == 1
	.migrates_from = SMSUP_VERSIONS("2", "3"),
#elif LEDGER_VERSION == 2
	.migrates_from = SMSUP_VERSIONS("1", "3"),
#else
	.migrates_from = SMSUP_VERSIONS("1", "2"),
#endif
	.init = ledger_init,
	.step = ledger_step,
	.migrate = ledger_migrate,
	.save = ledger_save,
	.load = ledger_load,
	.destroy = ledger_destroy,
);
