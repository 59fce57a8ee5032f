"""`python -m idlc`: the same as the `idlc` command."""

from idlc.cli import run

run()
