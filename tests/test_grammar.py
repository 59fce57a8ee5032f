"""The precomputed LALR table must match the grammar it was built from."""

from __future__ import annotations

from idlc.grammar import _tables, build


def test_tables_are_built_from_the_current_grammar() -> None:
    assert (
        build.grammar_digest() == _tables.GRAMMAR_SHA256
    ), "idlc/grammar/idl.lark changed: run `make grammar` (python -m idlc.grammar.build)"


def test_rebuilding_gives_the_committed_table() -> None:
    assert build.build() == build.TABLES.read_text()


def test_every_callback_in_the_table_has_a_builder_or_is_structural() -> None:
    from idlc.diagnostics import Diagnostics
    from idlc.parser import Builder, IdentityMap, Parser

    builder = Builder(Parser("", IdentityMap("x.idl"), Diagnostics()))
    names = {name for name, _origin, _size, _keep, flags in _tables.RULES if not flags & 1}
    # Rules without a builder pass their children on as a list; these are the only ones
    # allowed to, because their parents unpack them.
    structural = {
        "annotation_member_type",
        "const_type",
        "switch_type_spec",
        "actual_parameter",
        "formal_parameter_type",
        "value_element",
        "start",
        "definition",
        "export",
    }
    missing = {n for n in names if n not in builder.callbacks and not n.startswith("__")}
    expand1 = {r[0] for r in _tables.RULES if r[4] & 2}
    assert missing - structural - expand1 == set()
