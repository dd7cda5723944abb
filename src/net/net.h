/* Network back ends behind one interface (NetPort): a front end (virtio-net) hands Ethernet
 * frames to the back end and receives frames from it, with flow control towards the front end
 * so frames are held rather than lost while the guest has no receive buffers. */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/poll.h"

/* Largest frame a back end passes either way (QEMU's NET_BUFSIZE: 64 KiB plus headroom). */
#define NET_MAX_FRAME (4096 + 65536)

typedef struct NetPort NetPort;
struct NetPort {
    char *id;         /* -netdev id= */
    const char *type; /* "socket", ... */
    /* Back end: a frame from the guest. Never blocks for long; frames the link cannot take
     * now are dropped, as on a congested wire. A back end may hold frames until flush. */
    void (*send)(NetPort *p, const uint8_t *frame, size_t len);
    /* Back end, optional: put the frames held so far on the wire (front ends call it after
     * each batch of frames from the guest). */
    void (*flush)(NetPort *p);
    /* Back end: the front end can take frames again; deliver any held frame now. */
    void (*accept_input)(NetPort *p);
    void (*close)(NetPort *p);
    /* Front end: a frame for the guest. Returns true if it was taken (delivered, or dropped
     * for good, e.g. too big for any buffer), false if the front end has no room now: the back
     * end then holds the frame, stops reading, and retries after net_port_accept_input(). */
    bool (*fe_receive)(void *opaque, const uint8_t *frame, size_t len);
    void *fe_opaque;
};

void net_port_set_frontend(NetPort *p, bool (*receive)(void *, const uint8_t *, size_t),
                           void *opaque);
static inline void net_port_send(NetPort *p, const uint8_t *frame, size_t len)
{
    if (p && p->send) p->send(p, frame, len);
}
static inline void net_port_flush(NetPort *p)
{
    if (p && p->flush) p->flush(p);
}
/* Front ends call this whenever they may have gone from "no room" to "room". */
static inline void net_port_accept_input(NetPort *p)
{
    if (p && p->accept_input) p->accept_input(p);
}
/* Hand a frame to the front end; back ends use this (no front end: the frame is dropped). */
bool net_port_deliver(NetPort *p, const uint8_t *frame, size_t len);
void net_port_close(NetPort *p); /* NULL is allowed */

/* -netdev socket. Exactly one of listen (TCP server, one peer at a time), connect (TCP
 * client), mcast (UDP multicast group) or udp (UDP to a fixed peer, with localaddr as our
 * address) is given, each as HOST:PORT. TCP frames carry QEMU's framing: a 4-byte big-endian
 * length before each frame. Returns NULL with a one-line message in err. */
typedef struct NetSocketOptions {
    const char *listen, *connect, *mcast, *udp, *localaddr;
} NetSocketOptions;
NetPort *net_socket_new(Poller *p, const char *id, const NetSocketOptions *o, char *err,
                        size_t errlen);

/* QEMU-style "-netdev TYPE,id=ID,...": "socket,id=n0,listen=[HOST]:PORT",
 * "socket,id=n0,connect=HOST:PORT", "socket,id=n0,mcast=GROUP:PORT[,localaddr=ADDR]",
 * "socket,id=n0,udp=HOST:PORT,localaddr=HOST:PORT". Returns NULL with a one-line message. */
NetPort *net_open_netdev_spec(const char *spec, Poller *p, char *err, size_t errlen);

#endif
