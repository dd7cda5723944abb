/* Split virtqueues (virtio 1.x spec 2.7: rings, indirect descriptors 2.7.5.3, notification
 * suppression and event index 2.7.7-2.7.10); every ring field is untrusted guest input. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hw/virtio/virtio.h"
#include "util/alloc.h"

/* Buffers of one chain may cross memory-map boundaries, so one descriptor can map to several
 * host pieces; cap the total so a hostile chain cannot make us allocate without bound. */
#define VQ_MAX_PIECES (2 * VIRTQ_MAX_SIZE)

typedef struct VirtqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
} VirtqDesc;

/* Ring field offsets. */
static size_t avail_ring_off(unsigned i)
{
    return 4 + 2 * (size_t)i;
}
static size_t used_ring_off(unsigned i)
{
    return 4 + 8 * (size_t)i;
}

bool vq_map_rings(Virtqueue *vq)
{
    AddressSpace *as = vq->vdev->mem;
    unsigned n = vq->num;
    vq->desc = vq->avail = vq->used = NULL;
    if (vq->desc_addr % 16 || vq->avail_addr % 2 || vq->used_addr % 4) return false;
    /* The avail ring ends with used_event and the used ring with avail_event; map them too
     * whether or not EVENT_IDX is negotiated, as the driver must provide the space. */
    uint8_t *desc = as_ram_ptr(as, vq->desc_addr, 16 * (uint64_t)n, false);
    uint8_t *avail = as_ram_ptr(as, vq->avail_addr, 6 + 2 * (uint64_t)n, false);
    uint8_t *used = as_ram_ptr(as, vq->used_addr, 6 + 8 * (uint64_t)n, true);
    if (!desc || !avail || !used) return false;
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->map_generation = as->generation;
    return true;
}

/* Host pointers may go stale when the memory map changes (RAM regions added or moved). */
static bool vq_refresh(Virtqueue *vq)
{
    if (!vq->enabled) return false;
    if (vq->desc && vq->map_generation == vq->vdev->mem->generation) return true;
    if (vq_map_rings(vq)) return true;
    virtio_error(vq->vdev, "queue %u: rings are no longer in RAM", vq->index);
    return false;
}

static void vq_read_desc(const uint8_t *table, unsigned i, VirtqDesc *d)
{
    const uint8_t *p = table + 16 * (size_t)i;
    d->addr = virtio_ldq(p);
    d->len = virtio_ldl(p + 8);
    d->flags = virtio_ldw(p + 12);
    d->next = virtio_ldw(p + 14);
}

static uint16_t vq_avail_idx(const Virtqueue *vq)
{
    return virtio_ldw(vq->avail + 2);
}

static void vq_set_avail_event(Virtqueue *vq, uint16_t v)
{
    virtio_stw(vq->used + used_ring_off(vq->num), v);
}

/* Append the host pieces of guest range [addr, addr+len) to the scratch list. */
static bool vq_map_buf(Virtqueue *vq, uint64_t addr, uint32_t len, bool write, int *n)
{
    AddressSpace *as = vq->vdev->mem;
    uint64_t left = len;
    while (left) {
        const FlatRange *fr = as_lookup(as, addr);
        if (!fr) return false;
        uint64_t chunk = fr->end - addr + 1;
        if (chunk > left) chunk = left;
        uint8_t *p = as_ram_ptr(as, addr, chunk, write);
        if (!p) return false;
        if (write) as_notify_dma_write(as, addr, chunk); /* drop translated code there */
        if (*n == vq->scratch_cap) {
            if (vq->scratch_cap >= VQ_MAX_PIECES) return false;
            vq->scratch_cap = vq->scratch_cap ? 2 * vq->scratch_cap : 64;
            vq->scratch = xrealloc(vq->scratch, sizeof(struct iovec) * vq->scratch_cap);
        }
        vq->scratch[(*n)++] = (struct iovec){p, (size_t)chunk};
        addr += chunk;
        left -= chunk;
    }
    return true;
}

/* Walk the chain starting at head and map its buffers. NULL (device marked broken) for any
 * malformed chain. */
static VirtqElem *vq_walk(Virtqueue *vq, uint16_t head)
{
    VirtioDevice *vdev = vq->vdev;
    const uint8_t *table = vq->desc;
    unsigned table_size = vq->num;
    unsigned i = head;
    VirtqDesc d;
    vq_read_desc(table, i, &d);
    if (d.flags & VIRTQ_DESC_F_INDIRECT) {
        /* 2.7.5.3.1: an indirect descriptor stands alone and its table holds no further
         * indirect descriptors. */
        if (d.flags & VIRTQ_DESC_F_NEXT) {
            virtio_error(vdev, "queue %u: indirect descriptor %u also has NEXT", vq->index, i);
            return NULL;
        }
        if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_SIZE) {
            virtio_error(vdev, "queue %u: bad indirect table length %u", vq->index, d.len);
            return NULL;
        }
        table = as_ram_ptr(vdev->mem, d.addr, d.len, false);
        if (!table) {
            virtio_error(vdev, "queue %u: indirect table at 0x%llx+%u is not in RAM", vq->index,
                         (unsigned long long)d.addr, d.len);
            return NULL;
        }
        table_size = d.len / 16;
        i = 0;
        vq_read_desc(table, i, &d);
    }
    int n = 0, out_num = 0;
    uint64_t out_len = 0, in_len = 0;
    bool seen_write = false;
    /* A chain visits each descriptor of its table at most once, so a longer one loops. */
    for (unsigned count = 1;; count++) {
        if (count > table_size) {
            virtio_error(vdev, "queue %u: descriptor chain from %u loops", vq->index, head);
            return NULL;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            virtio_error(vdev, "queue %u: indirect descriptor inside a chain", vq->index);
            return NULL;
        }
        bool write = d.flags & VIRTQ_DESC_F_WRITE;
        if (!write && seen_write) {
            virtio_error(vdev, "queue %u: readable descriptor after a writable one", vq->index);
            return NULL;
        }
        seen_write |= write;
        if (d.len) {
            if (!vq_map_buf(vq, d.addr, d.len, write, &n)) {
                virtio_error(vdev, "queue %u: buffer 0x%llx+%u is not in guest RAM", vq->index,
                             (unsigned long long)d.addr, d.len);
                return NULL;
            }
            if (write)
                in_len += d.len;
            else
                out_len += d.len, out_num = n;
            if (in_len > UINT32_MAX || out_len > UINT32_MAX) {
                virtio_error(vdev, "queue %u: chain longer than 4 GiB", vq->index);
                return NULL;
            }
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT)) break;
        if (d.next >= table_size) {
            virtio_error(vdev, "queue %u: next index %u out of range", vq->index, d.next);
            return NULL;
        }
        i = d.next;
        vq_read_desc(table, i, &d);
    }
    VirtqElem *e = xmalloc(sizeof(VirtqElem) + sizeof(struct iovec) * (size_t)n);
    e->head = head;
    e->out_num = out_num;
    e->in_num = n - out_num;
    e->out_len = (size_t)out_len;
    e->in_len = (size_t)in_len;
    memcpy(e->iov, vq->scratch, sizeof(struct iovec) * (size_t)n);
    e->out = e->iov;
    e->in = e->iov + out_num;
    return e;
}

VirtqElem *vq_pop(Virtqueue *vq)
{
    VirtioDevice *vdev = vq->vdev;
    if (!vq_ready(vq) || !virtio_dma_enabled(vdev) || !vq_refresh(vq)) return NULL;
    uint16_t avail_idx = vq_avail_idx(vq);
    uint16_t pending = (uint16_t)(avail_idx - vq->last_avail_idx);
    if (pending == 0) return NULL;
    if (pending > vq->num) {
        virtio_error(vdev, "queue %u: available index %u is %u entries past %u", vq->index,
                     avail_idx, pending, vq->last_avail_idx);
        return NULL;
    }
    /* Read the ring entry only after the index that published it (2.7.13.3). */
    atomic_thread_fence(memory_order_acquire);
    uint16_t head = virtio_ldw(vq->avail + avail_ring_off(vq->last_avail_idx % vq->num));
    if (head >= vq->num) {
        virtio_error(vdev, "queue %u: head index %u out of range", vq->index, head);
        return NULL;
    }
    VirtqElem *e = vq_walk(vq, head);
    if (!e) return NULL;
    vq->last_avail_idx++;
    vq->inflight++;
    if (vq->notification && virtio_has_feature(vdev, VIRTIO_F_RING_EVENT_IDX))
        vq_set_avail_event(vq, vq->last_avail_idx);
    return e;
}

void vq_unpop(Virtqueue *vq, unsigned n)
{
    if (n > vq->inflight) n = vq->inflight;
    vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
    vq->inflight -= n;
    if (vq->notification && vq->used && virtio_has_feature(vq->vdev, VIRTIO_F_RING_EVENT_IDX))
        vq_set_avail_event(vq, vq->last_avail_idx);
}

void vq_fill(Virtqueue *vq, const VirtqElem *elem, uint32_t len, unsigned idx)
{
    if (!vq_refresh(vq)) return;
    if (len > elem->in_len) len = (uint32_t)elem->in_len;
    uint8_t *p = vq->used + used_ring_off((uint16_t)(vq->used_idx + idx) % vq->num);
    virtio_stl(p, elem->head);
    virtio_stl(p + 4, len);
}

void vq_flush(Virtqueue *vq, unsigned count)
{
    if (!vq_refresh(vq)) return;
    /* The entries must be visible before the index that publishes them. */
    atomic_thread_fence(memory_order_release);
    vq->used_idx = (uint16_t)(vq->used_idx + count);
    virtio_stw(vq->used + 2, vq->used_idx);
    vq->inflight = count > vq->inflight ? 0 : vq->inflight - count;
}

void vq_push(Virtqueue *vq, const VirtqElem *elem, uint32_t len)
{
    vq_fill(vq, elem, len, 0);
    vq_flush(vq, 1);
}

static bool vq_should_notify(Virtqueue *vq)
{
    /* Our used->idx store must be ordered before reading the driver's suppression fields. */
    atomic_thread_fence(memory_order_seq_cst);
    if (virtio_has_feature(vq->vdev, VIRTIO_F_RING_EVENT_IDX)) {
        uint16_t old = vq->signalled_used, new = vq->used_idx;
        bool valid = vq->signalled_used_valid;
        vq->signalled_used = new;
        vq->signalled_used_valid = true;
        if (!valid) return true;
        uint16_t event = virtio_ldw(vq->avail + avail_ring_off(vq->num));
        /* 2.7.10: interrupt if used_event lies in [old, new). */
        return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
    }
    return !(virtio_ldw(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void vq_notify(Virtqueue *vq)
{
    if (!vq_ready(vq) || !vq_refresh(vq)) return;
    if (vq_should_notify(vq)) virtio_raise_isr(vq->vdev, VIRTIO_ISR_QUEUE);
}

void vq_set_notification(Virtqueue *vq, bool enable)
{
    vq->notification = enable;
    if (!vq_refresh(vq)) return;
    if (virtio_has_feature(vq->vdev, VIRTIO_F_RING_EVENT_IDX)) {
        /* Disabling is implicit: avail_event simply stays behind. */
        if (enable) vq_set_avail_event(vq, vq_avail_idx(vq));
    } else {
        uint16_t flags = virtio_ldw(vq->used);
        flags = enable ? flags & ~VIRTQ_USED_F_NO_NOTIFY : flags | VIRTQ_USED_F_NO_NOTIFY;
        virtio_stw(vq->used, flags);
    }
    /* Re-check for buffers after this store (the caller loops on vq_has_avail). */
    atomic_thread_fence(memory_order_seq_cst);
}

bool vq_has_avail(Virtqueue *vq)
{
    if (!vq_ready(vq) || !vq_refresh(vq)) return false;
    return vq_avail_idx(vq) != vq->last_avail_idx;
}

void vq_reset(Virtqueue *vq)
{
    vq->num = vq->num_max;
    vq->enabled = false;
    vq->desc_addr = vq->avail_addr = vq->used_addr = 0;
    vq->notification = true;
    vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->inflight = 0;
    vq->desc = vq->avail = vq->used = NULL;
}
