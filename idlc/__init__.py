"""idlc: an OMG IDL 4.2 compiler that generates NOVA IPC stubs (see WIRE.md)."""

__version__ = "0.1.0"

# The macro every translation unit sees, so IDL can detect idlc (docs/preprocessor.md).
PREDEFINED_MACRO = "__IDLC__"
# Its value: major * 10000 + minor * 100 + patch.
PREDEFINED_VALUE = 100
