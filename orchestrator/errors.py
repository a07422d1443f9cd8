"""Errors the CLI turns into a one-line message and a non-zero exit.

``InputError`` is for anything a user wrote (files, options): it names the file and line when
there is one, what was found and what was expected, so the message alone is enough to fix it.
``SimulationError`` is for runs that cannot finish correctly (a collective that never
completes, an invariant broken): upstream 1.0 sometimes ends such runs silently; we never do.
"""

from __future__ import annotations

from collections.abc import Iterable


class AstraCosimError(Exception):
    """Base class: every error the CLI reports without a traceback."""


class InputError(AstraCosimError):
    """Bad user input, located as ``path:line`` when a line is known."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        self.detail = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


def not_text(exc: UnicodeDecodeError) -> str:
    """The standard wording for a file that should be text but is not UTF-8."""
    return (f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "expected a text file")


def expected_one_of(found: object, valid: Iterable[str]) -> str:
    """The standard wording for an unknown token: what was found, what would have been valid."""
    return f"found {found!r}; expected one of {', '.join(sorted(valid))}"


class SimulationError(AstraCosimError):
    """The simulation cannot produce a justified result (e.g. streams that never finish)."""
