"""idlc: an OMG IDL 4.2 compiler that generates NOVA IPC stubs (see WIRE.md)."""

__version__ = "0.1.0"

# The macro every translation unit sees, so IDL can detect idlc (docs/preprocessor.md).
PREDEFINED_MACRO = "__IDLC__"
# Its value: major * 10000 + minor * 100 + patch.
PREDEFINED_VALUE = 100

# The in-process API (idlc.loader, idlc.importhook), imported on first use: the `idlc`
# command's start-up imports neither (docs/idl.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from idlc.importhook import install_import_hook
    from idlc.loader import CompileError, IdlWarning, load

__all__ = ["CompileError", "IdlWarning", "install_import_hook", "load"]

_LAZY = {
    "load": "idlc.loader",
    "CompileError": "idlc.loader",
    "IdlWarning": "idlc.loader",
    "install_import_hook": "idlc.importhook",
}


def __getattr__(name: str) -> object:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'idlc' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(where), name)
