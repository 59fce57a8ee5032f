// The C++ runtime of a guest program built with idlc's guest flavour of the NRE headers
// (docs/cxx-backend.md, "Guest flavour"). Include it in exactly one translation unit: it
// defines what g++ output needs without a C++ library (operator new/delete over a static
// heap, memcpy and friends, __cxa_pure_virtual), the portal entry, and the program's start
// and registration with the parent's name registry.
#ifndef IDLC_GUEST_HPP
#define IDLC_GUEST_HPP

#include <kobj/Pt.h>
#include <utcb/UtcbFrame.h>

#ifndef IDLC_GUEST_HEAP
#define IDLC_GUEST_HEAP (256 * 1024)
#endif

namespace nre {
namespace guest {

// A heap of power-of-two blocks (16 B .. the heap) with a free list per size; a block
// keeps its size class in the word before it. Out of memory traps.
struct Heap {
    enum { MIN = 4, CLASSES = 40 };
    alignas(16) char mem[IDLC_GUEST_HEAP];
    size_t top;
    void *free[CLASSES];

    void *take(size_t n) {
        unsigned c = MIN;
        while ((static_cast<size_t>(1) << c) < n + 16) c++;
        void *p = free[c];
        if (p) {
            free[c] = *static_cast<void **>(p);
        } else {
            size_t size = static_cast<size_t>(1) << c;
            if (size > sizeof(mem) - top) __builtin_trap();
            p = mem + top + 16;
            top += size;
        }
        static_cast<size_t *>(p)[-1] = c;
        return p;
    }
    void give(void *p) {
        if (!p) return;
        size_t c = static_cast<size_t *>(p)[-1];
        *static_cast<void **>(p) = free[c];
        free[c] = p;
    }
    static Heap &get() {
        static Heap heap;  // in .bss: zero
        return heap;
    }
};

// Start the program: main's UTCB becomes the current one; constructors of globals run.
inline void start(void *utcb) {
    typedef void (*ctor)();
    extern ctor __init_array_start[] __attribute__((weak));
    extern ctor __init_array_end[] __attribute__((weak));
    Utcb::current() = static_cast<Utcb *>(utcb);
    for (ctor *c = __init_array_start; c != __init_array_end; c++) (*c)();
}

// A registry request: the command word, then the name as WIRE.md §3 (length, UTF-8 bytes,
// zero padding).
inline void put_string(UtcbFrameRef &uf, word_t cmd, const char *name) {
    size_t n = 0;
    while (name[n]) n++;
    uf << cmd << n;
    for (size_t i = 0; i < n; i += sizeof(word_t)) {
        word_t w = 0;
        for (size_t b = 0; b < sizeof(word_t) && i + b < n; b++)
            w |= static_cast<word_t>(static_cast<unsigned char>(name[i + b])) << (8 * b);
        uf << w;
    }
}

// Register portal `pt` of CPU `cpu` as service `name` with the parent's name registry
// (its portal for CPU c at 64 * c + 0x24: REGISTER, the name, the CPU mask, the portal
// delegated with hotspot = cpu); the registry's status (0: registered).
inline word_t register_service(const char *name, capsel_t pt, unsigned cpu = 0) {
    UtcbFrame uf;
    put_string(uf, 0, name);  // REGISTER
    uf << (static_cast<word_t>(1) << cpu);
    uf.delegate(Crd(pt, 0, Crd::OBJ_ALL), cpu);
    Pt(static_cast<capsel_t>(64 * cpu + 0x24)).call(uf);
    word_t st = E_FAILURE;
    if (uf.untyped()) uf >> st;
    return st;
}

// The portal of service `name` for `cpu` from the parent's name registry (NRE's
// Connection): GET, the name; the reply delegates every CPU's portal as one range into a
// window of 2^6 selectors (NUM_CPU 64), CPU c's at its base + c. The
// registry's status (0: found, `pt` set). A name not registered yet is asked for again,
// up to 1000 times.
inline word_t connect(const char *name, unsigned cpu, capsel_t &pt) {
    UtcbFrame uf;
    word_t st = E_NOT_FOUND, mask = 0;
    capsel_t base = 0;
    for (int tries = 0; st == E_NOT_FOUND && tries < 1000; tries++) {  // not registered yet
        uf.clear();
        put_string(uf, 1, name);  // GET
        uf.accept_delegates(6);
        base = static_cast<capsel_t>(uf.delegation_window().offset());
        Pt(static_cast<capsel_t>(64 * cpu + 0x24)).call(uf);
        st = uf.untyped() ? E_SUCCESS : E_FAILURE;
        if (uf.untyped()) uf >> st;
    }
    if (st != E_SUCCESS) return st;
    if (uf.untyped() < 2) return E_ARGS_INVALID;
    uf >> mask;
    if (!(mask >> cpu & 1)) return E_NOT_FOUND;
    pt = base + cpu;
    return E_SUCCESS;
}

}  // namespace guest
}  // namespace nre

// A portal call starts here on the local EC's stack (rdi = the portal id): run the
// handler, then reply from the same stack pointer, so the next call starts where this
// one did (NRE's reply landing spot).
extern "C" void idlc_guest_portal(word_t pid) {
    nre::Pt::Slot *s = nre::Pt::slot(static_cast<capsel_t>(pid));
    if (!s) __builtin_trap();
    nre::Utcb *caller = nre::Utcb::current();
    nre::Utcb::current() = s->utcb;
    s->func(static_cast<capsel_t>(pid));
    nre::Utcb::current() = caller;
}
asm(".text\n.global idlc_guest_portal_entry\nidlc_guest_portal_entry:\n"
    "  call idlc_guest_portal\n"
    "  mov $1, %edi\n"  // SYS_REPLY
    "  syscall\n"
    "  ud2\n");

void *operator new(size_t n) { return nre::guest::Heap::get().take(n); }
void *operator new[](size_t n) { return nre::guest::Heap::get().take(n); }
void operator delete(void *p) noexcept { nre::guest::Heap::get().give(p); }
void operator delete[](void *p) noexcept { nre::guest::Heap::get().give(p); }
void operator delete(void *p, size_t) noexcept { nre::guest::Heap::get().give(p); }
void operator delete[](void *p, size_t) noexcept { nre::guest::Heap::get().give(p); }

extern "C" {
void *memcpy(void *d, const void *s, size_t n) {
    void *r = d;
    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}
void *memmove(void *d, const void *s, size_t n) {
    char *dc = static_cast<char *>(d);
    const char *sc = static_cast<const char *>(s);
    if (dc <= sc || dc >= sc + n) return memcpy(d, s, n);
    while (n) {  // backwards; the barrier keeps g++ from making this a memmove call
        n--;
        dc[n] = sc[n];
        asm volatile("" ::: "memory");
    }
    return d;
}
void *memset(void *d, int c, size_t n) {
    void *r = d;
    asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = static_cast<const unsigned char *>(a);
    const unsigned char *y = static_cast<const unsigned char *>(b);
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}
void __cxa_pure_virtual() { __builtin_trap(); }
int __cxa_atexit(void (*)(void *), void *, void *) { return 0; }  // a guest never unwinds
void *__dso_handle;
}

#endif
