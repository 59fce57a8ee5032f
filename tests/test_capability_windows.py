"""Capabilities in every position of generated stubs, end to end on the runtime (WIRE.md §4):
a table of kind x position x delegate/translate x architecture, the test IDL generated
from it. Nobody passes ``accept=``: a skeleton arms its windows from the requests of all
its methods, a client from the reply of the method it calls. The receiving side uses what
it got (downs the semaphore, calls the portal, reads the pages, touches the port) with
exactly the rights WIRE.md says (the sender's, masked by ``@rights``), null stays null, and
more items than the window holds is ``E_ARGS_INVALID`` with nothing left delegated.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from runtime import Machine, binding
from runtime.api import SELF_PD, Context, Pt, Sm, Syscalls
from runtime.arch import X86_32, X86_64, Arch
from runtime.binding import Client
from runtime.crd import ALL, Crd, CrdType, MemRights, SmRights
from runtime.kernel import mdb
from runtime.machine import Process, pd_of
from runtime.memory import PageFault, PhysMem, check
from runtime.platform.fault import Insn
from runtime.status import ErrorCode, SyscallError
from tests.backend.roundtrip import imported

# --- the table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    idl: str  # the IDL type
    crd: CrdType
    mask: int  # @rights: what the receiver may do with it
    order: int = 0  # memory: @max_order, and the size sent


KINDS = [
    Kind("semaphore", "nova::Semaphore", CrdType.OBJ, SmRights.DOWN),
    Kind("portal", "nova::Portal", CrdType.OBJ, 0x1),
    Kind("pd", "nova::Pd", CrdType.OBJ, 0x10),  # CREATE_SM
    Kind("ec", "nova::Ec", CrdType.OBJ, 0x1),  # CTRL
    Kind("sc", "nova::Sc", CrdType.OBJ, 0x1),  # CTRL
    Kind("interface", "Cb", CrdType.OBJ, 0x1),
    *(Kind(f"mem{o}", "nova::Memory", CrdType.MEM, MemRights.R, o) for o in range(4)),
    Kind("io", "nova::IoPorts", CrdType.PIO, 0x1),
]
DIRECTIONS = ["in", "inout", "out", "ret"]
CONTAINERS = ["direct", "struct", "seq", "union", "opt"]
MODES = ["delegate", "translate"]
ARCHES = {"x86_64": X86_64, "x86_32": X86_32}


def expressible(kind: Kind, direction: str, container: str, mode: str) -> bool:
    """A returned capability or sequence has no parameter or member to carry @translate or
    @max_order (both go on members and parameters only), so those few are not IDL."""
    bare = direction == "ret" and container in ("direct", "seq")
    return not (bare and (mode == "translate" or kind.order))


CASES = [
    pytest.param(k, d, c, mode, arch, id=f"{k.name}-{d}-{c}-{mode}-{arch}")
    for k in KINDS
    for d in DIRECTIONS
    for c in CONTAINERS
    for mode in MODES
    for arch in ARCHES
    if expressible(k, d, c, mode)
]


def group(kind: Kind, mode: str) -> str:
    return f"{kind.name}_{mode[0]}"


def annotations(kind: Kind, mode: str) -> str:
    out = [f"@rights({kind.mask})"]
    if mode == "translate":
        out.append("@translate")
    if kind.crd == CrdType.MEM:
        out.append(f"@max_order({kind.order})")
    return " ".join(out)


def idl() -> str:
    """One interface per (kind, mode), one method per (direction, container)."""
    lines = ["module w {", "  interface Cb { long ping(); };"]
    for kind in KINDS:
        for mode in MODES:
            g, a, t = group(kind, mode), annotations(kind, mode), kind.idl
            lines += [
                f"  struct S_{g} {{ {a} {t} c; }};",
                f"  typedef sequence<{t}, 2> Q_{g};",
                f"  union U_{g} switch (long) {{ case 1: {a} {t} c; case 2: long x; }};",
                f"  struct O_{g} {{ @optional S_{g} s; }};",
                f"  interface I_{g} {{",
            ]
            types = {"direct": t, "struct": f"S_{g}", "seq": f"Q_{g}", "union": f"U_{g}"}
            types["opt"] = f"O_{g}"
            for d in DIRECTIONS:
                for c in CONTAINERS:
                    if not expressible(kind, d, c, mode):
                        continue
                    ann = a if c in ("direct", "seq") else ""
                    if d == "ret":
                        lines.append(f"    {types[c]} {d}_{c}();")
                    else:
                        lines.append(f"    void {d}_{c}({ann} {d} {types[c]} c);")
            lines.append("  };")
    lines.append("};")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("windows")
    src = root / "w.idl"
    src.write_text(idl())
    with imported(src, root, "wpkg", "w.w_idl") as (module,):
        yield module


# --- objects to send, made at boot ----------------------------------------------------


class Cb:
    def __init__(self, answer: int) -> None:
        self.answer = answer

    def ping(self) -> int:
        return self.answer


class World:
    """One machine: a server with the group's skeleton, a client holding its portal, and
    the objects of one case."""

    def __init__(self, w: ModuleType, kind: Kind, mode: str, arch: Arch, impl: Any) -> None:
        self.w, self.kind, self.mode = w, kind, mode
        mem = kind.crd == CrdType.MEM
        self.m = Machine(arch=arch, mem_pages=256 if mem else 0, io_ports=range(0x60, 0x70))
        self.k = self.m.k
        self.srv = self.m.spawn("srv")
        self.cli = self.m.spawn("cli")
        skeleton = getattr(w, f"I_{group(kind, mode)}Server")(impl)
        pt = self.srv.portal(skeleton)  # no accept=: the skeleton's own windows
        self.pt_sel = self.cli.env.alloc()
        self.srv.grant(pt.sel, self.cli, self.pt_sel)
        self.frames = 0
        self.ports = 0x60
        self.pongs = 100

    def space(self, p: Process, typ: int) -> Any:
        return {CrdType.OBJ: pd_of(p).obj, CrdType.MEM: pd_of(p).mem, CrdType.PIO: pd_of(p).pio}[
            typ
        ]

    def caps(self, p: Process) -> int:
        return sum(len(self.space(p, t)) for t in (CrdType.OBJ, CrdType.MEM, CrdType.PIO))

    def make(self, owner: Process) -> tuple[int, Any]:
        """A fresh object of the kind in ``owner``'s space: (unit, what the user checks)."""
        k, kind = self.k, self.kind
        if kind.crd == CrdType.MEM:
            n = 1 << kind.order
            first = self.frames
            self.frames += n
            phys = PhysMem.of(k)
            for i in range(n):
                phys.write(first + i, 0, b"page%03d" % (first + i))
            at = self._pages(owner, n)
            for i in range(n):
                mdb.delegate(pd_of(self.m.root).mem, first + i, pd_of(owner).mem, at + i, 0, ALL)
            return at, first
        if kind.crd == CrdType.PIO:
            port = self.ports
            self.ports += 1
            mdb.delegate(pd_of(self.m.root).pio, port, pd_of(owner).pio, port, 0, ALL)
            return port, port
        if kind.name in ("portal", "interface"):
            self.pongs += 1
            return owner.portal(self.w.CbServer(Cb(self.pongs))).sel, self.pongs
        if kind.name == "semaphore":
            sel = owner.env.alloc()
            with owner.acting():
                Syscalls(k).create_sm(sel, 1)
            return sel, None
        if kind.name == "pd":
            return SELF_PD, None
        if kind.name == "ec":
            return owner.local_thread(0).sel, None
        return owner.thread(lambda ctx: None).sc_sel, None  # sc

    def _pages(self, p: Process, n: int) -> int:
        base = (max(p.env.next_page, 0x100) + n - 1) & ~(n - 1)
        p.env.next_page = base + n
        return base

    def share(self, owner: Process, unit: int, other: Process) -> int:
        """``other`` gets a capability derived from ``owner``'s (to translate back)."""
        kind = self.kind
        if kind.crd == CrdType.MEM:
            n = 1 << kind.order
            at = self._pages(other, n)
            mdb.delegate(pd_of(owner).mem, unit, pd_of(other).mem, at, kind.order, ALL)
            return at
        if kind.crd == CrdType.PIO:
            mdb.delegate(pd_of(owner).pio, unit, pd_of(other).pio, unit, 0, ALL)
            return unit
        sel = other.env.alloc()
        owner.grant(unit, other, sel)
        return sel

    def object(self, sender: Process, receiver: Process) -> Obj:
        """What ``sender`` sends and what ``receiver`` must get: delegated, an object of
        the sender's; translated, one of the receiver's that the sender holds a copy of."""
        if self.mode == "delegate":
            unit, token = self.make(sender)
            space = pd_of(sender).space(self.kind.crd)
            assert space is not None
            return Obj(unit, unit, None, token, held=space.nodes[unit].rights)
        own, token = self.make(receiver)
        sent = self.share(receiver, own, sender)
        space = pd_of(sender).space(self.kind.crd)
        assert space is not None
        held = space.nodes[sent].rights
        return Obj(sent, own, own, token, sender_rights=held, held=held)


@dataclass
class Obj:
    sent: int  # the unit in the sender's space
    owner_unit: int
    expect: int | None  # translate: the receiver's own unit it must get back
    token: Any  # what using it shows (the pong, the first frame, the port)
    # translate: the sender's node's rights, which the receiver is told (NOVA-NRE.md §3,
    # `xlt_crd`: "the receiver's own name ... with the sender's attr"); @rights does not
    # mask a name the receiver already holds
    sender_rights: int | None = None
    held: int = ALL  # the sender's node's rights: a delegated child has no more (§3)


# --- using what arrived ---------------------------------------------------------------


def use(world: World, got: Any, obj: Obj, rights: int) -> None:
    """Use the capability ``got`` as the running EC, with exactly ``rights``."""
    kind, k = world.kind, world.k
    if isinstance(got, Client):  # an interface reference that came back as a stub
        assert kind.name == "interface"
        assert got.ping() == obj.token
        return
    assert isinstance(got, Crd), got
    assert got.type == kind.crd, got
    want = rights if obj.sender_rights is None else obj.sender_rights
    assert got.rights == want, (got, want)
    if obj.expect is not None:  # translated: the receiver's own name
        assert got.base == obj.expect, (got, obj.expect)
    sys = Syscalls(k)
    ec = k.current
    assert ec is not None
    if kind.crd == CrdType.OBJ and obj.expect is None:
        assert sys.lookup(Crd.obj(got.base)).rights == rights & obj.held
    name = kind.name
    if name == "semaphore":
        Sm(k, got.base).down()  # count 1: returns at once
        try:
            Sm(k, got.base).up()
            assert rights & SmRights.UP or obj.expect is not None
        except SyscallError:
            assert not rights & SmRights.UP
    elif name in ("portal", "interface"):
        assert world.w.CbClient(Pt(k, got.base)).ping() == obj.token
    elif name == "pd":
        sys.create_sm(ec.pd.env.alloc(), 0, pd=got.base)
    elif name == "ec":
        sys.ec_ctrl(got.base)
    elif name == "sc":
        assert sys.sc_ctrl(got.base) >= 0
    elif kind.crd == CrdType.MEM:
        assert got.order == kind.order, got
        ins = Insn.of(k, ec)
        for i in range(1 << kind.order):
            assert ins.read((got.base + i) << 12, 7) == b"page%03d" % (obj.token + i)
        try:
            check(ec.pd, got.base << 12, 1, "w")
            assert rights & MemRights.W or obj.expect is not None
        except PageFault:
            assert not rights & MemRights.W
    else:
        assert got.base == obj.token
        assert Insn.of(k, ec).inb(got.base) == 0xFF  # no device: the floating bus


def wrap(w: ModuleType, g: str, container: str, value: Any) -> Any:
    if container == "direct":
        return value
    if container == "struct":
        return getattr(w, f"S_{g}")(c=value)
    if container == "seq":
        return [value, None]
    if container == "union":
        return getattr(w, f"U_{g}").make_c(value)
    return getattr(w, f"O_{g}")(s=getattr(w, f"S_{g}")(c=value))


def unwrap(container: str, value: Any) -> Any:
    if container == "direct":
        return value
    if container == "seq":
        assert len(value) == 2 and value[1] is None, value  # null stays null
        return value[0]
    if container == "opt":
        return value.s.c
    return value.c


class Impl:
    """The server: each method checks what it got and answers with its own object."""

    def __init__(self) -> None:
        self.world: World
        self.request: Obj | None = None
        self.reply: Obj | None = None
        self.container = "direct"
        self.rights = ALL
        self.seen: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        direction, container = name.split("_")

        def method(*args: Any) -> Any:
            world, g = self.world, group(self.world.kind, self.world.mode)
            if direction in ("in", "inout"):
                got = unwrap(container, args[0])
                if self.request is None:
                    assert got is None, got
                else:
                    use(world, got, self.request, self.rights)
                self.seen.append(f"server {name}")
            if direction == "in":
                return None
            value = None
            if self.reply is not None:
                value = Crd(world.kind.crd, self.reply.sent, world.kind.order, ALL)
            return wrap(world.w, g, container, value)

        return method


@pytest.mark.parametrize(("kind", "direction", "container", "mode", "arch"), CASES)
def test_capability_positions(
    w: ModuleType, kind: Kind, direction: str, container: str, mode: str, arch: str
) -> None:
    impl = Impl()
    world = World(w, kind, mode, ARCHES[arch], impl)
    impl.world = world
    g = group(kind, mode)
    annotated = not (direction == "ret" and container in ("direct", "seq"))
    rights = kind.mask if annotated else ALL
    impl.rights = rights
    request = reply = None
    if direction in ("in", "inout"):
        request = world.object(world.cli, world.srv)
    if direction != "in":
        reply = world.object(world.srv, world.cli)
    done: list[str] = []

    @world.cli
    def client(ctx: Context) -> None:
        stub = getattr(w, f"I_{g}Client")(Pt(ctx.gate, world.pt_sel))
        call = getattr(stub, f"{direction}_{container}")
        for null in (False, True):  # the object, then null in the same place
            impl.request = None if null else request
            impl.reply = None if null else reply
            args = []
            if request is not None:
                value: Any = Crd(kind.crd, request.sent, kind.order, ALL)
                if kind.name == "interface" and container == "direct" and not null:
                    value = w.CbClient(Pt(ctx.gate, request.sent))  # a stub is sent as its portal
                args.append(wrap(w, g, container, None if null else value))
            got = call(*args)
            if reply is not None:
                cap = unwrap(container, got)
                if null:
                    assert cap is None, cap
                else:
                    use(world, cap, reply, rights)
            done.append("null" if null else "object")

    result = world.m.run()
    assert not result.blocked and all(why == "exit" for _, why in result.deaths), result
    assert done == ["object", "null"]
    assert len(impl.seen) == (2 if request is not None else 0)


# --- more items than the window holds ---------------------------------------------------

OVER = [
    pytest.param(k, arch, id=f"{k.name}-{arch}")
    for k in KINDS
    for arch in ARCHES
    if k.name != "interface"  # the same portals as "portal"
]


@pytest.mark.parametrize(("kind", "arch"), OVER)
def test_more_items_than_the_window_is_rejected_and_revoked(
    w: ModuleType, kind: Kind, arch: str
) -> None:
    impl = Impl()
    world = World(w, kind, "delegate", ARCHES[arch], impl)
    impl.world = world
    g = group(kind, "delegate")
    skeleton = getattr(w, f"I_{g}Server")
    # more than the window's units; one I/O window covers every port, so there more
    # than the method's one item
    extra = 3 if kind.crd == CrdType.PIO else (1 << skeleton.accept) + 1
    objs = [world.make(world.cli)[0] for _ in range(1 + extra)]
    codec = getattr(w, f"I_{g}Codec").in_direct
    statuses: list[int] = []
    counts: list[int] = []

    @world.cli
    def client(ctx: Context) -> None:
        pt = Pt(ctx.gate, world.pt_sel)
        msg = codec.request(arch, Crd(kind.crd, objs[0], kind.order, ALL))
        items = list(msg.items)
        for unit in objs[1:]:  # every further item delegated, hotspots running on
            hotspot = len(items) << kind.order if kind.crd != CrdType.PIO else 0
            items.append((Crd(kind.crd, unit, kind.order, ALL).value, 1 | hotspot << 12))
        for _ in range(3):
            counts.append(world.caps(world.srv))
            words, _items = binding.call(pt, msg.data, items)
            statuses.append(struct.unpack_from("<Q" if arch == "x86_64" else "<I", words)[0])
        counts.append(world.caps(world.srv))

    world.m.run()
    assert statuses == [ErrorCode.E_ARGS_INVALID] * 3
    assert len(set(counts)) == 1, counts  # nothing stayed delegated
    assert impl.seen == []


# --- what the skeletons and stubs declare ------------------------------------------------

WINDOWS = [
    # (interface body, the skeleton's (accept, kind, translate, xlt))
    ("void give(in nova::Semaphore sm);", (0, 3, False, 3)),
    ("void f(in L l, in nova::Portal p);", (0, 3, False, 3)),
    ("void a(in nova::Semaphore s); void b(in sequence<nova::Portal, 5> p);", (3, 3, False, 3)),
    (
        "void f(@translate in nova::Portal a, in nova::Semaphore b, in nova::Sm3 c);",
        (3, 3, True, 3),
    ),
    ("void f(@max_order(2) in nova::Memory a, @max_order(1) in nova::Memory b);", (3, 1, False, 3)),
    ("void f(in nova::IoPorts p); void g(@translate in nova::Memory m);", (16, 2, True, 1)),
    ("nova::Semaphore f(in long x); void g(out nova::Memory m);", (None, 3, False, 3)),
    ("void f(@translate in nova::IoPorts p);", (None, 3, True, 2)),
]


def test_skeleton_windows_come_from_the_requests(tmp_path: Path) -> None:
    """WIRE.md §4: objects, the most items of a request (every item counts: item k's hotspot
    is k), rounded up to a power of two; memory, items * 2**@max_order pages; I/O, every
    port; replies give the skeleton nothing."""
    body = "\n".join(f"  interface W{i} {{ {text} }};" for i, (text, _) in enumerate(WINDOWS))
    src = tmp_path / "wins.idl"
    src.write_text(
        "module wins {\n  struct L { long x; };\n  typedef nova::Semaphore Sm3[3];\n"
        + body.replace("nova::Sm3", "Sm3")
        + "\n};\n"
    )
    with imported(src, tmp_path, "winspkg", "wins.wins_idl") as (mod,):
        for i, (_, want) in enumerate(WINDOWS):
            s = getattr(mod, f"W{i}Server")
            assert (s.accept, s.kind, s.translate, s.xlt) == want, (i, WINDOWS[i][0])
