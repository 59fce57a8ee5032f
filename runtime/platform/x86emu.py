"""One emulated x86-64 core: the `unicorn` CPU emulator behind a small typed interface.

This module is the only one that imports unicorn (it has no type stubs). A `Core` has
the general registers, rip and rflags, a flat address space of 4 KiB pages that map
host memory directly (`map_page` over a bytearray: guest and Python see the same bytes,
nothing is copied), and five hooks: `syscall`, an exception (`UC_HOOK_INTR`: the
vector), an invalid opcode, a memory access that is unmapped or lacks a right (kind,
address), and port I/O (`in`/`out`). `run(rip, count)` executes at most `count`
instructions from rip; a hook ends it early with `stop()`.

Register access goes through the C library directly with preallocated ctypes buffers:
the binding's generic `reg_read` costs several times more per register.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import unicorn  # no type stubs: everything unicorn returns is Any here
from unicorn import x86_const as X
from unicorn.unicorn_py3.unicorn import uclib

__all__ = ["ACCESS_FETCH", "ACCESS_WRITE", "GPR_IDS", "PROT_R", "PROT_W", "PROT_X", "Core"]

PROT_R: int = unicorn.UC_PROT_READ
PROT_W: int = unicorn.UC_PROT_WRITE
PROT_X: int = unicorn.UC_PROT_EXEC
# the access kinds of the memory fault hook, as two flags (a read is neither)
ACCESS_WRITE = 1
ACCESS_FETCH = 2
_ACCESS = {
    unicorn.UC_MEM_READ_UNMAPPED: (0, False),
    unicorn.UC_MEM_WRITE_UNMAPPED: (ACCESS_WRITE, False),
    unicorn.UC_MEM_FETCH_UNMAPPED: (ACCESS_FETCH, False),
    unicorn.UC_MEM_READ_PROT: (0, True),
    unicorn.UC_MEM_WRITE_PROT: (ACCESS_WRITE, True),
    unicorn.UC_MEM_FETCH_PROT: (ACCESS_FETCH, True),
}
GPR_IDS: dict[str, int] = {
    "rax": X.UC_X86_REG_RAX,
    "rcx": X.UC_X86_REG_RCX,
    "rdx": X.UC_X86_REG_RDX,
    "rbx": X.UC_X86_REG_RBX,
    "rsp": X.UC_X86_REG_RSP,
    "rbp": X.UC_X86_REG_RBP,
    "rsi": X.UC_X86_REG_RSI,
    "rdi": X.UC_X86_REG_RDI,
    **{f"r{i}": getattr(X, f"UC_X86_REG_R{i}") for i in range(8, 16)},
    "rip": X.UC_X86_REG_RIP,
    "rflags": X.UC_X86_REG_RFLAGS,
}
_RDI, _RSI, _RDX = X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RDX
_ARGS = (X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RDX, X.UC_X86_REG_RAX, X.UC_X86_REG_R8)
# the package as Any: mypy reads unicorn's partial annotations unless told to skip it (the
# project's config does; a run without it, over generated code, must pass too)
_UC: Any = unicorn
_NEVER = (1 << 64) - 1  # an end address no instruction reaches: only count and stop end a run
# The library's functions once more, as a PyDLL: the GIL stays held (the binding's CDLL
# releases it at every call and the hooks take it back), and the register functions go
# without the binding's argument conversion (argtypes), which costs more than the call:
# every argument passed to them is a ctypes object or a small int.
_lib = ctypes.PyDLL(uclib._name)
_reg_read, _reg_write, _read_batch = _lib.uc_reg_read, _lib.uc_reg_write, _lib.uc_reg_read_batch
_emu_start, _emu_stop = _lib.uc_emu_start, _lib.uc_emu_stop
_emu_start.argtypes = [
    ctypes.c_void_p,
    ctypes.c_uint64,
    ctypes.c_uint64,
    ctypes.c_uint64,
    ctypes.c_size_t,
]
_emu_start.restype = ctypes.c_int
_SYSCALL_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)  # (engine, user data)

SyscallHook = Callable[[], None]
IntrHook = Callable[[int], None]
InvalidHook = Callable[[], None]
MemHook = Callable[[int, bool, int], bool]  # (access flags, protection?, address) -> retry
InHook = Callable[[int, int], int]  # (port, size) -> value
OutHook = Callable[[int, int, int], None]  # (port, size, value)


class Core:
    """An x86-64 core (64-bit mode, flat segments) with hooks into Python."""

    __slots__ = ("_args", "_keep", "_one", "_pone", "_ptrs", "_regs", "_sys_cb", "_uc", "_uch")

    def __init__(
        self,
        syscall: SyscallHook,
        intr: IntrHook,
        invalid: InvalidHook,
        mem: MemHook,
        port_in: InHook,
        port_out: OutHook,
    ) -> None:
        uc = _UC.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        self._uc: Any = uc
        self._uch: Any = uc._uch
        self._keep: dict[int, Any] = {}  # page address -> the ctypes view keeping it alive
        self._one = ctypes.c_uint64()
        self._pone = ctypes.byref(self._one)
        n = len(_ARGS)
        self._args = (ctypes.c_uint64 * n)()
        self._regs = (ctypes.c_int * n)(*_ARGS)
        base = ctypes.addressof(self._args)
        self._ptrs = (ctypes.c_void_p * n)(*(base + 8 * i for i in range(n)))

        def on_syscall(_h: Any, _ud: Any) -> None:
            # registered without the binding's wrappers (the most frequent exit): its
            # exception guard, done here
            try:
                syscall()
            except BaseException as e:
                if uc._hook_exception is None:
                    uc._hook_exception = e
                _emu_stop(self._uch)

        def on_intr(_uc: Any, intno: int, _ud: Any) -> None:
            intr(intno)

        def on_invalid(_uc: Any, _ud: Any) -> bool:
            invalid()
            return False

        def on_mem(_uc: Any, access: int, addr: int, _size: int, _v: int, _ud: Any) -> bool:
            kind, prot = _ACCESS.get(access, (0, False))
            return mem(kind, prot, addr)

        def on_in(_uc: Any, port: int, size: int, _ud: Any) -> int:
            return port_in(port, size)

        def on_out(_uc: Any, port: int, size: int, value: int, _ud: Any) -> None:
            port_out(port, size, value)

        self._sys_cb = _SYSCALL_CB(on_syscall)
        handle = ctypes.c_size_t()
        err = uclib.uc_hook_add(
            self._uch,
            ctypes.byref(handle),
            unicorn.UC_HOOK_INSN,
            self._sys_cb,
            None,
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
            ctypes.c_int(X.UC_X86_INS_SYSCALL),
        )
        if err:
            raise _UC.UcError(err)
        uc.hook_add(unicorn.UC_HOOK_INTR, on_intr)
        uc.hook_add(unicorn.UC_HOOK_INSN_INVALID, on_invalid)
        uc.hook_add(unicorn.UC_HOOK_MEM_INVALID, on_mem)
        uc.hook_add(unicorn.UC_HOOK_INSN, on_in, None, 1, 0, X.UC_X86_INS_IN)
        uc.hook_add(unicorn.UC_HOOK_INSN, on_out, None, 1, 0, X.UC_X86_INS_OUT)

    # -- execution ---------------------------------------------------------------------
    def run(self, rip: int, count: int) -> int:
        """Execute from `rip` until `count` instructions ran or a hook called `stop`;
        returns 0, or unicorn's error number when a fault ended the run (the hook that
        saw it has said what it was). An exception a hook raised is raised here."""
        uc = self._uc
        uc._hook_exception = None  # where the binding's hook wrapper leaves one
        err = int(_emu_start(self._uch, rip, _NEVER, 0, count))
        raised = uc._hook_exception
        if raised is not None:
            uc._hook_exception = None
            raise raised
        return err

    def stop(self) -> None:
        _emu_stop(self._uch)

    # -- registers ---------------------------------------------------------------------
    def get(self, reg: int) -> int:
        _reg_read(self._uch, reg, self._pone)
        return int(self._one.value)

    def set(self, reg: int, value: int) -> None:
        self._one.value = value & _NEVER
        _reg_write(self._uch, reg, self._pone)

    def args(self) -> tuple[int, int, int, int, int]:
        """rdi, rsi, rdx, rax, r8: a system call's word0 and ARG2..ARG5 (one C call)."""
        _read_batch(self._uch, self._regs, self._ptrs, len(_ARGS))
        w0, a2, a3, a4, a5 = self._args[:]
        return w0, a2, a3, a4, a5

    def set_status(self, w0: int, status: int) -> None:
        """The status into rdi's low byte (NOVA-NRE.md §1)."""
        self.set(_RDI, (w0 & ~0xFF) | status)

    def set_out(self, out2: int, out3: int) -> None:
        """A call's results in rsi (ARG2) and rdx (ARG3)."""
        self.set(_RSI, out2)
        self.set(_RDX, out3)

    # -- memory ------------------------------------------------------------------------
    def map_page(self, addr: int, page: bytearray, prot: int) -> None:
        """Map the 4 KiB `page` (its bytes, shared) at `addr` with `prot` (PROT_*)."""
        view = (ctypes.c_char * 4096).from_buffer(page)
        self._uc.mem_map_ptr(addr, 4096, prot, ctypes.addressof(view))
        self._keep[addr] = view

    def protect(self, addr: int, prot: int) -> None:
        self._uc.mem_protect(addr, 4096, prot)

    def unmap_page(self, addr: int) -> None:
        self._uc.mem_unmap(addr, 4096)
        self._keep.pop(addr, None)

    def read(self, addr: int, n: int) -> bytes:
        """Bytes as the core sees them (tests, the loader's checks)."""
        return bytes(self._uc.mem_read(addr, n))
