"""Sweep files written by the tests: tiny sweeps over the tutorial's exercise-1 experiment
(a 1 MiB all-reduce on an 8-NPU ring, milliseconds per trial)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TUTORIAL = os.path.join(ROOT, "experiments", "tutorial")
EX1 = os.path.join(TUTORIAL, "ex1.yaml")
SWEEPS = os.path.join(ROOT, "experiments", "sweeps")


def write_sweep(directory: Path, body: str, *, base: str = EX1, name: str = "s") -> str:
    """Writes ``<directory>/<name>.yaml`` with ``base:`` and ``body`` (the axes, mode...)."""
    path = directory / f"{name}.yaml"
    path.write_text(f"name: {name}\nbase: {base}\n{body}", encoding="utf-8")
    return str(path)


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
