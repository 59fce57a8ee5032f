// idlc's host stand-in for NRE's <String.h>: a copy of a C string, enough for Exception.
#ifndef IDLC_NRE_STRING_H
#define IDLC_NRE_STRING_H

#include <stddef.h>

namespace nre {
class String {
public:
    String() : s_(0), n_(0) {}
    String(const char *s, size_t len = static_cast<size_t>(-1)) : s_(0), n_(0) { reset(s, len); }
    String(const String &o) : s_(0), n_(0) { reset(o.str(), o.n_); }
    String &operator=(const String &o) {
        if (this != &o) reset(o.str(), o.n_);
        return *this;
    }
    ~String() { delete[] s_; }
    void reset(const char *s, size_t len = static_cast<size_t>(-1)) {
        if (len == static_cast<size_t>(-1))
            for (len = 0; s[len]; len++) {
            }
        char *p = new char[len + 1];
        for (size_t i = 0; i < len; i++) p[i] = s[i];
        p[len] = 0;
        delete[] s_;
        s_ = p;
        n_ = len;
    }
    const char *str() const { return s_ ? s_ : ""; }
    size_t length() const { return n_; }

private:
    char *s_;
    size_t n_;
};
}  // namespace nre

#endif
