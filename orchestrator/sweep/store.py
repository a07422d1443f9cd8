"""Trial results on disk: ``OUT/trials/<key>.json``, one file per trial.

One small file per trial (rather than one growing results file) makes resuming trivial and
safe: a trial is done exactly when its file exists, files are written whole (to a temporary
name, then renamed), so an interrupted sweep never leaves a half-written result that a rerun
would mistake for a finished one, and no two writers ever touch the same file.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

TRIALS_DIR = "trials"


class TrialStore:
    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.trials_dir = os.path.join(out_dir, TRIALS_DIR)

    def path(self, key: str) -> str:
        return os.path.join(self.trials_dir, f"{key}.json")

    def load(self, key: str) -> dict[str, Any] | None:
        """The trial's record, or None when it has none (or an unreadable one: rerun it)."""
        try:
            with open(self.path(key), encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def save(self, record: dict[str, Any]) -> str:
        os.makedirs(self.trials_dir, exist_ok=True)
        path = self.path(record["key"])
        handle, temporary = tempfile.mkstemp(dir=self.trials_dir, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out, indent=2, sort_keys=False)
                out.write("\n")
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        return path
