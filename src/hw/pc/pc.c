/* PC board wiring (PC/AT ISA layout behind an i440FX/PIIX3 PCI host, as QEMU's "pc" machine),
 * the firmware-less power-on state (what a BIOS would leave: CMOS sizes, PIRQ routing, ACPI
 * tables), reset/power-off handling and the run loop. */
#include "hw/pc/pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chardev/chardev.h"
#include "core/clock.h"
#include "core/device.h"
#include "core/memory.h"
#include "cpu/x86/cpu.h"
#include "host/poll.h"
#include "host/ram.h"
#include "hw/char/uart16550.h"
#include "hw/display/vga_text.h"
#include "hw/input/i8042.h"
#include "hw/intc/i8259.h"
#include "hw/misc/isa_debug.h"
#include "hw/misc/port92.h"
#include "hw/pc/acpi.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/piix.h"
#include "hw/virtio/virtio_opts.h"
#include "cpu/x86/fpu.h"
#include "hw/timer/i8254.h"
#include "hw/timer/mc146818.h"
#include "util/alloc.h"
#include "util/log.h"

#define COM1_BASE      0x3f8
#define COM2_BASE      0x2f8
#define DEBUGCON_PORT  0xe9
#define MAX_CHARDEVS   (PC_MAX_SERIAL + 1)
#define BDA_BASE_MEM_K 0x413 /* BIOS data area: conventional memory size in KiB */
#define ELCR2_PORT     0x4d1
#define FERR_CLEAR_PORT 0xf0 /* writing it releases IRQ 13 (the x87 error latch) */
#define FERR_IRQ       13
/* Where the firmware-style BAR assignment puts PCI resources. */
#define PCI_MEM_WINDOW 0xf0000000u
#define PCI_IO_WINDOW  0xc000u

struct Machine {
    PcConfig cfg;
    BootImage boot;
    bool boot_open;
    Clock clock;
    Poller poller;
    bool poller_ok;
    AddressSpace mem, io;
    uint8_t *ram;
    uint8_t hirom[PC_HIROM_SIZE];
    CPUX86State *cpu;
    DeviceList devices;

    Pic *pic;
    I8254 *pit;
    Rtc *rtc;
    Uart *uart[PC_MAX_SERIAL];
    I8042 *kbd;
    Port92 *port92;
    PostPort *post;
    VgaText *vga;
    PciBus *pci;
    Piix *piix;
    AcpiPm *pm;
    IsaDebugExit *debug_exit;
    DebugCon *debugcon;
    IrqLine ferr_irq;
    MemRegion *ferr_port;

    Chardev *chr[MAX_CHARDEVS];
    int nchr;
    Chardev *stdio_chr;
    bool stdio_has_frontend;

    bool kbd_a20, port92_a20;
    bool quit;          /* Ctrl-A X on the stdio console */
    bool reset_request; /* guest reset or triple fault */
    bool poweroff_request;
    bool debug_exit_request;
    int exit_status;
    uint64_t idle_insns;   /* icount mode: instructions' worth of time spent halted */
    uint64_t insns_per_ms; /* host-time mode: measured execution speed */
};

void pc_memory_map(uint64_t ram_size, BootMemMap *map)
{
    memset(map, 0, sizeof *map);
    map->ram_size = ram_size;
    const E820Entry e[] = {
        {0, LOW_RAM_END, E820_RAM},
        {ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, E820_ACPI},
        {ACPI_RSDP_ADDR, 0x100000 - ACPI_RSDP_ADDR, E820_RESERVED},
        {HIGH_RAM_START, ram_size - HIGH_RAM_START, E820_RAM},
        {PC_HIROM_BASE, PC_HIROM_SIZE, E820_RESERVED},
    };
    for (size_t i = 0; i < ARRAY_SIZE(e); i++)
        map->e820[map->ne820++] = e[i];
}

/* ---- callbacks from devices and the CPU ---- */

/* Make the CPU leave its time slice at the next block boundary; the run loop then looks at
 * the request flags. */
static void pc_stop_cpu(Machine *m)
{
    if (!m->cpu) return;
    m->cpu->interrupt_request |= INT_REQ_RESET;
    x86_cpu_exit(m->cpu);
}

static void pc_request_reset(void *opaque)
{
    Machine *m = opaque;
    m->reset_request = true;
    pc_stop_cpu(m);
}

static void pc_request_poweroff(void *opaque)
{
    Machine *m = opaque;
    m->poweroff_request = true;
    pc_stop_cpu(m);
}

static void pc_cpu_shutdown(void *opaque, bool reset)
{
    if (reset)
        pc_request_reset(opaque);
    else
        pc_request_poweroff(opaque);
}

/* isa-debug-exit ends the process on the spot, as in QEMU: test kernels write their status and
 * expect nothing after that instruction to run or be printed. Terminal restoration and log
 * flushing happen in atexit handlers. */
/* isa-debug-exit: the run loop returns the status at once (the OUT ends the block), so the
 * machine is torn down normally instead of exiting from inside the device. */
static void pc_debug_exit(void *opaque, int status)
{
    Machine *m = opaque;
    m->exit_status = status;
    m->debug_exit_request = true;
    pc_stop_cpu(m);
}

static void pc_update_a20(Machine *m)
{
    x86_cpu_set_a20(m->cpu, m->kbd_a20 || m->port92_a20);
}

static void pc_kbd_a20(void *opaque, bool on)
{
    Machine *m = opaque;
    m->kbd_a20 = on;
    pc_update_a20(m);
}

static void pc_port92_a20(void *opaque, bool on)
{
    Machine *m = opaque;
    m->port92_a20 = on;
    pc_update_a20(m);
}

static int pc_intack(void *opaque)
{
    return pic_intack(opaque);
}

static uint64_t pc_insn_count(void *opaque)
{
    Machine *m = opaque;
    return x86_cpu_icount(m->cpu) + m->idle_insns;
}

/* ---- power-on state ---- */

static void pc_set_cmos(Machine *m)
{
    uint64_t ext_k = (m->cfg.ram_size - HIGH_RAM_START) / 1024;
    if (ext_k > 0xffff) ext_k = 0xffff;
    uint64_t above16m = m->cfg.ram_size > (16u << 20) ? (m->cfg.ram_size - (16u << 20)) >> 16 : 0;
    if (above16m > 0xffff) above16m = 0xffff;
    rtc_set_cmos(m->rtc, CMOS_BASE_MEM_LO, (LOW_RAM_END / 1024) & 0xff);
    rtc_set_cmos(m->rtc, CMOS_BASE_MEM_HI, (LOW_RAM_END / 1024) >> 8);
    rtc_set_cmos(m->rtc, CMOS_EXT_MEM_LO, ext_k & 0xff);
    rtc_set_cmos(m->rtc, CMOS_EXT_MEM_HI, (uint8_t)(ext_k >> 8));
    rtc_set_cmos(m->rtc, CMOS_EXT_MEM2_LO, ext_k & 0xff);
    rtc_set_cmos(m->rtc, CMOS_EXT_MEM2_HI, (uint8_t)(ext_k >> 8));
    rtc_set_cmos(m->rtc, CMOS_MEM_16M_LO, above16m & 0xff);
    rtc_set_cmos(m->rtc, CMOS_MEM_16M_HI, (uint8_t)(above16m >> 8));
    /* Equipment byte: maths coprocessor and PS/2 mouse present, no floppy; no disks. */
    rtc_set_cmos(m->rtc, 0x14, 0x06);
    rtc_set_cmos(m->rtc, 0x10, 0x00);
    rtc_set_cmos(m->rtc, 0x12, 0x00);
}

/* Firmware-style PCI resource assignment: every implemented BAR gets a naturally aligned
 * address in the I/O or memory window, then I/O and memory decoding are enabled, as a BIOS
 * leaves devices for the OS (Linux keeps assigned resources it finds valid). */
typedef struct BarAlloc {
    PciBus *bus;
    uint32_t mem_next, io_next;
} BarAlloc;

static void pc_assign_bars(PciDevice *d, void *opaque)
{
    BarAlloc *a = opaque;
    uint16_t cmd = 0;
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        const PciBar *bar = &d->bars[i];
        if (!bar->size) continue;
        uint32_t *next = bar->is_io ? &a->io_next : &a->mem_next;
        uint32_t addr = (*next + bar->size - 1) & ~(bar->size - 1);
        *next = addr + bar->size;
        pci_config_write(a->bus, d->devfn, 0x10 + 4 * i, addr, 4);
        cmd |= bar->is_io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
    }
    if (cmd) {
        uint16_t old = pci_config_read(a->bus, d->devfn, 0x04, 2);
        pci_config_write(a->bus, d->devfn, 0x04, old | cmd, 2);
    }
}

/* What the BIOS would have done before handing over: PCI interrupt routing, interrupt-line
 * registers and BARs, the SCI as a level-triggered IRQ, the BIOS data area's memory size, ACPI
 * tables. */
static void pc_firmware_setup(Machine *m)
{
    piix_assign_irqs(m->piix, NULL);
    BarAlloc alloc = {m->pci, PCI_MEM_WINDOW, PCI_IO_WINDOW};
    pci_for_each_device(m->pci, pc_assign_bars, &alloc);
    uint8_t elcr2 = (uint8_t)as_read(&m->io, ELCR2_PORT, 1);
    as_write(&m->io, ELCR2_PORT, elcr2 | (1u << (ACPI_SCI_IRQ - 8)), 1);
    m->ram[BDA_BASE_MEM_K] = (LOW_RAM_END / 1024) & 0xff;
    m->ram[BDA_BASE_MEM_K + 1] = (LOW_RAM_END / 1024) >> 8;
    acpi_build_tables(m->ram);
}

/* Power-on and every reset: devices to their reset state, the kernel reloaded (the guest may
 * have overwritten it) and the CPU put back at the kernel's entry, since there is no BIOS to
 * run from the reset vector. */
static void pc_reset(Machine *m)
{
    device_reset_all(&m->devices);
    pc_firmware_setup(m);
    BootEntry e;
    boot_load(&m->boot, m->ram, &e);
    CPUX86State *env = m->cpu;
    x86_cpu_reset(env);
    m->kbd_a20 = true;
    m->port92_a20 = false;
    pc_update_a20(m);
    x86_cpu_setup_flat32(env, e.eip, e.cs, e.ds, e.gdt_base, e.gdt_limit);
    env->regs[R_EAX] = e.eax;
    env->regs[R_EBX] = e.ebx;
    env->regs[R_ESI] = e.esi;
    m->reset_request = false;
}

/* The 64 KiB ROM at the top of the address space: nothing but a reset vector that halts, for a
 * CPU reset that somehow bypasses the board (the board itself re-enters the kernel). */
static void pc_init_hirom(Machine *m)
{
    static const uint8_t reset_vector[] = {0xfa, 0xf4, 0xeb, 0xfd}; /* cli; 1: hlt; jmp 1b */
    memset(m->hirom, 0xf4, sizeof m->hirom);
    memcpy(m->hirom + 0xfff0, reset_vector, sizeof reset_vector);
}

/* ---- construction ---- */

static bool pc_open_chardev(Machine *m, const char *opt, const char *spec, bool frontend,
                            Chardev **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!spec) return true;
    bool is_stdio = !strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio");
    if (is_stdio && m->stdio_chr) {
        /* Output-only users (the debug console) may share the terminal with a serial port;
         * two ports reading the keyboard cannot. */
        if (frontend && m->stdio_has_frontend) {
            snprintf(err, errlen, "%s: stdio is already used by another serial port", opt);
            return false;
        }
        m->stdio_has_frontend |= frontend;
        *out = m->stdio_chr;
        return true;
    }
    char cerr[256];
    Chardev *c = chr_new_from_spec(spec, &m->poller, cerr, sizeof cerr);
    if (!c) {
        if (!cerr[0]) return true; /* "none" */
        snprintf(err, errlen, "%s %s: %s", opt, spec, cerr);
        return false;
    }
    c->quit_request = &m->quit;
    m->chr[m->nchr++] = c;
    if (is_stdio) {
        m->stdio_chr = c;
        m->stdio_has_frontend = frontend;
    }
    *out = c;
    return true;
}

static void pc_dma_write(void *opaque, uint64_t addr, uint64_t len)
{
    if (addr < (1ull << 32)) x86_cpu_notify_ram_write(opaque, (uint32_t)addr, (uint32_t)len);
}

static void pc_ferr(void *opaque, int level)
{
    Machine *m = opaque;
    if (level) irq_raise(&m->ferr_irq);
}

static void ferr_clear_write(void *opaque, uint64_t off, uint32_t v, unsigned size)
{
    Machine *m = opaque;
    irq_lower(&m->ferr_irq);
}

static const MemOps ferr_clear_ops = {NULL, ferr_clear_write, 1, 1};

static bool pc_init_devices(Machine *m, Chardev *serial[PC_MAX_SERIAL], Chardev *debugcon,
                            char *err, size_t errlen)
{
    CPUX86State *env = m->cpu;
    m->pic = pic_new(&m->io, (IrqLine){x86_cpu_set_irq, env, 0});
    env->intack = pc_intack;
    env->intack_opaque = m->pic;
    env->shutdown_request = pc_cpu_shutdown;
    env->machine_opaque = m;
    device_register(&m->devices, pic_device(m->pic));
    IrqLine isa[16];
    for (int i = 0; i < 16; i++)
        isa[i] = pic_irq(m->pic, i);

    m->pit = pit_new(&m->io, &m->clock, isa[0]);
    device_register(&m->devices, pit_device(m->pit));
    m->rtc = rtc_new(&m->io, &m->clock, isa[8], 0);
    device_register(&m->devices, rtc_device(m->rtc));
    pc_set_cmos(m);

    static const uint16_t com_base[PC_MAX_SERIAL] = {COM1_BASE, COM2_BASE};
    static const int com_irq[PC_MAX_SERIAL] = {4, 3};
    for (int i = 0; i < PC_MAX_SERIAL; i++) {
        /* COM1 follows -serial (none: no port at all, as in QEMU); COM2 is always there. */
        if (i == 0 && !serial[0]) continue;
        m->uart[i] = uart_new(&m->io, com_base[i], isa[com_irq[i]], serial[i], &m->clock);
        device_register(&m->devices, uart_device(m->uart[i]));
    }

    m->kbd = kbd_new(&m->io, isa[1], isa[12], pc_kbd_a20, pc_request_reset, m);
    device_register(&m->devices, kbd_device(m->kbd));
    m->port92 = port92_new(&m->io, pc_port92_a20, pc_request_reset, m);
    device_register(&m->devices, port92_device(m->port92));
    m->post = post_port_new(&m->io);
    device_register(&m->devices, post_port_device(m->post));
    m->vga = vga_text_new(&m->mem, &m->io, &m->clock);
    device_register(&m->devices, vga_text_device(m->vga));

    m->pci = i440fx_new(&m->mem, &m->io, NULL, NULL);
    device_register(&m->devices, pci_bus_device(m->pci));
    m->piix = piix_new(m->pci, &m->io, isa, pc_request_reset, m);
    if (!m->piix) {
        snprintf(err, errlen, "cannot place the PIIX3 at PCI 00:01.0");
        return false;
    }
    m->pm = acpi_pm_new(&m->io, &m->clock, isa[ACPI_SCI_IRQ], pc_request_poweroff, m);
    device_register(&m->devices, acpi_pm_device(m->pm));

    /* x87 FERR# drives IRQ 13 (MS-DOS-compatible error reporting when CR0.NE is clear); a
     * write to port 0xf0 releases it. */
    m->ferr_irq = isa[FERR_IRQ];
    x86_fpu_set_ferr_handler(env, pc_ferr, m);
    m->ferr_port = as_add_mmio(&m->io, "ferr-clear", FERR_CLEAR_PORT, 1, &ferr_clear_ops, m);

    if (m->cfg.virtio &&
        !virtio_opts_realize(m->cfg.virtio, m->pci, &m->mem, &m->poller, NULL, NULL, err, errlen))
        return false;

    if (m->cfg.debug_exit)
        m->debug_exit = isa_debug_exit_new(&m->io, m->cfg.debug_exit_base, m->cfg.debug_exit_size,
                                           pc_debug_exit, m);
    if (m->cfg.debugcon) m->debugcon = debugcon_new(&m->io, DEBUGCON_PORT, debugcon);
    return true;
}

Machine *pc_new(const PcConfig *cfg, char *err, size_t errlen)
{
    if (cfg->ram_size < PC_RAM_MIN || cfg->ram_size > PC_RAM_MAX) {
        snprintf(err, errlen, "-m: %llu MiB is out of range (%llu-%llu MiB)",
                 (unsigned long long)(cfg->ram_size >> 20), (unsigned long long)(PC_RAM_MIN >> 20),
                 (unsigned long long)(PC_RAM_MAX >> 20));
        return NULL;
    }
    Machine *m = XNEW(Machine);
    m->cfg = *cfg;
    as_init(&m->mem, "memory", 1ull << 32);
    as_init(&m->io, "io", 1u << 16);
    clock_init(&m->clock, cfg->icount, cfg->icount_shift);

    /* Files first: a bad kernel or initrd must fail before any output file is created. */
    BootMemMap map;
    pc_memory_map(cfg->ram_size, &map);
    if (!boot_open(&m->boot, cfg->kernel, cfg->initrd, cfg->append, &map, err, errlen)) goto fail;
    m->boot_open = true;

    if (!poller_init(&m->poller)) {
        snprintf(err, errlen, "cannot set up host event polling");
        goto fail;
    }
    m->poller_ok = true;
    Chardev *serial[PC_MAX_SERIAL] = {NULL, NULL}, *debugcon = NULL;
    for (int i = 0; i < PC_MAX_SERIAL; i++)
        if (!pc_open_chardev(m, "-serial", cfg->serial[i], true, &serial[i], err, errlen))
            goto fail;
    if (!pc_open_chardev(m, "-debugcon", cfg->debugcon, false, &debugcon, err, errlen)) goto fail;
    if (!debugcon) m->cfg.debugcon = NULL;

    m->ram = host_ram_alloc(cfg->ram_size);
    if (!m->ram) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
                 (unsigned long long)(cfg->ram_size >> 20));
        goto fail;
    }
    as_add_ram(&m->mem, "ram-low", 0, LOW_RAM_END, m->ram);
    as_add_ram(&m->mem, "bios-area", PC_BIOS_AREA, HIGH_RAM_START - PC_BIOS_AREA,
               m->ram + PC_BIOS_AREA);
    as_add_ram(&m->mem, "ram-high", HIGH_RAM_START, cfg->ram_size - HIGH_RAM_START,
               m->ram + HIGH_RAM_START);
    pc_init_hirom(m);
    as_add_rom(&m->mem, "hirom", PC_HIROM_BASE, PC_HIROM_SIZE, m->hirom);

    m->cpu = x86_cpu_new(&m->mem, &m->io, &m->clock, cfg->jit);
    if (!m->cpu) {
        snprintf(err, errlen, "cannot allocate the translation cache");
        goto fail;
    }
    m->mem.changed = x86_cpu_memory_changed;
    m->mem.changed_opaque = m->cpu;
    m->mem.dma_write = pc_dma_write;
    m->mem.dma_opaque = m->cpu;
    m->insns_per_ms = PC_SLICE_INSNS; /* a first guess; measured from the first slices on */
    m->clock.insn_count = pc_insn_count;
    m->clock.insn_opaque = m;

    if (!pc_init_devices(m, serial, debugcon, err, errlen)) goto fail;
    pc_reset(m);
    return m;
fail:
    pc_free(m);
    return NULL;
}

void pc_free(Machine *m)
{
    if (!m) return;
    /* Devices unmap themselves; the CPU must not hear about those map changes any more. */
    m->mem.changed = NULL;
    m->mem.dma_write = NULL;
    isa_debug_exit_free(m->debug_exit);
    debugcon_free(m->debugcon);
    acpi_pm_free(m->pm);
    pci_bus_free(m->pci);
    vga_text_free(m->vga);
    post_port_free(m->post);
    port92_free(m->port92);
    kbd_free(m->kbd);
    for (int i = 0; i < PC_MAX_SERIAL; i++)
        uart_free(m->uart[i]);
    rtc_free(m->rtc);
    pit_free(m->pit);
    pic_free(m->pic);
    m->clock.insn_count = NULL;
    free(m->clock.heap); /* the timer heap's storage; every timer is gone with its device */
    x86_cpu_free(m->cpu);
    for (int i = 0; i < m->nchr; i++)
        chr_close(m->chr[i]);
    if (m->poller_ok) poller_destroy(&m->poller);
    as_destroy(&m->mem);
    as_destroy(&m->io);
    host_ram_free(m->ram, m->cfg.ram_size);
    if (m->boot_open) boot_close(&m->boot);
    free(m);
}

/* ---- run loop ---- */

static bool pc_cpu_can_wake(const CPUX86State *env)
{
    if (env->interrupt_request & INT_REQ_NMI) return true;
    return (env->interrupt_request & INT_REQ_HARD) && (env->eflags & IF_MASK);
}

/* Instructions to run before the next timer is due: exact in deterministic mode; in host-time
 * mode estimated from the measured speed, so that timer interrupts are not late by a whole
 * slice (late PIT ticks get merged, and guests then lose time), and never more than about
 * PC_SLICE_MS of host time so that input and host time are looked at regularly. */
static int32_t pc_slice_budget(Machine *m)
{
    int64_t deadline = clock_next_deadline(&m->clock);
    int64_t delta = deadline == INT64_MAX ? INT64_MAX : deadline - clock_ns(&m->clock);
    if (delta <= 0) return 1;
    if (m->clock.icount) {
        int shift = m->clock.icount_shift;
        if (delta > ((int64_t)PC_SLICE_INSNS << shift)) return PC_SLICE_INSNS;
        return (int32_t)((delta + (1ll << shift) - 1) >> shift);
    }
    uint64_t max = m->insns_per_ms * PC_SLICE_MS;
    if (max > PC_SLICE_INSNS) max = PC_SLICE_INSNS;
    if ((uint64_t)delta < max * 1000000 / m->insns_per_ms)
        max = (uint64_t)delta * m->insns_per_ms / 1000000;
    return max < PC_SLICE_MIN_INSNS ? PC_SLICE_MIN_INSNS : (int32_t)max;
}

/* Fold one slice's speed into the estimate (exponential average, weight 1/4). */
static void pc_measure_speed(Machine *m, uint64_t insns, int64_t host_ns)
{
    if (insns < PC_SLICE_MIN_INSNS || host_ns <= 0) return;
    uint64_t sample = insns * 1000000 / (uint64_t)host_ns;
    if (sample < 1000) sample = 1000;
    m->insns_per_ms = (m->insns_per_ms * 3 + sample) / 4;
}

/* The CPU waits for an interrupt that nothing but a timer or host input can bring. */
static void pc_idle(Machine *m)
{
    int64_t deadline = clock_next_deadline(&m->clock);
    int64_t now = clock_ns(&m->clock);
    if (deadline == INT64_MAX) {
        poller_wait(&m->poller, -1);
    } else if (m->clock.icount) {
        /* Deterministic time: skip straight to the deadline (QEMU's -icount sleep=off). */
        if (deadline > now) {
            int64_t n = deadline - now;
            m->idle_insns +=
                (uint64_t)((n + (1ll << m->clock.icount_shift) - 1) >> m->clock.icount_shift);
        }
        poller_wait(&m->poller, 0);
    } else if (deadline > now) {
        poller_wait(&m->poller, deadline - now);
    }
}

int pc_run(Machine *m)
{
    CPUX86State *env = m->cpu;
    for (;;) {
        if (m->debug_exit_request) return m->exit_status;
        if (m->quit || m->poweroff_request) return 0;
        if (m->reset_request) {
            /* QEMU's -no-reboot: a guest reset ends the emulator successfully. */
            if (m->cfg.no_reboot) return 0;
            LOG(LOG_DEV, "pc: machine reset");
            pc_reset(m);
        }
        chr_flush_all();
        clock_run_timers(&m->clock);
        poller_wait(&m->poller, 0);
        if (m->quit || m->poweroff_request || m->reset_request || m->debug_exit_request) continue;
        if (env->halted && !pc_cpu_can_wake(env)) {
            pc_idle(m);
            continue;
        }
        x86_cpu_start_slice(env, pc_slice_budget(m));
        int64_t t0 = m->clock.icount ? 0 : host_monotonic_ns();
        x86_cpu_exec(env);
        uint64_t done = x86_cpu_end_slice(env);
        if (!m->clock.icount) pc_measure_speed(m, done, host_monotonic_ns() - t0);
        /* A stop request that arrived with nothing else pending (e.g. a reset the run loop
         * handled already) must not linger into the next slice. */
        env->interrupt_request &= ~INT_REQ_RESET;
    }
}
