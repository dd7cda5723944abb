/* x86-64 encoder: each form the code generator uses against the bytes GNU as produces for it
 * (REX prefixes, byte registers, RBP/R13 and RSP/R12 bases, SIB, immediates, VEX for rorx). */
#include "test.h"

#ifdef __x86_64__
#include "backend/x86_64/x64_emit.h"

static uint8_t code[64];
static X64Buf buf;
static int mismatches;

/* The bytes emitted since the last call must be hex; then starts afresh. */
static void expect(X64Buf *b, const char *hex)
{
    char got[2 * sizeof code + 1] = "";
    for (size_t i = 0; i < b->pos; i++)
        snprintf(got + 2 * i, 3, "%02x", code[i]);
    if (strcmp(got, hex)) {
        if (mismatches++ < 5) printf("# emitted %s, expected %s\n", got, hex);
    }
    b->pos = 0;
}

TEST(encodings)
{
    X64Buf *b = &buf;
    *b = (X64Buf){code, 0, sizeof code - 16};
    x64_alu_rr(b, false, ALU_ADD, X_RAX, X_RBX);
    expect(b, "01d8"); /* add %ebx,%eax */
    x64_alu_rr(b, true, ALU_SUB, X_R15, X_R8);
    expect(b, "4d29c7"); /* sub %r8,%r15 */
    x64_alu_rm(b, false, ALU_CMP, X_R9, x64_mem(X_RBP, 0));
    expect(b, "443b4d00"); /* cmp 0x0(%rbp),%r9d */
    x64_alu_rm(b, false, ALU_XOR, X_RAX, x64_mem(X_R13, 0));
    expect(b, "41334500"); /* xor 0x0(%r13),%eax */
    x64_alu_rm(b, false, ALU_AND, X_RCX, x64_mem(X_RSP, 8));
    expect(b, "234c2408"); /* and 0x8(%rsp),%ecx */
    x64_alu_rm(b, false, ALU_OR, X_RDX, x64_mem(X_R12, -4));
    expect(b, "410b5424fc"); /* or -0x4(%r12),%edx */
    x64_alu_mr(b, false, ALU_ADD, x64_mem_idx(X_RBP, X_RCX, 0, 0x23e0), X_RAX);
    expect(b, "01840de0230000"); /* add %eax,0x23e0(%rbp,%rcx,1) */
    x64_alu_mr(b, false, ALU_SUB, x64_mem_idx(X_RAX, X_R12, 3, 0x7f), X_R11);
    expect(b, "46295ce07f"); /* sub %r11d,0x7f(%rax,%r12,8) */
    x64_alu_ri(b, false, ALU_AND, X_R10, 0xfff);
    expect(b, "4181e2ff0f0000"); /* and $0xfff,%r10d */
    x64_alu_ri(b, false, ALU_ADD, X_RSI, -1);
    expect(b, "83c6ff"); /* add $0xffffffff,%esi */
    x64_alu_mi(b, 1, ALU_CMP, x64_mem(X_RBP, 0x30), 1);
    expect(b, "807d3001"); /* cmpb $0x1,0x30(%rbp) */
    x64_alu_mi(b, 2, ALU_ADD, x64_mem(X_RBP, 0x30), 0x1234);
    expect(b, "668145303412"); /* addw $0x1234,0x30(%rbp) */
    x64_alu_mi(b, 4, ALU_SUB, x64_mem(X_RBP, 0x20b8), 0x2f);
    expect(b, "83adb82000002f"); /* subl $0x2f,0x20b8(%rbp) */
    x64_alu_mi(b, 8, ALU_CMP, x64_mem(X_RBX, 0), -2);
    expect(b, "48833bfe"); /* cmpq $0xfffffffffffffffe,(%rbx) */
    x64_mov_rr(b, false, X_R8, X_RAX);
    expect(b, "4189c0"); /* mov %eax,%r8d */
    x64_mov_rr(b, true, X_RBP, X_RDI);
    expect(b, "4889fd"); /* mov %rdi,%rbp */
    x64_mov_rr_low(b, 1, X_RSI, X_R12);
    expect(b, "4488e6"); /* mov %r12b,%sil */
    x64_mov_rr_low(b, 2, X_RBX, X_RDI);
    expect(b, "6689fb"); /* mov %di,%bx */
    x64_mov_rm(b, true, X_RAX, x64_mem_idx(X_RBP, X_RCX, 0, 0x23f0));
    expect(b, "488b840df0230000"); /* mov 0x23f0(%rbp,%rcx,1),%rax */
    x64_mov_mr(b, 1, x64_mem_idx(X_RAX, X_RDX, 0, 0), X_RDI);
    expect(b, "40883c10"); /* mov %dil,(%rax,%rdx,1) */
    x64_mov_mr(b, 2, x64_mem_idx(X_RAX, X_R15, 0, 0), X_R9);
    expect(b, "6646890c38"); /* mov %r9w,(%rax,%r15,1) */
    x64_mov_mr(b, 8, x64_mem(X_RBP, 0x126b8), X_RCX);
    expect(b, "48898db8260100"); /* mov %rcx,0x126b8(%rbp) */
    x64_mov_mi(b, 1, x64_mem(X_RAX, 0x10), 0x80);
    expect(b, "c6401080"); /* movb $0x80,0x10(%rax) */
    x64_mov_mi(b, 2, x64_mem(X_RAX, 0x10), 0x8000);
    expect(b, "66c740100080"); /* movw $0x8000,0x10(%rax) */
    x64_mov_mi(b, 8, x64_mem(X_RBP, 0x126c0), 4);
    expect(b, "48c785c026010004000000"); /* movq $0x4,0x126c0(%rbp) */
    x64_mov_ri32(b, X_R9, 0xdeadbeef);
    expect(b, "41b9efbeadde"); /* mov $0xdeadbeef,%r9d */
    x64_mov_ri64(b, X_RAX, 0x7fffffff00ull);
    expect(b, "48b800ffffff7f000000"); /* movabs $0x7fffffff00,%rax */
    x64_mov_ri64(b, X_RDX, (uint64_t)-1);
    expect(b, "48c7c2ffffffff"); /* mov $0xffffffffffffffff,%rdx */
    x64_movzx_rr(b, 1, X_RAX, X_RSI);
    expect(b, "400fb6c6"); /* movzbl %sil,%eax */
    x64_movzx_rm(b, 2, X_R11, x64_mem(X_RBP, 0xcc));
    expect(b, "440fb79dcc000000"); /* movzwl 0xcc(%rbp),%r11d */
    x64_movsx_rr(b, 1, X_RDX, X_R8);
    expect(b, "410fbed0"); /* movsbl %r8b,%edx */
    x64_movsx_rm(b, 2, X_RAX, x64_mem_idx(X_RAX, X_RBX, 0, 0));
    expect(b, "0fbf0418"); /* movswl (%rax,%rbx,1),%eax */
    x64_movsxd_rr(b, X_RCX, X_RCX);
    expect(b, "4863c9"); /* movslq %ecx,%rcx */
    x64_lea(b, false, X_RCX, x64_mem_idx(X_RCX, X_RAX, 1, 0));
    expect(b, "8d0c41"); /* lea (%rcx,%rax,2),%ecx */
    x64_lea(b, false, X_RDX, x64_mem(X_R8, -0x10));
    expect(b, "418d50f0"); /* lea -0x10(%r8),%edx */
    x64_shift_ri(b, false, SH_SHR, X_RCX, 12);
    expect(b, "c1e90c"); /* shr $0xc,%ecx */
    x64_shift_ri(b, false, SH_SHL, X_R14, 1);
    expect(b, "41d1e6"); /* shl %r14d */
    x64_shift_ri(b, true, SH_SAR, X_RAX, 32);
    expect(b, "48c1f820"); /* sar $0x20,%rax */
    x64_shift_rcl(b, false, SH_ROL, X_R13);
    expect(b, "41d3c5"); /* rol %cl,%r13d */
    x64_rorx_rr(b, X_RCX, X_R13, 12);
    expect(b, "c4c37bf0cd0c"); /* rorx $0xc,%r13d,%ecx */
    x64_rorx_rm(b, X_RAX, x64_mem(X_RBP, 0x40), 22);
    expect(b, "c4e37bf0454016"); /* rorx $0x16,0x40(%rbp),%eax */
    x64_unary_r(b, false, UN_NEG, X_R12);
    expect(b, "41f7dc"); /* neg %r12d */
    x64_unary_m(b, 4, UN_NOT, x64_mem(X_RBP, 0x28));
    expect(b, "f75528"); /* notl 0x28(%rbp) */
    x64_imul_rr(b, true, X_RAX, X_RCX);
    expect(b, "480fafc1"); /* imul %rcx,%rax */
    x64_imul_rri(b, X_RDX, X_R9, 1000);
    expect(b, "4169d1e8030000"); /* imul $0x3e8,%r9d,%edx */
    x64_imul_rmi(b, X_RSI, x64_mem(X_RBP, 0x28), 3);
    expect(b, "6b752803"); /* imul $0x3,0x28(%rbp),%esi */
    x64_bswap(b, X_R10);
    expect(b, "410fca"); /* bswap %r10d */
    x64_bitscan_rr(b, true, X_RAX, X_RDI);
    expect(b, "0fbcc7"); /* bsf %edi,%eax */
    x64_bitscan_rm(b, false, X_RAX, x64_mem(X_RBP, 0xc8));
    expect(b, "0fbd85c8000000"); /* bsr 0xc8(%rbp),%eax */
    x64_setcc(b, CC_B, X_RDI);
    expect(b, "400f92c7"); /* setb %dil */
    x64_cmov_rr(b, CC_E, X_RAX, X_RCX);
    expect(b, "0f44c1"); /* cmove %ecx,%eax */
    x64_cmov_rm(b, CC_GE, X_R11, x64_mem(X_RBP, 0xd0));
    expect(b, "440f4d9dd0000000"); /* cmovge 0xd0(%rbp),%r11d */
    x64_test_rr(b, false, X_R12, X_R12);
    expect(b, "4585e4"); /* test %r12d,%r12d */
    x64_test_ri(b, X_RDX, 0x80);
    expect(b, "f7c280000000"); /* test $0x80,%edx */
    x64_test_mi(b, x64_mem(X_RBP, 0x28), 0xffff);
    expect(b, "f74528ffff0000"); /* testl $0xffff,0x28(%rbp) */
    x64_test_mr(b, x64_mem(X_RBP, 0x28), X_RSI);
    expect(b, "857528"); /* test %esi,0x28(%rbp) */
    x64_alu_rm_sz(b, 1, ALU_ADD, X_RAX, x64_mem(X_RBP, 0x2c));
    expect(b, "02452c"); /* add 0x2c(%rbp),%al */
    x64_alu_rm_sz(b, 2, ALU_ADC, X_RAX, x64_mem(X_RBP, 0x2c));
    expect(b, "6613452c"); /* adc 0x2c(%rbp),%ax */
    x64_test_rr_sz(b, 1, X_RAX, X_RAX);
    expect(b, "84c0"); /* test %al,%al */
    x64_incdec_r_sz(b, 2, true, X_RAX);
    expect(b, "66ffc8"); /* dec %ax */
    x64_xchg_rr(b, false, X_RSI, X_RDX);
    expect(b, "87d6"); /* xchg %edx,%esi */
    x64_push(b, X_R15);
    expect(b, "4157"); /* push %r15 */
    x64_pop(b, X_RBX);
    expect(b, "5b"); /* pop %rbx */
    x64_call_r(b, X_RAX);
    expect(b, "ffd0"); /* call *%rax */
    x64_jmp_r(b, X_R11);
    expect(b, "41ffe3"); /* jmp *%r11 */
    x64_jmp_m(b, x64_mem(X_RCX, 0x20));
    expect(b, "ff6120"); /* jmp *0x20(%rcx) */
    x64_call_m(b, x64_mem_idx(X_RCX, X_RAX, 3, 0));
    expect(b, "ff14c1"); /* call *(%rcx,%rax,8) */
    CHECK_EQ(mismatches, 0);
}

TEST(rel32_patching)
{
    X64Buf *b = &buf;
    *b = (X64Buf){code, 0, sizeof code - 16};
    size_t at = x64_jcc32(b, CC_NE);
    x64_align(b, 16, 0);
    x64_patch_rel32(b, at, 0);
    /* jne 0; 10 bytes of NOPs: the 9-byte form, then one byte */
    expect(b, "0f85faffffff660f1f84000000000090");
    x64_nops(b, 20);
    expect(b, "660f1f840000000000660f1f8400000000006690");
    at = x64_jmp8(b);
    x64_patch_rel8(b, at, 0);
    expect(b, "ebfe");
    CHECK_EQ(mismatches, 0);
}
#else
TEST(encodings)
{
    printf("# no x86-64 back end on this host\n");
}
#endif
