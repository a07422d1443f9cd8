"""The cycle cache: answers survive the process, concurrent writers, and a kill mid-write."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

from adapters.base import ComputeRequest
from adapters.registry import build_compute
from adapters.scalesim.cache import CycleCache, cache_key

SHAPES = [ComputeRequest.gemm(12, 9, 20), ComputeRequest.gemm(3, 30, 7),
          ComputeRequest.gemm(12, 9, 20)]


def _model(cache: str, **extra):
    return build_compute("scalesim", {"ArrayHeight": 8, "ArrayWidth": 8, "cache": cache,
                                      **extra})


def test_a_second_model_on_the_same_file_simulates_nothing(scalesim_available, tmp_path) -> None:
    path = str(tmp_path / "cycles.sqlite")
    first = _model(path)
    cycles = first.durations_ns(SHAPES)
    assert first.stats() == {"requests": 2, "cache_hits": 0, "simulations": 2}
    second = _model(path)
    assert second.durations_ns(SHAPES) == cycles
    assert second.stats() == {"requests": 2, "cache_hits": 2, "simulations": 0}


def test_another_configuration_does_not_reuse_answers(scalesim_available, tmp_path) -> None:
    path = str(tmp_path / "cycles.sqlite")
    _model(path).durations_ns(SHAPES)
    other = _model(path, Dataflow="os")
    other.durations_ns(SHAPES)
    assert other.stats()["simulations"] == 2


_WRITER = """
import sys
from adapters.scalesim.cache import CycleCache
cache = CycleCache(sys.argv[1])
start = int(sys.argv[2])
for i in range(start, start + 1_000_000):
    cache.put(f"key{i}", i, "shape")
    if i == start + 200:
        print("ready", flush=True)
"""


def _writer(path: str, start: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", _WRITER, path, str(start)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_concurrent_writers_and_a_kill_mid_write_leave_a_sound_file(tmp_path) -> None:
    """Two processes insert at once; both are killed with SIGKILL while inserting. The file
    passes SQLite's integrity check, every row reads back as written, and it takes new rows."""
    path = str(tmp_path / "cycles.sqlite")
    writers = [_writer(path, 0), _writer(path, 10_000_000)]
    time.sleep(0.3)
    for process in writers:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT key, cycles FROM cycles").fetchall()
    assert len(rows) > 400
    assert all(key == f"key{cycles}" for key, cycles in rows)
    cache = CycleCache(path)
    cache.put("after", 7, "shape")
    assert cache.get("after") == 7 and len(cache) == len(rows) + 1


def test_the_key_covers_version_configuration_and_shape() -> None:
    base = cache_key("3.0.0", {"a": 1}, SHAPES[0])
    assert base == cache_key("3.0.0", {"a": 1}, ComputeRequest.gemm(12, 9, 20))
    assert len({base, cache_key("3.0.1", {"a": 1}, SHAPES[0]),
                cache_key("3.0.0", {"a": 2}, SHAPES[0]),
                cache_key("3.0.0", {"a": 1}, SHAPES[1])}) == 4
