// The host harness of `idlc wire --backend cxx` (docs/cxx-backend.md): values as tokens
// (integers in decimal, float bits, strings as hex bytes), read into and written from the
// generated C++ types. Hosted C++11; not part of what guests include.
#ifndef IDLC_HARNESS_HPP
#define IDLC_HARNESS_HPP

#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <type_traits>
#include <vector>

namespace idlc_h {

struct Tok {
    std::vector<std::string> t;
    size_t p = 0;
    bool bad = false;
    std::string next() {
        if (p >= t.size()) {
            bad = true;
            return "0";
        }
        return t[p++];
    }
    unsigned long long u() { return strtoull(next().c_str(), 0, 0); }
    long long s() { return strtoll(next().c_str(), 0, 0); }
};

struct Sink {
    std::string s;
    void add(const std::string &x) {
        s += ' ';
        s += x;
    }
    void num(unsigned long long v) { add(std::to_string(v)); }
    void snum(long long v) { add(std::to_string(v)); }
    void hex(unsigned long long v) {
        char b[24];
        snprintf(b, sizeof b, "0x%llx", v);
        add(b);
    }
};

inline void rd(Tok &t, bool &v) { v = t.u() != 0; }
inline void rd(Tok &t, char &v) { v = static_cast<char>(t.u()); }
inline void rd(Tok &t, signed char &v) { v = static_cast<signed char>(t.s()); }
inline void rd(Tok &t, unsigned char &v) { v = static_cast<unsigned char>(t.u()); }
inline void rd(Tok &t, int16_t &v) { v = static_cast<int16_t>(t.s()); }
inline void rd(Tok &t, uint16_t &v) { v = static_cast<uint16_t>(t.u()); }
inline void rd(Tok &t, int32_t &v) { v = static_cast<int32_t>(t.s()); }
inline void rd(Tok &t, uint32_t &v) { v = static_cast<uint32_t>(t.u()); }
inline void rd(Tok &t, int64_t &v) { v = static_cast<int64_t>(t.s()); }
inline void rd(Tok &t, uint64_t &v) { v = static_cast<uint64_t>(t.u()); }
inline void rd(Tok &t, float &v) { v = idlc::f32_from(static_cast<uint32_t>(t.u())); }
inline void rd(Tok &t, double &v) { v = idlc::f64_from(t.u()); }
inline void rd(Tok &t, char32_t &v) { v = static_cast<char32_t>(t.u()); }
inline void rd(Tok &t, idlc::Cap &v) { v = nre::Crd(static_cast<::word_t>(t.u())); }
template <class E>
typename std::enable_if<std::is_enum<E>::value>::type rd(Tok &t, E &v) {
    v = static_cast<E>(t.u());
}
template <size_t N> void rd(Tok &t, idlc::String<N> &v) {
    size_t n = t.u();
    std::string hex = t.next(), bytes;
    for (size_t k = 0; k < n && 2 * k + 1 < hex.size(); k++)
        bytes += static_cast<char>(strtoul(hex.substr(2 * k, 2).c_str(), 0, 16));
    v.set(bytes.data(), bytes.size());
}
template <size_t N> void rd(Tok &t, idlc::WString<N> &v) {
    v.resize(t.u());
    for (size_t k = 0; k < v.size(); k++) v[k] = static_cast<char32_t>(t.u());
}

inline void wr(Sink &s, bool v) { s.num(v); }
inline void wr(Sink &s, char v) { s.num(static_cast<unsigned char>(v)); }
inline void wr(Sink &s, signed char v) { s.snum(v); }
inline void wr(Sink &s, unsigned char v) { s.num(v); }
inline void wr(Sink &s, int16_t v) { s.snum(v); }
inline void wr(Sink &s, uint16_t v) { s.num(v); }
inline void wr(Sink &s, int32_t v) { s.snum(v); }
inline void wr(Sink &s, uint32_t v) { s.num(v); }
inline void wr(Sink &s, int64_t v) { s.snum(v); }
inline void wr(Sink &s, uint64_t v) { s.num(v); }
inline void wr(Sink &s, float v) { s.hex(idlc::f32_bits(v)); }
inline void wr(Sink &s, double v) { s.hex(idlc::f64_bits(v)); }
inline void wr(Sink &s, char32_t v) { s.num(v); }
inline void wr(Sink &s, const idlc::Cap &v) { s.hex(v.value()); }
template <class E>
typename std::enable_if<std::is_enum<E>::value>::type wr(Sink &s, E v) {
    s.num(static_cast<unsigned long long>(v));
}
template <size_t N> void wr(Sink &s, const idlc::String<N> &v) {
    s.num(v.length());
    std::string hex;
    char b[4];
    for (size_t k = 0; k < v.length(); k++) {
        snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(v.str()[k]));
        hex += b;
    }
    s.add(hex.empty() ? "-" : hex);
}
template <size_t N> void wr(Sink &s, const idlc::WString<N> &v) {
    s.num(v.size());
    for (size_t k = 0; k < v.size(); k++) s.num(v[k]);
}

template <class T, size_t N> void rd(Tok &t, idlc::Sequence<T, N> &v);
template <class T, size_t N> void rd(Tok &t, idlc::Array<T, N> &v);
template <class T> void rd(Tok &t, idlc::Optional<T> &v);
template <class T, size_t N> void wr(Sink &s, const idlc::Sequence<T, N> &v);
template <class T, size_t N> void wr(Sink &s, const idlc::Array<T, N> &v);
template <class T> void wr(Sink &s, const idlc::Optional<T> &v);

// One message through the generated codecs, with buffers far beyond a frame (the command
// checks encodings, not frame capacity; WIRE.md §1).
template <class W>
struct Buffers {
    std::vector<W> w, it;
    Buffers() : w(1 << 16), it(1 << 14) {}
    idlc::Out<W> out() { return idlc::Out<W>(w.data(), w.size(), it.data(), it.size() / 2); }
};

template <class W>
void print_out(const idlc::Out<W> &o) {
    Sink s;
    s.num(o.n);
    for (size_t k = 0; k < o.n; k++) s.hex(o.w[k]);
    s.num(o.ni);
    for (size_t k = 0; k < 2 * o.ni; k++) s.hex(o.items[k]);
    printf("W%s\n", s.s.c_str());
}

template <class W>
void print_enc_error(const idlc::Out<W> &o) {
    printf("X %s %s\n", *o.where ? o.where : "-", o.why);
}

template <class W>
void print_dec_error(const idlc::In<W> &i) {
    printf("R %s %zu %s\n", i.on_item ? "item" : "word", i.at, i.why ? i.why : "rejected");
}

template <class W>
struct Msg {
    std::vector<W> w, it;
    explicit Msg(Tok &t) {
        size_t n = t.u();
        for (size_t k = 0; k < n; k++) w.push_back(static_cast<W>(t.u()));
        size_t ni = t.u();
        for (size_t k = 0; k < 2 * ni; k++) it.push_back(static_cast<W>(t.u()));
    }
    idlc::In<W> in() const { return idlc::In<W>(w.data(), w.size(), it.data(), it.size() / 2); }
};

}  // namespace idlc_h

#endif
