/*
 * fdpass.c: recvmsg(2) and sendmsg(2) with SCM_RIGHTS. A read queues the
 * descriptors that came with it; a write carries one descriptor, or none.
 */
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/*
 * Read into data; the descriptors that came go to fds[*n...] (close-on-
 * exec), up to max in all; more than that, or more than a read can hold,
 * are closed and set *broken.
 */
ssize_t
fdpass_recv(int sock, void *data, size_t len, int *fds, int *n, int max,
    int *broken)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
	}		 u;
	struct iovec	 iov = { data, len };
	struct msghdr	 msg;
	struct cmsghdr	*h;
	ssize_t		 r;
	size_t		 k, i;
	int		 fd;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.b;
	msg.msg_controllen = sizeof u.b;
	if ((r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) == -1)
		return -1;
	for (h = CMSG_FIRSTHDR(&msg); h != NULL; h = CMSG_NXTHDR(&msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
			if (*n < max)
				fds[(*n)++] = fd;
			else {
				close(fd);
				*broken = 1;
			}
		}
	}
	if (msg.msg_flags & MSG_CTRUNC)
		*broken = 1;
	return r;
}

/* Write data, with fd riding on its first byte unless it is -1. */
ssize_t
fdpass_send(int sock, const void *data, size_t len, int fd)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(sizeof(int))];
	}		 u;
	struct iovec	 iov = { (void *)data, len };
	struct msghdr	 msg;
	struct cmsghdr	*h;

	if (fd == -1)
		return write(sock, data, len);
	memset(&msg, 0, sizeof msg);
	memset(&u, 0, sizeof u);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.b;
	msg.msg_controllen = sizeof u.b;
	h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof fd);
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}
