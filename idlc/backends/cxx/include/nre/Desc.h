// idlc's host stand-in for NRE's <Desc.h>: the capability range descriptor Crd.
#ifndef IDLC_NRE_DESC_H
#define IDLC_NRE_DESC_H

#include <arch/Types.h>

namespace nre {
class Desc {
    word_t _value;

protected:
    explicit Desc(word_t v) : _value(v) {}

public:
    word_t value() const { return _value; }
};

class Crd : public Desc {
public:
    enum { MEM = 1, IO = 2, OBJ = 3 };
    enum {
        R = 1 << 2,
        W = 1 << 3,
        X = 1 << 4,
        RWX = R | W | X,
        A = 1 << 2,
        SM_UP = 1 << 2,
        SM_DN = 1 << 3,
        MEM_ALL = MEM | RWX,
        IO_ALL = IO | A,
        OBJ_ALL = OBJ | (0x1F << 2)
    };
    bool is_null() const { return value() == 0; }
    word_t offset() const { return value() >> 12; }
    uint order() const { return (value() >> 7) & 0x1f; }
    uint attr() const { return value() & 0x1f; }
    explicit Crd(word_t offset, uint order, uint attr)
        : Desc((offset << 12) | (order << 7) | attr) {}
    explicit Crd(word_t v) : Desc(v) {}
};
}  // namespace nre

#endif
