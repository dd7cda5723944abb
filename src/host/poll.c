/* Host event waiting with poll(2) and a self-pipe (see poll.h). */
#include "host/poll.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"

bool poller_init(Poller *p)
{
    memset(p, 0, sizeof *p);
    if (pipe(p->wake_fd) < 0) return false;
    for (int i = 0; i < 2; i++) {
        fcntl(p->wake_fd[i], F_SETFL, fcntl(p->wake_fd[i], F_GETFL) | O_NONBLOCK);
        fcntl(p->wake_fd[i], F_SETFD, FD_CLOEXEC);
    }
    return true;
}

void poller_destroy(Poller *p)
{
    close(p->wake_fd[0]);
    close(p->wake_fd[1]);
    free(p->watches);
    memset(p, 0, sizeof *p);
}

void poller_watch(Poller *p, int fd, PollHandler on_readable, void *opaque)
{
    poller_unwatch(p, fd);
    if (p->nwatches == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->watches = xrealloc(p->watches, sizeof(PollWatch) * p->cap);
    }
    p->watches[p->nwatches++] = (PollWatch){fd, on_readable, opaque};
}

void poller_unwatch(Poller *p, int fd)
{
    for (int i = 0; i < p->nwatches; i++) {
        if (p->watches[i].fd == fd) {
            p->watches[i] = p->watches[--p->nwatches];
            return;
        }
    }
}

static bool poller_still_watching(const Poller *p, const PollWatch *w)
{
    for (int i = 0; i < p->nwatches; i++) {
        const PollWatch *x = &p->watches[i];
        if (x->fd == w->fd && x->on_readable == w->on_readable && x->opaque == w->opaque)
            return true;
    }
    return false;
}

bool poller_wait(Poller *p, int64_t timeout_ns)
{
    struct pollfd fds[p->nwatches + 1];
    PollWatch snapshot[p->nwatches + 1];
    int n = p->nwatches;
    if (n) memcpy(snapshot, p->watches, sizeof(PollWatch) * n);
    for (int i = 0; i < n; i++)
        fds[i] = (struct pollfd){.fd = snapshot[i].fd, .events = POLLIN};
    fds[n] = (struct pollfd){.fd = p->wake_fd[0], .events = POLLIN};
    /* Round up so a timer deadline is not missed by a sub-millisecond early wakeup; clamp huge
     * timeouts (no timer armed) before the arithmetic can overflow. */
    int ms;
    if (timeout_ns < 0)
        ms = -1;
    else if (timeout_ns > (int64_t)1 << 40)
        ms = 1 << 20;
    else
        ms = (int)((timeout_ns + 999999) / 1000000);
    int r = poll(fds, n + 1, ms);
    if (r <= 0) return false;
    bool any = false;
    if (fds[n].revents) {
        char buf[64];
        while (read(p->wake_fd[0], buf, sizeof buf) > 0) {
        }
        any = true;
    }
    for (int i = 0; i < n; i++) {
        /* POLLNVAL too: a handler reading a closed fd fails and unwatches it, instead of poll
         * returning at once forever. */
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) continue;
        /* An earlier handler may have removed this watch (and freed its opaque). */
        if (!poller_still_watching(p, &snapshot[i])) continue;
        snapshot[i].on_readable(snapshot[i].opaque);
        any = true;
    }
    return any;
}

void poller_wake(Poller *p)
{
    int saved = errno;
    ssize_t r = write(p->wake_fd[1], "", 1);
    (void)r;
    errno = saved;
}
