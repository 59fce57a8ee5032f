// The support code of the C++ stubs `idlc -l cxx` generates (docs/cxx-backend.md): value
// containers and the word codec of WIRE.md, templated on the word type W so that one host
// compiler runs both architectures (uint64_t: x86_64, uint32_t: x86_32). C++11, header-only,
// freestanding: it needs <stddef.h>, <stdint.h> and operator new[] / delete[], nothing else,
// and never throws.
#ifndef IDLC_WIRE_HPP
#define IDLC_WIRE_HPP

#include <stddef.h>
#include <stdint.h>

// The error mode: 1 = NRE's style (clients throw, servers catch), 0 = status codes
// (-fno-exceptions, freestanding guests). Defaults to whether exceptions are enabled.
#ifndef IDLC_EXCEPTIONS
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define IDLC_EXCEPTIONS 1
#else
#define IDLC_EXCEPTIONS 0
#endif
#endif

namespace idlc {

static const size_t UNBOUNDED = ~static_cast<size_t>(0);

// Reply statuses (WIRE.md §2), numbered as NRE's ErrorCode.
enum : uint32_t {
    S_SUCCESS = 0,
    S_CAPACITY = 13,
    S_NOT_FOUND = 14,
    S_ARGS_INVALID = 18,
    S_FAILURE = 19,
    S_USER_EXCEPTION = 32,
};

// What a server implementation returns in status-code mode to raise the k-th exception of
// its method's raises list (after filling the exception it was handed).
inline uint32_t raise(unsigned k) { return 0x100u + k; }

inline void copy_bytes(void *dst, const void *src, size_t n) {
    unsigned char *d = static_cast<unsigned char *>(dst);
    const unsigned char *s = static_cast<const unsigned char *>(src);
    for (size_t i = 0; i < n; i++) d[i] = s[i];
}

// An owning array on the heap (no STL in a freestanding guest).
template <class T>
class Buffer {
public:
    Buffer() : p_(0), n_(0) {}
    ~Buffer() { delete[] p_; }
    Buffer(const Buffer &o) : p_(0), n_(0) { assign(o.p_, o.n_); }
    Buffer &operator=(const Buffer &o) {
        if (this != &o) assign(o.p_, o.n_);
        return *this;
    }
    void assign(const T *src, size_t n) {
        T *p = n ? new T[n] : 0;
        for (size_t i = 0; i < n; i++) p[i] = src[i];
        delete[] p_;
        p_ = p;
        n_ = n;
    }
    void resize(size_t n) {
        T *p = n ? new T[n] : 0;
        for (size_t i = 0; i < n && i < n_; i++) p[i] = p_[i];
        delete[] p_;
        p_ = p;
        n_ = n;
    }
    size_t size() const { return n_; }
    T *data() { return p_; }
    const T *data() const { return p_; }
    T &operator[](size_t i) { return p_[i]; }
    const T &operator[](size_t i) const { return p_[i]; }
    bool operator==(const Buffer &o) const {
        if (n_ != o.n_) return false;
        for (size_t i = 0; i < n_; i++)
            if (!(p_[i] == o.p_[i])) return false;
        return true;
    }
    bool operator!=(const Buffer &o) const { return !(*this == o); }

private:
    T *p_;
    size_t n_;
};

// sequence<T, N>: N bounds the length (checked when encoded and decoded).
template <class T, size_t N = UNBOUNDED>
class Sequence : public Buffer<T> {
public:
    static const size_t bound = N;
};

// string<N>: UTF-8 bytes, N bounds the byte count; c_str() is NUL-terminated.
template <size_t N = UNBOUNDED>
class String {
public:
    static const size_t bound = N;
    String() {}
    String(const char *s) { set(s, length_of(s)); }
    String(const char *s, size_t n) { set(s, n); }
    void set(const char *s, size_t n) {
        b_.resize(n + 1);
        copy_bytes(b_.data(), s, n);
        b_[n] = 0;
    }
    size_t length() const { return b_.size() ? b_.size() - 1 : 0; }
    const char *str() const { return b_.size() ? b_.data() : ""; }
    const char *c_str() const { return str(); }
    bool operator==(const String &o) const {
        if (length() != o.length()) return false;
        for (size_t i = 0; i < length(); i++)
            if (str()[i] != o.str()[i]) return false;
        return true;
    }
    bool operator!=(const String &o) const { return !(*this == o); }
    static size_t length_of(const char *s) {
        size_t n = 0;
        while (s[n]) n++;
        return n;
    }

private:
    Buffer<char> b_;
};

// wstring<N>: code points, N bounds their count.
template <size_t N = UNBOUNDED>
class WString : public Buffer<char32_t> {
public:
    static const size_t bound = N;
};

// T[N] as a value type (copyable, comparable); nested for more dimensions.
template <class T, size_t N>
struct Array {
    T v[N];
    T &operator[](size_t i) { return v[i]; }
    const T &operator[](size_t i) const { return v[i]; }
    static size_t size() { return N; }
    bool operator==(const Array &o) const {
        for (size_t i = 0; i < N; i++)
            if (!(v[i] == o.v[i])) return false;
        return true;
    }
    bool operator!=(const Array &o) const { return !(*this == o); }
};

// @optional T: on the heap, so that a type may hold itself optionally.
template <class T>
class Optional {
public:
    Optional() : p_(0) {}
    Optional(const T &v) : p_(new T(v)) {}
    ~Optional() { delete p_; }
    Optional(const Optional &o) : p_(o.p_ ? new T(*o.p_) : 0) {}
    Optional &operator=(const Optional &o) {
        if (this != &o) {
            T *p = o.p_ ? new T(*o.p_) : 0;
            delete p_;
            p_ = p;
        }
        return *this;
    }
    bool has_value() const { return p_ != 0; }
    T &value() { return *p_; }
    const T &value() const { return *p_; }
    T &emplace() {
        if (!p_) p_ = new T();
        return *p_;
    }
    void reset() {
        delete p_;
        p_ = 0;
    }
    bool operator==(const Optional &o) const {
        return p_ ? (o.p_ && *p_ == *o.p_) : !o.p_;
    }
    bool operator!=(const Optional &o) const { return !(*this == o); }

private:
    T *p_;
};

// --- encoding ---------------------------------------------------------------------------

// Words and typed items (2 words each: Crd, flags) of one message being written.
template <class W>
struct Out {
    W *w;
    size_t n, cap;
    W *items;
    size_t ni, icap;
    uint32_t err;      // 0, or S_CAPACITY / S_ARGS_INVALID
    const char *where;  // the parameter being encoded, for messages
    const char *why;

    Out(W *words, size_t wcap, W *its, size_t itcap)
        : w(words), n(0), cap(wcap), items(its), ni(0), icap(itcap), err(0), where(""),
          why("") {}
    bool fail(uint32_t e, const char *reason) {
        if (!err) {
            err = e;
            why = reason;
        }
        return false;
    }
    bool put(W x) {
        if (n >= cap) return fail(S_CAPACITY, "the message does not fit the frame");
        w[n++] = x;
        return true;
    }
    bool put64(uint64_t x) {
        if (sizeof(W) >= 8) return put(static_cast<W>(x));
        return put(static_cast<W>(x & 0xFFFFFFFFu)) && put(static_cast<W>(x >> 32));
    }
    bool item(uint64_t crd, uint64_t flags) {
        if (sizeof(W) < 8 && ((crd >> 31) >> 1 || (flags >> 31) >> 1))
            return fail(S_ARGS_INVALID, "the capability does not fit the word");
        if (ni >= icap) return fail(S_CAPACITY, "the items do not fit the frame");
        items[2 * ni] = static_cast<W>(crd);
        items[2 * ni + 1] = static_cast<W>(flags);
        ni++;
        return true;
    }
};

// Bytes written into words, little-endian, zero-padded to a word boundary (packed runs,
// strings).
template <class W>
struct RunOut {
    Out<W> &o;
    W cur;
    unsigned fill;
    explicit RunOut(Out<W> &out) : o(out), cur(0), fill(0) {}
    bool byte(uint8_t b) {
        cur |= static_cast<W>(static_cast<W>(b) << (8 * fill));
        if (++fill == sizeof(W)) {
            fill = 0;
            W x = cur;
            cur = 0;
            return o.put(x);
        }
        return true;
    }
    bool le(uint64_t v, unsigned size) {
        for (unsigned i = 0; i < size; i++)
            if (!byte(static_cast<uint8_t>(v >> (8 * i)))) return false;
        return true;
    }
    bool end() { return fill == 0 || (fill = 0, o.put(cur)); }
};

inline uint32_t f32_bits(float f) {
    uint32_t b;
    copy_bytes(&b, &f, 4);
    return b;
}
inline uint64_t f64_bits(double d) {
    uint64_t b;
    copy_bytes(&b, &d, 8);
    return b;
}
inline float f32_from(uint32_t b) {
    float f;
    copy_bytes(&f, &b, 4);
    return f;
}
inline double f64_from(uint64_t b) {
    double d;
    copy_bytes(&d, &b, 8);
    return d;
}

inline bool code_point_ok(uint32_t c) { return c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF); }

// The length of the valid UTF-8 sequence at s[0..n) (RFC 3629), or 0.
inline size_t utf8_char(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || !code_point_ok(cp)) return 0;
    return len;
}

inline bool utf8_ok(const char *p, size_t n) {
    const uint8_t *s = reinterpret_cast<const uint8_t *>(p);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_char(s + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

// One scalar per word (WIRE.md §3), by its C++ type.
template <class W> inline bool put(Out<W> &o, bool v) { return o.put(v ? 1 : 0); }
template <class W> inline bool put(Out<W> &o, char v) { return o.put(static_cast<uint8_t>(v)); }
template <class W> inline bool put(Out<W> &o, signed char v) {
    return o.put(static_cast<uint8_t>(v));
}
template <class W> inline bool put(Out<W> &o, unsigned char v) { return o.put(v); }
template <class W> inline bool put(Out<W> &o, int16_t v) {
    return o.put(static_cast<uint16_t>(v));
}
template <class W> inline bool put(Out<W> &o, uint16_t v) { return o.put(v); }
template <class W> inline bool put(Out<W> &o, int32_t v) {
    return o.put(static_cast<uint32_t>(v));
}
template <class W> inline bool put(Out<W> &o, uint32_t v) { return o.put(v); }
template <class W> inline bool put(Out<W> &o, int64_t v) {
    return o.put64(static_cast<uint64_t>(v));
}
template <class W> inline bool put(Out<W> &o, uint64_t v) { return o.put64(v); }
template <class W> inline bool put(Out<W> &o, float v) { return o.put(f32_bits(v)); }
template <class W> inline bool put(Out<W> &o, double v) { return o.put64(f64_bits(v)); }
template <class W> inline bool put(Out<W> &o, char32_t v) {
    if (!code_point_ok(v)) return o.fail(S_ARGS_INVALID, "a wchar is not a Unicode scalar value");
    return o.put(static_cast<uint32_t>(v));
}

// A packed run's element at its natural size.
template <class W> inline bool add(RunOut<W> &r, bool v) { return r.byte(v ? 1 : 0); }
template <class W> inline bool add(RunOut<W> &r, char v) {
    return r.byte(static_cast<uint8_t>(v));
}
template <class W> inline bool add(RunOut<W> &r, signed char v) {
    return r.byte(static_cast<uint8_t>(v));
}
template <class W> inline bool add(RunOut<W> &r, unsigned char v) { return r.byte(v); }
template <class W> inline bool add(RunOut<W> &r, int16_t v) {
    return r.le(static_cast<uint16_t>(v), 2);
}
template <class W> inline bool add(RunOut<W> &r, uint16_t v) { return r.le(v, 2); }
template <class W> inline bool add(RunOut<W> &r, int32_t v) {
    return r.le(static_cast<uint32_t>(v), 4);
}
template <class W> inline bool add(RunOut<W> &r, uint32_t v) { return r.le(v, 4); }
template <class W> inline bool add(RunOut<W> &r, int64_t v) {
    return r.le(static_cast<uint64_t>(v), 8);
}
template <class W> inline bool add(RunOut<W> &r, uint64_t v) { return r.le(v, 8); }
template <class W> inline bool add(RunOut<W> &r, float v) { return r.le(f32_bits(v), 4); }
template <class W> inline bool add(RunOut<W> &r, double v) { return r.le(f64_bits(v), 8); }
template <class W> inline bool add(RunOut<W> &r, char32_t v) {
    if (!code_point_ok(v))
        return r.o.fail(S_ARGS_INVALID, "a wchar is not a Unicode scalar value");
    return r.le(v, 4);
}

template <class W> inline bool length(Out<W> &o, size_t n, size_t bound) {
    if (n > bound) return o.fail(S_ARGS_INVALID, "longer than its bound");
    return o.put(static_cast<W>(n));
}

template <class W, size_t N> inline bool put(Out<W> &o, const String<N> &s) {
    size_t n = s.length();
    if (n > N) return o.fail(S_ARGS_INVALID, "a string longer than its bound");
    if (!utf8_ok(s.str(), n)) return o.fail(S_ARGS_INVALID, "a string that is not UTF-8");
    if (!o.put(static_cast<W>(n))) return false;
    RunOut<W> r(o);
    for (size_t i = 0; i < n; i++)
        if (!r.byte(static_cast<uint8_t>(s.str()[i]))) return false;
    return r.end();
}

template <class W, size_t N> inline bool put(Out<W> &o, const WString<N> &s) {
    if (!length(o, s.size(), N)) return false;
    RunOut<W> r(o);
    for (size_t i = 0; i < s.size(); i++)
        if (!add(r, s[i])) return false;
    return r.end();
}

// A capability as the typed item of WIRE.md §4: `crd` is the value of an nre::Crd
// (base<<12 | order<<7 | rights<<2 | type); `want` the Crd type the IDL declares.
template <class W>
inline bool put_cap(Out<W> &o, uint64_t crd, unsigned want, bool delegate, unsigned mask) {
    unsigned type = crd & 3;
    if (crd == 0 || type == 0) return o.item(0, 0);
    if (type != want) return o.fail(S_ARGS_INVALID, "a capability of another kind");
    unsigned order = (crd >> 7) & 0x1F;
    if (want == 3 && order != 0)
        return o.fail(S_ARGS_INVALID, "an object capability has order 0 (one selector)");
    crd &= ~static_cast<uint64_t>(0x1F << 2) | (static_cast<uint64_t>(mask & 0x1F) << 2);
    if (!delegate) return o.item(crd, 0);
    uint64_t hotspot = 0;
    if (want == 3) {
        hotspot = o.ni;
    } else if (want == 1) {
        // after the previous delegated memory item, aligned to this one's order
        for (size_t k = o.ni; k-- > 0;) {
            uint64_t c = o.items[2 * k], f = o.items[2 * k + 1];
            if ((c & 3) == 1 && (f & 1)) {
                uint64_t end = (f >> 12) + (static_cast<uint64_t>(1) << ((c >> 7) & 0x1F));
                uint64_t size = static_cast<uint64_t>(1) << order;
                hotspot = (end + size - 1) & ~(size - 1);
                break;
            }
        }
    }
    return o.item(crd, 1 | hotspot << 12);
}

// --- decoding ---------------------------------------------------------------------------

// A received message: strict decoding (WIRE.md §2) that records the first rejection.
template <class W>
struct In {
    const W *w;
    size_t n, pos;
    const W *items;
    size_t ni, ipos;
    const char *why;  // 0 while nothing was rejected
    size_t at;        // the word (or item, if on_item) of the rejection
    bool on_item;

    In(const W *words, size_t nw, const W *its, size_t nit)
        : w(words), n(nw), pos(0), items(its), ni(nit), ipos(0), why(0), at(0), on_item(false) {}
    bool fail(const char *reason) {
        if (!why) {
            why = reason;
            at = pos;
            on_item = false;
        }
        return false;
    }
    bool fail_item(const char *reason) {
        if (!why) {
            why = reason;
            at = ipos;
            on_item = true;
        }
        return false;
    }
    bool get(W &x) {
        if (pos >= n) return fail("word missing");
        x = w[pos++];
        return true;
    }
    // a scalar of `bits` bits in one word (two on x86_32 for 64 bits)
    bool scalar(unsigned bits, uint64_t &v) {
        if (bits == 64 && sizeof(W) < 8) {
            if (pos + 2 > n) return fail("word missing");
            v = static_cast<uint64_t>(w[pos]) | static_cast<uint64_t>(w[pos + 1]) << 32;
            pos += 2;
            return true;
        }
        W x;
        if (!get(x)) return false;
        v = x;
        if (bits < 64 && (v >> bits) != 0) {
            pos--;
            return fail("non-zero bytes above the value");
        }
        return true;
    }
    // a length word: at most `bound`, and `words`/`items` per element must remain
    bool length(size_t &len, size_t bound, size_t words, size_t items) {
        W x;
        if (!get(x)) return false;
        uint64_t l = x;
        pos--;
        if (l > bound) return fail("length above the bound");
        if (words && l > (n - pos - 1) / words) return fail("length exceeds the words left");
        if (items && l > (ni - ipos) / items) return fail("length exceeds the items left");
        pos++;
        len = static_cast<size_t>(l);
        return true;
    }
    // a packed run of `bytes` bytes must fit the words left
    bool room(uint64_t bytes) {
        if (bytes > static_cast<uint64_t>(n - pos) * sizeof(W)) return fail("run exceeds the words left");
        return true;
    }
    bool cap(unsigned want, bool delegate, uint64_t &crd) {
        if (ipos >= ni) return fail("typed item missing");
        uint64_t c = items[2 * ipos], f = items[2 * ipos + 1];
        if (c != 0) {
            if ((c & 3) != want) return fail_item("typed item of another Crd type");
            if (static_cast<bool>(f & 1) != delegate)
                return fail_item(delegate ? "typed item should be delegated"
                                          : "typed item should be translated");
        }
        ipos++;
        crd = c;
        return true;
    }
    bool finish() {
        if (pos != n) return fail("words left over");
        if (ipos != ni) return fail_item("typed items left over");
        return true;
    }
};

template <class W>
struct RunIn {
    In<W> &i;
    W cur;
    unsigned left;  // bytes of cur not yet read
    explicit RunIn(In<W> &in) : i(in), cur(0), left(0) {}
    bool byte(uint8_t &b) {
        if (!left) {
            if (!i.get(cur)) return false;
            left = sizeof(W);
        }
        b = static_cast<uint8_t>(cur);
        cur = static_cast<W>(cur >> 4 >> 4);
        left--;
        return true;
    }
    bool le(uint64_t &v, unsigned size) {
        v = 0;
        for (unsigned k = 0; k < size; k++) {
            uint8_t b;
            if (!byte(b)) return false;
            v |= static_cast<uint64_t>(b) << (8 * k);
        }
        return true;
    }
    bool end() {
        if (left && cur != 0) {
            i.pos--;
            return i.fail("non-zero padding");
        }
        left = 0;
        return true;
    }
};

template <class W> inline bool get(In<W> &i, bool &v) {
    W x;
    if (!i.get(x)) return false;
    if (x > 1) {
        i.pos--;
        return i.fail("a boolean other than 0 or 1");
    }
    v = x == 1;
    return true;
}
template <class W, class T> inline bool get_bits(In<W> &i, T &v, unsigned bits) {
    uint64_t x;
    if (!i.scalar(bits, x)) return false;
    v = static_cast<T>(x);
    return true;
}
template <class W> inline bool get(In<W> &i, char &v) { return get_bits(i, v, 8); }
template <class W> inline bool get(In<W> &i, signed char &v) { return get_bits(i, v, 8); }
template <class W> inline bool get(In<W> &i, unsigned char &v) { return get_bits(i, v, 8); }
template <class W> inline bool get(In<W> &i, int16_t &v) { return get_bits(i, v, 16); }
template <class W> inline bool get(In<W> &i, uint16_t &v) { return get_bits(i, v, 16); }
template <class W> inline bool get(In<W> &i, int32_t &v) { return get_bits(i, v, 32); }
template <class W> inline bool get(In<W> &i, uint32_t &v) { return get_bits(i, v, 32); }
template <class W> inline bool get(In<W> &i, int64_t &v) { return get_bits(i, v, 64); }
template <class W> inline bool get(In<W> &i, uint64_t &v) { return get_bits(i, v, 64); }
template <class W> inline bool get(In<W> &i, float &v) {
    uint32_t b;
    if (!get_bits(i, b, 32)) return false;
    v = f32_from(b);
    return true;
}
template <class W> inline bool get(In<W> &i, double &v) {
    uint64_t b;
    if (!get_bits(i, b, 64)) return false;
    v = f64_from(b);
    return true;
}
template <class W> inline bool get(In<W> &i, char32_t &v) {
    uint32_t c;
    if (!get_bits(i, c, 32)) return false;
    if (!code_point_ok(c)) {
        i.pos--;
        return i.fail("a wchar that is no Unicode scalar value");
    }
    v = c;
    return true;
}

template <class W, class T> inline bool take_le(RunIn<W> &r, T &v, unsigned size) {
    uint64_t x;
    if (!r.le(x, size)) return false;
    v = static_cast<T>(x);
    return true;
}
template <class W> inline bool take(RunIn<W> &r, bool &v) {
    uint8_t b;
    if (!r.byte(b)) return false;
    if (b > 1) return r.i.fail("a boolean other than 0 or 1");
    v = b == 1;
    return true;
}
template <class W> inline bool take(RunIn<W> &r, char &v) { return take_le(r, v, 1); }
template <class W> inline bool take(RunIn<W> &r, signed char &v) { return take_le(r, v, 1); }
template <class W> inline bool take(RunIn<W> &r, unsigned char &v) { return take_le(r, v, 1); }
template <class W> inline bool take(RunIn<W> &r, int16_t &v) { return take_le(r, v, 2); }
template <class W> inline bool take(RunIn<W> &r, uint16_t &v) { return take_le(r, v, 2); }
template <class W> inline bool take(RunIn<W> &r, int32_t &v) { return take_le(r, v, 4); }
template <class W> inline bool take(RunIn<W> &r, uint32_t &v) { return take_le(r, v, 4); }
template <class W> inline bool take(RunIn<W> &r, int64_t &v) { return take_le(r, v, 8); }
template <class W> inline bool take(RunIn<W> &r, uint64_t &v) { return take_le(r, v, 8); }
template <class W> inline bool take(RunIn<W> &r, float &v) {
    uint32_t b;
    if (!take_le(r, b, 4)) return false;
    v = f32_from(b);
    return true;
}
template <class W> inline bool take(RunIn<W> &r, double &v) {
    uint64_t b;
    if (!take_le(r, b, 8)) return false;
    v = f64_from(b);
    return true;
}
template <class W> inline bool take(RunIn<W> &r, char32_t &v) {
    uint32_t c;
    if (!take_le(r, c, 4)) return false;
    if (!code_point_ok(c)) return r.i.fail("a wchar that is no Unicode scalar value");
    v = c;
    return true;
}

template <class W, size_t N> inline bool get(In<W> &i, String<N> &s) {
    size_t n;
    if (!i.length(n, N, 0, 0)) return false;
    if (!i.room(n)) return false;
    const size_t start = i.pos - 1;
    Buffer<char> tmp;
    tmp.resize(n);
    RunIn<W> r(i);
    for (size_t k = 0; k < n; k++) {
        uint8_t b;
        if (!r.byte(b)) return false;
        tmp[k] = static_cast<char>(b);
    }
    if (!r.end()) return false;
    if (!utf8_ok(tmp.data(), n)) {
        i.pos = start;
        return i.fail("invalid UTF-8");
    }
    s.set(tmp.data(), n);
    return true;
}

template <class W, size_t N> inline bool get(In<W> &i, WString<N> &s) {
    size_t n;
    if (!i.length(n, N, 0, 0)) return false;
    if (!i.room(static_cast<uint64_t>(n) * 4)) return false;
    s.resize(n);
    RunIn<W> r(i);
    for (size_t k = 0; k < n; k++)
        if (!take(r, s[k])) return false;
    return r.end();
}

// The minimum words of something per architecture (from the compiler's layout).
template <class W> inline size_t arch(size_t x86_64, size_t x86_32) {
    return sizeof(W) >= 8 ? x86_64 : x86_32;
}

}  // namespace idlc

#endif
