/* Decoder: table-driven bytes -> text/length checks, error codes, and a length cross-check. */
#include "test.h"

#include "cpu/x86/decode.h"

typedef struct Case {
    const char *bytes; /* hex */
    int code32;
    int len; /* expected length, or a negative X86_DECODE_* code */
    const char *text;
} Case;

static const Case cases[] = {
    {"01d8", 1, 2, "add eax, ebx"},
    {"6601d8", 1, 3, "add ax, bx"},
    {"00e3", 1, 2, "add bl, ah"},
    {"030424", 1, 3, "add eax, dword ss:[esp]"},
    {"8b4424fc", 1, 4, "mov eax, dword ss:[esp+0xfffffffc]"},
    {"8b048500001000", 1, 7, "mov eax, dword ds:[eax*4+0x100000]"},
    {"8b0d78563412", 1, 6, "mov ecx, dword ds:[0x12345678]"},
    {"8b4500", 1, 3, "mov eax, dword ss:[ebp]"},
    {"8b04dd08000000", 1, 7, "mov eax, dword ds:[ebx*8+0x8]"},
    {"648b0530000000", 1, 7, "mov eax, dword fs:[0x30]"},
    {"8b00", 0, 2, "mov ax, word ds:[bx+si]"},
    {"8b4602", 0, 3, "mov ax, word ss:[bp+0x2]"},
    {"8b063412", 0, 4, "mov ax, word ds:[0x1234]"},
    {"678b00", 1, 3, "mov eax, dword ds:[bx+si]"},
    {"26678b4380", 1, 5, "mov eax, dword es:[bp+di+0xffffff80]"},
    {"81c078563412", 1, 6, "add eax, 0x12345678"},
    {"83c0ff", 1, 3, "add eax, 0xffffffff"},
    {"6683c0ff", 1, 4, "add ax, 0xffffffff"},
    {"80c1ff", 1, 3, "add cl, 0xff"},
    {"f6c180", 1, 3, "test cl, 0x80"},
    {"f7c100010000", 1, 6, "test ecx, 0x100"},
    {"66f7c10001", 1, 5, "test cx, 0x100"},
    {"f7d8", 1, 2, "neg eax"},
    {"c1e005", 1, 3, "shl eax, 0x5"},
    {"d1f8", 1, 2, "sar eax, 0x1"},
    {"d3e8", 1, 2, "shr eax, cl"},
    {"690c2410000000", 1, 7, "imul ecx, dword ss:[esp], 0x10"},
    {"0fafc1", 1, 3, "imul eax, ecx"},
    {"740e", 1, 2, "je 0x10"},
    {"0f8500010000", 1, 6, "jne 0x106"},
    {"e8fbffffff", 1, 5, "call 0x0"},
    {"ebfe", 1, 2, "jmp 0x0"},
    {"ea785634120800", 1, 7, "jmpf 0x8:0x12345678"},
    {"ff20", 1, 2, "jmp dword ds:[eax]"},
    {"ff5508", 1, 3, "call dword ss:[ebp+0x8]"},
    {"ff6d00", 1, 3, "jmpf ss:[ebp]"},
    {"c20800", 1, 3, "ret 0x8"},
    {"cd80", 1, 2, "int 0x80"},
    {"f3a5", 1, 2, "rep movsd"},
    {"f2ae", 1, 2, "repne scasb"},
    {"66ab", 1, 2, "stosw"},
    {"f00fb111", 1, 4, "lock cmpxchg dword ds:[ecx], edx"},
    {"f00fc70e", 1, 4, "lock cmpxchg8b qword ds:[esi]"},
    {"0fc8", 1, 2, "bswap eax"},
    {"0f44c1", 1, 3, "cmove eax, ecx"},
    {"0f9fc0", 1, 3, "setg al"},
    {"0fb6c1", 1, 3, "movzx eax, cl"},
    {"0fbf0e", 1, 3, "movsx ecx, word ds:[esi]"},
    {"0fa4c203", 1, 4, "shld edx, eax, 0x3"},
    {"0fbae105", 1, 4, "bt ecx, 0x5"},
    {"0fa2", 1, 2, "cpuid"},
    {"0f22d8", 1, 3, "mov cr3, eax"},
    {"0f20c0", 1, 3, "mov eax, cr0"},
    {"0f0110", 1, 3, "lgdt ds:[eax]"},
    {"0f01f8", 1, -1, NULL},            /* 0F 01 /7 with a register */
    {"0f0138", 1, 3, "invlpg ds:[eax]"},
    {"0f34", 1, 2, "sysenter"},
    {"8ed8", 1, 2, "mov ds, ax"},
    {"8cc8", 1, 2, "mov eax, cs"},
    {"8ec8", 1, -1, NULL},               /* mov cs, ax */
    {"c8100001", 1, 4, "enter 0x10, 0x1"},
    {"d40a", 1, 2, "aam 0xa"},
    {"0f0b", 1, 2, "ud2"},
    {"0faa", 1, 2, "rsm"},
    {"f001c0", 1, -1, NULL},             /* lock with a register destination */
    {"f090", 1, -1, NULL},               /* lock nop */
    {"8dc0", 1, -1, NULL},               /* lea with a register source */
    {"fef8", 1, -1, NULL},               /* FE /7 */
    {"0f1f4000", 1, 4, "nop dword ds:[eax]"},
    {"d9c9", 1, 2, "fxch st(1)"},
    {"dec1", 1, 2, "faddp st(1), st(0)"},
    {"dc0d10000000", 1, 6, "fmul qword ds:[0x10]"},
    {"db2d10000000", 1, 6, "fld tbyte ds:[0x10]"},
    {"dfe0", 1, 2, "fnstsw"},
    {"d9e8", 1, 2, "fld1"},
    {"d9ee", 1, 2, "fldz"},
    {"dbe3", 1, 2, "fninit"},
    {"d8e1", 1, 2, "fsub st(0), st(1)"},
    {"dce9", 1, 2, "fsub st(1), st(0)"},
    {"dce1", 1, 2, "fsubr st(1), st(0)"},
    {"d9d1", 1, -1, NULL},
    {"0fae00", 1, 3, "fxsave ds:[eax]"},
    {"666666666666666666666666666601c0", 1, -2, NULL}, /* 16 bytes */
    {"6666666666666666666666666601c0", 1, 15, "add ax, ax"},
    {"8b", 1, -3, NULL},
    {"0f", 1, -3, NULL},
    {"a178563412", 1, 5, "mov eax, dword ds:[0x12345678]"},
    {"a23412", 0, 3, "mov byte ds:[0x1234], al"},
    {"e460", 1, 2, "in al, 0x60"},
    {"ef", 1, 1, "out dx, eax"},
    {"9a785634120800", 1, 7, "callf 0x8:0x12345678"},
    {"0f00d8", 1, 3, "ltr ax"},
    {"0f0f", 1, -1, NULL},
};

static size_t parse_hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (s[0] && s[1]) {
        if (s[0] == ' ') {
            s++;
            continue;
        }
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = v;
        s += 2;
    }
    return n;
}

TEST(table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Case *tc = &cases[i];
        uint8_t buf[32];
        size_t n = parse_hex(tc->bytes, buf);
        X86Insn insn;
        int len = x86_decode(&insn, buf, n, tc->code32);
        if (len != tc->len) {
            printf("# case %zu (%s): length %d, expected %d\n", i, tc->bytes, len, tc->len);
            CHECK(0);
            continue;
        }
        if (len > 0 && tc->text) {
            char text[128];
            x86_format(&insn, 0, text, sizeof text);
            if (strcmp(text, tc->text)) {
                printf("# case %zu (%s): \"%s\", expected \"%s\"\n", i, tc->bytes, text, tc->text);
                CHECK(0);
            }
        }
    }
}

/* Decoding is pure and never reads past the bytes it is given: every prefix of a valid
 * instruction asks for more, and the full one decodes to the same length. */
TEST(truncation)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Case *tc = &cases[i];
        if (tc->len <= 0) continue;
        uint8_t buf[32];
        size_t n = parse_hex(tc->bytes, buf);
        for (size_t k = 0; k < n && k < (size_t)tc->len; k++) {
            X86Insn insn;
            int len = x86_decode(&insn, buf, k, tc->code32);
            if (len != X86_DECODE_NEED_MORE) {
                printf("# case %zu with %zu bytes: %d\n", i, k, len);
                CHECK(0);
                break;
            }
        }
    }
}

/* Random byte strings never make the decoder read beyond its input or return nonsense. */
TEST(random_robust)
{
    uint32_t seed = 12345;
    for (int iter = 0; iter < 200000; iter++) {
        uint8_t buf[15];
        for (int i = 0; i < 15; i++) {
            seed = seed * 1103515245 + 12345;
            buf[i] = seed >> 16;
        }
        X86Insn insn;
        int len = x86_decode(&insn, buf, 15, iter & 1);
        CHECK(len == X86_DECODE_UD || len == X86_DECODE_TOO_LONG || (len >= 1 && len <= 15));
        if (len > 0) CHECK(insn.mnem != X86_INVALID && insn.len == len);
    }
}
