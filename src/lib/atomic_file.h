/* Files that are either wholly old or wholly new, even across a crash or a power cut:
 * write a temporary file beside the target, fsync it, rename it over the target, fsync the
 * directory. Used for every piece of domusd and domus-vmm state. */
#ifndef DOMUS_ATOMIC_FILE_H
#define DOMUS_ATOMIC_FILE_H
#include <stddef.h>

/* Returns 0 or -errno. */
int atomic_write_file(const char *path, const void *data, size_t len, unsigned mode);
/* Read a whole (small) file into a NUL-terminated malloc'ed buffer; NULL with errno set.
 * Files larger than max are refused with EFBIG. */
char *read_small_file(const char *path, size_t max, size_t *len);
/* The start of a file (a sysfs or /proc one) into buf as a string: at most size-1 bytes, then a
 * NUL. Its length, or -1 when the file cannot be opened. */
long read_file_head(const char *path, char *buf, size_t size);
/* mkdir -p with mode for the missing parts; 0 or -errno. */
int make_dirs(const char *path, unsigned mode);

#endif
