/* Checksum and segmentation offloads a network front end performs for its guest (virtio-net's
 * CSUM, HOST_TSO4 and GUEST_CSUM): the Internet checksum (RFC 1071), completing a checksum the
 * guest left partial, cutting an IPv4 TCP frame larger than the MSS into frames of at most
 * MSS payload bytes with their headers and checksums fixed up (as a NIC's TSO does), and
 * verifying the TCP/UDP checksum of a received IPv4 frame. Frames are Ethernet frames, with
 * an optional 802.1Q tag. */
#ifndef NET_OFFLOAD_H
#define NET_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ones' complement sum of the bytes (as big-endian 16-bit words, an odd last byte padded with
 * zero) added to sum; fold with net_csum_fold. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t net_csum_fold(uint32_t sum); /* the complement of the folded sum */

/* Stores the checksum of frame[start, len) at frame + start + offset (which holds the partial
 * sum the guest put there, typically the pseudo-header's). False, frame untouched, if the
 * fields do not fit the frame. */
bool net_csum_complete(uint8_t *frame, size_t len, unsigned start, unsigned offset);

/* Sends frame (IPv4 TCP) as segments of at most mss payload bytes through out(opaque, seg,
 * seglen), each with the IPv4 total length, identification (+1 per segment) and header
 * checksum, the TCP sequence number, flags (FIN and PSH on the last segment only, CWR on the
 * first only) and checksum recomputed. False, nothing sent, if frame is not IPv4 TCP with
 * consistent lengths or mss is 0. */
bool net_tso4_segment(const uint8_t *frame, size_t len, unsigned mss,
                      void (*out)(void *opaque, const uint8_t *seg, size_t seglen), void *opaque);

/* True if frame is IPv4 (unfragmented) TCP or UDP whose checksum verifies (UDP with a zero
 * checksum has none and does not count). */
bool net_l4_csum_ok(const uint8_t *frame, size_t len);

#endif
