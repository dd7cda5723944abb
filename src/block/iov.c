/* Scatter-gather list helpers (POSIX struct iovec). */
#include "block/iov.h"

#include <string.h>

size_t iov_size(const struct iovec *iov, int cnt)
{
    size_t n = 0;
    for (int i = 0; i < cnt; i++)
        n += iov[i].iov_len;
    return n;
}

/* Walk the list from offset and call op on each piece; shared by the copy helpers. */
static size_t iov_walk(const struct iovec *iov, int cnt, size_t offset, size_t len,
                       void (*op)(void *base, size_t n, size_t done, void *ctx), void *ctx)
{
    size_t done = 0;
    for (int i = 0; i < cnt && done < len; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - offset;
        if (n > len - done) n = len - done;
        op((uint8_t *)iov[i].iov_base + offset, n, done, ctx);
        done += n;
        offset = 0;
    }
    return done;
}

static void op_to(void *base, size_t n, size_t done, void *ctx)
{
    memcpy((uint8_t *)ctx + done, base, n);
}
static void op_from(void *base, size_t n, size_t done, void *ctx)
{
    memcpy(base, (const uint8_t *)ctx + done, n);
}
static void op_set(void *base, size_t n, size_t done, void *ctx)
{
    memset(base, *(int *)ctx, n);
}

size_t iov_to_buf(const struct iovec *iov, int cnt, size_t offset, void *buf, size_t len)
{
    return iov_walk(iov, cnt, offset, len, op_to, buf);
}

size_t iov_from_buf(const struct iovec *iov, int cnt, size_t offset, const void *buf, size_t len)
{
    return iov_walk(iov, cnt, offset, len, op_from, (void *)buf);
}

size_t iov_memset(const struct iovec *iov, int cnt, size_t offset, int c, size_t len)
{
    return iov_walk(iov, cnt, offset, len, op_set, &c);
}

int iov_slice(const struct iovec *src, int cnt, size_t offset, size_t len, struct iovec *dst,
              int dst_max)
{
    int n = 0;
    for (int i = 0; i < cnt && len && n < dst_max; i++) {
        if (offset >= src[i].iov_len) {
            offset -= src[i].iov_len;
            continue;
        }
        size_t piece = src[i].iov_len - offset;
        if (piece > len) piece = len;
        dst[n++] = (struct iovec){(uint8_t *)src[i].iov_base + offset, piece};
        len -= piece;
        offset = 0;
    }
    return n;
}
