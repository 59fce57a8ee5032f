// A C++ client calling a C++ server through the host stand-in of nre::Pt (tests/cxx/
// test_loopback.py): every message of samples/shapes.idl's Canvas and samples/echo's
// Echo goes through the generated client, the UTCB page, the generated dispatch and back.
#include <stdio.h>

#include "shapes_idl.hpp"

namespace {

class EchoImpl : public demo::Echo {
public:
#if IDLC_EXCEPTIONS
    idlc::String<64> ping(const idlc::String<64> &text) {
        if (text.length() == 0) {
            demo::Empty e;
            e.why = "nothing";
            throw e;
        }
        return text;
    }
    void log(const idlc::String<128> &line) { printf("log %s\n", line.c_str()); }
#else
    uint32_t ping(const idlc::String<64> &text, idlc::String<64> &ret, demo::Empty &e) {
        if (text.length() == 0) {
            e.why = "nothing";
            return idlc::raise(0);
        }
        ret = text;
        return 0;
    }
    uint32_t log(const idlc::String<128> &line) {
        printf("log %s\n", line.c_str());
        return 0;
    }
#endif
};

#if IDLC_EXCEPTIONS
class CanvasImpl : public shapes::Canvas {
public:
    void clear() { printf("clear\n"); }
    shapes::Point move(const shapes::Point &p, int16_t dx, idlc::String<16> &label) {
        label = "moved";
        shapes::Point q = p;
        q.x += dx;
        return q;
    }
    bool put(const shapes::Shape &s, uint8_t &flags) {
        if (s.name == idlc::String<16>("none")) {
            shapes::NotFound e;
            e.what = "none";
            e.code = 7;
            throw e;
        }
        flags = static_cast<uint8_t>(flags + s.points.size());
        return s.weight.has_value();
    }
    shapes::Value measure(const idlc::String<16> &, int16_t what) {
        shapes::Value v;
        v._d = what;
        if (what == 1) v.i = -5;
        else if (what == 2) v.s = "blue";
        else v.d = 0.5;
        if (what == 9) throw nre::Exception(nre::E_NOT_FOUND, "no nine");
        if (what == 10) throw 1;
        return v;
    }
    idlc::Sequence<shapes::Shape, 4> shapes() {
        idlc::Sequence<shapes::Shape, 4> all;
        all.resize(5);  // over the bound: the server answers E_FAILURE
        return all;
    }
    void log(const idlc::String<128> &) {}
    void watch(idlc::Cap &changed) { changed = nre::Crd(12, 0, nre::Crd::OBJ | nre::Crd::SM_UP | nre::Crd::SM_DN); }
    idlc::Cap console() { return nre::Crd(40, 0, nre::Crd::OBJ_ALL); }
    double _get_scale() { return 2.5; }
};
#endif

EchoImpl echo_impl;
void echo_portal(::capsel_t) { demo::EchoServer::serve(echo_impl); }
#if IDLC_EXCEPTIONS
CanvasImpl canvas_impl;
void canvas_portal(::capsel_t) { shapes::CanvasServer::serve(canvas_impl); }
#endif

}  // namespace

int main() {
    nre::Pt::bind(1, echo_portal);
    demo::EchoClient echo(1);
#if IDLC_EXCEPTIONS
    printf("ping %s\n", echo.ping("hello").c_str());
    try {
        echo.ping("");
    } catch (const demo::Empty &e) {
        printf("Empty %s\n", e.why.c_str());
    }
    echo.log("a line");

    nre::Pt::bind(2, canvas_portal);
    shapes::CanvasClient canvas(2);
    canvas.clear();
    shapes::Point p;
    p.x = 3;
    p.y = 4;
    idlc::String<16> label;
    shapes::Point q = canvas.move(p, -5, label);
    printf("move %d %d %s\n", q.x, q.y, label.c_str());
    shapes::Shape s;
    s.name = "tri";
    s.points.resize(3);
    s.weight = idlc::Optional<double>(1.5);
    uint8_t flags = 10;
    bool heavy = canvas.put(s, flags);
    printf("put %d %d\n", heavy, flags);
    s.name = "none";
    try {
        canvas.put(s, flags);
    } catch (const shapes::NotFound &e) {
        printf("NotFound %s %u\n", e.what.c_str(), e.code);
    }
    shapes::Value v1 = canvas.measure("tri", 1), v2 = canvas.measure("tri", 2);
    shapes::Value v3 = canvas.measure("tri", 4);  // the default member
    printf("measure %lld %s %g\n", static_cast<long long>(v1.i), v2.s.c_str(), v3.d);
    const int16_t bad[] = {9, 10};
    for (int16_t what : bad) {
        try {
            canvas.measure("tri", what);
        } catch (const nre::Exception &e) {
            printf("error %d %s\n", e.code(), e.msg());
        }
    }
    try {
        canvas.shapes();
    } catch (const nre::Exception &e) {
        printf("error %d %s\n", e.code(), e.msg());
    }
    idlc::Cap sm;
    canvas.watch(sm);
    nre::Crd crd = sm;
    printf("watch %lu %u\n", static_cast<unsigned long>(crd.offset()), crd.attr());
    printf("console %lu\n", static_cast<unsigned long>(nre::Crd(canvas.console()).offset()));
    printf("scale %g\n", canvas._get_scale());
#else
    idlc::String<64> out;
    demo::Empty e;
    uint32_t st = echo.ping("hello", out, &e);
    printf("ping %u %s\n", st, out.c_str());
    st = echo.ping("", out, &e);
    printf("ping %u %s\n", st, e.why.c_str());
    echo.log("a line");
#endif
    return 0;
}
