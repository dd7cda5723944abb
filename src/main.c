/* kestrel command line: parses QEMU-style options (qemu-system-i386 spellings and defaults where
 * kestrel has the feature), builds the PC machine and runs it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hw/pc/pc.h"
#include "hw/virtio/virtio_opts.h"
#include "util/log.h"

#define KESTREL_VERSION  "0.1"
#define ICOUNT_MAX_SHIFT 10

typedef struct Options {
    PcConfig pc;
    VirtioOpts *virtio;
    int nserial;
    bool nographic, display_none;
    const char *log_file;
    const char *log_items;
} Options;

static const char usage_text[] =
    "usage: kestrel [options]\n"
    "QEMU-compatible options (qemu-system-i386 spellings):\n"
    "  -m SIZE              guest RAM, MiB unless suffixed K/M/G (default 128, minimum 8)\n"
    "  -kernel FILE         multiboot kernel or Linux bzImage to boot (required: no BIOS)\n"
    "  -initrd FILE[,...]   Linux initrd, or multiboot modules \"path args,path args\"\n"
    "  -append TEXT         kernel command line\n"
    "  -nographic           serial console on stdio (Ctrl-A X quits, Ctrl-A H helps)\n"
    "  -display none        no display (COM1 then defaults to null)\n"
    "  -serial SPEC         COM1, then COM2: stdio|null|none|file:PATH|pty|tcp:...|unix:...\n"
    "  -debugcon SPEC       port 0xe9 debug console (same SPEC forms)\n"
    "  -device isa-debug-exit[,iobase=N][,iosize=N]\n"
    "                       writing V to the port exits with status (V << 1) | 1\n"
    "  -no-reboot           exit (status 0) when the guest resets instead of rebooting\n"
    "  -icount [shift=]N    deterministic time: 2^N ns per instruction (N = 0-10)\n"
    "  -accel tcg[,jit=on|off]  jit=off selects the IR interpreter\n"
    "  -d LIST / -D FILE    log categories (-d help lists them) / log to FILE\n"
    "  -drive file=IMG,format=raw,if=virtio[,readonly=on][,snapshot=on]\n"
    "                       virtio-blk disk (raw image)\n"
    "  -netdev socket,id=ID,listen=[HOST]:PORT|connect=HOST:PORT|mcast=GROUP:PORT\n"
    "                       network back end joining VMs (QEMU's socket framing)\n"
    "  -nic socket,...[,mac=MAC]  back end and virtio-net card in one option\n"
    "  -device virtio-blk-pci,drive=ID | virtio-net-pci,netdev=ID[,mac=MAC] |\n"
    "          virtio-rng-pci | virtio-serial-pci + virtconsole,chardev=ID\n"
    "  -snapshot            disk writes go to a temporary overlay; images stay unchanged\n"
    "  -M pc                machine type (only pc)\n"
    "  -h, -help, --help    this text;  -version  version\n"
    "Not supported yet: -s, -S, -gdb, IDE disks, user-mode networking.\n";

/* One-line error and exit status 1, the contract for every bad input. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_error("%s", buf);
    return 1;
}

/* QEMU's size syntax: a number with an optional fraction and a K/M/G/T suffix (optionally
 * followed by B); no suffix means default_unit. Returns false on malformed input. */
static bool parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
    errno = 0;
    char *end;
    if (!(*s >= '0' && *s <= '9')) return false;
    unsigned long long whole = strtoull(s, &end, 10);
    if (errno) return false;
    uint64_t frac_num = 0, frac_den = 1;
    if (*end == '.') {
        end++;
        if (!(*end >= '0' && *end <= '9')) return false;
        while (*end >= '0' && *end <= '9') {
            if (frac_den < 1000000000ull) {
                frac_num = frac_num * 10 + (uint64_t)(*end - '0');
                frac_den *= 10;
            }
            end++;
        }
    }
    uint64_t unit = default_unit;
    switch (*end) {
    case 'b':
    case 'B':
        unit = 1;
        end++;
        break;
    case 'k':
    case 'K':
        unit = 1ull << 10;
        end++;
        break;
    case 'm':
    case 'M':
        unit = 1ull << 20;
        end++;
        break;
    case 'g':
    case 'G':
        unit = 1ull << 30;
        end++;
        break;
    case 't':
    case 'T':
        unit = 1ull << 40;
        end++;
        break;
    default: break;
    }
    if (unit != 1 && (*end == 'b' || *end == 'B')) end++;
    if (*end) return false;
    if (whole > UINT64_MAX / unit / 2) return false;
    *out = whole * unit + frac_num * unit / frac_den;
    return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    errno = 0;
    char *end;
    if (!*s || *s == '-') return false;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || *end || v > max) return false;
    *out = v;
    return true;
}

static int opt_mem(Options *o, const char *arg)
{
    const char *v = arg;
    if (!strncmp(v, "size=", 5)) v += 5;
    uint64_t bytes;
    if (strchr(v, ',') || !parse_size(v, 1ull << 20, &bytes))
        return fail("-m %s: expected a size like 256, 256M or 1G", arg);
    bytes = (bytes + 0xfff) & ~0xfffull;
    if (bytes < PC_RAM_MIN)
        return fail("-m %s: at least %llu MiB of RAM is needed", arg,
                    (unsigned long long)(PC_RAM_MIN >> 20));
    if (bytes > PC_RAM_MAX)
        return fail("-m %s: at most %llu MiB of RAM is supported", arg,
                    (unsigned long long)(PC_RAM_MAX >> 20));
    o->pc.ram_size = bytes;
    return 0;
}

static int opt_device(Options *o, const char *arg)
{
    if (!strcmp(arg, "help")) {
        printf("isa-debug-exit  iobase=N (default 0x501), iosize=N (default 0x2)\n");
        exit(0);
    }
    char verr[256];
    int v = virtio_opts_device(o->virtio, arg, verr, sizeof verr);
    if (v < 0) return fail("%s", verr);
    if (v > 0) return 0;
    char *copy = strdup(arg);
    char *save, *driver = strtok_r(copy, ",", &save);
    int r = 0;
    if (!driver || strcmp(driver, "isa-debug-exit")) {
        r = fail("-device %s: device '%s' is not supported yet", arg, driver ? driver : "");
        goto out;
    }
    if (o->pc.debug_exit) {
        r = fail("-device %s: only one isa-debug-exit is supported", arg);
        goto out;
    }
    unsigned long base = 0x501, size = 0x2; /* QEMU's defaults */
    for (char *p = strtok_r(NULL, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(p, '=');
        unsigned long *dst = NULL;
        if (eq && !strncmp(p, "iobase", (size_t)(eq - p)) && eq - p == 6) dst = &base;
        if (eq && !strncmp(p, "iosize", (size_t)(eq - p)) && eq - p == 6) dst = &size;
        if (!dst) {
            r = fail("-device %s: unknown property '%s' (isa-debug-exit has iobase and iosize)",
                     arg, p);
            goto out;
        }
        if (!parse_uint(eq + 1, 0xffff, dst)) {
            r = fail("-device %s: bad value '%s'", arg, p);
            goto out;
        }
    }
    if (size < 1 || size > 4 || base + size > 0x10000) {
        r = fail("-device %s: iosize must be 1-4 and the ports must lie below 0x10000", arg);
        goto out;
    }
    o->pc.debug_exit = true;
    o->pc.debug_exit_base = (uint16_t)base;
    o->pc.debug_exit_size = (uint16_t)size;
out:
    free(copy);
    return r;
}

static int opt_icount(Options *o, const char *arg)
{
    char *copy = strdup(arg);
    char *save;
    int r = 0;
    bool have_shift = false;
    unsigned long shift = 0;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        const char *v = NULL;
        if (!strncmp(p, "shift=", 6))
            v = p + 6;
        else if (p == copy && strchr(p, '=') == NULL)
            v = p;
        if (v) {
            if (!strcmp(v, "auto")) {
                r = fail("-icount %s: shift=auto is not supported (give a number)", arg);
                goto out;
            }
            if (!parse_uint(v, ICOUNT_MAX_SHIFT, &shift)) {
                r = fail("-icount %s: shift must be a number from 0 to %d", arg, ICOUNT_MAX_SHIFT);
                goto out;
            }
            have_shift = true;
        } else if (!strcmp(p, "sleep=off") || !strcmp(p, "align=off")) {
            /* What kestrel always does: idle time is skipped, no host-time alignment. */
        } else {
            r = fail("-icount %s: unsupported property '%s'", arg, p);
            goto out;
        }
    }
    if (!have_shift) {
        r = fail("-icount %s: expected shift=N", arg);
        goto out;
    }
    o->pc.icount = true;
    o->pc.icount_shift = (int)shift;
out:
    free(copy);
    return r;
}

static int opt_accel(Options *o, const char *arg)
{
    char *copy = strdup(arg);
    char *save, *name = strtok_r(copy, ",", &save);
    int r = 0;
    if (!name || strcmp(name, "tcg")) {
        r = fail("-accel %s: only tcg is supported", arg);
        goto out;
    }
    for (char *p = strtok_r(NULL, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (!strcmp(p, "jit=on"))
            o->pc.jit = true;
        else if (!strcmp(p, "jit=off"))
            o->pc.jit = false;
        else if (!strcmp(p, "thread=single"))
            continue;
        else {
            r = fail("-accel %s: unknown property '%s' (tcg has jit=on|off)", arg, p);
            goto out;
        }
    }
out:
    free(copy);
    return r;
}

static int opt_machine(const char *arg)
{
    size_t n = strcspn(arg, ",");
    if (!strncmp(arg, "type=", 5)) {
        arg += 5;
        n -= 5;
    }
    if ((n == 2 && !strncmp(arg, "pc", 2)) || !strncmp(arg, "pc-i440fx", 9)) return 0;
    return fail("-M %s: only the 'pc' machine is supported", arg);
}

enum { ARG_NONE, ARG_REQUIRED };

typedef struct OptDef {
    const char *name;
    int has_arg;
    int id;
} OptDef;

enum {
    O_M,
    O_KERNEL,
    O_INITRD,
    O_APPEND,
    O_NOGRAPHIC,
    O_SERIAL,
    O_DEBUGCON,
    O_DISPLAY,
    O_DEVICE,
    O_NO_REBOOT,
    O_ICOUNT,
    O_ACCEL,
    O_D,
    O_DLOG,
    O_SNAPSHOT,
    O_DRIVE,
    O_NETDEV,
    O_MACHINE,
    O_MONITOR,
    O_NIC,
    O_UNSUPPORTED_ARG,
    O_UNSUPPORTED,
    O_HELP,
    O_VERSION,
    O_KVM,
};

static const OptDef opt_defs[] = {
    {"m", ARG_REQUIRED, O_M},
    {"kernel", ARG_REQUIRED, O_KERNEL},
    {"initrd", ARG_REQUIRED, O_INITRD},
    {"append", ARG_REQUIRED, O_APPEND},
    {"nographic", ARG_NONE, O_NOGRAPHIC},
    {"serial", ARG_REQUIRED, O_SERIAL},
    {"debugcon", ARG_REQUIRED, O_DEBUGCON},
    {"display", ARG_REQUIRED, O_DISPLAY},
    {"device", ARG_REQUIRED, O_DEVICE},
    {"no-reboot", ARG_NONE, O_NO_REBOOT},
    {"icount", ARG_REQUIRED, O_ICOUNT},
    {"accel", ARG_REQUIRED, O_ACCEL},
    {"d", ARG_REQUIRED, O_D},
    {"D", ARG_REQUIRED, O_DLOG},
    {"snapshot", ARG_NONE, O_SNAPSHOT},
    {"M", ARG_REQUIRED, O_MACHINE},
    {"machine", ARG_REQUIRED, O_MACHINE},
    {"monitor", ARG_REQUIRED, O_MONITOR},
    {"nic", ARG_REQUIRED, O_NIC},
    {"net", ARG_REQUIRED, O_NIC},
    {"drive", ARG_REQUIRED, O_DRIVE},
    {"netdev", ARG_REQUIRED, O_NETDEV},
    {"blockdev", ARG_REQUIRED, O_UNSUPPORTED_ARG},
    {"hda", ARG_REQUIRED, O_UNSUPPORTED_ARG},
    {"hdb", ARG_REQUIRED, O_UNSUPPORTED_ARG},
    {"cdrom", ARG_REQUIRED, O_UNSUPPORTED_ARG},
    {"gdb", ARG_REQUIRED, O_UNSUPPORTED_ARG},
    {"s", ARG_NONE, O_UNSUPPORTED},
    {"S", ARG_NONE, O_UNSUPPORTED},
    {"enable-kvm", ARG_NONE, O_KVM},
    {"h", ARG_NONE, O_HELP},
    {"help", ARG_NONE, O_HELP},
    {"version", ARG_NONE, O_VERSION},
};

static const OptDef *find_opt(const char *name)
{
    for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++)
        if (!strcmp(opt_defs[i].name, name)) return &opt_defs[i];
    return NULL;
}

/* Returns -1 to continue, or the exit status. */
static int parse_args(Options *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1])
            return fail("unexpected argument '%s' (disk images are not supported yet)", a);
        const char *name = a + 1;
        if (name[0] == '-') name++; /* QEMU accepts --option too */
        const OptDef *d = find_opt(name);
        if (!d) return fail("unknown option '%s'", a);
        const char *arg = NULL;
        if (d->has_arg == ARG_REQUIRED) {
            if (i + 1 >= argc) return fail("option '%s' needs an argument", a);
            arg = argv[++i];
        }
        int r = 0;
        switch (d->id) {
        case O_M: r = opt_mem(o, arg); break;
        case O_KERNEL: o->pc.kernel = arg; break;
        case O_INITRD: o->pc.initrd = arg; break;
        case O_APPEND: o->pc.append = arg; break;
        case O_NOGRAPHIC: o->nographic = true; break;
        case O_SERIAL:
            if (o->nserial >= PC_MAX_SERIAL)
                return fail("-serial %s: at most %d serial ports are supported", arg,
                            PC_MAX_SERIAL);
            o->pc.serial[o->nserial++] = arg;
            break;
        case O_DEBUGCON: o->pc.debugcon = arg; break;
        case O_DISPLAY:
            if (strcmp(arg, "none"))
                return fail("-display %s: not supported yet (only -display none)", arg);
            o->display_none = true;
            break;
        case O_DEVICE: r = opt_device(o, arg); break;
        case O_NO_REBOOT: o->pc.no_reboot = true; break;
        case O_ICOUNT: r = opt_icount(o, arg); break;
        case O_ACCEL: r = opt_accel(o, arg); break;
        case O_D:
            if (!strcmp(arg, "help")) {
                log_list_categories();
                return 0;
            }
            o->log_items = arg;
            break;
        case O_DLOG: o->log_file = arg; break;
        case O_SNAPSHOT: virtio_opts_set_snapshot(o->virtio, true); break;
        case O_DRIVE:
        case O_NETDEV: {
            char verr[256];
            int v = d->id == O_DRIVE ? virtio_opts_drive(o->virtio, arg, verr, sizeof verr)
                                     : virtio_opts_netdev(o->virtio, arg, verr, sizeof verr);
            if (v < 0) return fail("%s", verr);
            if (v == 0)
                return fail("%s %s: %s", a, arg,
                            d->id == O_DRIVE ? "only if=virtio disks are supported"
                                             : "only socket networks are supported");
            break;
        }
        case O_MACHINE: r = opt_machine(arg); break;
        case O_MONITOR:
            if (strcmp(arg, "none"))
                return fail("-monitor %s: the monitor is not supported yet (only none)", arg);
            break;
        case O_NIC:
            if (strcmp(arg, "none")) {
                char verr[256];
                int v = virtio_opts_nic(o->virtio, arg, verr, sizeof verr);
                if (v < 0) return fail("%s", verr);
                if (v == 0) return fail("%s %s: only socket networks are supported", a, arg);
            }
            break;
        case O_UNSUPPORTED_ARG: return fail("%s %s: not supported yet", a, arg);
        case O_UNSUPPORTED: return fail("%s: the gdb stub is not supported yet", a);
        case O_KVM: return fail("%s: KVM is not supported (kestrel translates code itself)", a);
        case O_HELP: fputs(usage_text, stdout); return 0;
        case O_VERSION:
            printf("kestrel version %s (qemu-system-i386 compatible command line)\n",
                   KESTREL_VERSION);
            return 0;
        }
        if (r) return r;
    }
    return -1;
}

int main(int argc, char **argv)
{
    Options o;
    memset(&o, 0, sizeof o);
    o.pc.ram_size = 128ull << 20; /* QEMU's default */
    o.pc.jit = true;
    o.virtio = virtio_opts_new();
    int r = parse_args(&o, argc, argv);
    if (r >= 0) {
        virtio_opts_free(o.virtio);
        return r;
    }
    o.pc.virtio = o.virtio;

    if (!o.pc.kernel) {
        virtio_opts_free(o.virtio);
        return fail("no -kernel given (kestrel has no BIOS: boot a kernel with -kernel FILE)");
    }
    if (o.log_items && !log_parse_mask(o.log_items)) {
        virtio_opts_free(o.virtio);
        return fail("-d %s: unknown log category (-d help lists them)", o.log_items);
    }
    if (o.nserial == 0) {
        /* QEMU sends COM1 to stdio under -nographic and to the graphical console otherwise;
         * kestrel has no graphical console, so stdio stands in for it unless the display is
         * explicitly off (where QEMU's output would go nowhere). */
        o.pc.serial[0] = o.display_none && !o.nographic ? "null" : "stdio";
    }

    char err[512];
    Machine *m = pc_new(&o.pc, err, sizeof err);
    if (!m) {
        virtio_opts_free(o.virtio);
        return fail("%s", err);
    }
    if (o.log_file) {
        /* Checked only now, so that bad input elsewhere leaves no log file behind. */
        FILE *f = fopen(o.log_file, "a");
        if (!f) {
            pc_free(m);
            virtio_opts_free(o.virtio);
            return fail("-D %s: %s", o.log_file, strerror(errno));
        }
        fclose(f);
        log_set_file(o.log_file);
    }
    int status = pc_run(m);
    pc_free(m);
    virtio_opts_free(o.virtio);
    return status;
}
