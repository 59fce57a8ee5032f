"""Interface references in generated stubs: a stub passed as an argument sends its portal,
a returned reference is the generated client stub; clients arm memory and I/O windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime import Machine
from runtime.api import Context, Pt
from runtime.crd import CrdType, crd_order, crd_type
from tests.backend.roundtrip import imported

IDL = """
module refs {
  interface Sink { string<16> name(); };
  interface Hub {
    string<16> ask(in Sink s);
    Sink pick();
    void pages(@max_order(2) out nova::Memory a, @max_order(1) out nova::Memory b);
    void ports(out nova::IoPorts p);
  };
};
"""


def _load(tmp_path: Path) -> Any:
    src = tmp_path / "refs.idl"
    src.write_text(IDL)
    with imported(src, tmp_path, "refs_pkg", "refs.refs_idl") as (module,):
        return module


def test_stub_argument_and_stub_result(tmp_path: Path) -> None:
    refs = _load(tmp_path)
    m = Machine(cpus=1)

    class SinkImpl:
        def name(self) -> str:
            return "sink-1"

    class HubImpl:
        sink: Any = None

        def ask(self, s: Any) -> str:  # a Crd in the hub's own space
            return "hub asked " + refs.SinkClient(Pt(m.gate, s.base)).name()

        def pick(self) -> Any:
            return self.sink

        def pages(self) -> Any:
            return None, None

        def ports(self) -> Any:
            return None

    hub_impl = HubImpl()
    sinks = m.spawn("sinks")
    hub = m.spawn("hub")
    sink_pt = sinks.portal(refs.SinkServer(SinkImpl()))
    hub.serve("hub", refs.HubServer(hub_impl))
    sinks.serve("sink", refs.SinkServer(SinkImpl()))
    assert sink_pt.sel
    got: list[object] = []

    @hub
    def hub_main(ctx: Context) -> None:
        hub_impl.sink = refs.SinkClient(ctx.connect("sink"))

    @m.spawn("client")
    def client(ctx: Context) -> None:
        h = refs.HubClient(ctx.connect("hub"))
        s = refs.SinkClient(ctx.connect("sink"))
        got.append(h.ask(s))  # the stub's portal is delegated
        picked = h.pick()
        got.append(type(picked).__name__)
        got.append(picked.name())
        got.append(h.pages())

    m.run()
    assert got == ["hub asked sink-1", "SinkClient", "sink-1", (None, None)]


def test_clients_arm_memory_and_io_windows(tmp_path: Path) -> None:
    refs = _load(tmp_path)
    text = (tmp_path / "refs_pkg" / "refs" / "refs_idl.py").read_text()
    # two items of at most 4 and 2 pages: 2 * 4 pages, order 3; ports: the whole space
    assert "_binding.call(self._pt, _data, _items, 3, False, kind=1)" in text
    assert "_binding.call(self._pt, _data, _items, 16, False, kind=2)" in text
    from runtime import binding

    m = Machine(cpus=1)
    windows: list[int] = []

    @m.spawn("client")
    def client(ctx: Context) -> None:
        pt = Pt(ctx.gate, 0)
        windows.extend(binding.window(pt, CrdType.MEM, 3) for _ in range(2))
        windows.append(binding.window(pt, CrdType.PIO, 16))

    m.run()
    a, b, io = windows
    assert crd_type(a) == crd_type(b) == CrdType.MEM and crd_order(a) == 3
    assert (b >> 12) >= (a >> 12) + 8 and (b >> 12) % 8 == 0  # fresh and aligned
    assert crd_type(io) == CrdType.PIO and crd_order(io) == 16
    assert refs.HubClient.__mro__[1].__name__ == "Client"
