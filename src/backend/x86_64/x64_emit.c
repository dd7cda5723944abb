/* x86-64 instruction encoder (see x64_emit.h). Opcode and ModRM/SIB rules from the Intel SDM
 * vol. 2, chapter 2 and appendix A; only the forms the code generator uses. */
#include "backend/x86_64/x64_emit.h"

/* Built on x86-64 hosts only, like the rest of the back end. */
#if defined(__x86_64__)

#include <assert.h>
#include <string.h>

#define F_W    0x01u /* REX.W: 64-bit operand size */
#define F_66   0x02u /* operand-size prefix: 16-bit */
#define F_BREG 0x04u /* the ModRM reg field names a byte register */
#define F_BRM  0x08u /* the ModRM rm field (register form) names a byte register */
#define F_0F   0x10u /* two-byte opcode 0F xx */

void x64_u16(X64Buf *b, uint16_t v)
{
    memcpy(b->p + b->pos, &v, 2);
    b->pos += 2;
}

void x64_u32(X64Buf *b, uint32_t v)
{
    memcpy(b->p + b->pos, &v, 4);
    b->pos += 4;
}

void x64_u64(X64Buf *b, uint64_t v)
{
    memcpy(b->p + b->pos, &v, 8);
    b->pos += 8;
}

void x64_patch_rel32(X64Buf *b, size_t at, size_t target)
{
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
    memcpy(b->p + at, &rel, 4);
}

void x64_patch_rel8(X64Buf *b, size_t at, size_t target)
{
    int64_t rel = (int64_t)target - (int64_t)(at + 1);
    assert(rel >= -128 && rel <= 127);
    b->p[at] = (uint8_t)(int8_t)rel;
}

void x64_nops(X64Buf *b, unsigned n)
{
    /* Recommended multi-byte NOPs (SDM vol. 2, NOP): one instruction per 9 bytes. */
    /* clang-format off */
    static const uint8_t nops[10][9] = {
        {0}, {0x90}, {0x66, 0x90}, {0x0f, 0x1f, 0x00}, {0x0f, 0x1f, 0x40, 0x00},
        {0x0f, 0x1f, 0x44, 0x00, 0x00}, {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
        {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
        {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
        {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    };
    /* clang-format on */
    while (n) {
        unsigned k = n > 9 ? 9 : n;
        memcpy(b->p + b->pos, nops[k], k);
        b->pos += k;
        n -= k;
    }
}

void x64_align(X64Buf *b, unsigned align, unsigned want)
{
    x64_nops(b, (want + align - (unsigned)(b->pos % align)) % align);
}

static void prefix(X64Buf *b, unsigned f, int reg, int index, int base)
{
    if (f & F_66) x64_byte(b, 0x66);
    uint8_t rex = 0x40 | ((f & F_W) ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                  ((index >= 0 && (index & 8)) ? 2 : 0) | ((base & 8) ? 1 : 0);
    /* Without a REX prefix, byte registers 4-7 would be AH, CH, DH, BH. */
    bool force = ((f & F_BREG) && reg >= 4 && reg <= 7) || ((f & F_BRM) && base >= 4 && base <= 7);
    if (rex != 0x40 || force) x64_byte(b, rex);
}

static void opcode(X64Buf *b, unsigned f, uint8_t opc)
{
    if (f & F_0F) x64_byte(b, 0x0f);
    x64_byte(b, opc);
}

/* Register-direct form: ModRM mod = 3. */
static void op_r(X64Buf *b, unsigned f, uint8_t opc, int reg, int rm)
{
    prefix(b, f, reg, -1, rm);
    opcode(b, f, opc);
    x64_byte(b, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

static void modrm_mem(X64Buf *b, int reg, X64Mem m)
{
    int mod;
    if (m.disp == 0 && (m.base & 7) != 5) /* RBP/R13 as base need a displacement */
        mod = 0;
    else if (m.disp >= -128 && m.disp <= 127)
        mod = 1;
    else
        mod = 2;
    if (m.index < 0 && (m.base & 7) != 4) {
        x64_byte(b, (uint8_t)(mod << 6 | (reg & 7) << 3 | (m.base & 7)));
    } else {
        /* SIB: RSP/R12 as base always need one; index 4 without REX.X means "none". */
        assert(m.index != X_RSP);
        int idx = m.index < 0 ? 4 : m.index;
        x64_byte(b, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
        x64_byte(b, (uint8_t)(m.scale << 6 | (idx & 7) << 3 | (m.base & 7)));
    }
    if (mod == 1)
        x64_byte(b, (uint8_t)(int8_t)m.disp);
    else if (mod == 2)
        x64_u32(b, (uint32_t)m.disp);
}

static void op_m(X64Buf *b, unsigned f, uint8_t opc, int reg, X64Mem m)
{
    prefix(b, f, reg, m.index, m.base);
    opcode(b, f, opc);
    modrm_mem(b, reg, m);
}

static bool fits8(int32_t v)
{
    return v >= -128 && v <= 127;
}

void x64_alu_rr(X64Buf *b, bool w, int op, int d, int s)
{
    op_r(b, w ? F_W : 0, (uint8_t)(op << 3 | 1), s, d);
}

void x64_alu_rm(X64Buf *b, bool w, int op, int d, X64Mem m)
{
    op_m(b, w ? F_W : 0, (uint8_t)(op << 3 | 3), d, m);
}

void x64_alu_mr(X64Buf *b, bool w, int op, X64Mem m, int s)
{
    op_m(b, w ? F_W : 0, (uint8_t)(op << 3 | 1), s, m);
}

void x64_alu_ri(X64Buf *b, bool w, int op, int d, int32_t imm)
{
    if (fits8(imm)) {
        op_r(b, w ? F_W : 0, 0x83, op, d);
        x64_byte(b, (uint8_t)imm);
    } else {
        op_r(b, w ? F_W : 0, 0x81, op, d);
        x64_u32(b, (uint32_t)imm);
    }
}

void x64_alu_mi(X64Buf *b, int size, int op, X64Mem m, int32_t imm)
{
    if (size == 1) {
        op_m(b, 0, 0x80, op, m);
        x64_byte(b, (uint8_t)imm);
        return;
    }
    unsigned f = size == 2 ? F_66 : size == 8 ? F_W : 0;
    if (fits8(imm)) {
        op_m(b, f, 0x83, op, m);
        x64_byte(b, (uint8_t)imm);
    } else {
        op_m(b, f, 0x81, op, m);
        if (size == 2)
            x64_u16(b, (uint16_t)imm);
        else
            x64_u32(b, (uint32_t)imm);
    }
}

void x64_alu_rm_sz(X64Buf *b, int size, int op, int d, X64Mem m)
{
    if (size == 1)
        op_m(b, F_BREG, (uint8_t)(op << 3 | 2), d, m);
    else
        op_m(b, size == 2 ? F_66 : 0, (uint8_t)(op << 3 | 3), d, m);
}

void x64_test_rr_sz(X64Buf *b, int size, int a, int s)
{
    if (size == 1)
        op_r(b, F_BREG | F_BRM, 0x84, s, a);
    else
        op_r(b, size == 2 ? F_66 : 0, 0x85, s, a);
}

void x64_incdec_r_sz(X64Buf *b, int size, bool dec, int d)
{
    if (size == 1)
        op_r(b, F_BRM, 0xfe, dec, d);
    else
        op_r(b, size == 2 ? F_66 : 0, 0xff, dec, d);
}

void x64_x87_m(X64Buf *b, uint8_t esc, int reg, X64Mem m)
{
    op_m(b, 0, esc, reg, m);
}

void x64_pushf(X64Buf *b)
{
    x64_byte(b, 0x9c);
}

void x64_mov_rr(X64Buf *b, bool w, int d, int s)
{
    op_r(b, w ? F_W : 0, 0x89, s, d);
}
void x64_mov_rr_low(X64Buf *b, int size, int d, int s)
{
    if (size == 1)
        op_r(b, F_BREG | F_BRM, 0x88, s, d);
    else
        op_r(b, F_66, 0x89, s, d);
}

void x64_mov_rm(X64Buf *b, bool w, int d, X64Mem m)
{
    op_m(b, w ? F_W : 0, 0x8b, d, m);
}

void x64_mov_mr(X64Buf *b, int size, X64Mem m, int s)
{
    switch (size) {
    case 1: op_m(b, F_BREG, 0x88, s, m); break;
    case 2: op_m(b, F_66, 0x89, s, m); break;
    case 4: op_m(b, 0, 0x89, s, m); break;
    default: op_m(b, F_W, 0x89, s, m); break;
    }
}

void x64_mov_mi(X64Buf *b, int size, X64Mem m, int32_t imm)
{
    switch (size) {
    case 1:
        op_m(b, 0, 0xc6, 0, m);
        x64_byte(b, (uint8_t)imm);
        break;
    case 2:
        op_m(b, F_66, 0xc7, 0, m);
        x64_u16(b, (uint16_t)imm);
        break;
    default:
        op_m(b, size == 8 ? F_W : 0, 0xc7, 0, m);
        x64_u32(b, (uint32_t)imm);
        break;
    }
}

void x64_mov_ri32(X64Buf *b, int d, uint32_t imm)
{
    prefix(b, 0, 0, -1, d);
    x64_byte(b, (uint8_t)(0xb8 + (d & 7)));
    x64_u32(b, imm);
}

void x64_mov_ri64(X64Buf *b, int d, uint64_t imm)
{
    if (imm <= 0xffffffffu) {
        x64_mov_ri32(b, d, (uint32_t)imm);
    } else if ((int64_t)imm == (int32_t)imm) {
        op_r(b, F_W, 0xc7, 0, d);
        x64_u32(b, (uint32_t)imm);
    } else {
        prefix(b, F_W, 0, -1, d);
        x64_byte(b, (uint8_t)(0xb8 + (d & 7)));
        x64_u64(b, imm);
    }
}

void x64_movzx_rr(X64Buf *b, int size, int d, int s)
{
    op_r(b, F_0F | (size == 1 ? F_BRM : 0), size == 1 ? 0xb6 : 0xb7, d, s);
}

void x64_movzx_rm(X64Buf *b, int size, int d, X64Mem m)
{
    op_m(b, F_0F, size == 1 ? 0xb6 : 0xb7, d, m);
}

void x64_movsx_rr(X64Buf *b, int size, int d, int s)
{
    op_r(b, F_0F | (size == 1 ? F_BRM : 0), size == 1 ? 0xbe : 0xbf, d, s);
}

void x64_movsx_rm(X64Buf *b, int size, int d, X64Mem m)
{
    op_m(b, F_0F, size == 1 ? 0xbe : 0xbf, d, m);
}

void x64_movsxd_rr(X64Buf *b, int d, int s)
{
    op_r(b, F_W, 0x63, d, s);
}
void x64_lea(X64Buf *b, bool w, int d, X64Mem m)
{
    op_m(b, w ? F_W : 0, 0x8d, d, m);
}

size_t x64_lea_rip(X64Buf *b, int d)
{
    prefix(b, F_W, d, -1, 0);
    x64_byte(b, 0x8d);
    x64_byte(b, (uint8_t)((d & 7) << 3 | 5)); /* mod 0, rm 5: RIP-relative */
    size_t at = b->pos;
    x64_u32(b, 0);
    return at;
}

void x64_shift_ri(X64Buf *b, bool w, int op, int d, unsigned imm)
{
    if (imm == 1) {
        op_r(b, w ? F_W : 0, 0xd1, op, d);
    } else {
        op_r(b, w ? F_W : 0, 0xc1, op, d);
        x64_byte(b, (uint8_t)imm);
    }
}

/* VEX.LZ.F2.0F3A.W0 F0 /r ib (three-byte VEX; R, X, B inverted). */
static void rorx_prefix(X64Buf *b, int d, int index, int base)
{
    x64_byte(b, 0xc4);
    x64_byte(b, (uint8_t)((d & 8 ? 0 : 0x80) | (index >= 0 && (index & 8) ? 0 : 0x40) |
                          (base & 8 ? 0 : 0x20) | 0x03));
    x64_byte(b, 0x7b); /* W0, vvvv = 1111, L0, pp = F2 */
    x64_byte(b, 0xf0);
}

void x64_rorx_rr(X64Buf *b, int d, int s, unsigned imm)
{
    rorx_prefix(b, d, -1, s);
    x64_byte(b, (uint8_t)(0xc0 | (d & 7) << 3 | (s & 7)));
    x64_byte(b, (uint8_t)imm);
}

void x64_rorx_rm(X64Buf *b, int d, X64Mem m, unsigned imm)
{
    rorx_prefix(b, d, m.index, m.base);
    modrm_mem(b, d, m);
    x64_byte(b, (uint8_t)imm);
}

void x64_shift_rcl(X64Buf *b, bool w, int op, int d)
{
    op_r(b, w ? F_W : 0, 0xd3, op, d);
}
void x64_unary_r(X64Buf *b, bool w, int op, int d)
{
    op_r(b, w ? F_W : 0, 0xf7, op, d);
}

void x64_unary_m(X64Buf *b, int size, int op, X64Mem m)
{
    op_m(b, size == 2 ? F_66 : size == 8 ? F_W : 0, size == 1 ? 0xf6 : 0xf7, op, m);
}

void x64_imul_rr(X64Buf *b, bool w, int d, int s)
{
    op_r(b, F_0F | (w ? F_W : 0), 0xaf, d, s);
}
void x64_imul_rm(X64Buf *b, bool w, int d, X64Mem m)
{
    op_m(b, F_0F | (w ? F_W : 0), 0xaf, d, m);
}

void x64_imul_rri(X64Buf *b, int d, int s, int32_t imm)
{
    if (fits8(imm)) {
        op_r(b, 0, 0x6b, d, s);
        x64_byte(b, (uint8_t)imm);
    } else {
        op_r(b, 0, 0x69, d, s);
        x64_u32(b, (uint32_t)imm);
    }
}

void x64_imul_rmi(X64Buf *b, int d, X64Mem m, int32_t imm)
{
    if (fits8(imm)) {
        op_m(b, 0, 0x6b, d, m);
        x64_byte(b, (uint8_t)imm);
    } else {
        op_m(b, 0, 0x69, d, m);
        x64_u32(b, (uint32_t)imm);
    }
}

void x64_bswap(X64Buf *b, int d)
{
    prefix(b, 0, 0, -1, d);
    x64_byte(b, 0x0f);
    x64_byte(b, (uint8_t)(0xc8 + (d & 7)));
}

void x64_bitscan_rr(X64Buf *b, bool fwd, int d, int s)
{
    op_r(b, F_0F, fwd ? 0xbc : 0xbd, d, s);
}
void x64_bitscan_rm(X64Buf *b, bool fwd, int d, X64Mem m)
{
    op_m(b, F_0F, fwd ? 0xbc : 0xbd, d, m);
}

void x64_setcc(X64Buf *b, int cc, int d)
{
    op_r(b, F_0F | F_BRM, (uint8_t)(0x90 + cc), 0, d);
}
void x64_cmov_rr(X64Buf *b, int cc, int d, int s)
{
    op_r(b, F_0F, (uint8_t)(0x40 + cc), d, s);
}
void x64_cmov_rm(X64Buf *b, int cc, int d, X64Mem m)
{
    op_m(b, F_0F, (uint8_t)(0x40 + cc), d, m);
}

void x64_test_rr(X64Buf *b, bool w, int a, int s)
{
    op_r(b, w ? F_W : 0, 0x85, s, a);
}

void x64_test_ri(X64Buf *b, int a, uint32_t imm)
{
    op_r(b, 0, 0xf7, 0, a);
    x64_u32(b, imm);
}

void x64_test_mr(X64Buf *b, X64Mem m, int s)
{
    op_m(b, 0, 0x85, s, m);
}

void x64_test_mi(X64Buf *b, X64Mem m, uint32_t imm)
{
    op_m(b, 0, 0xf7, 0, m);
    x64_u32(b, imm);
}

void x64_xchg_rr(X64Buf *b, bool w, int a, int s)
{
    op_r(b, w ? F_W : 0, 0x87, s, a);
}

void x64_push(X64Buf *b, int r)
{
    if (r & 8) x64_byte(b, 0x41);
    x64_byte(b, (uint8_t)(0x50 + (r & 7)));
}

void x64_pop(X64Buf *b, int r)
{
    if (r & 8) x64_byte(b, 0x41);
    x64_byte(b, (uint8_t)(0x58 + (r & 7)));
}

void x64_ret(X64Buf *b)
{
    x64_byte(b, 0xc3);
}

size_t x64_jmp32(X64Buf *b)
{
    x64_byte(b, 0xe9);
    size_t at = b->pos;
    x64_u32(b, 0);
    return at;
}

size_t x64_jcc32(X64Buf *b, int cc)
{
    x64_byte(b, 0x0f);
    x64_byte(b, (uint8_t)(0x80 + cc));
    size_t at = b->pos;
    x64_u32(b, 0);
    return at;
}

size_t x64_call32(X64Buf *b)
{
    x64_byte(b, 0xe8);
    size_t at = b->pos;
    x64_u32(b, 0);
    return at;
}

void x64_call_r(X64Buf *b, int r)
{
    op_r(b, 0, 0xff, 2, r);
}
void x64_jmp_r(X64Buf *b, int r)
{
    op_r(b, 0, 0xff, 4, r);
}
void x64_jmp_m(X64Buf *b, X64Mem m)
{
    op_m(b, 0, 0xff, 4, m);
}

void x64_call_m(X64Buf *b, X64Mem m)
{
    op_m(b, 0, 0xff, 2, m);
}

size_t x64_jcc8(X64Buf *b, int cc)
{
    x64_byte(b, (uint8_t)(0x70 + cc));
    x64_byte(b, 0);
    return b->pos - 1;
}

size_t x64_jmp8(X64Buf *b)
{
    x64_byte(b, 0xeb);
    x64_byte(b, 0);
    return b->pos - 1;
}

#else
typedef int x64_emit_unused; /* ISO C wants a declaration in every translation unit */
#endif
