/*
 * notifyd.c: a stand-in for systemd's notification socket, for tests: bind
 * a datagram socket at argv[1] and print each message on one line, its
 * newlines as '|', until killed.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	char			 msg[4096];
	ssize_t			 n, i;
	int			 fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: notifyd socket-path\n");
		return 2;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		perror("notifyd");
		return 1;
	}
	while ((n = recv(fd, msg, sizeof msg, 0)) >= 0) {
		for (i = 0; i < n; i++)
			if (msg[i] == '\n')
				msg[i] = '|';
		printf("%.*s\n", (int)n, msg);
		fflush(stdout);
	}
	return 1;
}
