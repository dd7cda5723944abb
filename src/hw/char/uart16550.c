/* PC16550D UART (National datasheet: register set, FIFO control, interrupt priorities in table
 * 4, character timeout, loopback). Transmission is instantaneous; reception is paced by the
 * receive FIFO through the chardev's fe_can_read flow control. */
#include "hw/char/uart16550.h"

#include <stdbool.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/log.h"

enum {
    IER_RDI = 0x01, /* received data available (and character timeout) */
    IER_THRI = 0x02,
    IER_RLSI = 0x04,
    IER_MSI = 0x08,
    IIR_NO_INT = 0x01,
    IIR_MSI = 0x00,
    IIR_THRI = 0x02,
    IIR_RDI = 0x04,
    IIR_RLSI = 0x06,
    IIR_CTI = 0x0c,
    IIR_FIFO = 0xc0,
    FCR_ENABLE = 0x01,
    FCR_CLEAR_RX = 0x02,
    LCR_DLAB = 0x80,
    MCR_DTR = 0x01,
    MCR_RTS = 0x02,
    MCR_OUT1 = 0x04,
    MCR_OUT2 = 0x08,
    MCR_LOOP = 0x10,
    LSR_DR = 0x01,
    LSR_OE = 0x02,
    LSR_PE = 0x04,
    LSR_FE = 0x08,
    LSR_BI = 0x10,
    LSR_THRE = 0x20,
    LSR_TEMT = 0x40,
    LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI,
    MSR_CTS = 0x10,
    MSR_DSR = 0x20,
    MSR_RI = 0x40,
    MSR_DCD = 0x80,
};

#define FIFO_SIZE     16
#define UART_CLOCK_HZ 1843200

struct Uart {
    Device dev;
    uint8_t rx[FIFO_SIZE];
    int rx_head, rx_count;
    uint8_t last_rx;
    uint8_t ier, fcr, lcr, mcr, lsr, msr, scr;
    uint16_t divisor;
    bool thr_ipending;
    bool timeout_ipending;
    int irq_level;
    IrqLine irq;
    Chardev *chr;
    Clock *clock;
    Timer timeout;
    AddressSpace *io;
    MemRegion *mr;
    uint16_t base;
};

static bool fifo_on(const Uart *u)
{
    return u->fcr & FCR_ENABLE;
}

static int rx_trigger(const Uart *u)
{
    static const int levels[4] = {1, 4, 8, 14};
    return fifo_on(u) ? levels[u->fcr >> 6] : 1;
}

static uint8_t uart_iir(const Uart *u)
{
    uint8_t id;
    if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
        id = IIR_RLSI;
    else if ((u->ier & IER_RDI) && u->rx_count >= rx_trigger(u))
        id = IIR_RDI;
    else if ((u->ier & IER_RDI) && u->timeout_ipending)
        id = IIR_CTI;
    else if ((u->ier & IER_THRI) && u->thr_ipending)
        id = IIR_THRI;
    else if ((u->ier & IER_MSI) && (u->msr & 0x0f))
        id = IIR_MSI;
    else
        id = IIR_NO_INT;
    return id | (fifo_on(u) ? IIR_FIFO : 0);
}

static void uart_update_irq(Uart *u)
{
    /* On PC boards the INTR pin reaches the PIC through a buffer enabled by OUT2; loopback
     * forces OUT2 inactive, so no interrupt leaves the chip in that mode. */
    bool pending = !(uart_iir(u) & IIR_NO_INT);
    int level = pending && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* Four character times at the current line settings: the receive timeout. */
static int64_t uart_timeout_ns(const Uart *u)
{
    int bits = 1 + 5 + (u->lcr & 3) + (u->lcr & 8 ? 1 : 0) + (u->lcr & 4 ? 2 : 1);
    int64_t div = u->divisor ? u->divisor : 65536;
    return 4 * bits * div * 16 * NS_PER_SEC / UART_CLOCK_HZ;
}

static void uart_restart_timeout(Uart *u)
{
    u->timeout_ipending = false;
    if (fifo_on(u) && u->rx_count)
        timer_mod(&u->timeout, clock_ns(u->clock) + uart_timeout_ns(u));
    else
        timer_del(&u->timeout);
}

static void uart_timeout_cb(void *opaque)
{
    Uart *u = opaque;
    if (fifo_on(u) && u->rx_count) u->timeout_ipending = true;
    uart_update_irq(u);
}

static void rx_clear(Uart *u)
{
    u->rx_head = u->rx_count = 0;
    u->timeout_ipending = false;
    timer_del(&u->timeout);
}

static void uart_receive_byte(Uart *u, uint8_t b)
{
    int cap = fifo_on(u) ? FIFO_SIZE : 1;
    if (u->rx_count >= cap) {
        /* Overrun: the FIFO keeps its contents; without FIFO the holding register is
         * overwritten. */
        u->lsr |= LSR_OE;
        if (!fifo_on(u)) u->rx[u->rx_head] = b;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % FIFO_SIZE] = b;
    u->rx_count++;
}

static size_t uart_can_read(void *opaque)
{
    Uart *u = opaque;
    if (u->mcr & MCR_LOOP) return 0; /* the serial input is disconnected in loopback */
    return (size_t)((fifo_on(u) ? FIFO_SIZE : 1) - u->rx_count);
}

static void uart_chr_read(void *opaque, const uint8_t *buf, size_t len)
{
    Uart *u = opaque;
    for (size_t i = 0; i < len; i++)
        uart_receive_byte(u, buf[i]);
    uart_restart_timeout(u);
    uart_update_irq(u);
}

static uint8_t uart_read_rbr(Uart *u)
{
    if (u->rx_count) {
        u->last_rx = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
        u->rx_count--;
    }
    uart_restart_timeout(u);
    uart_update_irq(u);
    if (!(u->mcr & MCR_LOOP)) chr_accept_input(u->chr);
    return u->last_rx;
}

static void uart_write_thr(Uart *u, uint8_t b)
{
    /* Writing THR clears the THRE interrupt; its return below is a new rising edge. */
    u->thr_ipending = false;
    uart_update_irq(u);
    if (u->mcr & MCR_LOOP) {
        uart_receive_byte(u, b);
        uart_restart_timeout(u);
    } else {
        chr_write(u->chr, &b, 1);
    }
    /* The byte leaves at once, so the holding register is empty again: a new THRE interrupt
     * condition. */
    u->thr_ipending = true;
    uart_update_irq(u);
}

static void uart_update_msr(Uart *u)
{
    uint8_t lines;
    if (u->mcr & MCR_LOOP) {
        lines = (u->mcr & MCR_RTS ? MSR_CTS : 0) | (u->mcr & MCR_DTR ? MSR_DSR : 0) |
                (u->mcr & MCR_OUT1 ? MSR_RI : 0) | (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
    } else {
        lines = MSR_DCD | MSR_DSR | MSR_CTS; /* a back end is always "connected and ready" */
    }
    uint8_t old = u->msr, delta = 0;
    if ((old ^ lines) & MSR_CTS) delta |= 0x01;
    if ((old ^ lines) & MSR_DSR) delta |= 0x02;
    if ((old & MSR_RI) && !(lines & MSR_RI)) delta |= 0x04; /* trailing edge of RI */
    if ((old ^ lines) & MSR_DCD) delta |= 0x08;
    u->msr = lines | (old & 0x0f) | delta;
}

static uint32_t uart_io_read(void *opaque, uint64_t off, unsigned size)
{
    Uart *u = opaque;
    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB) return u->divisor & 0xff;
        return uart_read_rbr(u);
    case 1:
        if (u->lcr & LCR_DLAB) return u->divisor >> 8;
        return u->ier;
    case 2: {
        uint8_t iir = uart_iir(u);
        /* Reading IIR acknowledges a THRE interrupt when it is the one reported. */
        if ((iir & 0x0f) == IIR_THRI) {
            u->thr_ipending = false;
            uart_update_irq(u);
        }
        return iir;
    }
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: {
        uint8_t v = u->lsr | LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
        u->lsr &= ~LSR_ERRORS;
        uart_update_irq(u);
        return v;
    }
    case 6: {
        uint8_t v = u->msr;
        u->msr &= 0xf0;
        uart_update_irq(u);
        return v;
    }
    default: return u->scr;
    }
}

static void uart_io_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    Uart *u = opaque;
    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB)
            u->divisor = (u->divisor & 0xff00) | val;
        else
            uart_write_thr(u, val);
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (u->divisor & 0x00ff) | val << 8;
        } else {
            uint8_t old = u->ier;
            u->ier = val & 0x0f;
            /* Enabling the THRE interrupt while the transmitter is empty raises it at once;
             * drivers (Linux's THRE test) rely on this. */
            if ((old ^ u->ier) & IER_THRI) u->thr_ipending = u->ier & IER_THRI;
            uart_update_irq(u);
        }
        break;
    case 2: {
        bool was_on = fifo_on(u);
        if ((val & FCR_ENABLE) != was_on || (val & FCR_CLEAR_RX)) rx_clear(u);
        u->fcr = val & 0xc9;
        if (!fifo_on(u)) u->fcr = 0;
        uart_update_irq(u);
        chr_accept_input(u->chr);
        break;
    }
    case 3: u->lcr = val; break;
    case 4: {
        bool was_loop = u->mcr & MCR_LOOP;
        u->mcr = val & 0x1f;
        uart_update_msr(u);
        uart_update_irq(u);
        if (was_loop && !(u->mcr & MCR_LOOP)) chr_accept_input(u->chr);
        break;
    }
    case 5:
    case 6: break; /* LSR and MSR are read-only (factory test writes ignored) */
    default: u->scr = val; break;
    }
}

static const MemOps uart_ops = {uart_io_read, uart_io_write, 1, 1};

static void uart_reset(Device *dev)
{
    Uart *u = (Uart *)dev;
    rx_clear(u);
    u->ier = u->fcr = u->lcr = u->mcr = u->scr = 0;
    u->lsr = 0;
    u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
    u->divisor = 12; /* 9600 baud, what BIOSes program */
    u->thr_ipending = false;
    uart_update_irq(u);
}

static void uart_describe(Device *dev, FILE *out)
{
    Uart *u = (Uart *)dev;
    fprintf(out, "base=0x%x ier=%02x iir=%02x lcr=%02x mcr=%02x lsr=%02x msr=%02x rx=%d div=%u\n",
            u->base, u->ier, uart_iir(u), u->lcr, u->mcr,
            u->lsr | LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0), u->msr, u->rx_count,
            u->divisor);
}

Uart *uart_new(AddressSpace *io, uint16_t base, IrqLine irq, Chardev *chr, Clock *clock)
{
    Uart *u = XNEW(Uart);
    u->dev.name = "uart16550";
    u->dev.reset = uart_reset;
    u->dev.describe = uart_describe;
    u->irq = irq;
    u->chr = chr;
    u->clock = clock;
    u->io = io;
    u->base = base;
    timer_init(&u->timeout, clock, uart_timeout_cb, u);
    u->mr = as_add_mmio(io, "uart", base, 8, &uart_ops, u);
    uart_reset(&u->dev);
    if (chr) chr_set_frontend(chr, uart_can_read, uart_chr_read, u);
    return u;
}

void uart_free(Uart *uart)
{
    if (!uart) return;
    if (uart->chr) chr_set_frontend(uart->chr, NULL, NULL, NULL);
    timer_del(&uart->timeout);
    as_remove(uart->io, uart->mr);
    free(uart);
}

Device *uart_device(Uart *uart)
{
    return &uart->dev;
}
