/* Internals shared by the float80 source files (basic operations and transcendentals); not part
 * of the library's interface. */
#ifndef UTIL_FLOAT80_INT_H
#define UTIL_FLOAT80_INT_H

#include "util/float80.h"

/* Finite non-zero value sign * sig * 2^(exp - 16383 - 63) with bit 63 of sig set. */
typedef struct F80Unpacked {
    bool sign;
    int32_t exp;
    uint64_t sig;
} F80Unpacked;

static inline int f80i_clz64(uint64_t x)
{
    return x ? __builtin_clzll(x) : 64;
}

void f80i_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo);
/* (hi:lo) / d, remainder in *rem; d normalised (bit 63 set) and hi < d. The generic form is
 * the portable one (f80i_div128 uses the host's instruction where there is one). */
uint64_t f80i_div128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem);
uint64_t f80i_div128_generic(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem);
void f80i_shr_sticky(uint64_t *hi, uint64_t *lo, int32_t n);
int f80i_norm128(uint64_t *hi, uint64_t *lo);

F80Unpacked f80i_unpack(Float80 a);
int f80i_prec(const F80Ctx *c);
int32_t f80i_round(F80Ctx *c, bool sign, int32_t exp, uint64_t sig, uint64_t low, int prec,
                   int32_t emax, bool reg, uint64_t *out);
Float80 f80i_pack(F80Ctx *c, bool sign, int32_t exp, uint64_t sig, uint64_t low, int prec);
Float80 f80i_nan1(F80Ctx *c, Float80 a);
Float80 f80i_nan2(F80Ctx *c, Float80 a, Float80 b);

#endif
