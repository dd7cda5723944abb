/* Conventional PCI bus 0 (PCI Local Bus Specification 3.0): type-0 configuration headers,
 * configuration mechanism #1 at 0xcf8/0xcfc, BAR sizing and mapping into the memory and I/O
 * address spaces, INTx routing with level sharing, capability lists. */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/memory.h"

/* Type-0 header offsets. */
enum {
    PCI_VENDOR_ID = 0x00,
    PCI_DEVICE_ID = 0x02,
    PCI_COMMAND = 0x04,
    PCI_STATUS = 0x06,
    PCI_REVISION_ID = 0x08,
    PCI_CLASS_PROG = 0x09,
    PCI_CLASS_DEVICE = 0x0a,
    PCI_CACHE_LINE_SIZE = 0x0c,
    PCI_LATENCY_TIMER = 0x0d,
    PCI_HEADER_TYPE = 0x0e,
    PCI_BASE_ADDRESS_0 = 0x10,
    PCI_SUBSYSTEM_VENDOR_ID = 0x2c,
    PCI_SUBSYSTEM_ID = 0x2e,
    PCI_ROM_ADDRESS = 0x30,
    PCI_CAPABILITY_LIST = 0x34,
    PCI_INTERRUPT_LINE = 0x3c,
    PCI_INTERRUPT_PIN = 0x3d,
    PCI_CONFIG_HEADER_END = 0x40,
};

enum {
    PCI_COMMAND_IO = 0x0001,
    PCI_COMMAND_MEMORY = 0x0002,
    PCI_COMMAND_MASTER = 0x0004,
    PCI_COMMAND_PARITY = 0x0040,
    PCI_COMMAND_SERR = 0x0100,
    PCI_COMMAND_INTX_DISABLE = 0x0400,
    PCI_STATUS_INTERRUPT = 0x0008,
    PCI_STATUS_CAP_LIST = 0x0010,
    PCI_CAP_ID_VNDR = 0x09, /* vendor-specific capability (virtio's modern interface) */
};

#define PCI_NUM_BARS          6
#define PCI_BAR_UNMAPPED      0xffffffffu
#define PCI_DEVFN(slot, func) (((slot) << 3) | (func))

typedef struct PciBus PciBus;
typedef struct PciDevice PciDevice;

typedef struct PciBar {
    uint32_t size; /* 0: not implemented */
    bool is_io;
    const MemOps *ops;
    void *opaque;
    MemRegion *mr;
    uint32_t addr; /* where it is decoded now, or PCI_BAR_UNMAPPED */
} PciBar;

struct PciDevice {
    PciBus *bus;
    const char *name;
    int devfn;
    uint8_t config[256];
    uint8_t wmask[256];   /* bits the guest may change */
    uint8_t w1cmask[256]; /* bits a guest write of 1 clears (status errors) */
    PciBar bars[PCI_NUM_BARS];
    int irq_level;     /* INTx as the device drives it */
    bool irq_counted;  /* included in the PIRQ's count of asserted sources */
    unsigned cap_next; /* where the next capability may go (>= 0x40, rounded up to 4) */
    /* Optional hooks. config_read/config_write replace the defaults (call the pci_default_*
     * functions from them for the standard behaviour). reset runs after the bus restored the
     * standard header; destroy when the bus is freed. */
    uint32_t (*config_read)(PciDevice *d, unsigned off, unsigned size);
    void (*config_write)(PciDevice *d, unsigned off, uint32_t val, unsigned size);
    void (*reset)(PciDevice *d);
    void (*destroy)(PciDevice *d);
    void *opaque;
};

/* The bus with configuration mechanism #1 registered at 0xcf8-0xcff in io. BARs are mapped
 * into mem and io. The bus's Device resets every device on it. */
PciBus *pci_bus_new(AddressSpace *mem, AddressSpace *io);
void pci_bus_free(PciBus *bus);
Device *pci_bus_device(PciBus *bus);

/* INTx routing, provided by the interrupt router (the PIIX): map_irq turns (device, pin 1-4)
 * into a PIRQ index 0-3; set_pirq receives each PIRQ's level, which is high while any device
 * routed to it asserts its INTx (sources are counted, so sharing works). */
void pci_bus_set_irq_router(PciBus *bus, int (*map_irq)(PciDevice *d, int pin),
                            void (*set_pirq)(void *opaque, int pirq, int level), void *opaque);
/* Byte register at 0xcf9 (PIIX reset control), which shares its dword with 0xcf8. */
void pci_bus_set_reset_control(PciBus *bus, uint8_t (*read)(void *opaque),
                               void (*write)(void *opaque, uint8_t val), void *opaque);

/* Add a function at slot 0-31, function 0-7 (slot < 0: the first free slot). Returns NULL if
 * the place is taken. class_code is 24 bits: class << 16 | subclass << 8 | prog-if. The
 * standard header is initialised with the usual writable fields; the interrupt pin is 0
 * until the device sets PCI_INTERRUPT_PIN. */
PciDevice *pci_register_device(PciBus *bus, int slot, int func, const char *name,
                               uint16_t vendor_id, uint16_t device_id, uint8_t revision,
                               uint32_t class_code);
PciDevice *pci_find_device(PciBus *bus, int slot, int func);

/* Declare BAR index as an I/O or 32-bit memory BAR of size bytes (rounded up to a power of
 * two, at least 4 for I/O and 16 for memory) backed by ops/opaque (offsets relative to the
 * BAR). The region is mapped when the guest programs the BAR and enables decoding in the
 * command register, and moves whenever it reprograms it. Returns false on bad arguments. */
bool pci_register_bar(PciDevice *d, int index, uint32_t size, bool is_io, const MemOps *ops,
                      void *opaque);
uint32_t pci_bar_address(const PciDevice *d, int index);

/* Drive the device's INTx pin (level). Masked by the command register's INTx disable bit;
 * reflected in the status register's interrupt bit. */
void pci_set_irq(PciDevice *d, int level);
bool pci_bus_master_enabled(const PciDevice *d);

/* Append a capability of size bytes (including its 2-byte header) to the list; returns its
 * config offset, or 0 if config space is full. The body is zero and read-only to the guest
 * unless the device sets wmask. */
uint8_t pci_add_capability(PciDevice *d, uint8_t id, uint8_t size);
/* Offset of the first capability with this id, or 0. */
uint8_t pci_find_capability(const PciDevice *d, uint8_t id);

/* Raw config helpers for device code (no masks applied). */
void pci_set_byte(PciDevice *d, unsigned off, uint8_t v);
void pci_set_word(PciDevice *d, unsigned off, uint16_t v);
void pci_set_long(PciDevice *d, unsigned off, uint32_t v);
uint8_t pci_get_byte(const PciDevice *d, unsigned off);
uint16_t pci_get_word(const PciDevice *d, unsigned off);
uint32_t pci_get_long(const PciDevice *d, unsigned off);

uint32_t pci_default_config_read(PciDevice *d, unsigned off, unsigned size);
void pci_default_config_write(PciDevice *d, unsigned off, uint32_t val, unsigned size);

/* Guest-style configuration access by bus/device/function (for firmware helpers and tests). */
uint32_t pci_config_read(PciBus *bus, int devfn, unsigned off, unsigned size);
void pci_config_write(PciBus *bus, int devfn, unsigned off, uint32_t val, unsigned size);

/* Call fn for every device on the bus, in devfn order. */
void pci_for_each_device(PciBus *bus, void (*fn)(PciDevice *d, void *opaque), void *opaque);

#endif
