"""Plain record classes, declared like dataclasses but cheap to create at import time.

`dataclasses` costs about a millisecond per frozen class and pulls in `inspect`; idlc
declares some eighty node classes and must start as fast as a C compiler driver, so this
module gives each class a generated ``__init__`` and shared ``__repr__``, ``__eq__`` and
``__hash__``. ``dataclass_transform`` tells type checkers what it does.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType
    from typing import Any, TypeVar, dataclass_transform, overload

    T = TypeVar("T")
    C = TypeVar("C", bound=type)
else:
    # typing costs ~2 ms to import; at run time these are only markers.
    def dataclass_transform(**_kwargs: object) -> Callable[[object], object]:
        return lambda f: f

    T = C = Any = None

_MISSING: Any = object()


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], T]) -> T:
    """A field whose default is made fresh for each instance."""
    return _Factory(default_factory)  # type: ignore[return-value]


class FrozenInstanceError(AttributeError):
    pass


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field '{name}' of a frozen record")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field '{name}' of a frozen record")


def _values(self: Any) -> tuple[object, ...]:
    d = self.__dict__
    return tuple(d[n] for n in type(self).__record_fields__)


def _repr(self: Any) -> str:
    names = type(self).__record_fields__
    shown = ", ".join(f"{n}={v!r}" for n, v in zip(names, _values(self), strict=True))
    return f"{type(self).__name__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


if TYPE_CHECKING:

    @overload
    def record(cls: C, /) -> C: ...

    @overload
    def record(*, frozen: bool = True, eq: bool = True) -> Callable[[C], C]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(
    cls: C | None = None, /, *, frozen: bool = True, eq: bool = True
) -> C | Callable[[C], C]:
    """Make cls a record of its annotated fields (those of its bases first)."""

    def wrap(c: C) -> C:
        return _build(c, frozen, eq)

    return wrap if cls is None else wrap(cls)


def _fields(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, annotation in klass.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
            if str(annotation).startswith("ClassVar") or name in names:
                continue
            names.append(name)
    return names


def _build(cls: C, frozen: bool, eq: bool) -> C:
    names = _fields(cls)
    scope: dict[str, Any] = {"_MISSING": _MISSING}
    params: list[str] = []
    body: list[str] = []
    for name in names:
        default = _MISSING
        for klass in cls.__mro__:
            if name in klass.__dict__:
                default = klass.__dict__[name]
                break
        if isinstance(default, _Factory):
            scope[f"_f_{name}"] = default.make
            params.append(f"{name}=_MISSING")
            body.append(f"    _sd['{name}'] = _f_{name}() if {name} is _MISSING else {name}")
            continue
        if default is not _MISSING:
            scope[f"_d_{name}"] = default
            params.append(f"{name}=_d_{name}")
        else:
            params.append(name)
        body.append(f"    _sd['{name}'] = {name}")
    src = [f"def __init__(self, {', '.join(params)}):", "    _sd = self.__dict__", *body]
    if not body:
        src.append("    pass")
    # Only __init__ is generated (it is on the parser's hot path); the other methods are
    # shared, which keeps the compile work per class small. It is made when the class is
    # first instantiated: loading a code object costs microseconds, and a run of
    # `idlc --check` instantiates fewer than half of the classes.
    source = "\n".join(src)
    _sources.append(source)
    cls.__init__ = _first_init(cls, source, scope)  # type: ignore[misc]
    setattr(cls, "__repr__", _repr)  # noqa: B010 - keeps type checkers out of the class
    if eq:
        cls.__eq__ = _eq  # type: ignore[assignment, method-assign]
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment, method-assign]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment, method-assign]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment, method-assign]
    cls.__record_fields__ = tuple(names)  # type: ignore[attr-defined]
    return cls


def _first_init(cls: type, src: str, scope: dict[str, Any]) -> Callable[..., None]:
    """An __init__ that makes the real one, puts it in its place and runs it."""

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        exec(_compile(src), scope)
        init = scope["__init__"]
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    return __init__


# Compiled __init__ code, keyed by its source, kept between runs like a .pyc (a run that
# finds it saves ~5 ms of compiling). Written at exit when a class was new, unless
# bytecode writing is off; `python -m idlc.record` writes it for an installed copy.
_CACHE_PATH = os.path.join(
    os.path.dirname(__file__), "__pycache__", f"records.{sys.implementation.cache_tag}.bin"
)
# Each code is kept marshalled until a class needs it (unmarshalling all of them would
# cost what compiling half of them does).
_cache: dict[str, bytes] | None = None
_dirty = False
_sources: list[str] = []  # of every record class declared, for `python -m idlc.record`


def _compile(src: str) -> CodeType:
    global _cache, _dirty
    if _cache is None:
        _cache = _load_cache()
    data = _cache.get(src)
    if data is not None:
        try:
            code = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, type(_compile.__code__)):  # a types.CodeType
            return code
    code = compile(src, "<record>", "exec")
    _cache[src] = marshal.dumps(code)
    if not _dirty:
        import atexit

        atexit.register(save_cache)
    _dirty = True
    return code


def _load_cache() -> dict[str, bytes]:
    try:
        with open(_CACHE_PATH, "rb") as f:
            data = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def save_cache(force: bool = False) -> bool:
    """Write the compiled-code cache; False when the package folder is not writable."""
    if not force and (not _dirty or sys.dont_write_bytecode):
        return False
    if _cache is None:
        return False
    tmp = f"{_CACHE_PATH}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(_CACHE_PATH), exist_ok=True)
        with open(tmp, "wb") as f:
            marshal.dump(_cache, f)
        os.replace(tmp, _CACHE_PATH)
    except OSError:
        return False
    return True


def replace(obj: T, **changes: object) -> T:
    """A copy of a record with some fields changed."""
    fields = getattr(type(obj), "__record_fields__", ())
    for name in changes:
        if name not in fields:
            raise TypeError(f"{type(obj).__name__} has no field '{name}'")
    # copy.copy's work for a plain instance, without importing copy (and weakref)
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


def fields(obj: object) -> tuple[str, ...]:
    return tuple(getattr(type(obj), "__record_fields__", ()))


if __name__ == "__main__":
    # Warm the cache for an installed copy: import every module that declares records.
    # (This file runs as __main__; the cache that counts is the one of idlc.record.)
    import importlib

    for module in (
        "driver",
        "irjson",
        "layout",
        "options",
        "parser",
        "preprocess",
        "sema",
        "wirecheck",
    ):
        importlib.import_module(f"idlc.{module}")
    real = importlib.import_module("idlc.record")
    for source in real._sources:
        real._compile(source)
    sys.exit(0 if real.save_cache(force=True) else 1)
