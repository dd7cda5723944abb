/* Host event waiting: file-descriptor watches and a timed wait, used by the run loop while the
 * guest executes (zero timeout) and while it halts (timeout up to the next timer deadline). */
#ifndef HOST_POLL_H
#define HOST_POLL_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*PollHandler)(void *opaque);

typedef struct PollWatch {
    int fd;
    PollHandler on_readable;
    void *opaque;
} PollWatch;

typedef struct Poller {
    PollWatch *watches;
    int nwatches, cap;
    int wake_fd[2]; /* self-pipe: host_poller_wake() from other threads/signal handlers */
} Poller;

bool poller_init(Poller *p);
void poller_destroy(Poller *p);
void poller_watch(Poller *p, int fd, PollHandler on_readable, void *opaque);
void poller_unwatch(Poller *p, int fd);
/* Wait up to timeout_ns (0: just check, <0: forever) and run handlers of readable fds.
 * Returns true if any handler ran or a wakeup arrived. */
bool poller_wait(Poller *p, int64_t timeout_ns);
/* Async-signal-safe and thread-safe: make a concurrent poller_wait() return. */
void poller_wake(Poller *p);

#endif
