/* units.c: monotonic time, and durations written for people. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "smsup.h"

uint64_t
units_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A short duration: 850ns, 87us, 1.25ms, 3.40s. */
void
units_duration(uint64_t ns, char *out, size_t len)
{
	if (ns < 1000)
		snprintf(out, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(out, len, "%" PRIu64 "us", ns / 1000);
	else if (ns < 1000000000)
		snprintf(out, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(out, len, "%.2fs", (double)ns / 1e9);
}

/* An age in the two largest units: 41s, 5m03s, 2h05m, 3d04h. */
void
units_age(uint64_t ns, char *out, size_t len)
{
	uint64_t	 s = ns / 1000000000u;

	if (s < 60)
		snprintf(out, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(out, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
		    s % 60);
	else if (s < 86400)
		snprintf(out, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		    s / 60 % 60);
	else
		snprintf(out, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
		    s / 3600 % 24);
}
