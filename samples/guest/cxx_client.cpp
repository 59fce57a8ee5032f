// A C++ guest client of the Python echo and canvas servers (samples/echo, samples/shapes):
// the stubs idlc -l cxx generated from samples/shapes.idl, built for the guest with the
// guest flavour of the NRE headers (docs/cxx-backend.md), status-code mode. It checks
// every reply; what it saw goes to the echo server's log, a failed check as
// "FAILED line N" and exit 1.
#include <idlc/guest.hpp>

#include "shapes_idl.hpp"

namespace {

// A log line without a C library: text and decimal numbers.
struct Line {
    idlc::String<128> s;
    Line &operator<<(const char *t) {
        char buf[128];
        size_t n = 0;
        for (const char *p = s.c_str(); *p && n < 127; p++) buf[n++] = *p;
        for (const char *p = t; *p && n < 127; p++) buf[n++] = *p;
        buf[n] = 0;
        s = buf;
        return *this;
    }
    Line &operator<<(uint64_t v) {
        char d[21];
        size_t n = 20;
        d[n] = 0;
        do d[--n] = static_cast<char>('0' + v % 10); while (v /= 10);
        return *this << (d + n);
    }
};

demo::EchoClient *echo;

int fail(int line) {
    if (echo) echo->log((Line() << "FAILED line " << static_cast<uint64_t>(line)).s.c_str());
    return 1;
}
#define CHECK(c) \
    if (!(c)) return fail(__LINE__)

template <size_t N>
bool eq(const idlc::String<N> &a, const char *b) {
    return a == idlc::String<N>(b);
}

shapes::Point point(int32_t x, int32_t y) {
    shapes::Point p;
    p.x = x, p.y = y;
    return p;
}

int run() {
    capsel_t sel = 0;
    CHECK(nre::guest::connect("echo", 0, sel) == 0);
    demo::EchoClient e(sel);
    echo = &e;
    idlc::String<64> out;
    demo::Empty empty;
    CHECK(e.ping("hello from C++", out, &empty) == 0 && eq(out, "hello from C++"));
    CHECK(e.ping("", out, &empty) == idlc::raise(0) && eq(empty.why, "nothing to echo"));
    e.log((Line() << "C++ guest: ping -> '" << out.c_str() << "', ping('') raised Empty('"
                  << empty.why.c_str() << "')").s.c_str());

    CHECK(nre::guest::connect("canvas", 0, sel) == 0);
    shapes::CanvasClient c(sel);
    CHECK(c.clear() == 0);
    idlc::String<16> label;
    shapes::Point q;
    CHECK(c.move(point(1, 2), 5, label, q) == 0 && q.x == 6 && q.y == 2 && eq(label, "moved by 5"));
    shapes::Shape tri;
    tri.name = "tri";
    tri.color = shapes::Color::GREEN;
    tri.points.resize(3);
    tri.points[1] = point(4, 0);
    tri.points[2] = point(0, 3);
    uint8_t flags = 0x1;
    bool fresh = false;
    CHECK(c.put(tri, flags, fresh) == 0 && fresh && flags == 0x81);
    flags = 0x2;
    CHECK(c.put(tri, flags, fresh) == 0 && !fresh && flags == 0x82);
    shapes::Shape sq;
    sq.name = "sq";
    sq.color = shapes::Color::BLUE;
    sq.points.resize(4);
    sq.weight = idlc::Optional<double>(2.5);
    CHECK(c.put(sq, flags, fresh) == 0 && fresh);
    shapes::Value v;
    CHECK(c.measure("tri", 1, v) == 0 && v._d == 1 && v.i == 3);
    CHECK(c.measure("tri", 2, v) == 0 && v._d == 2 && eq(v.s, "GREEN"));
    CHECK(c.measure("sq", 0, v) == 0 && v._d != 1 && v._d != 2 && v._d != 3 && v.d == 2.5);
    shapes::NotFound nf;
    CHECK(c.measure("circle", 1, v, &nf) == idlc::raise(0) && eq(nf.what, "circle") && nf.code == 404);
    idlc::Sequence<shapes::Shape, 4> all;
    CHECK(c.shapes(all) == 0 && all.size() == 2);
    CHECK(eq(all[0].name, "tri") && all[0].points.size() == 3 && all[0].points[2].y == 3);
    CHECK(all[0].color == shapes::Color::GREEN && !all[0].weight.has_value());
    CHECK(eq(all[1].name, "sq") && all[1].color == shapes::Color::BLUE);
    CHECK(all[1].weight.has_value() && all[1].weight.value() == 2.5);
    double scale = 0;
    CHECK(c._get_scale(scale) == 0 && scale == 1.5);
    e.log((Line() << "C++ guest: canvas: move, put x3, measure x3, shapes() -> "
                  << static_cast<uint64_t>(all.size()) << " shapes, NotFound('" << nf.what.c_str()
                  << "', " << static_cast<uint64_t>(nf.code) << ")").s.c_str());

    // Capabilities from Python: a semaphore with the down right only, and the echo portal.
    idlc::Cap changed, console;
    CHECK(c.watch(changed) == 0 && !nre::Crd(changed).is_null());
    word sm = nre::Crd(changed).offset();
    CHECK(sm_up(sm) == BAD_CAP);
    CHECK(sm_down(sm) == SUCCESS);  // the puts upped it
    CHECK(c.console(console) == 0 && !nre::Crd(console).is_null());
    demo::EchoClient via(static_cast<capsel_t>(nre::Crd(console).offset()));
    CHECK(via.ping("via the canvas", out) == 0 && eq(out, "via the canvas"));
    e.log((Line() << "C++ guest: watch() -> semaphore: up BAD_CAP, down ok; console().ping -> '"
                  << out.c_str() << "'").s.c_str());
    CHECK(c.log("C++ was here") == 0);
    return 0;
}

}  // namespace

int main(struct utcb *u, word) {
    nre::guest::start(u);
    return run();
}
