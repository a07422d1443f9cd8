"""Named extension points: training loops, collective algorithms, adapters.

A ``Registry`` maps a name (upstream's spelling, e.g. ``DATA`` or ``halvingDoubling``) to a
class and a one-line summary. Entries come in three ways: built-ins, found by importing every
module of their package on first lookup; third-party packages, through an entry-point group
(``astra_cosim.<kind>``); and a user's own module registering itself when imported. A
duplicate name is an error, an unknown name an ``InputError`` listing the valid ones.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from orchestrator.errors import InputError, expected_one_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    name: str
    target: T
    summary: str


class Registry(Generic[T]):
    """Name -> class, filled lazily from a built-in package and an entry-point group."""

    def __init__(self, kind: str, builtin_package: str) -> None:
        self.kind = kind
        self._builtin_package = builtin_package
        self._entries: dict[str, Entry[T]] = {}
        self._loaded = False
        self._plugins_loaded = False

    def register(self, name: str, *, summary: str) -> Callable[[T], T]:
        """Class decorator: ``@training_loops.register("DATA", summary="...")``."""

        def decorate(target: T) -> T:
            existing = self._entries.get(name)
            if existing is not None and existing.target is not target:
                raise ValueError(f"{self.kind} {name!r} is registered twice "
                                 f"({existing.target!r} and {target!r})")
            self._entries[name] = Entry(name, target, summary)
            return target

        return decorate

    def _load(self, plugins: bool = True) -> None:
        """Import the built-ins once; scan installed packages' entry points (tens of ms)
        only when ``plugins`` — a lookup asks for them only when the name is not built in."""
        if not self._loaded:
            self._loaded = True
            package = importlib.import_module(self._builtin_package)
            for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
                importlib.import_module(f"{self._builtin_package}.{module.name}")
        if plugins and not self._plugins_loaded:
            self._plugins_loaded = True
            from importlib.metadata import entry_points
            for point in entry_points(group=f"astra_cosim.{self.kind}"):
                if point.name not in self._entries:
                    point.load()

    def get(self, name: str, *, where: tuple[str, int | None] | None = None) -> T:
        self._load(plugins=False)
        if name not in self._entries:
            self._load()
        entry = self._entries.get(name)
        if entry is None:
            path, line = where if where else (None, None)
            raise InputError(f"unknown {self.kind.replace('_', ' ')}: "
                             + expected_one_of(name, self._entries), path, line)
        return entry.target

    def __contains__(self, name: object) -> bool:
        self._load(plugins=False)
        if name not in self._entries:
            self._load()
        return name in self._entries

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        self._load()
        return [self._entries[name] for name in sorted(self._entries)]
