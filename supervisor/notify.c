/*
 * notify.c: systemd's service notification protocol, for Type=notify
 * units: datagrams of NAME=VALUE lines to the socket in $NOTIFY_SOCKET (a
 * path, or an abstract name after '@'), as sd_notify(3) documents it as a
 * stable interface. READY=1 once no machine is starting, upgrading or
 * stopping; RELOADING=1 with MONOTONIC_USEC on SIGHUP and READY=1 after
 * it; STOPPING=1 on shutdown; a STATUS= summary whenever machines change.
 * Without $NOTIFY_SOCKET every call returns at once.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smsup.h"

static int			 notify_fd = -1;
static struct sockaddr_un	 notify_sun;
static socklen_t		 notify_len;
static int			 notify_owed;	/* READY=1 */
static int			 notify_dirty;	/* STATUS= may have changed */
static char			 notify_status[256];

void
notify_init(void)
{
	const char	*e = getenv("NOTIFY_SOCKET");
	size_t		 n;

	if (e == NULL || (e[0] != '/' && e[0] != '@') ||
	    (n = strlen(e)) >= sizeof notify_sun.sun_path) {
		if (e != NULL)
			log_warnx("NOTIFY_SOCKET=%s: not a socket path", e);
		return;
	}
	memset(&notify_sun, 0, sizeof notify_sun);
	notify_sun.sun_family = AF_UNIX;
	memcpy(notify_sun.sun_path, e, n);
	if (e[0] == '@')
		notify_sun.sun_path[0] = '\0';	/* abstract namespace */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		log_warn("notify socket");
	/* Not for the workers: they are not the service. */
	unsetenv("NOTIFY_SOCKET");
	notify_owed = notify_dirty = 1;
}

static void
notify_send(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];
	int	 n;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof msg)
		return;
	if (sendto(notify_fd, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_sun, notify_len) == -1)
		log_debug("notify: %s", strerror(errno));
}

/* Something happened to a machine: the summary is due again. */
void
notify_changed(void)
{
	notify_dirty = 1;
}

void
notify_reloading(void)
{
	struct timespec	 ts;

	if (notify_fd == -1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)ts.tv_sec * 1000000ull +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify_owed = notify_dirty = 1;
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping");
}

/* Before the loop sleeps: READY=1 when owed and due, and STATUS=. */
void
notify_check(void)
{
	struct machine	*m;
	int		 n = 0, running = 0, starting = 0, failed = 0;
	int		 upgrading = 0, stopping = 0;
	char		 status[256];

	if (notify_fd == -1 || !notify_dirty)
		return;
	notify_dirty = 0;
	TAILQ_FOREACH(m, &machines, entry) {
		n++;
		if (m->upgrade != NULL)
			upgrading++;
		if (m->state == MS_RUNNING && m->ready)
			running++;
		else if (m->state == MS_STARTING ||
		    m->state == MS_RESTARTING)
			starting++;
		else if (m->state == MS_FAILED)
			failed++;
		else if (m->state == MS_STOPPING)
			stopping++;
	}
	snprintf(status, sizeof status, "%d machines: %d running, %d "
	    "starting, %d upgrading, %d stopping, %d failed", n, running,
	    starting, upgrading, stopping, failed);
	if (notify_owed && starting == 0 && upgrading == 0 && stopping == 0) {
		notify_owed = 0;
		notify_send("READY=1\nSTATUS=%s", status);
	} else if (strcmp(status, notify_status) != 0)
		notify_send("STATUS=%s", status);
	snprintf(notify_status, sizeof notify_status, "%s", status);
}
