"""C programs as guests: ELF loading, all 14 system calls, a guest server in C
(issue 16, step 3). The tests compile them with gcc (tests/guest/build.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import Machine
from runtime.api import Context, Syscalls
from runtime.kernel.crd import CrdType, crd
from runtime.kernel.utcb import UtcbFrame
from runtime.loader import LoadError, read_elf
from runtime.machine import Process, pd_of

from .build import cc

# Every system call from C; the statuses (and a few results) go to mr[] of the UTCB.
ALL_CALLS = r"""
#include "nova.h"

static char stack2[4096] __attribute__((aligned(16)));
#define LOCAL_UTCB 0x30000000ul

void handler(word pid)
{
    struct utcb *l = (struct utcb *)LOCAL_UTCB;
    l->mr[0] = l->mr[0] * 2 + pid;
    l->items = 1;
    nova_reply();
}

int main(struct utcb *u, word sc)
{
    word r[32], out = 0, n = 0;
    r[n++] = create_sm(0x400, SELF_PD, 1);                      /*  0 create_sm */
    r[n++] = sm_down(0x400);                                     /*  1 count 1 -> 0 */
    r[n++] = sm_up(0x400);                                       /*  2 */
    r[n++] = sm_zero(0x400);                                     /*  3 count 1 -> 0 */
    r[n++] = create_ec(0x401, SELF_PD, LOCAL_UTCB, 0, (word)(stack2 + 4096), 0, 0);
    r[n++] = create_pt(0x402, SELF_PD, 0x401, 0, handler);       /*  5 */
    u->mr[0] = 20;
    u->items = 1;
    r[n++] = nova_call(0x402, 0);                                /*  6 call + reply */
    r[n++] = u->mr[0];                                           /*  7 20*2 + 0x402 */
    r[n++] = create_sc(0x403, SELF_PD, 0x401, 1000, 1);          /*  8 no CREATE_SC */
    r[n++] = create_pd(0x404, SELF_PD, 0);                       /*  9 */
    r[n++] = lookup(crd(CRD_OBJ, 0x400, 0, CRD_ALL), &out);      /* 10 */
    r[n++] = out;                                                /* 11 */
    r[n++] = revoke(crd(CRD_OBJ, 0x400, 0, CRD_ALL), 1);         /* 12 */
    lookup(crd(CRD_OBJ, 0x400, 0, CRD_ALL), &out);
    r[n++] = out;                                                /* 13 gone */
    r[n++] = sm_up(0x400);                                       /* 14 BAD_CAP now */
    r[n++] = ec_ctrl(0x401);                                     /* 15 */
    r[n++] = sc_ctrl(sc, &out);                                  /* 16 */
    r[n++] = out;                                                /* 17 consumed us */
    r[n++] = assign_pci(SELF_PD, 0, 0);                          /* 18 BAD_DEV */
    r[n++] = assign_gsi(0x401, 0, 0, &out, &out);                /* 19 no SM: BAD_CAP */
    r[n++] = assign_gsi(0x401, 0, 99, &out, &out);               /* 20 BAD_CPU */
    r[n++] = nova_syscall(14, 0, 0, 0, 0, 0, 0);                 /* 21 BAD_HYP */
    r[n++] = create_ec(0x405, SELF_PD, 0, 0, 0, 0, 0);           /* 22 utcb 0: BAD_FTR */
    r[n++] = create_sm(0x402, SELF_PD, 0);                       /* 23 taken: BAD_CAP */
    r[n++] = nova_call(0x999, 0);                                /* 24 BAD_CAP */
    for (word i = 0; i < n; i++)
        u->mr[i] = r[i];
    u->items = n;
    return 7;
}
"""

EXPECTED = [
    0, 0, 0, 0, 0, 0, 0, 20 * 2 + 0x402, 4, 0, 0, crd(CrdType.OBJ, 0x400, 0, 0x1F), 0, 0, 4,
    0, 0, None, 8, 4, 7, 3, 6, 4, 4,
]  # fmt: skip


def main_ec_utcb(p: Process) -> list[int]:
    u = pd_of(p).ecs[0].utcb
    return [u.word_at(5 + i) for i in range(u.items & 0xFFFF)]


def test_every_system_call_from_c() -> None:
    m = Machine(mem_pages=64)
    g = m.spawn_elf("c", cc(ALL_CALLS))
    r = m.run()
    assert ("c", "exit 7") in r.deaths, r
    got = main_ec_utcb(g)
    assert len(got) == len(EXPECTED)
    for i, (a, b) in enumerate(zip(got, EXPECTED, strict=True)):
        assert b is None or a == b, (i, a, b)
    assert got[17] > 0  # the SC has run for some virtual time


# A guest server: it makes a local EC and a portal, hands the portal to a Python service
# (a delegation from C), and answers what Python clients send: sum and count of words.
SERVER = r"""
#include "nova.h"

static char stack2[4096] __attribute__((aligned(16)));
#define LOCAL_UTCB 0x30000000ul

void serve(word pid)
{
    struct utcb *l = (struct utcb *)LOCAL_UTCB;
    word n = l->items & 0xffff, sum = 0;
    for (word i = 0; i < n; i++)
        sum += l->mr[i];
    l->mr[0] = 0;      /* E_SUCCESS */
    l->mr[1] = sum;
    l->mr[2] = n;
    l->items = 3;
    nova_reply();
}

int main(struct utcb *u, word sc)
{
    if (create_ec(0x401, SELF_PD, LOCAL_UTCB, 0, (word)(stack2 + 4096), 0, 0))
        return 1;
    if (create_pt(0x402, SELF_PD, 0x401, 0, serve))
        return 2;
    u->mr[0] = 1;  /* "here is my portal" */
    utcb_item(u, 0, crd(CRD_OBJ, 0x402, 0, CRD_ALL), DELEGATE(0));
    u->items = 1 | 1 << 16;
    if (nova_call(0x300, 0))
        return 3;
    return u->mr[0] == 0 ? 0 : 4;
}
"""


def test_python_client_calls_c_server() -> None:
    m = Machine(mem_pages=64)
    py = m.spawn("py")
    got_portal: list[int] = []
    with py.acting():
        ready = py.env.alloc()
        Syscalls(m.gate).create_sm(ready)

    def hello(f: UtcbFrame) -> None:  # receives the guest's portal
        assert f.get_word() == 1
        c, _aux = f.get_item()
        got_portal.append(c >> 12)
        f.clear()
        f.put_word(0)
        Syscalls(py.env.gate).sm_up(ready)

    pt = py.portal(hello, cpu=0, accept=0)
    g = m.spawn_elf("server", cc(SERVER))
    py.grant(pt.sel, g, 0x300)
    replies: list[list[int]] = []

    def client(ctx: Context) -> None:
        ctx.sm(sel=ready).down()
        for words in ([1, 2, 3], [10] * 50, [7]):
            data = b"".join(w.to_bytes(8, "little") for w in words)
            reply, _ = ctx.gate.call_words(got_portal[0], data)
            replies.append([int.from_bytes(reply[i : i + 8], "little") for i in range(0, 24, 8)])

    py.thread(client)
    r = m.run()
    assert ("server", "exit 0") in r.deaths, r
    assert replies == [[0, 6, 3], [0, 500, 50], [0, 7, 1]]


def test_elf_errors_are_load_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError):
        read_elf(b"\x7fELF" + bytes(60))
    with pytest.raises(LoadError):
        read_elf(b"not an elf at all")
    obj = tmp_path / "x.so"
    obj.write_bytes(Path("/bin/true").read_bytes())  # a PIE (ET_DYN): refused
    with pytest.raises(LoadError):
        read_elf(obj.read_bytes())


def test_elf_segments_keep_their_rights() -> None:
    m = Machine(mem_pages=64)
    g = m.spawn_elf("c", cc(SERVER))
    segs, entry = read_elf(cc(SERVER).read_bytes())
    nodes = pd_of(g).mem.nodes
    for s in segs:
        assert nodes[s.vaddr >> 12].rights & s.rights == s.rights
    text = next(s for s in segs if s.vaddr <= entry < s.vaddr + s.memsz)
    assert text.rights == nodes[entry >> 12].rights == 5  # R|X: code is not writable
    assert any(s.rights == 3 for s in segs)  # the data: R|W, not executable
    # the loaded program runs: with no portal 0x300 to announce itself to, main returns 3
    # (root's own thread returns: "exit")
    res = m.run()
    assert sorted(d[-1] for d in res.deaths) == ["exit", "exit 3"]
