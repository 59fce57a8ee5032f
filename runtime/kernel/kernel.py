"""The kernel: objects, execution on greenlets, helping, scheduling and the syscall entry.

Execution model (NOVA-NRE.md §4, §6):
- Each EC runs on its own greenlet. Exactly one EC executes at a time; `current` names it
  and `cpu` the emulated CPU it runs on.
- An SC runs the EC found by following `partner` from the SC's own EC (`Ec.chain_end`).
  A portal call sets the partner link and switches straight to the callee's greenlet;
  the reply clears it and switches to the chain end of the current SC, which is the
  caller unless the callee ran on a helper's SC. No scheduler on that path.
- The scheduler (`run`, on the hub greenlet) is entered only when an EC blocks, dies,
  exits or reaches a preemption point whose time is up. It picks the CPU with the
  smallest virtual clock (ties by a seeded RNG), and on it the SC at the head of the
  highest non-empty priority queue.
- Preemption points: every system call entry and explicit `work`/`yield_` calls. Each
  costs virtual time; with several CPUs a seeded random slice bounds how long one CPU
  runs before the others get their turn, so a seed fixes the whole interleaving.
- Time slices end only by each CPU's LAPIC timer (`Cpu.lapic`, which the platform
  registers, `timer.Lapic`): the scheduler programs it for the end of the remaining
  budget of the SC it dispatches (`Cpu.deadline`, its TSC-deadline register); its
  interrupt (`timer_irq`, the kernel's own vector) sets the CPU's reschedule hazard, as
  NOVA's `Sc::schedule` and `Lapic::timer_handler` do.
"""

from __future__ import annotations

import logging
import random
import sys
from collections import Counter, deque
from collections.abc import Callable
from struct import Struct
from types import FunctionType, MethodType
from typing import Any, Final

from greenlet import GreenletExit, getcurrent, greenlet  # type: ignore[import-untyped]

from . import mdb
from .arch import X86_64, Arch
from .cpu import Cpu
from .crd import ALL, FROM_HV, CrdType
from .ec import Ec
from .kobject import Kobject
from .pd import Pd
from .pt import Pt
from .sc import Sc
from .sm import Sm
from .space import Space
from .status import CapacityError, Status, SyscallError
from .timer import NEVER
from .trace import Trace
from .utcb import Utcb, UtcbFrame

__all__ = [
    "HELP_LIMIT",
    "REPLY_LEFT",
    "SYSCALL_COST",
    "Kernel",
    "ReplyUnwind",
    "portal_entry",
    "run_fixed",
]

log = logging.getLogger("runtime.kernel")

# Final: mypyc keeps each in a C static, where any other module global is a dict lookup
SYSCALL_COST: Final = 1  # virtual us per system call
# An EC's greenlet starts below its first caller's stack up to this depth of such starts,
# else at run()'s depth (`new_glet`): greenlet copies the part of the C stack two
# greenlets share at every switch between them, and an EC inherits its creator's Python
# recursion depth, so a few levels save the copy and a chain of 1,000 calls still runs.
STACKED_LEVELS: Final = 4
# Plain ints for the hot paths: an IntEnum member lookup costs ~60 ns, a global ~5 ns.
SUCCESS: Final = int(Status.SUCCESS)
COM_TIM: Final = int(Status.COM_TIM)
COM_ABT: Final = int(Status.COM_ABT)
BAD_HYP: Final = int(Status.BAD_HYP)
BAD_PAR: Final = int(Status.BAD_PAR)
BAD_CPU: Final = int(Status.BAD_CPU)
BAD_CAP: Final = int(Status.BAD_CAP)
_NONBLOCKING: Final = 1 << 4  # syscalls.NONBLOCKING (flag bit 0 of call)
HELP_LIMIT: Final = 100  # NOVA's ctr_loop bound before "Livelock"
# `call_fixed`'s result for a reply other than the stub's shape (a reply's status is 0)
REPLY_LEFT: Final[tuple[Any, ...]] = (-2,)
# call_fixed's answer when it sent nothing: the UTCB was not idle for a request the kernel
# was to write itself (``op``); the stub's general path sends it (runtime.binding)
# (not Final: stubs test it by identity, and mypyc makes a Final tuple a constant of its own)
NOT_SENT: tuple[Any, ...] = (-1,)
_STATUS_ONLY: Final[tuple[Any, ...]] = (0,)  # what ``rp.unpack_from`` gives for a 1-word reply
_CODE_BASE: Final = 0x1000
DEATH_LOG: Final = 1000  # Kernel.deaths keeps the last this many deaths
_OBJ: Final = int(CrdType.OBJ)
# A skeleton's fixed-size handlers: first request word -> (its items word, handler(frame,
# utcb) -> the reply's words at mr[0], 0 for the status alone, -1 for a reply written
# through the frame, -2 for a request not taken); see `_local_loop`
FastTable = dict[Any, tuple[int, Callable[[UtcbFrame, Utcb], int]]]
# the same as `Pt.fast` holds it: entries by opcode minus the lowest (`_fast_table`)
FastList = list[tuple[int, Callable[[UtcbFrame, Utcb], int]] | None]
_FAST_SPAN: Final = 0xFFFF  # at most one interface's methods (an opcode's low half)


def run_fixed(frame: UtcbFrame, u: Utcb, handler: Callable[[UtcbFrame, Utcb], int], n: int) -> int:
    """Run a fixed-size handler on the request of items word ``n`` in ``u``: consume the
    request (calls the implementation makes find the UTCB idle), call it, and write what
    its result says (the reply's words at mr[0]; 0: the status E_SUCCESS alone). Returns
    the reply's items word, -1 for a reply it wrote through the frame, or -2 for a request
    it did not take, whose items word is ``n`` again. For the receive loop and for
    `runtime.binding.fixed`."""
    u.set_items(0, 0)
    r = handler(frame, u)
    if r >= 0:
        if r == 0:
            u.words[5] = 0  # E_SUCCESS: zero in either byte order
            r = 1
        u.set_items(r, 0)
    elif r == -2:
        u.set_items(n, 0)
    return r


def _fast_table(fn: Callable[..., Any] | None, word: int) -> tuple[int, FastList] | None:
    """The fixed-size handlers of a portal's code (a generated skeleton's ``fast_table``)
    as the receive loop indexes them: (the lowest opcode, the entries by opcode minus
    it; None where no handler is). The opcodes are read as `Utcb.words` reads the
    request's first word, the little-endian opcode, so only on a little-endian host;
    elsewhere, and for a table of other keys or spread wider than an interface's
    methods, the skeleton dispatches itself. Taken once, when the portal is created."""
    table = getattr(fn, "fast_table", None)
    if table is None or sys.byteorder != "little":
        return None
    t = table(word)
    if not isinstance(t, dict) or not t or not all(type(op) is int for op in t):
        return None
    base, top = min(t), max(t)
    if base < 0 or top - base > _FAST_SPAN:
        return None
    entries: FastList = [None] * (top - base + 1)
    for op, e in t.items():
        entries[op - base] = e
    return base, entries


def portal_entry(fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """What the local loop calls for a portal's code: for an object with a Python
    ``__call__`` (a generated skeleton) its bound method, which skips the type slot's
    lookup (~40 ns on every call); anything else as it is."""
    if fn is None or isinstance(fn, FunctionType | MethodType):
        return fn
    call = getattr(type(fn), "__call__", None)  # noqa: B004 (the method itself is wanted)
    return MethodType(call, fn) if isinstance(call, FunctionType) else fn


class ReplyUnwind(BaseException):
    """Unwinds a handler that issued `reply` itself, so the next call starts afresh."""


class Kernel:
    def __init__(
        self,
        cpus: int = 1,
        arch: Arch = X86_64,
        seed: int = 0,
        slice_max: int = 50,
        trace: bool = False,
        gsis: int = 128,
        num_cpu: int = 64,
    ) -> None:
        from .syscalls import TABLE  # the dispatch table lives with the handlers

        self.table = TABLE
        self.arch = arch
        self.ncpus = cpus
        # NOVA's NUM_CPU (64): the kernel PD's GSI semaphores sit at num_cpu + gsi. Above 64
        # CPUs it grows with the machine (a deviation, docs/runtime.md).
        self.num_cpu = max(num_cpu, cpus)
        self.cpus = [Cpu(i) for i in range(cpus)]
        self.rng = random.Random(seed)
        self.seed = seed
        self.slice_max = slice_max
        self.graveyard: list[Kobject] = []
        self.code: dict[int, Callable[..., Any]] = {}
        self.next_ip = _CODE_BASE
        self.current: Ec | None = None
        self.cpu: Cpu | None = None
        self.hub: greenlet | None = None
        self.counters: Counter[str] = Counter()  # rare events; hot ones are plain ints
        # System calls and EC switches; n_ipc counts one of each together (a portal call
        # that switches straight to its handler, a reply straight back), one increment
        # less on both halves of every call: the totals are n_syscalls/n_switches + n_ipc.
        self.n_syscalls = 0
        self.n_switches = 0
        self.n_ipc = 0
        self.faults: list[str] = []  # internal kernel bugs turned into a status
        # (ec, reason) of the last DEATH_LOG deaths; n_deaths counts them all
        self.deaths: deque[tuple[str, str]] = deque(maxlen=DEATH_LOG)
        self.n_deaths = 0
        self.ec_faults: list[tuple[Ec, BaseException]] = []  # Python exceptions in ECs
        self.tracing = trace
        self.trace = Trace()
        # The live objects by kind, in creation order (dicts used as ordered sets: an
        # object leaves in O(1) when it is destroyed, `collect`). `waiting`: the ECs
        # blocked on a semaphore. `zombies`: greenlets of destroyed ECs that stopped
        # inside their code, unwound by `run` on the hub (`_reap`).
        self.ecs: dict[Ec, None] = {}
        self.scs: dict[Sc, None] = {}
        self.sms: dict[Sm, None] = {}
        self.waiting: dict[Ec, None] = {}
        self.zombies: list[greenlet] = []
        # The kernel PD holds the GSI semaphores at num_cpu + gsi (§6); root reaches them with
        # FROM_HV delegations. `reply_sm` is where a global EC that replies blocks for good.
        self.root_pd: Pd | None = None  # set at boot; FROM_HV is honoured only for it
        self.root_ec: Ec | None = None  # set at boot; started without a startup event
        self.kernel_pd = Pd(self.graveyard, arch, "kernel")
        self.kernel_pd.acquire()
        for g in range(gsis):
            sm = Sm(self.graveyard, 0, f"gsi{g}", gsi=g)
            mdb.insert_root(self.kernel_pd.obj, self.num_cpu + g, sm, ALL)
            self.sms[sm] = None
        self.reply_sm = Sm(self.graveyard, 0, "reply-block")
        self.reply_sm.acquire()  # the kernel's own reference: it is never destroyed
        self.sms[self.reply_sm] = None
        self.platform: Any = None  # runtime.platform.Board: the IOAPIC (GSI routing)
        # runtime.platform.Timebase (`timer.Timer`): device time, which keeps `next_event`
        # (the time of the next device event) up to date; it also gives each CPU its LAPIC
        # timer (`Cpu.lapic`). Without them no device event comes and no slice ends.
        self.timer: Any = None
        self.next_event = NEVER
        # What the platform registers with the kernel (plain attributes, not weak
        # registries, so the kernel needs no weak references): the port I/O bus
        # (runtime.platform.fault), the physical memory (runtime.platform.memory); and
        # each CPU's FPU owner (runtime.kernel.exc).
        self.io_bus: Any = None
        self.phys: Any = None
        self.fpu_owner: dict[int, Ec] = {}
        # Starts EC greenlets at its own (shallow) depth, so that every EC has its own
        # Python recursion budget (greenlet keeps one per greenlet, inherited at start).
        self.nursery: Any = None
        self.requester: Any = None

    # -- code table ------------------------------------------------------------------------
    def register_code(self, fn: Callable[..., Any], pd: Pd | None = None) -> int:
        """Give a Python callable an instruction address (portal ip, or a global EC's sp).

        With `pd`, the code lives in that PD's address space: the address goes when the PD
        is destroyed (`collect`). Without, it stays for the kernel's lifetime."""
        ip = self.next_ip
        self.next_ip = ip + 16
        self.code[ip] = fn
        if pd is not None:
            pd.code.append(ip)
        return ip

    # -- object creation (used by the syscall handlers) ------------------------------------
    def new_pd(self, name: str) -> Pd:
        return Pd(self.graveyard, self.arch, name)

    def new_ec(
        self, pd: Pd, cpu: int, glb: bool, utcb_addr: int, sp: int, evt: int, name: str
    ) -> Ec:
        ec = Ec(self.graveyard, pd, cpu, glb, Utcb(self.arch), utcb_addr, sp, evt, name)
        ec.entry = self.code.get(sp) if glb else None
        pd.utcbs.add(utcb_addr)
        pd.ecs.append(ec)
        self.ecs[ec] = None
        return ec

    def new_sc(self, ec: Ec, prio: int, quantum: int) -> Sc:
        sc = Sc(self.graveyard, ec, prio, quantum)
        self.scs[sc] = None
        return sc

    def new_pt(self, ec: Ec, mtd: int, ip: int, pid: int) -> Pt:
        pt = Pt(self.graveyard, ec, mtd, ip, pid)
        code = self.code.get(ip)
        pt.entry = portal_entry(code)  # resolved once: the handler run for each call
        fast = _fast_table(code, self.arch.word)
        if fast is not None:
            pt.fast_base, pt.fast = fast
        return pt

    def new_sm(self, count: int, name: str = "") -> Sm:
        sm = Sm(self.graveyard, count, name)
        self.sms[sm] = None
        return sm

    # -- the system call entry -------------------------------------------------------------
    def syscall(
        self, w0: int, a2: int = 0, a3: int = 0, a4: int = 0, a5: int = 0
    ) -> tuple[int, int, int]:
        """Run system call `w0 & 0xf` for the current EC; returns (status, out2, out3).

        Never raises: an internal error is logged as a kernel fault and answered BAD_PAR.
        """
        ec = self.current
        if ec is None:
            return BAD_HYP, 0, 0
        if not w0 & 0xF:
            return self.ipc_call(w0), ec.out2, ec.out3
        cpu = self.cpu
        if cpu is not None:
            # Preemption point (inlined tick: this is the IPC fast path). The SC is
            # charged lazily, when it leaves the CPU (`_charge`).
            now = cpu.clock = cpu.clock + SYSCALL_COST
            if now >= cpu.switch_at and cpu.current is not None:
                self._preempt()
        num = w0 & 0xF
        self.n_syscalls += 1
        try:
            st = self.table[num](self, ec, w0, a2, a3, a4, a5)
        except Exception as e:  # a kernel bug must not become the caller's problem
            self.kernel_fault(f"syscall {num}: {type(e).__name__}: {e}")
            st = BAD_PAR
        if self.tracing:
            self._trace(ec, f"sys{num}", int(st))
        if self.graveyard:
            self.collect()
        if ec.dead:
            self._dispatch_from_ec()
        if ec.recall:  # ec_ctrl: event 31 on the way back to user (§5)
            from .exc import recall

            recall(self, ec)
        return st, ec.out2, ec.out3

    def ipc_call(self, w0: int, items: int = -1) -> int:
        """System call 0 (call), the one IPC path (§4): `syscall(w0)[0]` without the
        generic dispatch and its result tuple. The preemption point, the portal lookup,
        then `call` (CPU check, helping a busy callee, the transfer and the switch).
        ``items``: the items word the caller's user half wrote just before (`call_fixed`;
        no code ran since), -1: read it from the page."""
        ec = self.current
        if ec is None:
            return BAD_HYP
        cpu = self.cpu
        if cpu is not None:
            now = cpu.clock = cpu.clock + SYSCALL_COST
            if now >= cpu.switch_at and cpu.current is not None:
                self._preempt()
        try:
            try:  # a subscript, not .get(): no method call on the hit path
                pt = ec.caps[w0 >> 8].obj
            except KeyError:
                pt = None
            if type(pt) is not Pt:
                self.n_syscalls += 1
                st = BAD_CAP
            else:
                st = self.call(ec, pt, bool(w0 & _NONBLOCKING), items)
        except Exception as e:  # a kernel bug must not become the caller's problem
            self.n_syscalls += 1
            self.kernel_fault(f"syscall 0: {type(e).__name__}: {e}")
            st = BAD_PAR
        if self.tracing:
            self._trace(ec, "sys0", st)
        if self.graveyard:
            self.collect()
        if ec.dead:
            self._dispatch_from_ec()
        if ec.recall:  # ec_ctrl: event 31 on the way back to user (§5), as in `syscall`
            from .exc import recall

            recall(self, ec)
        return st

    def idle_utcb(self) -> bytearray | None:
        """The current EC's UTCB page when it is idle (no live frame, no message, both
        receive windows closed: what an outermost frame's push would save nothing of),
        else None. A generated stub packs a fixed-size request at mr[0] of it and sends
        it with `call_fixed`; nothing else may run in between."""
        ec = self.current
        if ec is None:
            return None
        u = ec.utcb
        return u.buf if u.idle() else None

    def call_fixed(
        self, sel: int, n: int, rp: Struct, m: int, op: object = None
    ) -> tuple[Any, ...]:
        """The call of a generated stub whose request and reply have one fixed size and
        no items: the caller packed the request (``n`` words) at mr[0] of the page that
        `idle_utcb` gave it; this writes the items word, calls through `ipc_call` (the one
        IPC path) and ``rp.unpack_from`` the reply there. A request of the opcode alone
        (``n == 1``) is passed as ``op`` instead: written at mr[0] if the UTCB is idle,
        else nothing is sent and the answer is ``NOT_SENT`` (one Python call and one pack
        fewer); an ``op`` that is no word of the architecture sends nothing either and
        gets ``(BAD_PAR,)``.

        Returns the reply's values when it has exactly ``m`` words, no items and status
        word 0 (E_SUCCESS, WIRE.md §2), so ``r[0] == 0``; the UTCB is idle again.
        Otherwise a 1-tuple: the status of a failed call (UTCB idle); ``REPLY_LEFT`` for
        a reply of another shape, left in the UTCB as its message for `take_reply`.
        """
        ec = self.current
        if ec is None:
            return (BAD_HYP,)
        u = ec.utcb
        if op is not None:  # a request of the opcode alone: the user half writes it, if idle
            if not u.idle():
                return NOT_SENT
            try:
                u.set_mr0(op)
            except (TypeError, ValueError, OverflowError):
                return (BAD_PAR,)
        u.set_items(n, 0)
        st = self.ipc_call(sel << 8, n)
        # the user half again: the reply
        if st:
            u.set_items(0, 0)
            return (st,)
        if u.delivered == m:  # m untyped words, no items (as the reply just delivered)
            if m == 1:  # the status alone: E_SUCCESS is zero in either byte order
                if not u.words[5]:
                    u.set_items(0, 0)
                    return _STATUS_ONLY
                return REPLY_LEFT
            r = rp.unpack_from(u.buf, u.mr0)
            if not r[0]:
                u.set_items(0, 0)
                return r
        return REPLY_LEFT

    def take_reply(self) -> tuple[bytes, list[tuple[int, int]]]:
        """The message `call_fixed` left in the UTCB (words, items); the UTCB is idle again."""
        ec = self.current
        if ec is None:
            raise SyscallError(BAD_HYP, "no EC is running")
        u = ec.utcb
        n = u.items
        t = n >> 16
        reply = bytes(u.buf[u.msg[min(n & 0xFFFF, u.msg_words)]])
        items: list[tuple[int, int]] = u.item_pairs(t) if t else []
        u.set_items(0, 0)
        return reply, items

    def call_words(
        self,
        sel: int,
        data: bytes | bytearray,
        flags: int = 0,
        items: list[tuple[int, int]] | tuple[()] = (),
    ) -> tuple[bytes, list[tuple[int, int]]]:
        """A portal call without a frame object: what ``with pt.frame() as f:
        f.put_words(data); f.put_item(crd, aux) for each item; pt.call(f)`` does,
        returning the reply's words (bytes) and typed items (crd, aux).

        On an idle UTCB (no live frame, windows closed: every stub call) the request is
        written at mr[0] and its items at the page end, the reply read from there, and
        the UTCB is idle again afterwards, exactly as a pushed and popped outermost frame
        leaves it. A live frame (a call from inside a handler) is saved and restored as
        ``UtcbFrame`` does. Words or items beyond the frame's capacity raise
        ``CapacityError`` before anything is written; a failed call raises
        ``SyscallError`` with its status, as ``Pt.call``.
        """
        ec = self.current
        if ec is None:
            raise SyscallError(BAD_HYP, "no EC is running")
        u = ec.utcb
        buf, w = u.buf, u.word
        v = u.words
        if u.layer or v[1] or v[2] or v[3] or v[4]:
            with UtcbFrame(u) as f:
                f.put_words(data)
                for c, aux in items:
                    f.put_item(c, aux)
                st = self.ipc_call(sel << 8 | flags)
                if st:
                    raise SyscallError(st, "call")
                return f.get_words(u.untyped), list(f.items())
        n = len(data)
        words = (n + w - 1) // w
        if words > u.room:
            raise CapacityError(f"{words} words do not fit, {u.free_untyped} free")
        t = len(items)
        if t:
            # UtcbFrame.put_item's capacity, all at once; the pairs go down from the page end
            if t > u.typed_capacity:
                raise CapacityError("typed items exhausted")
            pack, mask = u.pair.pack_into, u.mask
            off = (u.page_words - 2) * w
            for c, aux in items:
                pack(buf, off, c & mask, aux & mask)
                off -= 2 * w
        mr0 = u.mr0
        if n % w:
            end = mr0 + words * w
            buf[mr0:end] = bytes(data) + bytes(end - mr0 - n)
        else:
            buf[mr0 : mr0 + n] = data
        u.set_items(words, t)
        st = self.ipc_call(sel << 8 | flags)
        n = u.items
        t = n >> 16
        reply = bytes(buf[mr0 : mr0 + min(n & 0xFFFF, u.msg_words) * w])
        out: list[tuple[int, int]] = u.item_pairs(t) if t else []
        u.set_items(0, 0)  # idle again, as the outermost frame's pop leaves it
        if v[2] or v[3]:  # a window armed meanwhile: close it
            v[2] = v[3] = 0
        if st:
            raise SyscallError(st, "call")
        return reply, out

    def kernel_fault(self, what: str) -> None:
        log.error("kernel fault: %s", what)
        self.faults.append(what)
        self.counters["kernel_faults"] += 1

    def _trace(self, ec: Ec, what: str, value: int) -> None:
        cpu = self.cpu
        self.trace.append((cpu.clock if cpu else 0, cpu.id if cpu else -1, ec.name, what, value))

    # -- IPC -------------------------------------------------------------------------------
    def call(self, ec: Ec, pt: Pt, nonblocking: bool, items: int = -1) -> int:
        """The body of sys_call once the portal is known (§4): check the CPU, help a busy
        callee, then deliver the message and switch to the callee on the caller's SC.
        ``items``: the caller's items word as `ipc_call` got it (-1: read the page,
        which a wait for a busy callee always does, as others ran meanwhile).

        Counts one system call for a refusal, and one system call with its switch
        (`n_ipc`) for a delivery."""
        callee = pt.ec
        if callee.xcpu != ec.cpu:
            self.n_syscalls += 1
            return BAD_CPU
        if callee.rcap is not None or callee.dead or self.cpu is None:
            st = self._call_busy(ec, callee, nonblocking)
            if st != SUCCESS:
                self.n_syscalls += 1
                return st
            items = -1
        callee.rcap = ec
        callee.pending = pt
        ec.partner = callee
        pt.calls += 1
        self.transfer(ec, callee, items)
        ec.result = COM_ABT
        self.current = callee
        self.n_ipc += 1  # this system call and its switch
        if self.tracing:  # the handler's side of the call, with the portal's id
            self._trace(callee, "recv", pt.id)
        resume = callee.resume
        if resume is None:
            if ec.stacked < STACKED_LEVELS:
                # started here, below the caller's stack: a switch between the two then
                # copies (almost) no stack, as the caller's frames lie above the callee's
                callee.stacked = ec.stacked + 1
                callee.set_glet(greenlet(self._ec_main, parent=self.hub))
            else:
                callee.set_glet(self.new_glet(callee))
            callee.resume(callee)
        else:
            resume()  # resumes its loop; no argument is cheaper
        return ec.result

    def _call_busy(self, ec: Ec, callee: Ec, nonblocking: bool) -> int:
        """Wait until `callee` is idle by helping it (§4); SUCCESS means deliver now."""
        cpu = self.cpu
        if cpu is None:
            return BAD_HYP  # outside run() there is no SC to donate
        while True:
            if callee.dead:
                return COM_TIM
            if callee.rcap is None:  # idle now
                return SUCCESS
            if nonblocking:
                return COM_TIM
            cpu.ctr_loop += 1
            if cpu.ctr_loop >= HELP_LIMIT:
                self.die(ec, "Livelock")
                self._dispatch_from_ec()
                return COM_ABT  # not reached: a dead EC is never resumed
            self.counters["helps"] += 1
            target = callee.chain_end()
            if target is ec:
                continue  # helping ourselves: retry at once, which counts again
            if target.dead:
                return COM_TIM
            if target.blocked_on is not None:
                self._charge(cpu)
                sc = cpu.current
                if sc is not None:
                    target.blocked_scs.append(sc)
                    cpu.current = None
                self._to_hub()
            else:
                self._switch_to(target)
            # Resumed as the end of our SC's chain: retry the call (NOVA: cont = sys_call).

    def reply(self, ec: Ec) -> None:
        """Answer the caller with the UTCB contents and wait for the next call."""
        if ec.glb:
            # A global EC that replies blocks for good (§4).
            self._block(ec, self.reply_sm)
            return
        if not self._answer(ec, self.cpu):
            self._dispatch_from_ec()

    def _answer(self, ec: Ec, cpu: Cpu | None, items: int = -1) -> bool:
        """The second half of every call, for a local EC's reply (`reply` and the local EC
        loop): the message goes to the caller, and when the caller is what runs next on
        the donated SC (unless `ec` ran on a helper's SC) this switches straight back to
        it. True: it did, and `ec` has since been resumed by a new call; False: the caller
        is gone or waits for the scheduler, which the caller of this method enters.
        ``items``: the reply's items word when the receive loop has just written it."""
        caller = ec.rcap
        ec.rcap = None
        ec.pending = None
        if caller is None:
            return False
        caller.partner = None
        if caller.dead:
            return False
        self.transfer(ec, caller, items)
        caller.result = SUCCESS
        sc = None if cpu is None else cpu.current
        if sc is None or sc.dead:
            return False
        end = sc.ec
        while end.partner is not None:
            end = end.partner
        resume = caller.resume
        if end is not caller or resume is None:
            return False
        self.current = caller
        self.n_switches += 1
        resume()
        return True

    def transfer(self, src: Ec, dst: Ec, items: int = -1) -> None:
        """Copy the message as NOVA's `Utcb::save` does (§2): the counts come from the
        sender's items word, at most the page's capacity of untyped words (``msg_words``:
        507 on x86_64, 1019 on x86_32; the frame offsets of word 0 are 0 in copy mode) and
        half of that in typed items, run the typed transfer, and write the receiver's
        items word. NRE's frames are user-level: a copy may overwrite what a nested frame
        of the receiver saved in its page, as on the real kernel. ``items``: the sender's
        items word when its writer (the receive loop, in this module) has just written
        it; -1: read it from the page."""
        su, du = src.utcb, dst.utcb
        if items < 0:
            items = su.items
        u = items & 0xFFFF
        cap = su.msg_words
        if u > cap:
            u = cap
        if u == 1:  # one word (a null call or a status-only reply): no slice
            sw: Any = su.words  # Any: the word passes as the object read, never unboxed
            dw: Any = du.words
            dw[5] = sw[5]
        elif u:
            sl = su.msg[u]
            du.buf[sl] = su.buf[sl]
        t = items >> 16
        if t:
            if t > cap >> 1:
                t = cap >> 1
            self._xfer_items(src, dst, t)
        du.set_items(u, t)

    def _xfer_items(self, src: Ec, dst: Ec, t: int) -> None:
        su, du = src.utcb, dst.utcb
        spd, dpd = src.pd, dst.pd
        # Items straight from/to the pages (Utcb.item/set_item, inlined): item k is the
        # word pair at W-2-2k (Crd), W-1-2k (aux); the windows are header words 2 and 3.
        # One 2-word struct reads or writes a (Crd, aux) pair, and the windows (xlt, del).
        w, sbuf, dbuf, mask = su.word, su.buf, du.buf, du.mask
        unpack, pack = su.pair.unpack_from, du.pair.pack_into
        xlt, dele = unpack(dbuf, 2 * w)
        off = (su.page_words - 2) * w
        root = spd is self.root_pd  # FROM_HV is honoured only for root
        for _ in range(t):
            c, aux = unpack(sbuf, off)
            typ = c & 3
            s = self.kernel_pd if (root and aux & FROM_HV) else spd
            ss: Space | None
            ds: Space | None
            if typ == _OBJ:  # Pd.space(typ), inlined for the common kind
                ss, ds = s.obj, dpd.obj
            else:
                ss, ds = s.space(typ), dpd.space(typ)
            if ss is None or ds is None:
                res = 0
            elif aux & 1:
                res = mdb.del_crd(ss, ds, c, aux >> 12, dele)
            else:
                res = mdb.xlt_crd(ss, ds, c, xlt)
            pack(dbuf, off, res & mask, aux & 0xFFF)
            off -= 2 * w
        self.counters["items"] += t

    # -- semaphores ------------------------------------------------------------------------
    def sm_up(self, sm: Sm) -> None:
        if sm.queue:
            ec = sm.queue.popleft()
            ec.blocked_on = None
            self.waiting.pop(ec, None)
            ec.result = SUCCESS
            self.release(ec)
        else:
            sm.count += 1

    def sm_down(self, ec: Ec, sm: Sm, zero: bool) -> int:
        if sm.count > 0:
            sm.count = 0 if zero else sm.count - 1
            return SUCCESS
        if self.cpu is None:
            return BAD_HYP  # outside run() nothing could ever wake us
        ec.result = SUCCESS
        self._block(ec, sm)
        return ec.result

    def _block(self, ec: Ec, sm: Sm) -> None:
        ec.blocked_on = sm
        sm.queue.append(ec)
        self.waiting[ec] = None
        if self.tracing:
            self._trace(ec, "block", 0)
        self._dispatch_from_ec()

    def release(self, ec: Ec) -> None:
        """Make every SC that waited for `ec` ready again (NOVA `release`)."""
        scs = ec.blocked_scs
        if scs:
            ec.blocked_scs = []
            for sc in scs:
                self.ready(sc)

    # -- scheduling ------------------------------------------------------------------------
    def ready(self, sc: Sc) -> None:
        if sc.dead or sc.queued:
            return
        cpu = self.cpus[sc.cpu]
        if cpu.current is sc:
            return
        if not cpu.runnable() and self.cpu is not None and self.cpu is not cpu:
            cpu.clock = max(cpu.clock, self.cpu.clock)  # an idle CPU wakes at the waker's time
        cpu.enqueue(sc)
        cur = cpu.current
        if cur is not None and sc.prio > cur.prio:
            cpu.hazard = True  # NOVA's ready_enqueue: HZD_SCHED
            cpu.switch_at = 0  # preempt at the next preemption point

    def tick(self, cost: int) -> None:
        """A preemption point that costs `cost` virtual us (explicit work)."""
        cpu = self.cpu
        if cpu is None or cpu.current is None:
            return
        cpu.clock += cost
        if cpu.clock >= cpu.switch_at:
            self._preempt()

    def _charge(self, cpu: Cpu) -> None:
        """Bill the CPU's current SC for the time since it was last billed."""
        sc = cpu.current
        used = cpu.clock - cpu.since
        cpu.since = cpu.clock
        if sc is not None and used:
            sc.left -= used
            sc.consumed += used

    def consumed(self, sc: Sc) -> int:
        """Virtual us used by `sc`, including its running turn."""
        cpu = self.cpus[sc.cpu]
        return sc.consumed + (cpu.clock - cpu.since if cpu.current is sc else 0)

    def yield_(self) -> None:
        """Give up the rest of this turn: the SC goes to the tail of its queue."""
        cpu = self.cpu
        if cpu is None or cpu.current is None:
            return
        self._charge(cpu)
        sc = cpu.current
        cpu.current = None
        cpu.enqueue(sc)
        self.counters["yields"] += 1
        self._to_hub()

    def _preempt(self) -> None:
        """A preemption point found the CPU's clock at `switch_at`: take a due LAPIC timer
        interrupt, reschedule on the hazard, and leave to the scheduler (which runs the
        same SC on when there was none: the end of a multi-CPU slice, a device event)."""
        cpu = self.cpu
        assert cpu is not None
        lapic = cpu.lapic
        if lapic is not None:
            lapic.poll()
        self._charge(cpu)
        if cpu.hazard:
            self._reschedule(cpu)
        self._to_hub()

    def timer_irq(self, cpu_id: int) -> None:
        """The LAPIC timer's vector (the kernel's own; NOVA `Lapic::timer_handler`): the
        timer at 0 means the current SC's budget is gone: reschedule."""
        self.counters["timer_irqs"] += 1
        cpu = self.cpus[cpu_id]
        if cpu.lapic.current() == 0:
            cpu.hazard = True
        if self.tracing and cpu.current is not None:
            self._trace(cpu.current.ec, "timer", 0)

    def _reschedule(self, cpu: Cpu) -> None:
        """NOVA `Sc::schedule` for the CPU's current SC: its budget is what
        its LAPIC timer has left until the deadline; with none left it is refilled
        and goes to the tail of its queue, else to the head (it keeps the rest, §4)."""
        cpu.hazard = False
        sc = cpu.current
        if sc is None:
            return
        cpu.current = None
        lapic = cpu.lapic
        left = lapic.current() if lapic is not None else sc.left
        if left <= 0:
            sc.left = sc.quantum
            cpu.enqueue(sc)
        else:
            sc.left = left
            cpu.enqueue(sc, head=True)
        self.counters["preemptions"] += 1

    def _to_hub(self) -> None:
        hub = self.hub
        assert hub is not None
        hub.switch()

    def _runnable_end(self, cpu: Cpu) -> Ec | None:
        """The EC to run for the CPU's current SC, or None after blocking/dropping the SC."""
        sc = cpu.current
        if sc is None:
            return None
        self._charge(cpu)
        if sc.dead:
            cpu.current = None
            return None
        ec = sc.ec.chain_end()
        if ec.dead:
            cpu.current = None  # an SC whose EC is gone never runs again
            sc.dead = True
            return None
        if ec.blocked_on is not None:
            ec.blocked_scs.append(sc)
            cpu.current = None
            return None
        return ec

    def _dispatch_from_ec(self) -> None:
        """Leave the current EC: run the current SC's chain end, else the scheduler."""
        cpu = self.cpu
        assert cpu is not None
        target = self._runnable_end(cpu)
        if target is not None and target is not self.current:
            self._switch_to(target)
        elif target is None:
            self._to_hub()

    def _switch_to(self, ec: Ec) -> None:
        self.current = ec
        g = ec.glet
        if g is None:
            g = self.new_glet(ec)
            ec.set_glet(g)
        self.n_switches += 1
        g.switch(ec)

    def new_glet(self, ec: Ec) -> Any:
        """The greenlet of `ec`, started by the nursery (at the depth where `run` began) and
        waiting at its entry: greenlet gives each greenlet its own Python recursion depth,
        inherited when it starts, so an EC started from a deep call chain does not start
        deep (a chain of 1,000 nested portal calls runs). Its first switch runs `_ec_main`."""
        n = self.nursery
        if n is None or n.dead:  # outside run(): start it here
            return greenlet(self._ec_main, parent=self.hub)
        self.requester = getcurrent()
        g = n.switch(ec)
        self.requester = None
        return g

    def _nursery_loop(self) -> None:
        ec = getcurrent().parent.switch()  # started by run(); wait for the first EC
        while True:
            g = greenlet(self._ec_boot, parent=self.hub)
            g.switch(ec)  # starts it here, at this depth; it comes straight back
            ec = self.requester.switch(g)

    def _ec_boot(self, ec: Ec) -> None:
        self.nursery.switch()  # started; the EC's first switch resumes it
        self._ec_main(ec)

    def _ec_main(self, ec: Ec) -> None:
        try:
            if ec.glb:
                from .exc import startup

                fn = startup(self, ec)  # event 30 if the PD has a portal for it (§5)
                if fn is None:
                    self.die(ec, "no code at entry")
                    return
                fn()
                self.die(ec, "exit")
            else:
                self._local_loop(ec)
        except BaseException as e:  # the EC faulted: it dies, the run goes on
            if isinstance(e, GreenletExit) and getattr(self, "current", None) is not ec:
                raise  # greenlet ends the greenlet of an EC that was garbage collected
            # Anything the EC raised, SystemExit, KeyboardInterrupt, GreenletExit included:
            # it dies with a reason and never escapes `run` or leaves it waiting.
            log.info("EC %s raised %r", ec.name, e)
            self.ec_faults.append((ec, e))
            self.die(ec, f"EXC {type(e).__name__}")
            if not ec.glb:
                self._dispatch_from_ec()

    def _local_loop(self, ec: Ec) -> None:
        su = ec.utcb
        frame = UtcbFrame(su, push=False)  # the handler's UtcbFrameRef, reused
        while True:
            pt = ec.pending
            assert pt is not None
            items = -1  # the reply's items word if this loop wrote it, else -1: the page's
            try:
                # A fixed-size request (exactly its words, no items, no nested frame saved)
                # goes straight to the skeleton's handler for it, as `binding.fixed` does
                # in the skeleton: the items word as just delivered, consumed here so that
                # calls the implementation makes find the UTCB idle; the handler's result
                # says what it wrote, and this writes the items word of the reply.
                fast: FastList | None = pt.fast
                e = None
                if fast is not None and not su.saved_u:
                    got = su.delivered
                    sw: Any = su.words
                    i: int = sw[5]  # the opcode, as an index: no dict lookup, no compare
                    i -= pt.fast_base
                    if 0 <= i < len(fast):
                        e = fast[i]
                    if e is not None and e[0] == got:
                        r = run_fixed(frame, su, e[1], got)
                        if r >= 0:
                            items = r
                        elif r == -2:  # not taken: the request as it came, for the entry
                            e = None
                    else:
                        e = None
                if e is None:
                    handler = pt.entry
                    if handler is None:
                        self.die(ec, "no code at portal ip")
                        self._dispatch_from_ec()
                        return
                    frame.upos = frame.tpos = 0
                    frame.pid = pt.id
                    handler(frame)
            except ReplyUnwind:
                continue  # the handler replied itself; a new call is pending
            # NRE's landing spot: the reply is a system call, so also a preemption point.
            cpu = self.cpu
            if cpu is not None:
                now = cpu.clock = cpu.clock + SYSCALL_COST
                if now >= cpu.switch_at and cpu.current is not None:
                    self._preempt()
            # the reply: a system call of its own (`cpu` is still ours: a local EC resumes
            # on its own CPU)
            self.n_syscalls += 1
            if not self._answer(ec, cpu, items):
                self._dispatch_from_ec()

    # -- death and destruction -------------------------------------------------------------
    def die(self, ec: Ec, reason: str) -> None:
        """Kill an EC (NOVA `Ec::die`): its caller gets COM_ABT, its SCs move on."""
        if ec.dead:
            return
        ec.dead = True
        ec.death = reason
        self.deaths.append((ec.name, reason))
        self.n_deaths += 1
        if self.tracing:
            self._trace(ec, "die", 0)
        caller = ec.rcap
        if caller is not None:
            caller.partner = None
            caller.result = COM_ABT
            ec.rcap = None
        ec.partner = None
        sm = ec.blocked_on
        if sm is not None:
            sm.queue.remove(ec)
            ec.blocked_on = None
            del self.waiting[ec]
            if not sm.refs and not sm.queue:
                self.graveyard.append(sm)  # its last waiter held it: destroy it now
        self.release(ec)
        if not ec.refs:
            self.graveyard.append(ec)  # no capability names it: destroy it now

    def collect(self) -> None:
        """Destroy objects whose last capability vanished: a PD takes its ECs, its
        capabilities and its code along; a dead EC, an SC, and a semaphore nobody waits
        on leave the kernel's tables. Each step leaves the kernel consistent, so the loop
        may stop anywhere (a revoke that empties a space queues more objects)."""
        graveyard = self.graveyard
        while graveyard:
            obj = graveyard.pop()
            if obj.refs > 0:
                continue
            if isinstance(obj, Pd):
                if not obj.dead:
                    self._destroy_pd(obj)
            elif isinstance(obj, Ec):
                if obj.dead:
                    self._destroy_ec(obj)
            elif isinstance(obj, Sc):
                obj.dead = True
                self.cpus[obj.cpu].remove(obj)
                self.scs.pop(obj, None)
            elif isinstance(obj, Sm) and not obj.queue:
                self.sms.pop(obj, None)

    def _destroy_pd(self, pd: Pd) -> None:
        pd.dead = True
        for ec in pd.ecs:
            self.die(ec, "PD destroyed")
        for space in (pd.obj, pd.mem, pd.pio):
            nodes = space.nodes
            while nodes:  # each revoke may take other units of the space along
                mdb.revoke(space, next(iter(nodes)), 0, ALL, True)
        code = self.code
        for ip in pd.code:
            code.pop(ip, None)
        pd.code.clear()
        pd.ecs.clear()
        pd.utcbs.clear()
        pd.env = None  # the user layer's state of the PD goes with it

    def _destroy_ec(self, ec: Ec) -> None:
        """A dead EC nothing names any more leaves the tables; a greenlet it stopped in
        is unwound later, on the hub (`_reap`)."""
        if ec not in self.ecs:
            return
        del self.ecs[ec]
        g = ec.glet
        ec.set_glet(None)
        if g is not None and not g.dead:
            self.zombies.append(g)
        if self.fpu_owner.get(ec.cpu) is ec:
            del self.fpu_owner[ec.cpu]

    def _reap(self) -> None:
        """Unwind the greenlets of destroyed ECs (GreenletExit), on the hub with no
        current EC, so code in their `finally` blocks cannot act as another EC: any
        system call it makes answers BAD_HYP."""
        cur, cpu = self.current, self.cpu
        self.current = self.cpu = None
        here = getcurrent()
        try:
            while self.zombies:
                g = self.zombies.pop()
                if not g.dead:
                    g.parent = here
                    g.throw(GreenletExit)
        finally:
            self.current, self.cpu = cur, cpu

    # -- the scheduler loop ----------------------------------------------------------------
    def _pick_cpu(self) -> Cpu | None:
        best: list[Cpu] = []
        for cpu in self.cpus:
            if cpu.runnable():
                if not best or cpu.clock < best[0].clock:
                    best = [cpu]
                elif cpu.clock == best[0].clock:
                    best.append(cpu)
        if not best:
            return None
        return best[0] if len(best) == 1 else self.rng.choice(best)

    def run(self, until: int | None = None, max_steps: int | None = None) -> str:
        """Schedule until every EC is blocked or gone ("idle"), a CPU's clock reaches
        `until` ("time"), or `max_steps` scheduler decisions were made ("steps")."""
        hub = getcurrent()
        if hub is not self.hub:  # run from another greenlet than last time
            self.hub = hub
            for ec in self.ecs:
                if ec.glet is not None and not ec.glet.dead:
                    ec.glet.parent = hub
        n = self.nursery
        if n is None or n.dead:
            n = self.nursery = greenlet(self._nursery_loop, parent=self.hub)
            n.switch()  # starts it at this depth; it waits for the first EC
        else:
            n.parent = self.hub
        steps = 0
        try:
            while True:
                if self.graveyard:
                    self.collect()
                if self.zombies:
                    self._reap()
                cpu = self._pick_cpu()
                timer = self.timer
                # due device events; every CPU idle: time advances to the next one
                if timer is not None and (cpu is None or self.next_event <= cpu.clock):
                    cpu = timer.schedule_point(cpu, until)
                if cpu is None:
                    return "idle"
                if until is not None and cpu.clock >= until:
                    return "time"
                if max_steps is not None and steps >= max_steps:
                    return "steps"
                steps += 1
                self.cpu = cpu
                self._charge(cpu)
                if cpu.hazard:  # set while the CPU was paused: a device woke a higher prio
                    self._reschedule(cpu)
                if cpu.current is None:
                    sc = cpu.current = cpu.dequeue()
                    self.counters["schedules"] += 1
                    cpu.hazard = False
                    if sc is not None:
                        if sc.left <= 0:
                            sc.left = sc.quantum  # NOVA refills an empty budget on enqueue
                        if cpu.lapic is not None:  # the slice: its budget (a TSC deadline)
                            cpu.deadline = cpu.clock + sc.left
                            if self.tracing:
                                self._trace(sc.ec, "lapic", sc.left)
                cpu.ctr_loop = 0
                sc = cpu.current
                if sc is None:
                    continue
                # the CPU leaves the SC at the next interrupt (its LAPIC timer's expiry
                # at the latest), `until`, or the end of a seeded slice (several CPUs)
                switch_at = cpu.deadline
                if self.next_event < switch_at:
                    switch_at = self.next_event
                if self.ncpus > 1:
                    switch_at = min(switch_at, cpu.clock + self.rng.randint(1, self.slice_max))
                if until is not None:
                    switch_at = min(switch_at, until)
                cpu.switch_at = switch_at
                target = self._runnable_end(cpu)
                if target is None:
                    continue
                if self.tracing:
                    self._trace(target, "run", sc.prio)
                self._switch_to(target)
        finally:
            self.current = None
            self.cpu = None
            if self.graveyard:
                self.collect()
            if self.zombies:
                self._reap()

    # -- introspection ---------------------------------------------------------------------
    @property
    def stats(self) -> dict[str, int]:
        """Counters: syscalls, switches, helps, preemptions, schedules, items, ..."""
        ipc = self.n_ipc
        return {
            "syscalls": self.n_syscalls + ipc,
            "switches": self.n_switches + ipc,
            **self.counters,
        }

    def blocked(self) -> list[Ec]:
        """Live ECs waiting on a semaphore (in the order they blocked) or for a reply
        (for deadlock reports). Proportional to the waiters and SCs, not to every EC: a
        caller waiting for a reply is on the partner chain that starts at an SC's EC."""
        out = dict(self.waiting)
        for sc in self.scs:
            e = sc.ec
            while e.partner is not None:
                if not e.dead:
                    out[e] = None
                e = e.partner
        return list(out)
