"""YAML and JSON readers that refuse a key given twice in one mapping.

Both PyYAML and ``json`` keep the last of two equal keys silently, so a file that sets
``bandwidth`` twice runs with whichever came last. Every configuration file is read through
these two functions instead; ``DuplicateKey`` carries the key and, for YAML, its line, and the
callers turn it into an ``InputError`` naming their file.
"""

from __future__ import annotations

import json
from typing import Any


class DocumentError(ValueError):
    """A document the readers refuse; ``line`` when one is known."""

    line: int | None = None


class DuplicateKey(DocumentError):
    def __init__(self, key: object, line: int | None, first_line: int | None = None) -> None:
        self.key = key
        self.line = line
        again = f" (first given on line {first_line})" if first_line is not None else ""
        super().__init__(f"key {key!r} is given twice{again}; expected each key once")


def _strict_loader() -> type:
    """SafeLoader whose mappings refuse a key they already hold (built on first use: YAML is
    imported only when a YAML file is read)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        construct_mapping = _construct_mapping

    return StrictLoader


def _construct_mapping(self: Any, node: Any, deep: bool = False) -> dict:
    import yaml
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = self.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        try:
            if key in seen:
                raise DuplicateKey(key, line, seen[key])
        except TypeError:          # an unhashable key: PyYAML itself reports it
            break
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(self, node, deep=deep)


_LOADER: list[type] = []

# Items (scalars, list and mapping entries) a YAML document may hold once its aliases are
# expanded. PyYAML shares an aliased node, so nine levels of nine aliases load at once, but
# anything that walks, prints or writes the document out meets 9^9 items and never finishes.
MAX_YAML_ITEMS = 1_000_000


class TooManyItems(DocumentError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} items once its aliases (*name) are expanded, or "
                         "an alias inside its own anchor; expected plain data")


def expanded_items(value: Any, limit: int) -> int:
    """How many items ``value`` holds with shared (aliased) parts counted each time they
    occur, counted up to just past ``limit`` - so in bounded time, even for a value that
    contains itself."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return count


def load_yaml(stream: Any) -> Any:
    """``yaml.safe_load`` that raises ``DuplicateKey`` for a key given twice and
    ``TooManyItems`` for an alias bomb."""
    import yaml
    if not _LOADER:
        _LOADER.append(_strict_loader())
    doc = yaml.load(stream, Loader=_LOADER[0])  # noqa: S506 - a SafeLoader subclass
    if expanded_items(doc, MAX_YAML_ITEMS) > MAX_YAML_ITEMS:
        raise TooManyItems(MAX_YAML_ITEMS)
    return doc


def _pairs_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key, None)
        result[key] = value
    return result


def load_json(text: str) -> Any:
    """``json.loads`` that raises ``DuplicateKey`` for a key given twice in one object."""
    return json.loads(text, object_pairs_hook=_pairs_once)
