/* units.c: monotonic time, and durations and sizes written for people. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Seconds, as "2", "0.5" or "250ms"; in (0, max]. 0, or -1 if malformed. */
int
units_parse_seconds(const char *s, double max, double *out)
{
	char	*end;
	double	 d;

	d = strtod(s, &end);
	if (end == s)
		return -1;
	if (strcmp(end, "ms") == 0)
		d /= 1000;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (!(d > 0 && d <= max))
		return -1;
	*out = d;
	return 0;
}

/* Bytes, as "4096", "64K", "16M" or "1G". 0, or -1 if malformed. */
int
units_parse_size(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;
	unsigned		 shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end != '\0')
		return -1;
	if (shift != 0 && end[1] != '\0')
		return -1;
	if (v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}
