// idlc's host stand-in for NRE's <kobj/Pt.h>. A portal is a selector bound to a handler
// function in this process (Pt::bind); call() plays the kernel: it copies the caller's
// message into the handler's own UTCB page, runs the handler on it and copies the reply
// back (untyped words and typed items verbatim: no capability space to rewrite them in).
#ifndef IDLC_NRE_PT_H
#define IDLC_NRE_PT_H

#include <arch/Types.h>
#include <utcb/UtcbFrame.h>

namespace nre {

class Pt {
public:
    typedef void (*portal_func)(capsel_t);
    enum { SLOTS = 64 };

    explicit Pt(capsel_t pt) : _sel(pt) {}
    capsel_t sel() const { return _sel; }

    // The host's create_pt: the handler for calls on selector `pt`.
    static void bind(capsel_t pt, portal_func func) { table()[pt % SLOTS] = func; }

    void call(UtcbFrame &uf) {
        portal_func f = table()[_sel % SLOTS];
        if (!f) IDLC_NRE_THROW(Exception(E_CAP, "no portal at this selector"));
        Utcb *caller = uf._utcb;
        Utcb *callee = new Utcb();
        callee->reset();
        callee->untyped = caller->untyped;
        callee->typed = caller->typed;
        for (size_t i = 0; i < caller->untyped; i++) callee->msg[i] = caller->msg[i];
        for (size_t i = 0; i < 2 * caller->typed; i++) callee->items[i] = caller->items[i];
        Utcb::current() = callee;
        f(_sel);
        Utcb::current() = caller;
        caller->untyped = callee->untyped;
        caller->typed = callee->typed;
        for (size_t i = 0; i < callee->untyped; i++) caller->msg[i] = callee->msg[i];
        for (size_t i = 0; i < 2 * callee->typed; i++) caller->items[i] = callee->items[i];
        delete callee;
        uf._upos = 0;
        uf._tpos = 0;
    }

private:
    static portal_func *table() {
        static portal_func slots[SLOTS];
        return slots;
    }
    capsel_t _sel;
};

}  // namespace nre

#endif
