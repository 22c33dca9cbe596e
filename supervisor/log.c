/*
 * log.c: the supervisor's log: one line per event on stderr, with a level.
 * Lines carry the time and level in words, or, when stderr is the journal
 * (systemd sets JOURNAL_STREAM to its device:inode), a <N> syslog
 * priority prefix instead, which journald reads and strips.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsup.h"

static int	log_level = LOG_LEVEL_INFO;
static int	log_journal;

/* Whether stderr is the stream systemd named in JOURNAL_STREAM. */
static int
log_is_journal(void)
{
	const char		*e = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int level)
{
	log_level = level;
	log_journal = log_is_journal();
}

int
log_get_level(void)
{
	return log_level;
}

/* prio: the syslog priority (3 error, 4 warning, 6 info, 7 debug). */
static void
log_vwrite(int prio, const char *level, const char *fmt, va_list ap,
    const char *err)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[32], msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	/* One write per line, so lines from several processes do not mix. */
	if (log_journal) {
		fprintf(stderr, "<%d>%s%s%s%s\n", prio, level, msg,
		    err ? ": " : "", err ? err : "");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld smsup: %s%s%s%s\n", when,
	    ts.tv_nsec / 1000000, level, msg, err ? ": " : "", err ? err : "");
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite(6, "", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite(7, "debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(4, "warning: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(4, "warning: ", fmt, ap, strerror(saved));
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(3, "fatal: ", fmt, ap, strerror(saved));
	va_end(ap);
	exit(EXIT_FAIL);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(3, "fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(EXIT_FAIL);
}
