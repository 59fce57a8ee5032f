// idlc's guest flavour of NRE's <kobj/Pt.h> and <kobj/LocalThread.h> (docs/cxx-backend.md,
// "Guest flavour"): Pt::call is NOVA's call system call (nova.h's nova_call) on the
// running EC's UTCB; Pt(LocalThread, func) makes a portal to a local EC of this PD whose
// entry (idlc/guest.hpp) runs func on the local EC's UTCB and replies when it returns.
#ifndef IDLC_NRE_PT_H
#define IDLC_NRE_PT_H

#include <arch/Types.h>
#include <nova.h>
#include <utcb/UtcbFrame.h>

extern "C" void idlc_guest_portal_entry();  // idlc/guest.hpp: call the handler, reply

namespace nre {

// NRE's LocalThread, reduced: a local EC on `cpu` with a fresh UTCB page and a stack of
// STACK bytes from the heap; it runs only when one of its portals is called.
class LocalThread {
public:
    enum { STACK = 32 * 1024 };
    explicit LocalThread(unsigned cpu = 0) : _sel(guest::alloc_sels(0)), _utcb(next_utcb()) {
        char *stack = new char[STACK];
        word_t sp = reinterpret_cast<word_t>(stack + STACK) & ~static_cast<word_t>(15);
        if (create_ec(_sel, SELF_PD, reinterpret_cast<word_t>(_utcb), cpu, sp, 0, 0) != SUCCESS)
            IDLC_NRE_THROW(Exception(E_CAP, "create_ec failed"));
    }
    capsel_t sel() const { return _sel; }
    Utcb *utcb() const { return _utcb; }

private:
    static Utcb *next_utcb() {
        static word_t next = 0x30000000;  // unused addresses: the kernel maps the page there
        next += 4096;
        return reinterpret_cast<Utcb *>(next - 4096);
    }
    capsel_t _sel;
    Utcb *_utcb;
};

class Pt {
public:
    typedef void (*portal_func)(capsel_t);
    enum { SLOTS = 16 };
    struct Slot {
        capsel_t sel;
        portal_func func;
        Utcb *utcb;
    };

    explicit Pt(capsel_t pt) : _sel(pt) {}
    // A portal at a fresh selector to `ec`: a call runs func(portal id = the selector).
    Pt(const LocalThread &ec, portal_func func) : _sel(guest::alloc_sels(0)) {
        Slot *s = slot(0);
        if (!s) IDLC_NRE_THROW(Exception(E_CAPACITY, "no free portal slot"));
        s->sel = _sel, s->func = func, s->utcb = ec.utcb();
        void *ip = reinterpret_cast<void *>(&idlc_guest_portal_entry);
        if (create_pt(_sel, SELF_PD, ec.sel(), 0, ip) != SUCCESS)
            IDLC_NRE_THROW(Exception(E_CAP, "create_pt failed"));
    }
    capsel_t sel() const { return _sel; }

    // The kernel copies the message to the callee's UTCB and the reply back into ours.
    void call(UtcbFrame &uf) {
        word st = nova_call(_sel, 0);
        if (st != SUCCESS) IDLC_NRE_THROW(Exception(static_cast<ErrorCode>(st), "call failed"));
        uf._upos = 0;
        uf._tpos = 0;
    }

    // The slot of portal `sel` (0: a free one), or null.
    static Slot *slot(capsel_t sel) {
        static Slot slots[SLOTS];
        for (size_t i = 0; i < SLOTS; i++)
            if (slots[i].sel == sel) return &slots[i];
        return 0;
    }

private:
    capsel_t _sel;
};

}  // namespace nre

#endif
