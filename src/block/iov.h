/* Scatter-gather lists (struct iovec arrays) as used by the block layer and by virtio requests:
 * copying to and from flat buffers at an offset, sizing and zero-filling. */
#ifndef BLOCK_IOV_H
#define BLOCK_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

size_t iov_size(const struct iovec *iov, int cnt);
/* Copy up to len bytes starting offset bytes into the list; returns the bytes copied. */
size_t iov_to_buf(const struct iovec *iov, int cnt, size_t offset, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, int cnt, size_t offset, const void *buf, size_t len);
size_t iov_memset(const struct iovec *iov, int cnt, size_t offset, int c, size_t len);
/* Describe bytes [offset, offset+len) of src in dst; returns the entry count. The result is
 * shorter than len (check with iov_size) when src ends first or dst_max entries are used up. */
int iov_slice(const struct iovec *src, int cnt, size_t offset, size_t len, struct iovec *dst,
              int dst_max);

#endif
