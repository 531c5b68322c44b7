/* Whole-buffer writes on file descriptors, for the callers that must not lose a partial write
 * to a signal or a short write. */
#ifndef DOMUS_FDIO_H
#define DOMUS_FDIO_H
#include <stddef.h>

/* Write all len bytes of buf to fd, retrying on EINTR and short writes; on a non-blocking fd
 * EAGAIN waits for POLLOUT (up to 100 ms per wait). 0, or -errno of the failing write. */
int write_all(int fd, const void *buf, size_t len);

#endif
