/* NetPort plumbing and the -netdev option parser (QEMU's -netdev syntax). */
#include "net/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/keyval.h"
#include "util/alloc.h"

void net_port_set_frontend(NetPort *p, bool (*receive)(void *, const uint8_t *, size_t),
                           void *opaque)
{
    if (!p) return;
    p->fe_receive = receive;
    p->fe_opaque = opaque;
    net_port_accept_input(p);
}

bool net_port_deliver(NetPort *p, const uint8_t *frame, size_t len)
{
    if (!p->fe_receive) return true; /* no NIC attached: the frame falls on the floor */
    return p->fe_receive(p->fe_opaque, frame, len);
}

void net_port_close(NetPort *p)
{
    if (p && p->close) p->close(p);
}

NetPort *net_open_netdev_spec(const char *spec, Poller *p, char *err, size_t errlen)
{
    KvList l;
    if (!kv_parse(&l, spec, "type", err, errlen)) return NULL;
    NetPort *port = NULL;
    const char *type = kv_get(&l, "type");
    const char *id = kv_get(&l, "id");
    if (!type) {
        snprintf(err, errlen, "-netdev: missing back-end type (e.g. socket)");
    } else if (!id || !*id) {
        snprintf(err, errlen, "-netdev %s: missing id= option", type);
    } else if (!strcmp(type, "socket")) {
        NetSocketOptions o = {
            .listen = kv_get(&l, "listen"),
            .connect = kv_get(&l, "connect"),
            .mcast = kv_get(&l, "mcast"),
            .udp = kv_get(&l, "udp"),
            .localaddr = kv_get(&l, "localaddr"),
        };
        const char *bad = kv_unused(&l);
        if (bad)
            snprintf(err, errlen, "-netdev socket: unknown option '%s'", bad);
        else
            port = net_socket_new(p, id, &o, err, errlen);
    } else {
        snprintf(err, errlen, "-netdev: unsupported back-end type '%s' (supported: socket)", type);
    }
    kv_free(&l);
    return port;
}
