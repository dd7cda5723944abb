/* QEMU-compatible -drive/-netdev/-nic/-device/-snapshot handling for virtio devices: parsed as
 * main() reads the command line, realized once the PCI bus exists. */
#ifndef HW_VIRTIO_VIRTIO_OPTS_H
#define HW_VIRTIO_VIRTIO_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "block/block.h"
#include "chardev/chardev.h"
#include "core/memory.h"
#include "host/poll.h"
#include "hw/pci/pci.h"

typedef struct VirtioOpts VirtioOpts;

VirtioOpts *virtio_opts_new(void);
/* Frees the option list and any back end no device took (e.g. an unused -netdev). Devices
 * already created belong to the PCI bus. NULL is allowed. */
void virtio_opts_free(VirtioOpts *o);

/* Each returns 1 if the option was taken, 0 if it is not for virtio (the caller handles it:
 * an if=ide -drive, a -device of another kind), or -1 with a one-line message in err. */
int virtio_opts_drive(VirtioOpts *o, const char *spec, char *err, size_t errlen);
int virtio_opts_netdev(VirtioOpts *o, const char *spec, char *err, size_t errlen);
int virtio_opts_nic(VirtioOpts *o, const char *spec, char *err, size_t errlen);
int virtio_opts_device(VirtioOpts *o, const char *spec, char *err, size_t errlen);
/* -drive if=none,id=ID is kept here because a -device may name it. A non-virtio device
 * (e.g. ide-hd,drive=ID) claims it with this, then opens it with blk_open_drive (passing the
 * -snapshot flag); NULL if there is no such if=none drive or it is already taken. The spec
 * stays valid until virtio_opts_free. */
const DriveSpec *virtio_opts_claim_drive(VirtioOpts *o, const char *id);
/* -snapshot: every drive's writes go to a temporary overlay. */
void virtio_opts_set_snapshot(VirtioOpts *o, bool on);
/* Whether anything was given (so the board knows it needs a PCI bus at all). */
bool virtio_opts_empty(const VirtioOpts *o);

/* Resolves "chardev=ID" of virtconsole; returns NULL for an unknown id. */
typedef Chardev *(*VirtioChardevLookup)(void *opaque, const char *id);

/* Open the images and sockets and create the devices in command-line order on bus (slot
 * from addr=, else the first free one; call it after the board's own PCI devices exist),
 * DMA-ing into mem; sockets are watched on poller. Returns false with a one-line message
 * (missing image, refused connection, unknown drive/netdev/chardev id, ...). */
bool virtio_opts_realize(VirtioOpts *o, PciBus *bus, AddressSpace *mem, Poller *poller,
                         VirtioChardevLookup find_chardev, void *lookup_opaque, char *err,
                         size_t errlen);

#endif
