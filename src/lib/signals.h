/* The signals that stop a Domus process (SIGINT, SIGTERM, SIGHUP), taken synchronously. */
#ifndef DOMUS_SIGNALS_H
#define DOMUS_SIGNALS_H

/* Block SIGINT, SIGTERM and SIGHUP in this thread (threads created later inherit the mask),
 * ignore SIGPIPE, and return a close-on-exec signalfd that reads them, or -errno. Call before
 * starting threads, so no other thread takes them asynchronously. */
int stop_signals_fd(void);

#endif
