/* IR optimiser: folding, copy propagation, dead flag removal and the rules that keep guest
 * state precise at fault points; plus the soft-MMU index hash property. */
#include "test.h"

#include "exec/softmmu.h"
#include "ir/ir.h"

static const IrGlobalDesc globals[] = {{"eax", 0}, {"ebx", 1}, {"cc_dst", 2}, {"cc_src", 3}};
enum { EAX = 1, EBX, CC_DST, CC_SRC };

static uint32_t dummy_fn(void *env, uint32_t a, uint32_t b, uint32_t c) { return a + b + c; }
static const IrHelper pure_helper = {dummy_fn, "pure", IRH_PURE};
static const IrHelper faulting_helper = {dummy_fn, "faulting", IRH_NO_WRITE_G};

static int count_opc(const IrBlock *b, IrOpc opc)
{
    int n = 0;
    for (int i = 0; i < b->nops; i++) n += b->ops[i].opc == opc;
    return n;
}

/* Stores to a global not followed by a fault point before being overwritten are removed. */
static int count_stores_to(const IrBlock *b, IrVar g)
{
    int n = 0;
    for (int i = 0; i < b->nops; i++)
        if (b->ops[i].opc != IR_INSN_START && b->ops[i].opc != IR_GOTO_TB && b->ops[i].d == g) n++;
    return n;
}

TEST(constant_folding)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    IrVar t1 = ir_temp(&b), t2 = ir_temp(&b);
    ir_movi(&b, t1, 6);
    ir_binopi(&b, IR_MUL, t2, t1, 7);
    ir_mov(&b, EAX, t2);
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK(ir_verify(&b));
    CHECK_EQ(b.nops, 2);
    CHECK_EQ(b.ops[0].opc, IR_MOV);
    CHECK_EQ(b.ops[0].d, EAX);
    CHECK(ir_is_const(&b, b.ops[0].a) && ir_const_value(&b, b.ops[0].a) == 42);
    ir_block_free(&b);
}

/* x AND x and x OR x are x (TEST r, r): a copy, which propagates to the branch on it. */
TEST(and_or_of_itself_is_a_copy)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    IrVar t = ir_temp(&b), u = ir_temp(&b);
    ir_and(&b, t, EAX, EAX);
    ir_binop(&b, IR_OR, u, EBX, EBX);
    ir_mov(&b, CC_DST, t);
    ir_mov(&b, CC_SRC, u);
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK(ir_verify(&b));
    CHECK_EQ(count_opc(&b, IR_AND), 0);
    CHECK_EQ(count_opc(&b, IR_OR), 0);
    for (int i = 0; i < b.nops; i++) {
        if (b.ops[i].d == CC_DST) CHECK_EQ(b.ops[i].a, EAX);
        if (b.ops[i].d == CC_SRC) CHECK_EQ(b.ops[i].a, EBX);
    }
    ir_block_free(&b);
}

TEST(dead_flags_removed)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    /* add eax, ebx (flags) ; add eax, 1 (flags) ; exit: first flag stores are dead. */
    for (int k = 0; k < 2; k++) {
        IrVar r = ir_temp(&b);
        if (k == 0) ir_add(&b, r, EAX, EBX);
        else ir_addi(&b, r, EAX, 1);
        ir_mov(&b, EAX, r);
        ir_mov(&b, CC_DST, r);
        ir_mov(&b, CC_SRC, k == 0 ? EBX : ir_const(&b, 1));
    }
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK(ir_verify(&b));
    CHECK_EQ(count_stores_to(&b, CC_DST), 1);
    CHECK_EQ(count_stores_to(&b, CC_SRC), 1);
    ir_block_free(&b);
}

TEST(flags_live_at_fault_points)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    IrVar r = ir_temp(&b), v = ir_temp(&b);
    ir_add(&b, r, EAX, EBX);
    ir_mov(&b, CC_DST, r);
    ir_ld(&b, v, EBX, 4, false, 0); /* may fault: the flags above must be visible */
    ir_mov(&b, CC_DST, v);
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK_EQ(count_stores_to(&b, CC_DST), 2);
    CHECK_EQ(count_opc(&b, IR_LD), 1);
    ir_block_free(&b);
}

/* A discarded global's earlier store dies even across a fault point that lies after the
 * discard; a store followed by a fault point before the discard stays. */
TEST(discard_kills_stores)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    IrVar v = ir_temp(&b), w = ir_temp(&b);
    ir_mov(&b, CC_SRC, EAX); /* dead: discarded before anything observes it */
    ir_mov(&b, CC_DST, EAX); /* live: the load below may fault */
    ir_discard(&b, CC_SRC);
    ir_ld(&b, v, EBX, 4, false, 0);
    ir_discard(&b, CC_DST);
    ir_ld(&b, w, v, 4, false, 0);
    ir_mov(&b, EAX, w);
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK(ir_verify(&b));
    int src_movs = 0, dst_movs = 0;
    for (int i = 0; i < b.nops; i++) {
        src_movs += b.ops[i].opc == IR_MOV && b.ops[i].d == CC_SRC;
        dst_movs += b.ops[i].opc == IR_MOV && b.ops[i].d == CC_DST;
    }
    CHECK_EQ(src_movs, 0);
    CHECK_EQ(dst_movs, 1);
    ir_block_free(&b);
}

/* Division ops fold when their operands are constant and within their guarantee only. */
TEST(division_folding)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    IrVar q = ir_temp(&b), s = ir_temp(&b), u = ir_temp(&b);
    ir_emit(&b, IR_DIVU2, q, ir_const(&b, 0), ir_const(&b, 7), ir_const(&b, 1)); /* 2^32 / 7 */
    ir_mov(&b, EAX, q);
    ir_binop(&b, IR_DIVS, s, ir_const(&b, (uint32_t)-100), ir_const(&b, 7));
    ir_mov(&b, EBX, s);
    ir_emit(&b, IR_DIVU2, u, ir_const(&b, 0), ir_const(&b, 7), ir_const(&b, 9)); /* overflow */
    ir_mov(&b, CC_DST, u);
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK(ir_verify(&b));
    CHECK_EQ(count_opc(&b, IR_DIVU2), 1);
    CHECK_EQ(count_opc(&b, IR_DIVS), 0);
    CHECK(ir_is_const(&b, b.ops[0].a) && ir_const_value(&b, b.ops[0].a) == 613566756u);
    CHECK(ir_is_const(&b, b.ops[1].a) && ir_const_value(&b, b.ops[1].a) == (uint32_t)-14);
    ir_block_free(&b);
}

TEST(unused_load_kept_pure_call_removed)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    IrVar v = ir_temp(&b), w = ir_temp(&b), x = ir_temp(&b);
    ir_ld(&b, v, EAX, 4, false, 0);                /* result unused: still may fault */
    ir_call(&b, &pure_helper, w, EAX, EBX, 0);     /* result unused and pure: removed */
    ir_call(&b, &faulting_helper, x, EAX, 0, 0);   /* result unused but may fault: kept */
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK_EQ(count_opc(&b, IR_LD), 1);
    CHECK_EQ(count_opc(&b, IR_CALL), 1);
    CHECK(b.helpers[b.ops[1].imm] == &faulting_helper);
    ir_block_free(&b);
}

TEST(branches_and_labels)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    int l = ir_new_label(&b);
    IrVar t = ir_temp(&b);
    ir_movi(&b, t, 5);
    ir_brcond(&b, IRC_EQ, t, ir_const(&b, 5), l); /* always taken: becomes br */
    ir_movi(&b, EAX, 1);
    ir_goto_tb(&b, 1);
    ir_label(&b, l);
    ir_mov(&b, EBX, t); /* t's value survives the label */
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK(ir_verify(&b));
    CHECK_EQ(count_opc(&b, IR_BRCOND), 0);
    CHECK_EQ(count_opc(&b, IR_BR), 1);
    /* The temp assignment stays because it is live across the label. */
    int movs_to_t = 0;
    for (int i = 0; i < b.nops; i++) movs_to_t += b.ops[i].opc == IR_MOV && b.ops[i].d == t;
    CHECK_EQ(movs_to_t, 1);
    ir_block_free(&b);
}

TEST(coalesce_into_global)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    IrVar r = ir_temp(&b), c = ir_temp(&b);
    ir_add(&b, r, EAX, EBX);
    ir_mov(&b, EAX, r);
    ir_setcond(&b, IRC_LTU, c, r, EBX); /* reads r: may read eax instead */
    ir_mov(&b, CC_SRC, c);
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK_EQ(b.ops[0].opc, IR_ADD);
    CHECK_EQ(b.ops[0].d, EAX);
    CHECK_EQ(b.ops[1].opc, IR_SETCOND);
    CHECK_EQ(b.ops[1].a, EAX);
    ir_block_free(&b);
}

TEST(backward_branch_liveness)
{
    IrBlock b;
    ir_block_init(&b, globals, 4);
    int loop = ir_new_label(&b);
    IrVar i = ir_temp(&b);
    ir_movi(&b, i, 0);
    ir_label(&b, loop);
    ir_addi(&b, i, i, 1);
    ir_brcond(&b, IRC_LTU, i, ir_const(&b, 10), loop);
    ir_mov(&b, EAX, i);
    ir_goto_tb(&b, 0);
    ir_optimize(&b);
    CHECK(ir_verify(&b));
    CHECK_EQ(count_opc(&b, IR_ADD), 1);
    CHECK_EQ(count_opc(&b, IR_BRCOND), 1);
    ir_block_free(&b);
}

/* The TLB fast path compares only the last byte's page, which is safe because no page and its
 * successor (nor 0xfffff000 and 0) share an index. Check all 2^20 pages. */
TEST(tlb_index_neighbours_distinct)
{
    int bad = 0;
    for (uint32_t page = 0; page < (1u << 20); page++) {
        uint32_t a = page << 12, next = a + 4096;
        if (tlb_index(a) == tlb_index(next)) bad++;
    }
    CHECK_EQ(bad, 0);
    /* And two buffers 16 MiB apart do not thrash one entry. */
    CHECK(tlb_index(0x10000000) != tlb_index(0x11000000));
    CHECK(tlb_index(0x10000000) != tlb_index(0x10400000));
}
