/* Checksum and segmentation offloads (see offload.h; RFC 791, 793, 768, 1071). */
#include "net/offload.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

enum { ETH_HLEN = 14, VLAN_HLEN = 4, IP_MIN = 20, TCP_MIN = 20, UDP_HLEN = 8 };
enum { TCP_FIN = 0x01, TCP_PSH = 0x08, TCP_CWR = 0x80 };

static inline unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}
static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v & 0xffff);
}

uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    /* 32-bit words in a 64-bit accumulator: the ones' complement sum does not depend on how
     * the 16-bit words are grouped. */
    uint64_t s = sum;
    for (; n >= 4; p += 4, n -= 4)
        s += be32(p);
    for (; n >= 2; p += 2, n -= 2)
        s += be16(p);
    if (n) s += (uint32_t)p[0] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

uint16_t net_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A computed checksum of zero goes out as all ones (the same value in ones' complement; UDP
 * reserves zero for "none"). */
static void put_csum(uint8_t *p, uint32_t sum)
{
    uint16_t c = net_csum_fold(sum);
    put_be16(p, c ? c : 0xffff);
}

bool net_csum_complete(uint8_t *frame, size_t len, unsigned start, unsigned offset)
{
    if ((size_t)start + offset + 2 > len) return false;
    put_csum(frame + start + offset, net_csum_add(0, frame + start, len - start));
    return true;
}

/* An IPv4 packet in frame: offsets of its header (l3) and payload (l4), and its total length
 * per the header. False if frame holds something else or the lengths do not fit. */
typedef struct Ip4 {
    size_t l3, l4;
    unsigned tot, proto;
} Ip4;

static bool parse_ip4(const uint8_t *f, size_t len, Ip4 *ip)
{
    if (len < ETH_HLEN) return false;
    size_t l3 = ETH_HLEN;
    unsigned type = be16(f + 12);
    if (type == 0x8100) {
        if (len < ETH_HLEN + VLAN_HLEN) return false;
        type = be16(f + 16);
        l3 += VLAN_HLEN;
    }
    if (type != 0x0800 || len < l3 + IP_MIN || f[l3] >> 4 != 4) return false;
    unsigned ihl = (f[l3] & 15) * 4u, tot = be16(f + l3 + 2);
    if (ihl < IP_MIN || tot < ihl || l3 + tot > len) return false;
    ip->l3 = l3;
    ip->l4 = l3 + ihl;
    ip->tot = tot;
    ip->proto = f[l3 + 9];
    return true;
}

static bool ip4_fragment(const uint8_t *f, const Ip4 *ip)
{
    return (be16(f + ip->l3 + 6) & 0x3fff) != 0; /* MF or a fragment offset */
}

/* The pseudo-header sum of a transport segment of l4len bytes. */
static uint32_t pseudo_sum(const uint8_t *f, const Ip4 *ip, unsigned l4len)
{
    uint32_t sum = net_csum_add(0, f + ip->l3 + 12, 8); /* source and destination */
    return sum + ip->proto + l4len;
}

bool net_tso4_segment(const uint8_t *frame, size_t len, unsigned mss,
                      void (*out)(void *opaque, const uint8_t *seg, size_t seglen), void *opaque)
{
    Ip4 ip;
    if (!mss || !parse_ip4(frame, len, &ip) || ip.proto != 6 || ip4_fragment(frame, &ip))
        return false;
    size_t ihl = ip.l4 - ip.l3;
    if (ip.tot < ihl + TCP_MIN) return false;
    size_t thl = (frame[ip.l4 + 12] >> 4) * 4u;
    if (thl < TCP_MIN || ihl + thl > ip.tot) return false;
    size_t hlen = ip.l4 + thl, payload = ip.tot - ihl - thl;
    size_t seg_max = payload < mss ? payload : mss;
    uint8_t *seg = xmalloc(hlen + seg_max);
    unsigned id = be16(frame + ip.l3 + 4);
    uint32_t seq = be32(frame + ip.l4 + 4);
    uint8_t flags = frame[ip.l4 + 13];
    size_t off = 0;
    unsigned k = 0;
    do {
        size_t n = payload - off < mss ? payload - off : mss;
        bool last = off + n == payload;
        memcpy(seg, frame, hlen);
        memcpy(seg + hlen, frame + hlen + off, n);
        uint8_t *iph = seg + ip.l3, *tcp = seg + ip.l4;
        put_be16(iph + 2, (unsigned)(ihl + thl + n));
        put_be16(iph + 4, (id + k) & 0xffff);
        put_be16(iph + 10, 0);
        put_csum(iph + 10, net_csum_add(0, iph, ihl));
        put_be32(tcp + 4, seq + (uint32_t)off);
        tcp[13] = (uint8_t)(flags & ~((last ? 0 : TCP_FIN | TCP_PSH) | (k ? TCP_CWR : 0)));
        put_be16(tcp + 16, 0);
        unsigned l4len = (unsigned)(thl + n);
        put_csum(tcp + 16, net_csum_add(pseudo_sum(seg, &ip, l4len), tcp, l4len));
        out(opaque, seg, hlen + n);
        off += n;
        k++;
    } while (off < payload);
    free(seg);
    return true;
}

bool net_l4_csum_ok(const uint8_t *frame, size_t len)
{
    Ip4 ip;
    if (!parse_ip4(frame, len, &ip) || ip4_fragment(frame, &ip)) return false;
    unsigned l4len = ip.tot - (unsigned)(ip.l4 - ip.l3);
    if (ip.proto == 6) {
        if (l4len < TCP_MIN) return false;
    } else if (ip.proto == 17) {
        if (l4len < UDP_HLEN || be16(frame + ip.l4 + 6) == 0) return false;
    } else {
        return false;
    }
    uint32_t sum = net_csum_add(pseudo_sum(frame, &ip, l4len), frame + ip.l4, l4len);
    return net_csum_fold(sum) == 0;
}
