"""Capability range descriptors and rights (NOVA-NRE.md §3, WIRE.md §4).

A Crd is the word `base<<12 | order<<7 | attr<<2 | type`. `attr` holds the five
permission bits of the kernel; NRE's constants below are already shifted left by 2, so
`Crd(base, order, attr=NRE_CONSTANT | TYPE)` works as in NRE's `Crd(off, order, attr)`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

__all__ = [
    "ALL",
    "DELEGATE",
    "FROM_HV",
    "NULL_CRD",
    "UPD_DPT",
    "UPD_GPT",
    "Crd",
    "CrdType",
    "EcRights",
    "MemRights",
    "PdRights",
    "PioRights",
    "ScRights",
    "SmRights",
    "crd",
    "crd_attr",
    "crd_base",
    "crd_order",
    "crd_type",
]


class CrdType(IntEnum):
    NULL = 0
    MEM = 1  # base = page number
    PIO = 2  # base = port
    OBJ = 3  # base = selector


# The five kernel permission bits, all set in a root capability.
ALL = 0x1F


# One permission enum per object type, as kernel bits (0..4). NRE's pre-shifted values are
# `bit << 2`; use `.crd` to get them.
class PdRights(IntEnum):
    CREATE_PD = 1 << 0
    CREATE_EC = 1 << 1
    CREATE_SC = 1 << 2
    CREATE_PT = 1 << 3
    CREATE_SM = 1 << 4

    @property
    def crd(self) -> int:
        return int(self) << 2


class EcRights(IntEnum):
    CTRL = 1 << 0  # ec_ctrl (NRE EC_CT = 1<<2)
    SC = 1 << 2  # create_sc on it (NRE EC_SC = 1<<4)
    PT = 1 << 3  # create_pt on it (NRE EC_PT = 1<<5)

    @property
    def crd(self) -> int:
        return int(self) << 2


class ScRights(IntEnum):
    CTRL = 1 << 0

    @property
    def crd(self) -> int:
        return int(self) << 2


class SmRights(IntEnum):
    UP = 1 << 0
    DOWN = 1 << 1

    @property
    def crd(self) -> int:
        return int(self) << 2


class MemRights(IntEnum):
    R = 1 << 0
    W = 1 << 1
    X = 1 << 2

    @property
    def crd(self) -> int:
        return int(self) << 2


class PioRights(IntEnum):
    A = 1 << 0

    @property
    def crd(self) -> int:
        return int(self) << 2


# Xfer flags (aux word of a typed item, bits 11..0).
DELEGATE = 0x1  # 0 = translate
UPD_DPT = 0x200
UPD_GPT = 0x400
FROM_HV = 0x800


def crd(typ: int, base: int, order: int = 0, rights: int = ALL) -> int:
    """Encode a Crd word; `rights` are kernel bits (0..0x1f), not NRE's shifted ones."""
    return (base << 12) | ((order & 0x1F) << 7) | ((rights & 0x1F) << 2) | (typ & 3)


def crd_type(value: int) -> int:
    return value & 3


def crd_attr(value: int) -> int:
    return (value >> 2) & 0x1F


def crd_order(value: int) -> int:
    return (value >> 7) & 0x1F


def crd_base(value: int) -> int:
    return value >> 12


class Crd(NamedTuple):
    """A decoded Crd. `Crd.decode(word)` and `.value` are inverse on valid words."""

    type: CrdType
    base: int
    order: int = 0
    rights: int = ALL

    @property
    def value(self) -> int:
        if self.type == CrdType.NULL:
            return 0
        return crd(self.type, self.base, self.order, self.rights)

    @classmethod
    def decode(cls, value: int) -> Crd:
        t = CrdType(value & 3)
        if t == CrdType.NULL:
            return NULL_CRD
        return cls(t, value >> 12, (value >> 7) & 0x1F, (value >> 2) & 0x1F)

    @classmethod
    def obj(cls, sel: int, order: int = 0, rights: int = ALL) -> Crd:
        return cls(CrdType.OBJ, sel, order, rights)

    @classmethod
    def mem(cls, page: int, order: int = 0, rights: int = ALL) -> Crd:
        return cls(CrdType.MEM, page, order, rights)

    @classmethod
    def pio(cls, port: int, order: int = 0, rights: int = ALL) -> Crd:
        return cls(CrdType.PIO, port, order, rights)

    def __repr__(self) -> str:
        if self.type == CrdType.NULL:
            return "Crd(NULL)"
        return f"Crd({self.type.name}, {self.base:#x}, order={self.order}, rights={self.rights:#x})"


NULL_CRD = Crd(CrdType.NULL, 0, 0, 0)
