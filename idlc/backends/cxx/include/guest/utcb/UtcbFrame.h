// idlc's guest flavour of NRE's <utcb/UtcbFrame.h> (docs/cxx-backend.md, "Guest flavour"):
// the frame is the EC's real UTCB page, laid out as the kernel reads it (WIRE.md §1,
// runtime/guest/include/nova.h): word 1 = untyped | typed << 16, word 2 the translate
// window, word 3 the delegate window, untyped words from word 5, typed item k (Crd, aux)
// at words 510 - 2k and 511 - 2k. Copy mode's capacities for an empty UTCB: 253 words,
// 126 items. A nested UtcbFrame saves the live frame on the heap (NRE keeps it in the
// page), the outermost frame of an idle UTCB saves nothing.
#ifndef IDLC_NRE_UTCBFRAME_H
#define IDLC_NRE_UTCBFRAME_H

#include <Desc.h>
#include <Exception.h>
#include <arch/Types.h>

namespace nre {

class UtcbException : public Exception {
public:
    explicit UtcbException(ErrorCode code = E_FAILURE, const String &msg = String()) throw()
        : Exception(code, msg) {}
};

struct Utcb {
    enum { PAGE_WORDS = 4096 / sizeof(word_t), HDR = 5, MSG = PAGE_WORDS - HDR };
    enum { POS_SLOT = MSG / 2, UNTYPED = POS_SLOT, TYPED = (MSG - POS_SLOT - 1) / 2 };
    word_t w[PAGE_WORDS];

    size_t untyped() const { return w[1] & 0xffff; }
    size_t typed() const { return (w[1] >> 16) & 0xffff; }
    void counts(size_t u, size_t t) { w[1] = u | t << 16; }
    word_t &mr(size_t i) { return w[HDR + i]; }
    word_t &crd(size_t k) { return w[PAGE_WORDS - 2 - 2 * k]; }
    word_t &aux(size_t k) { return w[PAGE_WORDS - 1 - 2 * k]; }
    // The UTCB of the running EC: the program's main sets it (nre::guest::start), a portal
    // entry switches to its local EC's page for the handler (kobj/Pt.h). NRE finds it
    // through the running Thread instead; a guest here runs one EC at a time.
    static Utcb *&current() {
        static Utcb *cur;
        return cur;
    }
};

namespace guest {
// 2^order fresh selectors, aligned (NRE's CapSelSpace::allocate); never freed.
inline capsel_t alloc_sels(uint order) {
    static capsel_t next = 0x10000;
    capsel_t n = static_cast<capsel_t>(1) << order;
    capsel_t base = (next + n - 1) & ~(n - 1);
    next = base + n;
    return base;
}
}  // namespace guest

class Pt;

class UtcbFrameRef {
    friend class Pt;

public:
    enum DelFlags { NONE = 0 };

private:
    class TypedItem {
        friend class UtcbFrameRef;

    public:
        explicit TypedItem(Crd crd = Crd(0), word_t aux = 0) : _crd(crd), _aux(aux) {}
        Crd crd() const { return _crd; }
        word_t aux() const { return _aux; }

    private:
        Crd _crd;
        word_t _aux;
    };

public:
    explicit UtcbFrameRef(Utcb *utcb = Utcb::current()) : _utcb(utcb), _upos(0), _tpos(0) {}

    void clear() {
        _utcb->counts(0, 0);
        _upos = _tpos = 0;
    }
    void reset() {
        clear();
        _utcb->w[2] = _utcb->w[3] = 0;
    }
    Crd delegation_window() const { return Crd(_utcb->w[3]); }
    void delegation_window(Crd crd) { _utcb->w[3] = crd.value(); }
    Crd translation_window() const { return Crd(_utcb->w[2]); }
    void translation_window(Crd crd) { _utcb->w[2] = crd.value(); }
    void accept_translates(word_t offset = 0, uint order = 31, uint attr = Crd::OBJ_ALL) {
        translation_window(Crd(offset, order, attr));
    }
    void accept_delegates(uint order, uint attr = Crd::OBJ_ALL) {
        delegation_window(Crd(guest::alloc_sels(order), order, attr));
    }
    void accept_delegates() {}
    void finish_input() {
        if (has_more_untyped() || has_more_typed())
            IDLC_NRE_THROW(UtcbException(E_ARGS_INVALID, "Received more typed/untyped items than expected"));
        clear();
    }
    size_t free_untyped() const { return Utcb::UNTYPED - untyped(); }
    size_t free_typed() const { return Utcb::TYPED - typed(); }
    size_t untyped() const { return _utcb->untyped(); }
    size_t typed() const { return _utcb->typed(); }
    bool has_more_typed() const { return _tpos < typed(); }
    bool has_more_untyped() const { return _upos < untyped(); }

    void translate(Crd crd) { add_typed(TypedItem(crd, 0)); }
    void delegate(Crd crd, uintptr_t hotspot = 0, DelFlags flags = NONE) {
        add_typed(TypedItem(crd, 1 | flags | (hotspot << 12)));
    }
    void get_typed(TypedItem &item) {
        if (_tpos >= typed()) IDLC_NRE_THROW(UtcbException(E_UTCB_TYPED));
        item._crd = Crd(_utcb->crd(_tpos));
        item._aux = _utcb->aux(_tpos);
        _tpos++;
    }

    UtcbFrameRef &operator<<(const word_t &value) {
        if (free_untyped() < 1) IDLC_NRE_THROW(UtcbException(E_CAPACITY, "No free slots for untyped items"));
        size_t u = untyped();
        _utcb->mr(u) = value;
        _utcb->counts(u + 1, typed());
        return *this;
    }
    UtcbFrameRef &operator>>(word_t &value) {
        if (_upos + 1 > untyped()) IDLC_NRE_THROW(UtcbException(E_UTCB_UNTYPED));
        value = _utcb->mr(_upos++);
        return *this;
    }

private:
    void add_typed(const TypedItem &item) {
        if (free_typed() < 1) IDLC_NRE_THROW(UtcbException(E_CAPACITY, "No free slots for typed items"));
        size_t t = typed();
        _utcb->crd(t) = item._crd.value();
        _utcb->aux(t) = item._aux;
        _utcb->counts(untyped(), t + 1);
    }
    UtcbFrameRef(const UtcbFrameRef &);
    UtcbFrameRef &operator=(const UtcbFrameRef &);

protected:
    Utcb *_utcb;
    size_t _upos;
    size_t _tpos;
};

class UtcbFrame : public UtcbFrameRef {
public:
    UtcbFrame() : UtcbFrameRef(), _saved(0) {
        size_t u = untyped(), t = typed();
        if (u || t || _utcb->w[2] || _utcb->w[3]) {
            // the header's words 1..3, the untyped words, the items
            _saved = new word_t[3 + u + 2 * t];
            for (size_t i = 0; i < 3; i++) _saved[i] = _utcb->w[1 + i];
            for (size_t i = 0; i < u; i++) _saved[3 + i] = _utcb->mr(i);
            for (size_t k = 0; k < t; k++) {
                _saved[3 + u + 2 * k] = _utcb->crd(k);
                _saved[4 + u + 2 * k] = _utcb->aux(k);
            }
        }
        reset();
    }
    ~UtcbFrame() {
        reset();
        if (!_saved) return;
        for (size_t i = 0; i < 3; i++) _utcb->w[1 + i] = _saved[i];
        size_t u = untyped(), t = typed();
        for (size_t i = 0; i < u; i++) _utcb->mr(i) = _saved[3 + i];
        for (size_t k = 0; k < t; k++) {
            _utcb->crd(k) = _saved[3 + u + 2 * k];
            _utcb->aux(k) = _saved[4 + u + 2 * k];
        }
        delete[] _saved;
    }

private:
    word_t *_saved;
};

}  // namespace nre

#endif
