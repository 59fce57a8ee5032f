// idlc's host stand-in for NRE's <utcb/UtcbFrame.h> (docs/cxx-backend.md). The UTCB is a
// plain memory page per thread: untyped words from the front, typed items (Crd, aux) from
// the end, the capacities of NRE's copy mode for an empty UTCB (WIRE.md §1). A UtcbFrame
// saves the live frame and starts an empty one; its destructor restores the saved one.
// Windows are recorded, never used: there is no kernel here (kobj/Pt.h calls the handler).
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
    enum { WORDS = (4096 - 5 * sizeof(word_t)) / sizeof(word_t), POS_SLOT = WORDS / 2 };
    enum { UNTYPED = POS_SLOT, TYPED = (WORDS - POS_SLOT - 1) / 2 };
    size_t untyped, typed;
    word_t xlt, del;
    word_t msg[UNTYPED];
    word_t items[2 * TYPED];  // item k: Crd at items[2k], aux at items[2k+1]
    void reset() { untyped = typed = 0, xlt = del = 0; }
    static Utcb *&current() {
        static thread_local Utcb page;
        static thread_local Utcb *cur = &page;
        return cur;
    }
};

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
        _utcb->untyped = _utcb->typed = 0;
        _upos = _tpos = 0;
    }
    void reset() {
        clear();
        _utcb->xlt = _utcb->del = 0;
    }
    Crd delegation_window() const { return Crd(_utcb->del); }
    void delegation_window(Crd crd) { _utcb->del = crd.value(); }
    Crd translation_window() const { return Crd(_utcb->xlt); }
    void translation_window(Crd crd) { _utcb->xlt = crd.value(); }
    void accept_translates(word_t offset = 0, uint order = 31, uint attr = Crd::OBJ_ALL) {
        translation_window(Crd(offset, order, attr));
    }
    void accept_delegates(uint order, uint attr = Crd::OBJ_ALL) {
        // NRE allocates 2^order free selectors; the host has no cap space: selector 0x1000
        delegation_window(Crd(0x1000, order, attr));
    }
    void accept_delegates() {}
    void finish_input() {
        if (has_more_untyped() || has_more_typed())
            IDLC_NRE_THROW(UtcbException(E_ARGS_INVALID, "Received more typed/untyped items than expected"));
        clear();
    }
    size_t free_untyped() const { return Utcb::UNTYPED - _utcb->untyped; }
    size_t free_typed() const { return Utcb::TYPED - _utcb->typed; }
    size_t untyped() const { return _utcb->untyped; }
    size_t typed() const { return _utcb->typed; }
    bool has_more_typed() const { return _tpos < typed(); }
    bool has_more_untyped() const { return _upos < untyped(); }

    void translate(Crd crd) { add_typed(TypedItem(crd, 0)); }
    void delegate(Crd crd, uintptr_t hotspot = 0, DelFlags flags = NONE) {
        add_typed(TypedItem(crd, 1 | flags | (hotspot << 12)));
    }
    void get_typed(TypedItem &item) {
        if (_tpos >= typed()) IDLC_NRE_THROW(UtcbException(E_UTCB_TYPED));
        item._crd = Crd(_utcb->items[2 * _tpos]);
        item._aux = _utcb->items[2 * _tpos + 1];
        _tpos++;
    }

    UtcbFrameRef &operator<<(const word_t &value) {
        if (free_untyped() < 1) IDLC_NRE_THROW(UtcbException(E_CAPACITY, "No free slots for untyped items"));
        _utcb->msg[_utcb->untyped++] = value;
        return *this;
    }
    UtcbFrameRef &operator>>(word_t &value) {
        if (_upos + 1 > untyped()) IDLC_NRE_THROW(UtcbException(E_UTCB_UNTYPED));
        value = _utcb->msg[_upos++];
        return *this;
    }

private:
    void add_typed(const TypedItem &item) {
        if (free_typed() < 1) IDLC_NRE_THROW(UtcbException(E_CAPACITY, "No free slots for typed items"));
        _utcb->items[2 * _utcb->typed] = item._crd.value();
        _utcb->items[2 * _utcb->typed + 1] = item._aux;
        _utcb->typed++;
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
    UtcbFrame() : UtcbFrameRef(), _saved(new Utcb(*_utcb)) { reset(); }
    ~UtcbFrame() {
        *_utcb = *_saved;
        delete _saved;
    }

private:
    Utcb *_saved;
};

}  // namespace nre

#endif
