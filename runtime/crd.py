"""Capability range descriptors (NOVA-NRE.md §3), as user code and generated stubs use them.

The user layer's view of the kernel's runtime.kernel.crd (what NRE's headers give user
code); generated stubs import it from here.
"""

from .kernel.crd import (
    ALL,
    DELEGATE,
    FROM_HV,
    NULL_CRD,
    UPD_DPT,
    UPD_GPT,
    Crd,
    CrdType,
    EcRights,
    MemRights,
    PdRights,
    PioRights,
    ScRights,
    SmRights,
    crd,
    crd_attr,
    crd_base,
    crd_order,
    crd_type,
)

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
