"""YAML and JSON readers that refuse a key given twice in one mapping.

Both PyYAML and ``json`` keep the last of two equal keys silently, so a file that sets
``bandwidth`` twice runs with whichever came last. Every configuration file is read through
these two functions instead; ``DuplicateKey`` carries the key and, for YAML, its line, and the
callers turn it into an ``InputError`` naming their file.
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateKey(ValueError):
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


def load_yaml(stream: Any) -> Any:
    """``yaml.safe_load`` that raises ``DuplicateKey`` for a key given twice."""
    import yaml
    if not _LOADER:
        _LOADER.append(_strict_loader())
    return yaml.load(stream, Loader=_LOADER[0])  # noqa: S506 - a SafeLoader subclass


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
