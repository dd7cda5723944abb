/* IBM VGA in text mode: 32 KiB of character/attribute memory at 0xb8000 and the register
 * file (CRTC, sequencer, graphics, attribute, DAC, misc) at 0x3b0-0x3df. No graphics modes. */
#ifndef HW_DISPLAY_VGA_TEXT_H
#define HW_DISPLAY_VGA_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/memory.h"

#define VGA_TEXT_MAX_COLS  132
#define VGA_TEXT_MAX_ROWS  60
#define VGA_TEXT_VRAM_SIZE 0x8000

typedef struct VgaText VgaText;

/* The visible screen: cells[row][col] = character | attribute << 8 (attribute: bits 0-3
 * foreground, 4-6 background, 7 blink or bright background). */
typedef struct VgaTextScreen {
    int cols, rows; /* 80x25 in the standard mode */
    uint16_t cells[VGA_TEXT_MAX_ROWS][VGA_TEXT_MAX_COLS];
    bool cursor_visible;
    int cursor_col, cursor_row;
    int cursor_start, cursor_end; /* scan lines of the cursor shape */
} VgaTextScreen;

/* Maps the text memory as RAM at 0xb8000 in mem and the registers in io. Registers start in
 * the state a BIOS leaves for mode 3 (80x25, colour, cursor at 0,0). The clock drives the
 * retrace bits of input status 1. */
VgaText *vga_text_new(AddressSpace *mem, AddressSpace *io, Clock *clock);
void vga_text_free(VgaText *vga);
Device *vga_text_device(VgaText *vga);

/* Render what the CRT would show now (start address, line offset, cursor). */
void vga_text_render(VgaText *vga, VgaTextScreen *out);

/* Direct access to the 32 KiB text memory (for tests and screen dumps). */
uint8_t *vga_text_vram(VgaText *vga);

#endif
