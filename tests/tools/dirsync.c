/*
 * dirsync.c: an LD_PRELOAD shim for the end-to-end tests. While the file
 * named by SMSUP_TEST_FAIL_DIRSYNC exists, fsync(2) of a directory fails
 * with EIO: a state directory whose disk will not make its new entries
 * durable, at the one step of a snapshot that comes after its files are
 * renamed in.
 */
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int
fsync(int fd)
{
	static int	(*real)(int);
	const char	*flag = getenv("SMSUP_TEST_FAIL_DIRSYNC");
	struct stat	 st;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	if (flag != NULL && access(flag, F_OK) == 0 && fstat(fd, &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}
