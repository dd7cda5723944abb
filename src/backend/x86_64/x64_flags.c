/* Lazy x86 flags in generated code: the routine computing x86_cc_compute() for a constant
 * lazy-flags op (SDM vol. 1, 3.4.3 and appendix A for the flag definitions), used inline by the
 * code generator and, one per op, behind the table for a dynamic op. */
#include "backend/x86_64/x64_jit.h"

#ifdef BACKEND_HAVE_X86_64

#include "cpu/x86/helpers.h"

static X64Mem envm(int32_t disp)
{
    return x64_mem(JIT_ENV, disp);
}

/* EAX = x86_cc_compute(op, cc_dst, cc_src, cc_src2) & need for a constant op, using RCX. The
 * host is an x86 too: where it computes the same flags for every input, the operation is
 * replayed on the lazy operands and the host flags are read back. Returns the rel32 of a jump
 * taken when the operands need the C function instead (ADC/SBB with a carry-in beyond 1), or 0;
 * the caller continues after the emitted code. */
size_t jit_emit_cc(X64Buf *B, unsigned op, uint32_t need)
{
    X64Mem D = envm(ENV_OFF(cc_dst)), S = envm(ENV_OFF(cc_src)), S2 = envm(ENV_OFF(cc_src2));
    if (need == 0) {
        x64_alu_rr(B, false, ALU_XOR, X_RAX, X_RAX);
        return 0;
    }
    if (op < CC_OP_ADDB || op >= CC_OP_COUNT) {
        x64_mov_rm(B, false, X_RAX, S);
        x64_alu_ri(B, false, ALU_AND, X_RAX, (int32_t)need);
        return 0;
    }
    int idx = (int)(op - CC_OP_ADDB) % 3, size = 1 << idx, bits = 8 << idx;
    unsigned kind = CC_OP_ADDB + (op - CC_OP_ADDB) / 3 * 3;
    bool replay = true; /* the host flags are the guest flags (all six) */
    size_t to_c = 0;
    if (kind == CC_OP_ADCB || kind == CC_OP_SBBB) {
        /* Replaying needs a carry-in of 0 or 1; anything else is computed in C. */
        x64_alu_mi(B, 4, ALU_CMP, S2, 1);
        to_c = x64_jcc32(B, CC_A);
    }
    switch (kind) {
    case CC_OP_ADDB: /* s1 = dst - src; s1 + src */
        x64_mov_rm(B, false, X_RAX, D);
        x64_alu_rm(B, false, ALU_SUB, X_RAX, S);
        x64_alu_rm_sz(B, size, ALU_ADD, X_RAX, S);
        break;
    case CC_OP_SUBB: /* s1 = dst + src; s1 - src */
        x64_mov_rm(B, false, X_RAX, D);
        x64_alu_rm(B, false, ALU_ADD, X_RAX, S);
        x64_alu_rm_sz(B, size, ALU_CMP, X_RAX, S);
        break;
    case CC_OP_ADCB: /* s1 = dst - src - src2; s1 + src + carry */
        x64_mov_rm(B, false, X_RAX, D);
        x64_alu_rm(B, false, ALU_SUB, X_RAX, S);
        x64_alu_rm(B, false, ALU_SUB, X_RAX, S2);
        x64_mov_rm(B, false, X_RCX, S2);
        x64_unary_r(B, false, UN_NEG, X_RCX); /* CF = src2 != 0 */
        x64_alu_rm_sz(B, size, ALU_ADC, X_RAX, S);
        break;
    case CC_OP_SBBB: /* s1 = dst + src + src2; s1 - src - borrow */
        x64_mov_rm(B, false, X_RAX, D);
        x64_alu_rm(B, false, ALU_ADD, X_RAX, S);
        x64_alu_rm(B, false, ALU_ADD, X_RAX, S2);
        x64_mov_rm(B, false, X_RCX, S2);
        x64_unary_r(B, false, UN_NEG, X_RCX);
        x64_alu_rm_sz(B, size, ALU_SBB, X_RAX, S);
        break;
    case CC_OP_INCB:
    case CC_OP_DECB: /* s1 = dst -/+ 1; inc/dec s1, which keeps CF = (src != 0) */
        x64_mov_rm(B, false, X_RAX, D);
        x64_alu_ri(B, false, kind == CC_OP_INCB ? ALU_SUB : ALU_ADD, X_RAX, 1);
        x64_mov_rm(B, false, X_RCX, S);
        x64_unary_r(B, false, UN_NEG, X_RCX);
        x64_incdec_r_sz(B, size, kind == CC_OP_DECB, X_RAX);
        break;
    default: /* ZF SF PF of the result from the host, the others below */
        replay = false;
        x64_mov_rm(B, false, X_RAX, D);
        x64_test_rr_sz(B, size, X_RAX, X_RAX);
        break;
    }
    if (need == CF_MASK && replay) {
        x64_setcc(B, CC_B, X_RAX);
        x64_movzx_rr(B, 1, X_RAX, X_RAX);
    } else {
        x64_pushf(B);
        x64_pop(B, X_RAX);
        uint32_t host = replay ? CC_MASK : (ZF_MASK | SF_MASK | PF_MASK);
        x64_alu_ri(B, false, ALU_AND, X_RAX, (int32_t)(host & need));
    }
    if (!replay) {
        unsigned top = (unsigned)bits - 1;
        if ((need & CF_MASK) && kind != CC_OP_LOGICB) {
            /* SHL: the top bit of src; SAR/SHR: bit 0 of src; MUL: src != 0. */
            if (kind == CC_OP_MULB) {
                x64_alu_rr(B, false, ALU_XOR, X_RCX, X_RCX);
                x64_alu_mi(B, 4, ALU_CMP, S, 0);
                x64_setcc(B, CC_NE, X_RCX);
            } else {
                x64_mov_rm(B, false, X_RCX, S);
                if (kind == CC_OP_SHLB) x64_shift_ri(B, false, SH_SHR, X_RCX, top);
                x64_alu_ri(B, false, ALU_AND, X_RCX, 1);
            }
            x64_alu_rr(B, false, ALU_OR, X_RAX, X_RCX);
        }
        if ((need & OF_MASK) && kind != CC_OP_LOGICB && kind != CC_OP_SARB) {
            if (kind == CC_OP_MULB) {
                x64_alu_rr(B, false, ALU_XOR, X_RCX, X_RCX);
                x64_alu_mi(B, 4, ALU_CMP, S, 0);
                x64_setcc(B, CC_NE, X_RCX);
            } else if (kind == CC_OP_SHLB) { /* top bit of dst ^ src */
                x64_mov_rm(B, false, X_RCX, D);
                x64_alu_rm(B, false, ALU_XOR, X_RCX, S);
                x64_shift_ri(B, false, SH_SHR, X_RCX, top);
                x64_alu_ri(B, false, ALU_AND, X_RCX, 1);
            } else { /* SHR: the top bit of src when the count (src2) was 1 */
                x64_mov_rm(B, false, X_RCX, S);
                x64_shift_ri(B, false, SH_SHR, X_RCX, top);
                x64_alu_ri(B, false, ALU_AND, X_RCX, 1);
                x64_alu_mi(B, 4, ALU_CMP, S2, 1);
                size_t keep = x64_jcc8(B, CC_E);
                x64_alu_rr(B, false, ALU_XOR, X_RCX, X_RCX);
                x64_patch_rel8(B, keep, B->pos);
            }
            x64_shift_ri(B, false, SH_SHL, X_RCX, 11);
            x64_alu_rr(B, false, ALU_OR, X_RAX, X_RCX);
        }
        /* Shifts by a nonzero count set AF on the reference host. */
        if ((need & AF_MASK) && (kind == CC_OP_SHLB || kind == CC_OP_SARB || kind == CC_OP_SHRB))
            x64_alu_ri(B, false, ALU_OR, X_RAX, AF_MASK);
    }
    return to_c;
}

#else
typedef int x64_flags_unused; /* ISO C wants a declaration in every translation unit */
#endif
