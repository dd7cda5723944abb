/* QEMU-style -drive/-netdev/-nic/-device handling for virtio devices (option names follow
 * QEMU's documentation of those devices, so existing scripts carry over). */
#include "hw/virtio/virtio_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "block/keyval.h"
#include "hw/virtio/virtio_blk.h"
#include "hw/virtio/virtio_console.h"
#include "hw/virtio/virtio_net.h"
#include "hw/virtio/virtio_rng.h"
#include "net/net.h"
#include "util/alloc.h"

typedef struct VoDrive {
    DriveSpec spec;
    bool automatic; /* if=virtio: gets its own virtio-blk-pci */
    bool used;
    BlockDriverState *bs;
} VoDrive;

typedef struct VoNetdev {
    char *spec, *id;
    bool used;
    NetPort *port;
} VoNetdev;

typedef enum { VO_BLK, VO_NET, VO_SERIAL, VO_RNG } VoKind;

typedef struct VoDevice {
    VoKind kind;
    int slot;
    char *backend; /* drive id (blk), netdev id (net), chardev id (serial); may be NULL */
    int drive;     /* index into drives for if=virtio drives, else -1 */
    char *serial;  /* blk */
    bool has_mac;  /* net */
    uint8_t mac[6];
} VoDevice;

struct VirtioOpts {
    VoDrive *drives;
    int ndrives;
    VoNetdev *netdevs;
    int nnetdevs;
    VoDevice *devices;
    int ndevices;
    bool snapshot;
    int nic_count; /* NICs that got a default MAC */
    int anon;      /* for ids of -nic netdevs */
};

VirtioOpts *virtio_opts_new(void)
{
    return XNEW(VirtioOpts);
}

void virtio_opts_free(VirtioOpts *o)
{
    if (!o) return;
    for (int i = 0; i < o->ndrives; i++) {
        blk_drive_spec_free(&o->drives[i].spec);
        blk_close(o->drives[i].bs);
    }
    for (int i = 0; i < o->nnetdevs; i++) {
        free(o->netdevs[i].spec);
        free(o->netdevs[i].id);
        net_port_close(o->netdevs[i].port);
    }
    for (int i = 0; i < o->ndevices; i++) {
        free(o->devices[i].backend);
        free(o->devices[i].serial);
    }
    free(o->drives);
    free(o->netdevs);
    free(o->devices);
    free(o);
}

void virtio_opts_set_snapshot(VirtioOpts *o, bool on)
{
    o->snapshot = on;
}

bool virtio_opts_empty(const VirtioOpts *o)
{
    return o->ndevices == 0;
}

static VoDevice *vo_add_device(VirtioOpts *o, VoKind kind)
{
    o->devices = xrealloc(o->devices, sizeof(VoDevice) * (size_t)(o->ndevices + 1));
    VoDevice *d = &o->devices[o->ndevices++];
    *d = (VoDevice){.kind = kind, .slot = -1, .drive = -1};
    return d;
}

static int vo_find_drive(VirtioOpts *o, const char *id)
{
    for (int i = 0; i < o->ndrives; i++)
        if (o->drives[i].spec.id && !strcmp(o->drives[i].spec.id, id)) return i;
    return -1;
}

static int vo_find_netdev(VirtioOpts *o, const char *id)
{
    for (int i = 0; i < o->nnetdevs; i++)
        if (!strcmp(o->netdevs[i].id, id)) return i;
    return -1;
}

int virtio_opts_drive(VirtioOpts *o, const char *spec, char *err, size_t errlen)
{
    DriveSpec d;
    if (!blk_parse_drive_spec(spec, &d, err, errlen)) return -1;
    bool automatic = !strcmp(d.iface, "virtio");
    if (!automatic && strcmp(d.iface, "none")) {
        blk_drive_spec_free(&d);
        return 0;
    }
    if (d.id && vo_find_drive(o, d.id) >= 0) {
        snprintf(err, errlen, "-drive: duplicate id '%s'", d.id);
        blk_drive_spec_free(&d);
        return -1;
    }
    o->drives = xrealloc(o->drives, sizeof(VoDrive) * (size_t)(o->ndrives + 1));
    o->drives[o->ndrives] = (VoDrive){.spec = d, .automatic = automatic};
    if (automatic) {
        VoDevice *dev = vo_add_device(o, VO_BLK);
        dev->drive = o->ndrives;
        dev->serial = d.serial ? xstrdup(d.serial) : NULL;
    }
    o->ndrives++;
    return 1;
}

static int vo_add_netdev(VirtioOpts *o, const char *spec, const char *id, char *err, size_t errlen)
{
    if (vo_find_netdev(o, id) >= 0) {
        snprintf(err, errlen, "-netdev: duplicate id '%s'", id);
        return -1;
    }
    o->netdevs = xrealloc(o->netdevs, sizeof(VoNetdev) * (size_t)(o->nnetdevs + 1));
    o->netdevs[o->nnetdevs++] = (VoNetdev){.spec = xstrdup(spec), .id = xstrdup(id)};
    return 1;
}

/* The type and id are checked now; the rest when the socket is opened at realize. */
static bool vo_check_netdev(KvList *l, const char *opt, char *err, size_t errlen)
{
    const char *type = kv_get(l, "type");
    if (!type || strcmp(type, "socket")) {
        snprintf(err, errlen, "%s: unsupported network back end '%s' (supported: socket)", opt,
                 type ? type : "");
        return false;
    }
    return true;
}

int virtio_opts_netdev(VirtioOpts *o, const char *spec, char *err, size_t errlen)
{
    KvList l;
    if (!kv_parse(&l, spec, "type", err, errlen)) return -1;
    int r = -1;
    const char *id = kv_get(&l, "id");
    if (!vo_check_netdev(&l, "-netdev", err, errlen)) goto out;
    if (!id || !*id) {
        snprintf(err, errlen, "-netdev %s: missing id= option", spec);
        goto out;
    }
    r = vo_add_netdev(o, spec, id, err, errlen);
out:
    kv_free(&l);
    return r;
}

static bool vo_parse_mac(const char *s, uint8_t mac[6], char *err, size_t errlen)
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) !=
            6 ||
        strlen(s) != 17) {
        snprintf(err, errlen, "invalid MAC address '%s' (expected xx:xx:xx:xx:xx:xx)", s);
        return false;
    }
    if (v[0] & 1) {
        snprintf(err, errlen, "MAC address '%s' is a multicast address", s);
        return false;
    }
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return true;
}

/* QEMU's PCI address syntax: addr=SLOT[.FUNCTION], hexadecimal. */
static bool vo_parse_addr(const char *s, int *slot, char *err, size_t errlen)
{
    char *end;
    unsigned long v = strtoul(s, &end, 16);
    if (end == s || v > 31 || (*end && strcmp(end, ".0"))) {
        snprintf(err, errlen, "invalid PCI address addr=%s (slot 0-1f, function 0)", s);
        return false;
    }
    *slot = (int)v;
    return true;
}

int virtio_opts_nic(VirtioOpts *o, const char *spec, char *err, size_t errlen)
{
    KvList l;
    if (!kv_parse(&l, spec, "type", err, errlen)) return -1;
    int r = -1;
    const char *model = kv_get(&l, "model");
    const char *mac = kv_get(&l, "mac");
    if (model && strcmp(model, "virtio-net-pci") && strcmp(model, "virtio")) {
        r = 0; /* another NIC model: not ours */
        goto out;
    }
    const char *type = kv_get(&l, "type");
    if (type && !strcmp(type, "none")) {
        r = 1;
        goto out;
    }
    if (!vo_check_netdev(&l, "-nic", err, errlen)) goto out;
    VoDevice tmp = {0};
    if (mac && !vo_parse_mac(mac, tmp.mac, err, errlen)) goto out;
    /* The rest of the string is the back end's; rebuild it without model= and mac=. */
    char id[32];
    snprintf(id, sizeof id, "__nic%d", o->anon++);
    size_t cap = strlen(spec) + 64;
    char *nd = xmalloc(cap);
    snprintf(nd, cap, "%s,id=%s", type, id);
    for (int i = 0; i < l.n; i++) {
        const char *k = l.v[i].key;
        if (!strcmp(k, "type") || !strcmp(k, "model") || !strcmp(k, "mac") || !strcmp(k, "id"))
            continue;
        size_t len = strlen(nd);
        snprintf(nd + len, cap - len, ",%s=%s", k, l.v[i].value);
        if (strchr(l.v[i].value, ',')) {
            snprintf(err, errlen, "-nic: commas in values are not supported");
            free(nd);
            goto out;
        }
    }
    r = vo_add_netdev(o, nd, id, err, errlen);
    free(nd);
    if (r == 1) {
        VoDevice *d = vo_add_device(o, VO_NET);
        d->backend = xstrdup(id);
        d->has_mac = mac != NULL;
        memcpy(d->mac, tmp.mac, 6);
    }
out:
    kv_free(&l);
    return r;
}

/* Properties every -device accepts. */
static bool vo_common_props(KvList *l, VoDevice *d, char *err, size_t errlen)
{
    const char *v;
    if ((v = kv_get(l, "addr")) && !vo_parse_addr(v, &d->slot, err, errlen)) return false;
    if ((v = kv_get(l, "bus")) && strcmp(v, "pci.0")) {
        snprintf(err, errlen, "-device: unknown bus '%s' (only pci.0)", v);
        return false;
    }
    bool modern_off = false;
    if (!kv_get_bool(l, "disable-modern", &modern_off, err, errlen)) return false;
    if (modern_off) {
        snprintf(err, errlen, "-device: legacy-only virtio (disable-modern=on) is not supported");
        return false;
    }
    /* Accepted and meaningless here: we are always modern-only, boot order is the
     * firmware's, and there is no option ROM. */
    kv_get(l, "id");
    kv_get(l, "disable-legacy");
    kv_get(l, "bootindex");
    kv_get(l, "romfile");
    return true;
}

int virtio_opts_device(VirtioOpts *o, const char *spec, char *err, size_t errlen)
{
    KvList l;
    if (!kv_parse(&l, spec, "driver", err, errlen)) return -1;
    const char *drv = kv_get(&l, "driver");
    int r = -1;
    if (!drv) {
        snprintf(err, errlen, "-device: missing device name");
        goto out;
    }
    VoDevice tmp = {.slot = -1, .drive = -1};
    const char *v;
    if (!strcmp(drv, "virtconsole")) {
        /* A port on the most recent virtio-serial device (we offer one port per device). */
        VoDevice *ser = NULL;
        for (int i = o->ndevices - 1; i >= 0 && !ser; i--)
            if (o->devices[i].kind == VO_SERIAL) ser = &o->devices[i];
        const char *chr = kv_get(&l, "chardev");
        kv_get(&l, "id");
        kv_get(&l, "name");
        kv_get(&l, "nr");
        if (!ser) {
            snprintf(err, errlen, "-device virtconsole: needs a -device virtio-serial-pci first");
        } else if (ser->backend) {
            snprintf(err, errlen,
                     "-device virtconsole: only one console per virtio-serial-pci "
                     "is supported");
        } else if (!chr) {
            snprintf(err, errlen, "-device virtconsole: missing chardev= option");
        } else if ((v = kv_unused(&l))) {
            snprintf(err, errlen, "-device virtconsole: unknown option '%s'", v);
        } else {
            ser->backend = xstrdup(chr);
            r = 1;
        }
        goto out;
    }
    VoKind kind;
    if (!strcmp(drv, "virtio-blk-pci") || !strcmp(drv, "virtio-blk")) {
        kind = VO_BLK;
        if (!(v = kv_get(&l, "drive"))) {
            snprintf(err, errlen, "-device %s: missing drive= option", drv);
            goto out;
        }
        tmp.backend = xstrdup(v);
        if ((v = kv_get(&l, "serial"))) tmp.serial = xstrdup(v);
    } else if (!strcmp(drv, "virtio-net-pci") || !strcmp(drv, "virtio-net")) {
        kind = VO_NET;
        if ((v = kv_get(&l, "netdev"))) tmp.backend = xstrdup(v);
        if ((v = kv_get(&l, "mac"))) {
            if (!vo_parse_mac(v, tmp.mac, err, errlen)) goto fail;
            tmp.has_mac = true;
        }
    } else if (!strcmp(drv, "virtio-serial-pci") || !strcmp(drv, "virtio-serial")) {
        kind = VO_SERIAL;
        kv_get(&l, "max_ports");
    } else if (!strcmp(drv, "virtio-rng-pci") || !strcmp(drv, "virtio-rng")) {
        kind = VO_RNG;
        kv_get(&l, "max-bytes");
        kv_get(&l, "period");
    } else {
        r = 0;
        goto out;
    }
    if (!vo_common_props(&l, &tmp, err, errlen)) goto fail;
    if ((v = kv_unused(&l))) {
        snprintf(err, errlen, "-device %s: unknown option '%s'", drv, v);
        goto fail;
    }
    tmp.kind = kind;
    *vo_add_device(o, kind) = tmp;
    r = 1;
    goto out;
fail:
    free(tmp.backend);
    free(tmp.serial);
out:
    kv_free(&l);
    return r;
}

const DriveSpec *virtio_opts_claim_drive(VirtioOpts *o, const char *id)
{
    int i = vo_find_drive(o, id);
    if (i < 0 || o->drives[i].automatic || o->drives[i].used) return NULL;
    o->drives[i].used = true;
    return &o->drives[i].spec;
}

static bool vo_realize_blk(VirtioOpts *o, VoDevice *d, PciBus *bus, AddressSpace *mem, char *err,
                           size_t errlen)
{
    int i = d->drive;
    if (i < 0) {
        i = vo_find_drive(o, d->backend);
        if (i < 0) {
            snprintf(err, errlen, "-device virtio-blk-pci: no -drive with id '%s'", d->backend);
            return false;
        }
        if (o->drives[i].automatic) {
            snprintf(err, errlen,
                     "-device virtio-blk-pci: drive '%s' is already attached "
                     "(use if=none for -device)",
                     d->backend);
            return false;
        }
    }
    VoDrive *dr = &o->drives[i];
    if (dr->used) {
        snprintf(err, errlen, "-device virtio-blk-pci: drive '%s' is used twice", d->backend);
        return false;
    }
    dr->used = true;
    dr->bs = blk_open_drive(&dr->spec, o->snapshot, err, errlen);
    if (!dr->bs) return false;
    const char *serial = d->serial ? d->serial : dr->spec.serial;
    if (!virtio_blk_new(bus, d->slot, mem, dr->bs, serial, err, errlen)) return false;
    dr->bs = NULL; /* the device owns it now */
    return true;
}

static bool vo_realize_net(VirtioOpts *o, VoDevice *d, PciBus *bus, AddressSpace *mem,
                           Poller *poller, char *err, size_t errlen)
{
    NetPort *port = NULL;
    VoNetdev *nd = NULL;
    if (d->backend) {
        int i = vo_find_netdev(o, d->backend);
        if (i < 0) {
            snprintf(err, errlen, "-device virtio-net-pci: no -netdev with id '%s'", d->backend);
            return false;
        }
        nd = &o->netdevs[i];
        if (nd->used) {
            snprintf(err, errlen, "-device virtio-net-pci: netdev '%s' is used twice", d->backend);
            return false;
        }
        nd->used = true;
        nd->port = net_open_netdev_spec(nd->spec, poller, err, errlen);
        if (!nd->port) return false;
        port = nd->port;
    }
    uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    if (d->has_mac)
        memcpy(mac, d->mac, 6);
    else
        mac[5] = (uint8_t)(mac[5] + o->nic_count++); /* like QEMU: ...:56, :57, ... */
    if (!virtio_net_new(bus, d->slot, mem, port, mac, err, errlen)) return false;
    if (nd) nd->port = NULL;
    return true;
}

bool virtio_opts_realize(VirtioOpts *o, PciBus *bus, AddressSpace *mem, Poller *poller,
                         VirtioChardevLookup find_chardev, void *lookup_opaque, char *err,
                         size_t errlen)
{
    for (int i = 0; i < o->ndevices; i++) {
        VoDevice *d = &o->devices[i];
        bool ok = false;
        switch (d->kind) {
        case VO_BLK: ok = vo_realize_blk(o, d, bus, mem, err, errlen); break;
        case VO_NET: ok = vo_realize_net(o, d, bus, mem, poller, err, errlen); break;
        case VO_RNG: ok = virtio_rng_new(bus, d->slot, mem, err, errlen) != NULL; break;
        case VO_SERIAL: {
            Chardev *chr = NULL;
            if (d->backend) {
                chr = find_chardev ? find_chardev(lookup_opaque, d->backend) : NULL;
                if (!chr) {
                    snprintf(err, errlen, "-device virtconsole: no -chardev with id '%s'",
                             d->backend);
                    break;
                }
            }
            ok = virtio_console_new(bus, d->slot, mem, chr, err, errlen) != NULL;
            break;
        }
        }
        if (!ok) return false;
    }
    return true;
}
