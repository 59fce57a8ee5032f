/*
 * nova.h: NOVA's system calls and UTCB for guest programs of the idlc runtime (issue 16).
 *
 * x86-64 ABI (NOVA-NRE.md section 1): word0 = sel << 8 | flags << 4 | number in rdi,
 * ARG2..ARG5 in rsi, rdx, rax, r8, then `syscall`; the status comes back in rdi's low
 * byte, results of lookup, sc_ctrl and assign_gsi in rsi and rdx. Build with
 *   gcc -ffreestanding -nostdlib -static -fno-pie -no-pie -mno-red-zone
 * A program defines `int main(struct utcb *u, unsigned long sc)`: its UTCB and the
 * selector of its SC, as the loader (runtime.loader) starts it; main's result (0..31)
 * is its exit code (NRE's exit protocol: a jump to 0x800 + code).
 */
#ifndef NOVA_H
#define NOVA_H

typedef unsigned long word;

enum { SUCCESS, COM_TIM, COM_ABT, BAD_HYP, BAD_CAP, BAD_PAR, BAD_FTR, BAD_CPU, BAD_DEV };
enum {
    SYS_CALL, SYS_REPLY, SYS_CREATE_PD, SYS_CREATE_EC, SYS_CREATE_SC, SYS_CREATE_PT,
    SYS_CREATE_SM, SYS_REVOKE, SYS_LOOKUP, SYS_EC_CTRL, SYS_SC_CTRL, SYS_SM_CTRL,
    SYS_ASSIGN_PCI, SYS_ASSIGN_GSI
};
#define FLAG0 (1ul << 4)
#define FLAG1 (1ul << 5)
#define SELF_PD 0x20ul

/* Crd = base << 12 | order << 7 | attr << 2 | type (section 3) */
enum { CRD_NULL, CRD_MEM, CRD_PIO, CRD_OBJ };
static inline word crd(word type, word base, word order, word attr)
{
    return base << 12 | order << 7 | (attr & 0x1f) << 2 | type;
}
#define CRD_ALL 0x1ful

/* The UTCB page (section 2): header words, untyped words from mr[0], typed items
   (Crd, aux) from the page's end down. */
#define UTCB_WORDS 512
struct utcb {
    unsigned short top, bottom;
    unsigned int _pad;
    word items; /* untyped | typed << 16 */
    word xlt;   /* translate window */
    word del;   /* delegate window */
    word tls;
    word mr[UTCB_WORDS - 5];
};
static inline void utcb_item(struct utcb *u, int k, word c, word aux)
{
    word *page = (word *)u;
    page[UTCB_WORDS - 2 - 2 * k] = c;
    page[UTCB_WORDS - 1 - 2 * k] = aux;
}
static inline word utcb_item_crd(struct utcb *u, int k)
{
    return ((word *)u)[UTCB_WORDS - 2 - 2 * k];
}
#define DELEGATE(hotspot) (1ul | (word)(hotspot) << 12)

/* The one system call: returns the status, results through o2 and o3 if given. */
static inline word nova_syscall(word w0, word a2, word a3, word a4, word a5, word *o2, word *o3)
{
    register word r8 asm("r8") = a5;
    asm volatile("syscall"
                 : "+D"(w0), "+S"(a2), "+d"(a3), "+a"(a4), "+r"(r8)
                 :
                 : "rcx", "r11", "memory");
    if (o2)
        *o2 = a2;
    if (o3)
        *o3 = a3;
    return w0 & 0xff;
}
#define W0(num, sel, flags) ((word)(sel) << 8 | (flags) | (num))

static inline word nova_call(word pt, word flags)
{
    return nova_syscall(W0(SYS_CALL, pt, flags), 0, 0, 0, 0, 0, 0);
}
static inline __attribute__((noreturn)) void nova_reply(void)
{
    nova_syscall(W0(SYS_REPLY, 0, 0), 0, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}
static inline word create_pd(word sel, word pd, word caps)
{
    return nova_syscall(W0(SYS_CREATE_PD, sel, 0), pd, caps, 0, 0, 0, 0);
}
static inline word create_ec(word sel, word pd, word utcb, word cpu, word sp, word evt, int global)
{
    return nova_syscall(W0(SYS_CREATE_EC, sel, global ? FLAG0 : 0), pd, utcb | cpu, sp, evt, 0, 0);
}
static inline word create_sc(word sel, word pd, word ec, word quantum, word prio)
{
    return nova_syscall(W0(SYS_CREATE_SC, sel, 0), pd, ec, quantum << 12 | prio, 0, 0, 0);
}
static inline word create_pt(word sel, word pd, word ec, word mtd, void *ip)
{
    return nova_syscall(W0(SYS_CREATE_PT, sel, 0), pd, ec, mtd, (word)ip, 0, 0);
}
static inline word create_sm(word sel, word pd, word count)
{
    return nova_syscall(W0(SYS_CREATE_SM, sel, 0), pd, count, 0, 0, 0, 0);
}
static inline word revoke(word caps, int self)
{
    return nova_syscall(W0(SYS_REVOKE, 0, self ? FLAG0 : 0), caps, 0, 0, 0, 0, 0);
}
static inline word lookup(word caps, word *out)
{
    return nova_syscall(W0(SYS_LOOKUP, 0, 0), caps, 0, 0, 0, out, 0);
}
static inline word ec_ctrl(word ec)
{
    return nova_syscall(W0(SYS_EC_CTRL, ec, 0), 0, 0, 0, 0, 0, 0);
}
static inline word sc_ctrl(word sc, word *us)
{
    word hi = 0, lo = 0;
    word st = nova_syscall(W0(SYS_SC_CTRL, sc, 0), 0, 0, 0, 0, &hi, &lo);
    *us = hi << 32 | lo;
    return st;
}
static inline word sm_up(word sm) { return nova_syscall(W0(SYS_SM_CTRL, sm, 0), 0, 0, 0, 0, 0, 0); }
static inline word sm_down(word sm) { return nova_syscall(W0(SYS_SM_CTRL, sm, FLAG0), 0, 0, 0, 0, 0, 0); }
static inline word sm_zero(word sm)
{
    return nova_syscall(W0(SYS_SM_CTRL, sm, FLAG0 | FLAG1), 0, 0, 0, 0, 0, 0);
}
static inline word assign_pci(word pd, word cfg, word hint)
{
    return nova_syscall(W0(SYS_ASSIGN_PCI, pd, 0), cfg, hint, 0, 0, 0, 0);
}
static inline word assign_gsi(word sm, word cfg, word cpu, word *msi_addr, word *msi_data)
{
    return nova_syscall(W0(SYS_ASSIGN_GSI, sm, 0), cfg, cpu, 0, 0, msi_addr, msi_data);
}

/* Program entry and exit. */
#define NOVA_EXIT_BASE 0x800ul
static inline __attribute__((noreturn)) void nova_exit(word code)
{
    asm volatile("jmp *%0" ::"r"(NOVA_EXIT_BASE + (code & 0x1f)));
    __builtin_unreachable();
}
struct utcb;
int main(struct utcb *u, word sc);
asm(".text\n.global _start\n_start:\n"
    "  and $-16, %rsp\n"
    "  call main\n"
    "  and $0x1f, %rax\n"
    "  add $0x800, %rax\n"
    "  jmp *%rax\n");

#endif
