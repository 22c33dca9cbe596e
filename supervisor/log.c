/* log.c: the supervisor's log: one line per event on stderr, with time and level. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smsup.h"

static int	log_verbose;

void
log_init(int verbose)
{
	log_verbose = verbose;
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, const char *err)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[32], msg[1024];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* One write per line, so lines from several processes do not mix. */
	if (err != NULL)
		fprintf(stderr, "%s.%03ld smsup: %s%s: %s\n", when,
		    ts.tv_nsec / 1000000, level, msg, err);
	else
		fprintf(stderr, "%s.%03ld smsup: %s%s\n", when,
		    ts.tv_nsec / 1000000, level, msg);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite("", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vwrite("debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, strerror(saved));
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite("fatal: ", fmt, ap, strerror(saved));
	va_end(ap);
	exit(EXIT_FAIL);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite("fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(EXIT_FAIL);
}
