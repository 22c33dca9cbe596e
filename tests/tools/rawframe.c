/*
 * rawframe.c: a test tool that speaks to the control socket byte by byte.
 * It writes standard input to the socket unchanged (any bytes at all: good
 * frames, bad ones), then prints each answer frame as
 * "TYPE ID: payload" until the supervisor closes or 2 seconds pass.
 * Usage: rawframe SOCKET < bytes
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"

int
main(int argc, char **argv)
{
	static const struct frame_limits lim = { 1u << 26, 1u << 26 };
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct buf		 in = { 0 }, out = { 0 };
	struct frame		 f;
	struct pollfd		 pfd;
	ssize_t			 n;
	int			 fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: rawframe SOCKET < bytes\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		buf_reserve(&out, 65536);
		n = read(STDIN_FILENO, out.data + out.len, out.cap - out.len);
		if (n <= 0)
			break;
		out.len += (size_t)n;
	}
	/* The supervisor may hang up before taking it all: that is fine. */
	while (buf_used(&out) > 0 && (n = write(fd, buf_head(&out),
	    buf_used(&out))) > 0)
		buf_consume(&out, (size_t)n);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 2000) == 1) {
		buf_reserve(&in, 65536);
		if ((n = read(fd, in.data + in.len, in.cap - in.len)) <= 0)
			break;
		in.len += (size_t)n;
		while (frame_parse(buf_head(&in), buf_used(&in), &lim, &f) ==
		    FRAME_OK) {
			printf("%s %llu: %.*s\n", frame_type_name(f.type),
			    (unsigned long long)f.id, (int)f.len, f.payload);
			buf_consume(&in, FRAME_HDR_LEN + f.len);
		}
	}
	printf("closed\n");
	buf_free(&in);
	buf_free(&out);
	return 0;
}
