"""Running sweeps: failed trials are recorded and do not stop the others; reruns resume;
executors agree; the table, Parquet file and plot are written."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from orchestrator.sweep.runner import run_sweep
from orchestrator.sweep.spec import load_sweep
from orchestrator.sweep.store import TrialStore
from tests.sweep.sweeps import SWEEPS, read_csv, write_sweep

EX2_1 = os.path.join(SWEEPS, "ex2_1_allreduce_size.yaml")
FAILING = ("axes:\n  system.all-reduce-implementation: [ring, bogus, direct]\n"
           "  options.comm_scale: [1, 2]\n")


def _sweep(path: str, out: Path, **kwargs):
    return run_sweep(load_sweep(path), str(out), progress=None, **kwargs)


def test_a_failing_trial_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, FAILING)
    report = _sweep(path, tmp_path / "out")
    assert (report.trials, report.ran, report.failed, report.missing) == (6, 6, 2, 0)
    rows = read_csv(tmp_path / "out" / "results.csv")
    assert [row["status"] for row in rows] == ["ok", "ok", "error", "error", "ok", "ok"]
    bad = rows[2]
    assert bad["total_ns"] == "" and bad["system.all-reduce-implementation"] == "bogus"
    assert bad["error"].startswith(f"{path}: all-reduce-implementation: found 'bogus'; "
                                   "expected one of")
    record = json.loads((tmp_path / "out" / "trials" / f"{bad['trial']}.json").read_text())
    assert record["status"] == "error" and record["summary"] is None
    assert record["config"]["system"]["all-reduce-implementation"] == "bogus"


def test_an_unexpected_exception_is_recorded_with_its_type(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import orchestrator.experiment.runner as experiment_runner
    real = experiment_runner.simulate

    def flaky(experiment, *instruments):
        if experiment.options.comm_scale == 2.0:
            raise ZeroDivisionError("boom")
        return real(experiment, *instruments)

    monkeypatch.setattr(experiment_runner, "simulate", flaky)
    report = _sweep(write_sweep(tmp_path, "axes:\n  options.comm_scale: [1, 2, 4]\n"),
                    tmp_path / "out", jobs=1)
    assert report.failed == 1
    rows = read_csv(tmp_path / "out" / "results.csv")
    assert rows[1]["error"] == "ZeroDivisionError: boom"
    record = TrialStore(str(tmp_path / "out")).load(rows[1]["trial"])
    assert "Traceback" in record["traceback"]


def test_resume_runs_only_the_trials_without_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _sweep(EX2_1, out, max_trials=4)          # an interrupted sweep
    assert (first.ran, first.missing) == (4, 7)
    assert len(read_csv(out / "results.csv")) == 4
    second = _sweep(EX2_1, out)
    assert (second.skipped, second.ran, second.missing) == (4, 7, 0)

    trials = sorted((out / "trials").iterdir())
    assert len(trials) == 11
    for path in trials[:3]:
        path.unlink()
    kept = {path.name: path.stat().st_mtime_ns for path in trials[3:]}
    third = _sweep(EX2_1, out)
    assert (third.skipped, third.ran) == (8, 3)
    assert {name: (out / "trials" / name).stat().st_mtime_ns for name in kept} == kept
    assert len(read_csv(out / "results.csv")) == 11

    assert _sweep(EX2_1, out, resume=False).ran == 11


def test_a_half_written_trial_file_is_run_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _sweep(EX2_1, out, max_trials=2)
    victim = sorted((out / "trials").iterdir())[0]
    victim.write_text('{"key": "trunc')
    assert _sweep(EX2_1, out).ran == 10


def test_failed_trials_are_kept_unless_retried(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, FAILING)
    _sweep(path, tmp_path / "out")
    assert _sweep(path, tmp_path / "out").ran == 0
    assert _sweep(path, tmp_path / "out", retry_failed=True).ran == 2


def test_local_pool_gives_the_same_table_as_one_process(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, FAILING)
    _sweep(path, tmp_path / "one", jobs=1)
    _sweep(path, tmp_path / "pool", jobs=2)
    assert (tmp_path / "one" / "results.csv").read_bytes() == \
        (tmp_path / "pool" / "results.csv").read_bytes()


def test_ray_gives_the_same_table_as_the_local_executor(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed (pip install 'astra-cosim[ray]'); "
                                      "the Ray executor is untested here")
    path = write_sweep(tmp_path, FAILING)
    _sweep(path, tmp_path / "local", jobs=2)
    report = _sweep(path, tmp_path / "ray", executor="ray", jobs=2)
    assert (report.ran, report.failed) == (6, 2)
    assert (tmp_path / "local" / "results.csv").read_bytes() == \
        (tmp_path / "ray" / "results.csv").read_bytes()


def test_parquet_holds_the_csv_table(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is not installed (the sweep extra)")
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the sweep extra)")
    report = _sweep(write_sweep(tmp_path, FAILING), tmp_path / "out")
    assert str(tmp_path / "out" / "results.parquet") in report.outputs
    frame = pandas.read_parquet(tmp_path / "out" / "results.parquet")
    rows = read_csv(tmp_path / "out" / "results.csv")
    assert list(frame.columns) == list(rows[0])
    assert [None if pandas.isna(v) else str(v) for v in frame["total_ns"]] == \
        [row["total_ns"] or None for row in rows]


def test_plot_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the sweep extra)")
    _sweep(write_sweep(tmp_path, FAILING), tmp_path / "out")
    assert (tmp_path / "out" / "total_ns.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_the_optional_libraries_the_csv_is_still_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pandas", "pyarrow", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)        # import now raises ImportError
    report = _sweep(write_sweep(tmp_path, "axes:\n  options.comm_scale: [1, 2]\n"),
                    tmp_path / "out")
    assert report.outputs == [str(tmp_path / "out" / "results.csv")]
    assert any("results.parquet skipped: pandas and pyarrow are not installed" in note
               for note in report.notes)
    assert any("total_ns.png skipped: matplotlib is not installed" in note
               for note in report.notes)
