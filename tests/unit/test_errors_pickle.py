"""Every exception in the hierarchy crosses a process boundary intact (issue 11).

Page processes hand errors back through pickle: one class that failed to unpickle broke the
whole pool. The classes are discovered, not listed, so a new one is covered the day it lands.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
import string
from collections.abc import Callable, Iterator

import pytest

import papervault
from papervault.config.errors import PapervaultError
from papervault.config.messages import CATALOGUE
from papervault.index.registers.tables import RegisterRejected, RowError

# Classes whose __init__ takes its own arguments: how to make one.
FACTORIES: dict[type[PapervaultError], Callable[[], PapervaultError]] = {
    RegisterRejected: lambda: RegisterRejected(
        "clients.csv", [RowError(3, "client_id", "empty")] * 7),
}


def _all_modules() -> Iterator[str]:
    for info in pkgutil.walk_packages(papervault.__path__, "papervault."):
        if ".migrations." not in info.name:  # alembic scripts need an alembic context
            yield info.name


def _subclasses(cls: type[PapervaultError]) -> Iterator[type[PapervaultError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _hierarchy() -> list[type[PapervaultError]]:
    for name in _all_modules():
        importlib.import_module(name)
    found = {PapervaultError, *_subclasses(PapervaultError)}
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _fields(key: str) -> set[str]:
    return {f for lang in ("zh", "en") for _, f, _, _ in string.Formatter().parse(
        CATALOGUE[key][lang]) if f}


def _make(cls: type[PapervaultError]) -> PapervaultError:
    if cls in FACTORIES:
        return FACTORIES[cls]()
    assert inspect.unwrap(cls.__init__) is PapervaultError.__init__, (
        f"{cls.__qualname__} has its own __init__: add it to FACTORIES")
    return cls(**{f: f"<{f} 值>" for f in _fields(cls.key)})


HIERARCHY = _hierarchy()


def test_the_hierarchy_was_discovered() -> None:
    names = {c.__name__ for c in HIERARCHY}
    # A few from each layer: discovery that found nothing would pass every case below.
    assert {"PapervaultError", "StorageUnavailable", "DatabaseUnavailable", "OcrFailed",
            "RegisterRejected", "AuditBroken", "CsrfFailed"} <= names
    assert len(HIERARCHY) >= 20


@pytest.mark.parametrize("cls", HIERARCHY, ids=lambda c: c.__qualname__)
def test_round_trip_through_pickle(cls: type[PapervaultError]) -> None:
    error = _make(cls)
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls
    assert (back.key, back.params, back.exit_code, back.http_status) == (
        error.key, error.params, error.exit_code, error.http_status)
    assert back.message("zh") == error.message("zh")
    assert back.message("en") == error.message("en")
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__
