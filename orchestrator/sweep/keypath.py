"""Key paths into an experiment document: ``network.link-bandwidth[1]``, ``options.comm_scale``.

A path is dot-separated mapping keys, each optionally followed by ``[i]`` list indices. Keys are
taken literally (upstream keys contain ``-`` but never ``.`` or ``[``), so the path names the
same key the upstream file spells. Editing is strict where a typo would otherwise silently make
every trial of a sweep the same: an index must exist, and a key may be added only to a mapping
(the caller decides whether to warn about it).
"""

from __future__ import annotations

import re
from typing import Any

Segment = str | int

_PART = re.compile(r"([^.\[\]]+)((?:\[-?\d+\])*)")
_INDEX = re.compile(r"\[(-?\d+)\]")


class KeyPathError(ValueError):
    """A key path that is malformed or does not fit the document; the message says why."""


def parse_key_path(text: str) -> tuple[Segment, ...]:
    """``"a.b[1][2].c"`` -> ``("a", "b", 1, 2, "c")``."""
    if not isinstance(text, str) or not text:
        raise KeyPathError(f"found {text!r}; expected a key path such as "
                           "network.link-bandwidth[1]")
    segments: list[Segment] = []
    for part in text.split("."):
        match = _PART.fullmatch(part)
        if match is None:
            raise KeyPathError(f"found {text!r}; expected keys separated by '.', each "
                               "optionally followed by [index], e.g. network.link-bandwidth[1]")
        segments.append(match.group(1))
        segments.extend(int(index) for index in _INDEX.findall(match.group(2)))
    return tuple(segments)


def format_key_path(segments: tuple[Segment, ...]) -> str:
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += ("." if text else "") + segment
    return text


def get_path(doc: Any, segments: tuple[Segment, ...]) -> Any:
    """The value at ``segments``; ``KeyPathError`` when it is not there."""
    node = doc
    for depth in range(len(segments)):
        node = _child(node, segments, depth, create=False)
    return node


def set_path(doc: Any, segments: tuple[Segment, ...], value: Any) -> bool:
    """Set the value at ``segments`` in place. Returns True when the last key was added (it was
    not in the mapping before), False when an existing value was replaced."""
    node = doc
    for depth in range(len(segments) - 1):
        node = _child(node, segments, depth, create=True)
    last = segments[-1]
    where = format_key_path(segments[:-1]) or "the document"
    if isinstance(last, int):
        if not isinstance(node, list):
            raise KeyPathError(f"{where} is {_kind(node)}, not a list; cannot index it with "
                               f"[{last}]")
        if not -len(node) <= last < len(node):
            raise KeyPathError(f"index {last} is out of range; {where} has {len(node)} item(s)")
        node[last] = value
        return False
    if not isinstance(node, dict):
        raise KeyPathError(f"{where} is {_kind(node)}, not a mapping; cannot set key {last!r}")
    added = last not in node
    node[last] = value
    return added


def _child(node: Any, segments: tuple[Segment, ...], depth: int, *, create: bool) -> Any:
    segment = segments[depth]
    where = format_key_path(segments[:depth]) or "the document"
    if isinstance(segment, int):
        if not isinstance(node, list):
            raise KeyPathError(f"{where} is {_kind(node)}, not a list; cannot index it with "
                               f"[{segment}]")
        if not -len(node) <= segment < len(node):
            raise KeyPathError(f"index {segment} is out of range; {where} has {len(node)} "
                               "item(s)")
        return node[segment]
    if not isinstance(node, dict):
        raise KeyPathError(f"{where} is {_kind(node)}, not a mapping; cannot look up key "
                           f"{segment!r}")
    if segment not in node:
        if not create:
            raise KeyPathError(f"{format_key_path(segments[:depth + 1])} is not in the document")
        node[segment] = {}      # e.g. options.comm_scale when the base has no options
    elif node[segment] is None and create:
        node[segment] = {}
    return node[segment]


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    return f"the value {node!r}"
