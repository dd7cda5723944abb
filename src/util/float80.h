/* x87 80-bit extended-precision arithmetic in software (IEEE 754 double-extended as the x87
 * implements it, SDM vol. 1 ch. 4 and 8). */
#ifndef UTIL_FLOAT80_H
#define UTIL_FLOAT80_H

#include <stdint.h>

/* 64-bit significand with explicit integer bit; se = sign (bit 15) and biased exponent. */
typedef struct Float80 {
    uint64_t mant;
    uint16_t se;
} Float80;

#endif
