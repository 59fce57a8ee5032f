"""The demo until the runtime and the Python backend land: compile every sample IDL file
with the front end and print what it found, with each method's message sizes."""

from __future__ import annotations

import sys
from pathlib import Path

from idlc import ir
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for path in sorted(HERE.rglob("*.idl")):
        diags = Diagnostics()
        result = compile_file(str(path), Options(), diags)
        diags.print_all(sys.stderr)
        rel = path.relative_to(HERE.parent)
        if result.spec is None:
            print(f"{rel}: rejected")
            status = 1
            continue
        print(f"{rel}: {len(result.spec.declarations)} declarations")
        for decl in result.spec.declarations:
            print(f"  {decl.kind:10} {decl.name}")
            if isinstance(decl, ir.Interface):
                for m in decl.all_methods:
                    req, rep = result.spec.sizes["x86_64"][decl.name][m.name]
                    reply = "oneway" if rep is None else _words(rep)
                    print(
                        f"    {m.opcode:#010x} {m.name:12} request {_words(req):12} "
                        f"reply {reply}"
                    )
    return status


def _words(size: ir.MessageSize) -> str:
    hi = "inf" if size.max_words is None else str(size.max_words)
    return f"{size.min_words}..{hi} words"


if __name__ == "__main__":
    sys.exit(main())
