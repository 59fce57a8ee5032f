// The container templates of harness.hpp, defined after the generated overloads for
// structs, unions and exceptions are declared (so that they find them).
#ifndef IDLC_HARNESS_IMPL_HPP
#define IDLC_HARNESS_IMPL_HPP

namespace idlc_h {
template <class T, size_t N> void rd(Tok &t, idlc::Sequence<T, N> &v) {
    size_t n = t.u();
    if (n > (1u << 20)) {
        t.bad = true;
        return;
    }
    v.resize(n);
    for (size_t k = 0; k < n; k++) rd(t, v[k]);
}
template <class T, size_t N> void rd(Tok &t, idlc::Array<T, N> &v) {
    for (size_t k = 0; k < N; k++) rd(t, v[k]);
}
template <class T> void rd(Tok &t, idlc::Optional<T> &v) {
    v.reset();
    if (t.u()) rd(t, v.emplace());
}
template <class T, size_t N> void wr(Sink &s, const idlc::Sequence<T, N> &v) {
    s.num(v.size());
    for (size_t k = 0; k < v.size(); k++) wr(s, v[k]);
}
template <class T, size_t N> void wr(Sink &s, const idlc::Array<T, N> &v) {
    for (size_t k = 0; k < N; k++) wr(s, v[k]);
}
template <class T> void wr(Sink &s, const idlc::Optional<T> &v) {
    s.num(v.has_value());
    if (v.has_value()) wr(s, v.value());
}
}  // namespace idlc_h

#endif
