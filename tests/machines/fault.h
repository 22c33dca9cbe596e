/*
 * fault.h: faults that test machines carry in their state, armed by an
 * input (`arm NAME`), so that they travel in the image and strike in the
 * next version's migrate (or later). Included by faulty.c and orderly.c.
 */
#ifndef FAULT_H
#define FAULT_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	FAULT_NONE,
	FAULT_FAIL,		/* migrate returns an error */
	FAULT_CRASH,		/* migrate aborts */
	FAULT_HANG,		/* migrate never returns */
	FAULT_EXIT,		/* migrate calls exit(0) */
	FAULT_CRASHLATER,	/* the new version aborts on its 3rd input */
	FAULT_SAVECRASH,	/* the running version aborts serializing */
	FAULT_SAVESLOW,		/* it takes 300 ms to serialize (ledger),
				   and the next version 300 ms to migrate */
	FAULT_COUNT
};

static const char *fault_names[FAULT_COUNT] = {
	"none", "fail", "crash", "hang", "exit", "crashlater", "savecrash",
	"saveslow"
};

/* Inputs left before a FAULT_CRASHLATER strikes (in this process). */
static int	fault_countdown;

/* "arm NAME": the fault's number, or -1 if the input is not one. */
static inline int
fault_parse(const char *in, size_t len)
{
	int	 i;

	if (len <= 4 || strncmp(in, "arm ", 4) != 0)
		return -1;
	for (i = 0; i < FAULT_COUNT; i++)
		if (strcmp(in + 4, fault_names[i]) == 0)
			return i;
	return -1;
}

/* In migrate: strike, or return 0 to go on. */
static inline int
fault_migrate(int fault)
{
	switch (fault) {
	case FAULT_FAIL:
		return smsup_error("the armed fault says no");
	case FAULT_CRASH:
		abort();
	case FAULT_HANG:
		for (;;)
			pause();
	case FAULT_EXIT:
		exit(0);
	case FAULT_CRASHLATER:
		fault_countdown = 3;
		break;
	case FAULT_SAVESLOW:
		usleep(300000);
		break;
	}
	return 0;
}

/* At each step: the late crash. */
static inline void
fault_step(void)
{
	if (fault_countdown > 0 && --fault_countdown == 0)
		abort();
}

#endif
