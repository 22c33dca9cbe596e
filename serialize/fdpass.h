/*
 * fdpass.h: one read or write on a Unix stream socket with descriptors
 * riding on it (SCM_RIGHTS), for both ends of a worker's channel.
 */
#ifndef SMSUP_FDPASS_H
#define SMSUP_FDPASS_H

#include <sys/types.h>

#include <stddef.h>

#define FDPASS_MAX	8	/* descriptors a read takes at most */

ssize_t	fdpass_recv(int, void *, size_t, int *, int *, int, int *);
ssize_t	fdpass_send(int, const void *, size_t, int);

#endif
