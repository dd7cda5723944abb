/* Interrupt lines with level semantics; edge detection lives in the interrupt controller. */
#ifndef CORE_IRQ_H
#define CORE_IRQ_H

typedef struct IrqLine {
    void (*set)(void *opaque, int n, int level);
    void *opaque;
    int n;
} IrqLine;

static inline void irq_set(const IrqLine *line, int level)
{
    if (line && line->set) line->set(line->opaque, line->n, level);
}
static inline void irq_raise(const IrqLine *line) { irq_set(line, 1); }
static inline void irq_lower(const IrqLine *line) { irq_set(line, 0); }
/* A short pulse, for edge-triggered sources. */
static inline void irq_pulse(const IrqLine *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}

#endif
