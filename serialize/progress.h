/*
 * progress.h: the progress page. The supervisor gives each worker a page
 * of shared memory (a memfd sealed against resizing, as fd 4, named by
 * SMSUP_PROGRESS_FD) in which the worker says, with two stores per
 * input, which input it is applying. When a worker dies without saying
 * why (SIGKILL, a step that never returns), the supervisor reads the page
 * to know whether it died inside an input, and in which: only that input
 * is dropped, every other is given to the next worker. For a worker that
 * leaves the page alone (its magic stays 0), the inputs it had are
 * replayed into the next one one at a time, to find the one it died in.
 */
#ifndef SMSUP_PROGRESS_H
#define SMSUP_PROGRESS_H

#include <stdint.h>

#define PROGRESS_MAGIC	0x31504d53u	/* "SMP1", little-endian */
#define PROGRESS_SIZE	4096

struct progress_page {
	uint32_t	 magic;		/* PROGRESS_MAGIC once in use */
	uint32_t	 in_step;	/* 1 while applying input `seq` */
	uint64_t	 seq;		/* the input being (or last) applied */
};

#endif
