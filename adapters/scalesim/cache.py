"""A persistent cycle cache on disk, so each (configuration, shape) is simulated once per
machine.

SQLite in WAL mode does the hard parts: every insert is one transaction, so a process killed
mid-write leaves the file as it was before that insert (the journal is rolled back on the next
open), and several processes may read and write at once (writers wait up to ``timeout_s`` for
the lock). Two processes that miss the same key both simulate it and store the same value;
``INSERT OR IGNORE`` keeps the first.

The key is the SHA-256 of the canonical JSON of the SCALE-Sim version, the configuration
fields that decide a cycle count and the request, so a different array, dataflow, mode or
SCALE-Sim release never reuses an answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import asdict
from typing import Any

from adapters.base import ComputeRequest
from orchestrator.errors import InputError


def cache_key(version: str, config_fields: dict[str, Any], request: ComputeRequest) -> str:
    document = {"scalesim": version, "config": config_fields, "request": asdict(request)}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


class CycleCache:
    """key -> cycles, shared by every process of the machine that uses the same file."""

    def __init__(self, path: str, timeout_s: float = 60.0) -> None:
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS cycles "
                             "(key TEXT PRIMARY KEY, cycles INTEGER NOT NULL, shape TEXT)")
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"scalesim: cannot open the cycle cache ({exc}); set cache: to a "
                             "writable path or cache: off", path) from None

    def get(self, key: str) -> int | None:
        row = self._db.execute("SELECT cycles FROM cycles WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def put(self, key: str, cycles: int, shape: str) -> None:
        """``shape`` is stored for people reading the file; lookups use the key alone."""
        self._db.execute("INSERT OR IGNORE INTO cycles (key, cycles, shape) VALUES (?, ?, ?)",
                         (key, cycles, shape))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0])

    def close(self) -> None:
        self._db.close()
