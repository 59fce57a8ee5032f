// C++ guest servers of samples/shapes.idl's Canvas and samples/echo's Echo for Python
// clients: the dispatch idlc -l cxx generated, built for the guest with the guest flavour
// of the NRE headers (docs/cxx-backend.md), status-code mode. As an NRE service does, main
// makes a local EC and a portal per service on it (LocalThread, Pt(ec, func)) and
// registers them with the parent's name registry ("cxx-echo", "cxx-canvas"); then it waits
// until a client logs "bye" to the echo service and exits 0.
#include <idlc/guest.hpp>

#include "shapes_idl.hpp"

namespace {

enum { DONE = 0x400, CHANGED = 0x401 };  // the semaphores (selectors of this PD)

class EchoImpl : public demo::Echo {
public:
    uint32_t ping(const idlc::String<64> &text, idlc::String<64> &ret, demo::Empty &e) {
        if (text.length() == 0) {
            e.why = "C++ has nothing to echo";
            return idlc::raise(0);
        }
        ret = text;
        return 0;
    }
    uint32_t log(const idlc::String<128> &line) {
        if (line == idlc::String<128>("bye")) sm_up(DONE);
        return 0;
    }
};

class CanvasImpl : public shapes::Canvas {
public:
    CanvasImpl() : echo_pt(0) {}
    uint32_t clear() {
        drawn.resize(0);
        sm_up(CHANGED);
        return 0;
    }
    uint32_t move(const shapes::Point &p, int16_t dx, idlc::String<16> &label, shapes::Point &ret) {
        ret = p;
        ret.x += dx;
        label = "C++ moved it";
        return 0;
    }
    uint32_t put(const shapes::Shape &s, uint8_t &flags, bool &ret, shapes::NotFound &e) {
        if (s.points.size() == 0) {  // nothing to draw: the declared exception
            e.what = s.name.c_str();
            e.code = 400;
            return idlc::raise(0);
        }
        size_t k = find(s.name);
        ret = k == drawn.size();
        if (ret && k == 4) return nre::E_CAPACITY;  // full: an NRE error code
        if (ret) drawn.resize(k + 1);
        drawn[k] = s;
        flags = static_cast<uint8_t>(flags | 0x40);
        sm_up(CHANGED);
        return 0;
    }
    uint32_t measure(const idlc::String<16> &name, int16_t what, shapes::Value &ret,
                     shapes::NotFound &e) {
        size_t k = find(name);
        if (k == drawn.size()) {
            e.what = name.c_str();
            e.code = 404;
            return idlc::raise(0);
        }
        ret._d = what == 1 || what == 2 ? what : 0;
        if (what == 1) ret.i = -static_cast<int64_t>(drawn[k].points.size());
        else if (what == 2) ret.s = drawn[k].color == shapes::Color::BLUE ? "blue" : "not blue";
        else ret.d = drawn[k].weight.has_value() ? drawn[k].weight.value() * 2 : -1.0;
        return 0;
    }
    uint32_t shapes(idlc::Sequence<shapes::Shape, 4> &ret) {
        ret.resize(drawn.size());
        for (size_t k = 0; k < drawn.size(); k++) ret[k] = drawn[drawn.size() - 1 - k];
        return 0;
    }
    uint32_t log(const idlc::String<128> &) { return 0; }
    uint32_t watch(idlc::Cap &changed) {
        changed = nre::Crd(CHANGED, 0, nre::Crd::OBJ_ALL);  // @rights(2) masks it to down
        return 0;
    }
    uint32_t console(idlc::Cap &ret) {
        ret = nre::Crd(echo_pt, 0, nre::Crd::OBJ_ALL);  // this PD's own echo portal
        return 0;
    }
    uint32_t _get_scale(double &ret) {
        ret = 0.25;
        return 0;
    }
    capsel_t echo_pt;

private:
    size_t find(const idlc::String<16> &name) const {
        size_t k = 0;
        while (k < drawn.size() && !(drawn[k].name == name)) k++;
        return k;
    }
    idlc::Sequence<shapes::Shape, 8> drawn;
};

EchoImpl *echo_impl;
CanvasImpl *canvas_impl;
void echo_portal(capsel_t) { demo::EchoServer::serve(*echo_impl); }
void canvas_portal(capsel_t) { shapes::CanvasServer::serve(*canvas_impl); }

}  // namespace

int main(struct utcb *u, word) {
    nre::guest::start(u);
    if (create_sm(DONE, SELF_PD, 0) != SUCCESS || create_sm(CHANGED, SELF_PD, 0) != SUCCESS)
        return 1;
    echo_impl = new EchoImpl();
    canvas_impl = new CanvasImpl();
    nre::LocalThread ec(0);
    nre::Pt echo(ec, echo_portal), canvas(ec, canvas_portal);
    canvas_impl->echo_pt = echo.sel();
    if (nre::guest::register_service("cxx-echo", echo.sel()) != 0) return 2;
    if (nre::guest::register_service("cxx-canvas", canvas.sel()) != 0) return 3;
    return sm_down(DONE) == SUCCESS ? 0 : 4;
}
