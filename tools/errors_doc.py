"""Generate docs/errors.md from the diagnostics table, the examples in tests/errors/ and the
explanations below (`make docs`). tests/test_errcodes.py checks the page is current."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_errcodes import COMMAND_LINE, GENERATE, LAYOUT, NOT_EMITTED  # noqa: E402

from idlc.cli import main  # noqa: E402
from idlc.errcodes import TABLE  # noqa: E402

EXPLAIN = {
    "E0001": 'An `#include` names a file that is found neither next to the including file (for the `"file"` form) nor in any `-I` directory, searched in order (IDL 4.2 §7.3 defers to the C++ preprocessor\'s rules). Check the spelling and pass the directory that holds the file with `-I`.',
    "E0002": "An `#error` directive was reached in a group that is being compiled; the message is the directive's text. Headers use it to stop early when a required macro is missing or has a value they cannot handle (IDL 4.2 §7.3).",
    "E0003": "A conditional group (`#if`, `#ifdef`, `#ifndef`) is still open at the end of the file that opened it. Every group must be closed by an `#endif` in the same file; an included file cannot close a group of its includer, nor the other way round.",
    "E0004": "An `#else`, `#elif` or `#endif` appears with no open conditional group in the same file, usually a stray line left over from an edit or a group that was closed twice.",
    "E0005": "A line starting with `#` names a directive that the preprocessor does not know. idlc knows `#include`, `#define`, `#undef`, the conditionals, `#line`, `#pragma`, `#error` and `#warning`; a `#` followed only by a comment or nothing is the null directive and is accepted.",
    "E0006": "The expression of an `#if` or `#elif` does not parse as a C preprocessor integer expression, or `#ifdef`/`#ifndef` is not followed by a macro name. The diagnostic points at the token where the expression went wrong (here the end of the line, where an operand is missing).",
    "E0007": "A function-like macro is invoked with the wrong number of arguments, its argument list is not closed, or an expansion grows beyond idlc's limit on expansion work (a guard against exponential macros). The diagnostic points at the invocation.",
    "E0008": "A `#define` is malformed: the macro name is missing or not an identifier, the name is `defined`, the parameter list is broken (a duplicate parameter, a missing `)`, or, as here, two parameters not separated by a comma), `##` stands at either end of the body, `#` is not followed by a parameter, or `#undef` has no name.",
    "E0009": "Includes are nested more than 200 levels deep. This nearly always means a file includes itself, directly or through others, without an include guard or `#pragma once`; the include chain printed before the diagnostic shows the cycle (it is shortened here). Include processing stops at the first report.",
    "E0010": 'An `#include` is not followed by `"file"` or `<file>`, also after macro expansion, or the name between the delimiters is empty.',
    "E0011": "A `/*` comment is not closed before the end of the file. The diagnostic points at the `/*` that opens it (IDL 4.2 §7.2.2: comments do not nest, and the first `*/` ends one).",
    "E0012": 'A `#line` directive (or its GNU form `# 33 "file"`) must have a decimal line number, at most 2147483647, optionally followed by a file name in double quotes.',
    "E0013": "A file could not be read: the file named on the command line does not exist, is a directory or is not readable, or an included file that was found could not be opened. The reason is the operating system's. When the main file cannot be read there is no source location, so the diagnostic starts with `idlc:`.",
    "E0014": "A `#pragma` that idlc interprets (`prefix`, `version`, `ID`, `keylist`, from CORBA and DDS) does not have the shape that pragma requires; the message says which shape is expected and the diagnostic points at the first argument. `#pragma version` takes a name and a `<major>.<minor>` version.",
    "E0015": "A conditional group has a second `#else`, or an `#elif` after its `#else`; such a group could never be selected.",
    "E0101": "The input contains a character that cannot start any IDL token (IDL 4.2 §7.2: identifiers, keywords, literals, operators and punctuation). Typical causes are a `$` or a backtick, or a non-ASCII character outside a comment or literal.",
    "E0102": "The parser found a token where the grammar does not allow it; the message lists the tokens that could have come instead. After a syntax error idlc repairs the input by the single-token change (an insertion, a deletion, a replacement or two neighbours swapped) that lets the parse go furthest, and goes on looking for syntax errors, so one mistake gives one error; a missing token is reported as E0110 and a misspelled keyword as E0111 instead.",
    "E0103": "The file ends in the middle of a declaration, usually because a closing `}` or `};` is missing. The diagnostic points just after the last character of the input.",
    "E0104": "A number literal is malformed: an octal literal with the digit 8 or 9, a hexadecimal prefix without digits, or a number run together with letters (IDL 4.2 §7.2.6.1). A leading `0` makes a literal octal, so `0789` is not a number.",
    "E0105": "A string or character literal is not closed on the line where it starts; IDL literals cannot span lines (IDL 4.2 §7.2.6). Adjacent string literals are concatenated, so a long string can be split into several.",
    "E0106": "A string or character literal contains a backslash sequence that IDL does not define (IDL 4.2 §7.2.6.2: `\\n \\t \\v \\b \\r \\f \\a \\\\ \\? \\' \\\"`, octal, `\\x` hexadecimal and `\\u` Unicode escapes). Write `\\\\` for a backslash.",
    "E0107": "Brackets, braces, parentheses or angle brackets are nested more than 256 levels deep. The limit keeps the parser and the analyser from exhausting the stack on generated or hostile input; no hand-written IDL comes near it.",
    "E0108": "A character literal holds one character (or one escape sequence); `', '` holds two. Use a string literal for more than one character (IDL 4.2 §7.2.6.2).",
    "E0109": "An integer literal's value has more than 4300 decimal digits (a hexadecimal or octal literal: a value that large). No IDL type holds more than 20 digits (a `double` holds 309), and 4300 digits is where Python, which idlc is written in, stops converting text to numbers because the work grows with the square of the length. The literal may come from a macro, as here; the diagnostic points at the place the macro is used.",
    "E0110": "A token is missing: the parse goes on once it is inserted, here a `;` after a member. The diagnostic points just after the token that the missing one should follow, so a missing `;` at the end of a line is reported on that line, not at the start of the next.",
    "E0111": "A word stands where a keyword fits and is one or two letters from that keyword, or differs from it only in case (IDL keywords are case-sensitive: `String` is a name, and a name cannot take template arguments). The message names the keyword; the parse goes on as if it had been written.",
    "E0201": "A name is declared twice in one scope: two definitions with the same name in a module, interface or the global scope, two members of a struct or exception, or two cases of a union with the same name (IDL 4.2 §7.5). Modules are the exception: a module may be reopened. A forward declaration followed by its definition is not a redefinition.",
    "E0202": "IDL identifiers are case-insensitive for collisions: two names in one scope may not differ only in case, although every use must spell a name exactly as declared (IDL 4.2 §7.2.3). `Point` and `point` cannot live side by side; neither can two members of a struct or exception, or two branches of a union, such as `x` and `X`.",
    "E0203": "A name that is used is not declared in the current scope, in any enclosing scope or, inside an interface or value type, in a base (IDL 4.2 §7.5). Declarations must come before their use; a missing `#include` is a common cause. Every unresolved use is reported.",
    "E0204": "A name resolves, but to a declaration of the wrong kind for where it is used: a constant where a type is needed (as here), a type where a constant expression is needed, or something other than a value type or interface after `:` or `supports` in a value type.",
    "E0205": "A forward declaration and the later definition of the same name disagree on what it is (IDL 4.2 §7.4.1.4.4.4, §7.4.3.4): here `Node` is forward-declared as an interface and then defined as a struct.",
    "E0206": "A name is found in more than one base of an interface and the two declarations differ, so an unqualified use cannot choose (IDL 4.2 §7.5.2). Qualify the name, as `Reader::Handle`.",
    "E0207": "A declaration may not take the name of the scope that encloses it, compared without case (IDL 4.2 §7.5.2): a module `Clock` cannot hold an interface `Clock`, an interface `Timer` no operation `timer`, a struct `Point` no member `point`, an operation `op` no parameter `OP`. This holds for every scope: modules, interfaces, structs, unions, exceptions, enums, bitsets, bitmasks, value types and operations. Rename one of them.",
    "E0208": "After a name has been used in a scope to refer to a declaration of an enclosing scope, the same scope may not later declare that name, because the meaning of the earlier use would change (IDL 4.2 §7.5.3). Here `Count` in the module first means `::Count`; a `Count` of the module itself would silently change that. A name used in a scope nested in a non-module scope (a struct in an interface, a struct in a struct, a parameter list) is introduced into every enclosing scope out to the outermost non-module one: after `interface A { struct S { ArgType x; }; };` has used `ArgType`, `A` may not declare an `ArgType` of its own. Rename the new declaration or qualify the use.",
    "E0209": "A struct or union is used where its size must be known, as a member, typedef or parameter, before it is complete. A forward-declared struct or union is complete once it is defined; until then it may be used only inside a sequence (or an `@external`/`@optional` member). A struct or union with a member whose type is a sequence of such a type (an incomplete sequence type) is itself incomplete until that element type is defined (IDL 4.2 §7.4.1.4.4.4). Define the type first, or hold it in a sequence.",
    "E0210": "An interface may not inherit two different operations or attributes of the same name from two of its bases (IDL 4.2 §7.4.3.4): a call to `read` on a `Probe` would be ambiguous, and each has its own opcode. The same operation reached twice through a diamond is fine. Rename one of them.",
    "E0211": "An interface may not redeclare an operation or attribute it inherits, nor declare one whose name differs from an inherited one only in case (IDL 4.2 §7.4.3.4); operations cannot be overridden or overloaded in IDL. Rename the new operation.",
    "E0212": "A struct or union is forward-declared and never defined (IDL 4.2 §7.4.1.4.4.4 asks for a diagnostic). Here `Bar` holds a sequence of `Foo`, which is fine while `Foo` is defined later, but it never is. Forward-declared interfaces are exempt: CORBA files declare interfaces they only pass references to.",
    "E0301": "A constant's value, a union case label or an annotation's argument is of a kind that the target type cannot hold: an integer for a boolean (IDL has `TRUE` and `FALSE`), a string for a number, an enumerator of another enum, a narrow string literal for a `wstring` or a wide literal for a `char` or `string`. IDL does not convert between these (IDL 4.2 §7.4.1.4.2, §7.4.1.4.4.4). A narrow character literal for a `wchar` is W0011.",
    "E0302": "A constant value does not fit its type after evaluation: an integer outside the range of the target integer type, a float that overflows, a string longer than its bound, or a shift count outside the precision. Every sub-expression of an integer constant (each literal, named constant and intermediate result) must fit the precision of the constant's type, signed or unsigned (IDL 4.2 §7.4.1.4.4.4): 32 bits for `long`, `unsigned long` and the smaller types, 64 bits for `long long` and `unsigned long long` (and for bounds and annotation arguments, which have no type of their own). So `const unsigned long X = 0xFFFFFFFF + 1 - 1;` is an error although the result fits. `octet` holds 0..255.",
    "E0303": "A constant expression divides by zero, with `/` or `%`. The diagnostic points at the division.",
    "E0304": "An operator is applied to operands it is not defined for: mixed integer and floating-point operands (IDL does not promote), bitwise operators on floating-point values, arithmetic on strings or booleans (IDL 4.2 §7.4.1.4.2). Write `4096.5` or use integers on both sides.",
    "E0305": "A string, sequence or map bound, an array size or the digits of a fixed type must be a positive integer constant no larger than 2^32-1. A bound of 0 is an error; leave the bound out for an unbounded sequence.",
    "E0306": "A struct or union contains itself directly or through other members, so it would be infinitely large; a struct that is its own base, or whose base is a struct still being defined around it, contains itself too. Recursion is allowed only through a sequence or an `@optional` member, which can be empty (IDL 4.2 §7.4.1.4.4.4), or an `@external` member; write `sequence<Node, 1> next;` for an optional next node. WIRE.md encodes an `@external` member inline, so a type that contains itself only through non-optional `@external` members has no finite value: the front end accepts it (the IDL is valid) and the Python backend reports E0901.",
    "E0307": "A constant may have an integer, floating-point, fixed-point, character, boolean, string or enum type, or a typedef of one (IDL 4.2 §7.4.1.4.2). Structs, unions, sequences, arrays, interfaces and capabilities have no constant values.",
    "E0308": "A type is used in a position where it is not allowed: for example `any`, `Object` or a value type in a declaration that must travel in a NOVA message, which has no encoding for it (WIRE.md §3).",
    "E0309": "A name used in a constant expression (a constant's value, a bound, a case label, an annotation argument) must denote a constant or an enumerator; here `Limits` is a struct. The note says what the name is.",
    "E0401": "Two enumerators of one enum have the same value (WIRE.md §3: duplicate values are a compile error, since a decoder could not tell them apart), or two flags of a bitmask share a bit position. Values are given with `@value(N)`, and the count goes on from the last one given.",
    "E0402": "A union's discriminator must be an integer type, `char`, `wchar`, `boolean`, `octet`, an enum or a bitmask, or a typedef of one (IDL 4.2 §7.4.1.4.4.4). Floating-point types, strings and structs cannot discriminate a union.",
    "E0403": "A case label value is used twice in one union, so the discriminator value would select two members. Each value may label at most one case.",
    "E0404": "A union case label must be a value of the discriminator's type: an enumerator of the enum for an enum discriminator (an integer is not one), an integer in range for an integer type, `TRUE` or `FALSE` for a boolean (IDL 4.2 §7.4.1.4.4.4).",
    "E0405": "A union has more than one `default` label; at most one case may take the values that no label names (IDL 4.2 §7.4.1.4.4.4).",
    "E0407": "A struct may only inherit from another struct that is defined (IDL 4.2 §7.4.13, the extended data types building block); here `Id` is a typedef of `long`. The same code is reported when a bitset's base is not a bitset.",
    "E0408": "A value of a bitmask, bitset or fixed type is outside its allowed range: a flag's bit position must be below the bitmask's `@bit_bound` (32 unless given), a bitfield is 1 to 64 bits wide and a bitset holds at most 64 bits, and a fixed type has at most 31 digits and a scale between 0 and its digits.",
    "E0409": "A declaration that must have members has none, such as an enum without enumerators or a union without cases.",
    "E0501": "An interface may only inherit from interfaces (IDL 4.2 §7.4.3.4); `Handle` is a struct.",
    "E0502": "A base interface must be defined, not only forward-declared, where the derived interface is declared, because the derived interface inherits its operations (IDL 4.2 §7.4.3.4).",
    "E0503": "An interface names the same base twice in its inheritance list (IDL 4.2 §7.4.3.4). Inheriting one base twice through different paths (a diamond) is allowed.",
    "E0504": "A `oneway` operation returns nothing to the caller, so its result type must be `void` (IDL 4.2 §7.4.3.4; WIRE.md §2: the server replies with zero words).",
    "E0505": "A `oneway` operation may have only `in` parameters; nothing comes back to fill an `out` or `inout` one (WIRE.md §2).",
    "E0506": "A `oneway` operation cannot have a `raises` clause: the client never sees a server error (WIRE.md §2). The diagnostic points at the first exception listed.",
    "E0507": "Every name in a `raises` (or `getraises`/`setraises`) list must be an exception (IDL 4.2 §7.4.3.4).",
    "E0508": "Two methods that one interface serves, its own or inherited, have the same opcode `iid << 16 | fid` (WIRE.md §2), so a server could not tell which one a request calls. Within one interface this comes from `@opcode` restarting the count on a number already used; across interfaces from two interface ids colliding, which a distinct `@id(N)` on one of them resolves.",
    "E0509": "Two exceptions in one `raises` list have the same exception id (WIRE.md §2: the CRC-32 of the scoped name, or `@id(N)`), so a client could not tell which one a reply carries. The diagnostic points at the operation, with notes at both exceptions.",
    "E0510": "A method's number within its interface, counted from 0 or from the last `@opcode(N)`, passes 0xFFFF, which does not fit the 16-bit `fid` of the opcode (WIRE.md §2).",
    "E0511": "`@opcode` may not be put on an attribute (WIRE.md §2): an attribute stands for a getter and, unless `readonly`, a setter, which take the next numbers in order.",
    "E0512": "A request, or a reply with its exceptions, would transfer capabilities of more than one window kind (object, memory or I/O ports) in the same way, delegated or translated (WIRE.md §4). The receiver arms one receive window per way before it knows what arrives, and one window takes one kind. Split the operation, or translate one of the kinds with `@translate`. The same holds for the requests of all the methods one server receives (an interface's own and its bases'): its skeleton arms its windows before it knows which method is called, so they may delegate one kind and translate one kind between them; the error then names the interface (\"the requests of 'I'\"). Move the methods that need another kind to an interface of their own.",
    "E0513": "A message carries capabilities inside an unbounded sequence or other unbounded container, so the number of typed items has no limit (WIRE.md §3-4). Bound the sequence, as `sequence<nova::Semaphore, 8>`. This rule is only needed for a wire layout (WIRE.md 1.1): it is this error where a layout is made (code generation, `-M`, `--emit ir`, `--sizes`, `idlc wire`) and the warning W0012 under `--check`.",
    "E0514": "`@optional` is not allowed on a member that is a capability (WIRE.md §3): every capability may already be null, so the presence word would say nothing new.",
    "E0515": "An exception is not a data type: it can only be raised, not used as a member, parameter, result or typedef target (IDL 4.2 §7.4.3.4). Declare a struct for the data and raise the exception separately.",
    "E0516": "Two parameters of one operation have the same name (IDL 4.2 §7.4.3.4).",
    "E0517": "A message may carry more capabilities than one UTCB frame holds typed items on the architecture with the fewest (126 on x86_64; WIRE.md §1). The count covers the request, or the largest of the reply and each exception.",
    "E0518": "An enumerator's value is outside 0..2^32-1, the range of the uint32 an enum travels as (WIRE.md §3): a negative or too large `@value(N)`, or, as here, a value counted on from the previous enumerator (`@value(4294967295) LAST, AFTER` makes `AFTER` 2^32). An enumerator counted on from a refused one is not reported again. DDS allows negative enumerator values, so this rule is only needed for a wire layout (WIRE.md 1.1): it is this error where a layout is made (code generation, `-M`, `--emit ir`, `--sizes`, `idlc wire`) and the warning W0013 under `--check`.",
    "E0601": "An annotation's argument is wrong: an unknown parameter name, a value of the wrong kind, a value out of range (`@opcode` and an interface's `@id` take 0..0xFFFF, WIRE.md §2; `@rights` and `@max_order` 0..31), a value its declared enum does not have (`@extensibility` takes FINAL, APPENDABLE or MUTABLE; `@autoid` SEQUENTIAL or HASH; `@try_construct` DISCARD, USE_DEFAULT or TRIM; IDL 4.2 §8.3) or a missing value for an annotation that needs one.",
    "E0602": "An annotation is placed where it means nothing: `@opcode` outside an operation or attribute, `@value` outside an enumerator, or the capability annotations `@translate`, `@rights` and `@max_order` on a parameter or member that holds no capability (WIRE.md §4; `@max_order` needs a memory capability). `setraises` on a readonly attribute is reported with the same code.",
    "E0603": "The same annotation is applied twice to one element, which would leave its meaning to the order of the two (here two different opcodes). Give it once. `@verbatim`, `@unit` and `@topic` may be repeated.",
    "E0604": 'A key pragma names a key member that does not exist or cannot be a key. `#pragma keylist Type member...` (Cyclone DDS, OpenSplice) and `#pragma DCPS_DATA_KEY "Type path"` (OpenDDS) name members by path: `a.b` goes into a nested struct, `arr[2]` picks an array element. Every step must name a member; for DCPS_DATA_KEY the path must also end at a scalar, enum or string, with arrays indexed down to one element, as OpenDDS requires.',
    "E0901": "The input uses a construct that the selected backend cannot generate code for: `any`, value types, `fixed`, `long double`, `native`, maps, bitsets, components, local interfaces, and types that contain themselves through non-optional `@external` members (no finite value exists, see E0306) for the Python backend. The Python backend also refuses IDL modules whose Python modules would each need the other while being imported (a base one way, a default value or a discriminator the other; docs/python-backend.md, Imports), naming the cycle at the first module's first declaration. It is reported where the construct is used, when code is generated; `--check` accepts the file, since the IDL itself is valid. Nothing is generated for a file with such an error.",
    "E0902": "A backend could not write a generated file, for example because the folder given with `-o` is a file or is not writable; the reason is the operating system's. It is also reported, and the file left as it is, when two IDL files of one run generate the same module (`idlc -o out a/x.idl b/x.idl`: both `out/x_idl.py`) or one's package would shadow the other's module (`module x_idl` in `y.idl` beside `x.idl`'s `x_idl.py`): compile them into different folders. The diagnostic has no source location.",
    "W0001": "A `#pragma` that idlc does not interpret is ignored (IDL 4.2 §7.3 leaves pragmas to the implementation). Many vendor pragmas are harmless, so this warning is off unless enabled with `-WW0001`; it helps to find misspelt ones.",
    "W0002": "A macro is defined again with a different body; the new definition replaces the old one. An identical redefinition is accepted silently. `#undef` the macro first to redefine it on purpose.",
    "W0003": "An annotation is neither one of IDL 4.2's and DDS-XTypes' built-in annotations, nor one of idlc's wire annotations, nor declared in the file with `@annotation`; it is ignored (IDL 4.2 §7.4.15 and chapter 8).",
    "W0004": 'idlc cannot prove that a message fits one UTCB frame on some architecture: 253 untyped words on x86_64 and 509 on x86_32 (WIRE.md §1, §3 "Size"). Unbounded strings and sequences are the usual cause; a call whose message does not fit fails at run time with `E_CAPACITY`. Bound the string or sequence to silence it. It is reported once per direction, naming the architectures it holds on.',
    "W0009": "A `#warning` directive was reached in a group being compiled; its text is shown and compilation goes on (errors under `-Werror`).",
    "W0005": "A `#warning` directive was reached in a group being compiled; its text is shown and compilation goes on.",
    "W0006": "A CORBA keyword is used as a name (IDL 4.2 §7.2.4 reserves them everywhere). idlc accepts it where the grammar allows, since real files do this, but warns; write the escaped form `_context`, which names `context` without colliding with the keyword (§7.2.3).",
    "W0007": "A name differs from a keyword only in case; IDL 4.2 §7.2.4 matches keywords without case, so `Context` collides with `context`. Write `_Context` or choose another name.",
    "W0010": "A member, union branch or parameter has the name, or the name in another case, of a type, constant or label that the same scope already used: `in Count count`, `r r;`, a branch `k` in a union switched on `K`. IDL 4.2 §7.5.3 makes this an error, and omniidl and JacORB refuse it; Cyclone DDS and TAO accept it and real DDS files do it, so idlc accepts it and generates working code; this warning, off unless enabled with `-WW0010`, finds the places to rename for IDL that other compilers must read too. An operation's result type belongs to the interface's scope, not to its parameter list.",
    "W0011": "A literal that IDL 4.2 forbids but real files use: a narrow character literal as a `wchar` value (§7.4.1.4.4.4 asks for `L'\\t'`; JacORB's own tests write `'\\xa'`), or a NUL character in a string literal (§7.2.6.3; OpenDDS's own tests write `\"\\0\"`). omniidl refuses both; idlc warns and accepts them, and `-Werror=W0011` (or `-Werror`) makes them errors. A narrow string literal for a `wstring` is E0301.",
    "W0012": "Under `--check`: a message carries an unbounded number of capabilities. The IDL is valid (CORBA files often return a `sequence<Object>`), but no wire layout can carry it (WIRE.md §3-4, 1.1): code generation, `-M`, `--emit ir`, `--sizes` and `idlc wire` refuse the file with E0513. Bound the sequence to generate NOVA stubs from it.",
    "W0013": "Under `--check`: an enumerator's value is outside 0..2^32-1, given by `@value(N)` or, as here, counted on from the previous one. The IDL is valid (DDS allows negative values), but an enum travels as a uint32 (WIRE.md §3, 1.1): code generation, `-M`, `--emit ir`, `--sizes` and `idlc wire` refuse the file with E0518.",
    "W0008": "A union has a `default` label although its other labels already cover every value of the discriminator type (both booleans here, or every enumerator of an enum), so the default member can never be selected. Remove it.",
}


RANGES = [
    ("E00", "Preprocessor"),
    ("E01", "Lexing and syntax"),
    ("E02", "Names and scopes"),
    ("E03", "Constants and types"),
    ("E04", "Data declarations"),
    ("E05", "Interfaces and the wire contract"),
    ("E06", "Annotations"),
    ("E09", "Backends"),
    ("W0", "Warnings"),
]

INTRO = """\
# idlc diagnostics

Every error and warning idlc reports has a stable code, listed here with the rule behind
it, a small example that triggers it, and what idlc prints for that example. The table of
codes is `idlc/errcodes.py`; each example is a file in `tests/errors/`, and
`tests/test_errcodes.py` checks that the table, the examples and this page agree.

## Reading a diagnostic

```
tests/errors/E0201.idl:5:8: error[E0201]: redefinition of 'Point'
 5 | struct Point {
   |        ^~~~~
tests/errors/E0201.idl:2:8: note: previous definition is here
 2 | struct Point {
   |        ^~~~~
1 error generated.
```

The first line gives the file, the 1-based line and column, the severity (`error` or
`warning`), the code in brackets and the message. The source line follows, with the
offending text underlined; `note:` lines point at related places (a previous definition,
the other member of a collision). A diagnostic inside an included file is preceded by the
include chain (`In file included from ...`). A diagnostic with no place in the source, such
as a main file that cannot be read, starts with `idlc:` instead of a location. After all
diagnostics of a file, a summary line such as `2 errors and 1 warning generated.` follows.
Diagnostics go to standard error.

Each phase (preprocessing, parsing, analysis, the wire checks) reports every problem it
finds before stopping; a file with preprocessor or syntax errors is not analysed further.
`--max-errors N` (default 50) stops after N errors.

## Exit status

| status | meaning |
|---|---|
| 0 | every file compiled; there may have been warnings |
| 1 | errors in the input (including warnings under `-Werror`) |
| 2 | bad usage: an unknown option, a bad `-D` or `-W` argument |
| 3 | an internal compiler error: a bug in idlc, reported in one line (set `IDLC_DEBUG=1` for a traceback) |

## Warnings

Warnings are switched as with GCC, by code or by name (`W0006` or
`keyword-as-identifier`); for one code the last option given wins.

- `-Werror` turns every reported warning into an error (and the exit status into 1);
  `-Wno-error` undoes it.
- `-Werror=CODE` turns one warning on, as an error; `-Wno-error=CODE` keeps one a warning
  under `-Werror`.
- `-WCODE` turns a warning on: the opt-in ones (W0001, W0010) are off by default.
- `-Wno-CODE` turns a warning off: `-Wno-W0006`, `-Wno-keyword-as-identifier`.
- `-w` suppresses all warnings (those made errors stay).

An error cannot be switched off (`-Wno-E0201` is a usage error, exit status 2).

## Where the wire rules apply

WIRE.md 1.1: `--check` answers "is this valid IDL for idlc". Two rules that only a wire
layout needs are warnings there and errors wherever a layout is made (code generation,
`-M`, `--emit ir`, whose IR holds the sizes, `--sizes`, `idlc wire`): an unbounded number
of capabilities in a message (W0012 under `--check`, E0513 otherwise) and an enumerator
value outside 0..2^32-1 (W0013, E0518). Every other error is an error in every mode.

## Codes

Codes are `E` (error) or `W` (warning) and four digits. Errors are grouped by their first
two digits: E00xx preprocessor, E01xx lexing and syntax, E02xx names and scopes, E03xx constants
and types, E04xx data declarations, E05xx interfaces and the wire contract
(WIRE.md), E06xx annotations, E09xx backends.
A code is never reused: when a check is removed or changes severity, its code is retired
and stays reserved. Retired so far: {retired}.

References to "IDL 4.2" are to the OMG IDL specification, version 4.2; "WIRE.md" is the
wire contract between generated stubs and the runtime.
"""


def render(code: str) -> tuple[str, str, int]:
    d = TABLE[code]
    if code in COMMAND_LINE:
        arg = "tests/errors/" + COMMAND_LINE[code]
    else:
        arg = f"tests/errors/{code}.idl"
    argv = ["--check"]
    if code in LAYOUT:
        argv = ["--sizes"]
    elif GENERATE.get(code) == "out":
        argv = ["-o", "build"]
    elif GENERATE.get(code) == "self":
        argv = ["-o", arg]
    if d.opt_in:
        argv.append(f"-W{code}")
    argv.append(arg)
    err = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp:
        run_argv = [tmp if a == "build" else a for a in argv]
        with contextlib.redirect_stderr(err):
            status = main(run_argv)
    out = err.getvalue().replace(os.getcwd() + "/", "")
    lines = out.rstrip("\n").split("\n")
    chain = [
        line
        for line in lines
        if line.startswith(("In file included from", "                 from"))
    ]
    if len(chain) > 4:
        i = lines.index(chain[0])
        lines[i + 2 : i + len(chain) - 1] = [f"                 ... ({len(chain) - 3} more levels)"]
    shown = "idlc " + " ".join(argv)
    return shown, "\n".join(lines), status


def generate() -> str:
    retired = ", ".join(sorted(c for c, d in TABLE.items() if d.retired)) or "none"
    parts = [INTRO.replace("{retired}", retired)]
    for prefix, title in RANGES:
        parts.append(f"\n# {title}\n")
        for code in sorted(TABLE):
            if not code.startswith(prefix) or TABLE[code].retired:
                continue
            d = TABLE[code]
            sev = d.severity.value
            if d.opt_in:
                sev += f", off unless enabled with `-W{code}`"
            sec = [
                f"## {code} {d.name}\n",
                f"Severity: {sev}.\n",
                textwrap.fill(EXPLAIN[code], 90, break_long_words=False, break_on_hyphens=False)
                + "\n",
            ]
            if code in NOT_EMITTED:
                sec.append(
                    "idlc does not report this code yet; the code is reserved for the check.\n"
                )
            else:
                shown, out, rc = render(code)
                if code in COMMAND_LINE:
                    sec.append("Example: compiling a file that does not exist.\n")
                else:
                    body = Path(f"tests/errors/{code}.idl").read_text()
                    sec.append(f"Example (`tests/errors/{code}.idl`):\n\n```idl\n{body}```\n")
                sec.append(f"`{shown}` prints (exit status {rc}):\n\n```\n{out}\n```\n")
            parts.append("\n".join(sec))
    return "\n".join(parts)


if __name__ == "__main__":
    Path("docs/errors.md").write_text(generate())
