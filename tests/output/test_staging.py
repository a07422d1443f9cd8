"""Result folders appear whole or not at all (orchestrator/output/staging.py).

Through the CLI: a 2.x run into the folder of a 1.0 run leaves no 1.0 file behind; a folder
holding other files is refused unless ``--overwrite``; a run that fails keeps the previous
result untouched; staging leftovers of killed runs are removed by the next run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.output.staging import MANIFEST
from tests.test_hardened_inputs import Case, data_workload

V1_ONLY = ("EndToEnd.csv", "layers.csv")


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def _leftovers(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder)
            if ".astra-cosim-tmp-" in name or ".astra-cosim-old-" in name]


def test_a_v2_run_into_a_v1_result_leaves_no_v1_file(tmp_path: Path, capsys) -> None:
    v1 = Case(tmp_path / "v1")
    (tmp_path / "v1").mkdir()
    argv = v1.v1()
    argv[argv.index("--out") + 1] = str(tmp_path / "out")
    assert _run(argv, capsys)[0] == 0
    assert all((tmp_path / "out" / name).is_file() for name in V1_ONLY)
    v2 = Case(tmp_path / "v2")
    (tmp_path / "v2").mkdir()
    argv = v2.v2()
    argv[argv.index("--out") + 1] = str(tmp_path / "out")
    code, err = _run(argv, capsys)
    assert code == 0, err
    left = sorted(os.listdir(tmp_path / "out"))
    assert not set(V1_ONLY) & set(left), left
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["format"] == "v2"
    assert set(json.loads((tmp_path / "out" / MANIFEST).read_text())) == set(left) - {MANIFEST}
    assert main(["report", str(tmp_path / "out")]) == 0
    report = capsys.readouterr().out
    assert "v2" in report or "2.x" in report
    assert not _leftovers(tmp_path)


def test_a_folder_with_other_files_is_refused_unless_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    argv = Case(tmp_path).v1()
    code, err = _run(argv, capsys)
    assert code == 2 and "--out" in err and "--overwrite" in err, err
    assert os.listdir(out) == ["notes.txt"]
    code, err = _run(argv + ["--overwrite"], capsys)
    assert code == 0, err
    assert not (out / "notes.txt").exists() and (out / "summary.json").is_file()
    assert not _leftovers(tmp_path)


def test_an_empty_folder_and_a_previous_result_are_used(tmp_path: Path, capsys) -> None:
    (tmp_path / "out").mkdir()
    argv = Case(tmp_path).v1()
    assert _run(argv, capsys)[0] == 0
    first = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert _run(argv, capsys)[0] == 0            # a previous result is replaced, no flag
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == first


def test_a_result_written_before_manifests_counts_as_a_result(tmp_path: Path, capsys) -> None:
    argv = Case(tmp_path).v1()
    assert _run(argv, capsys)[0] == 0
    (tmp_path / "out" / MANIFEST).unlink()
    assert _run(argv, capsys)[0] == 0


def test_a_failed_run_keeps_the_previous_result(tmp_path: Path, capsys) -> None:
    case = Case(tmp_path)
    assert _run(case.v1(), capsys)[0] == 0
    before = {name: (tmp_path / "out" / name).read_bytes()
              for name in os.listdir(tmp_path / "out")}
    # fails during the simulation, after the output folder was staged
    code, err = _run(case.v1(data_workload(fwd=10 ** 18, ig=10 ** 18, wg=10 ** 18, layers=2)),
                     capsys)
    assert code == 2 and "simulated time passed" in err, err
    after = {name: (tmp_path / "out" / name).read_bytes()
             for name in os.listdir(tmp_path / "out")}
    assert after == before
    assert not _leftovers(tmp_path)


def test_a_trace_inside_the_result_folder_moves_with_it(tmp_path: Path, capsys) -> None:
    argv = Case(tmp_path).v1() + ["--trace", str(tmp_path / "out" / "trace.json")]
    assert _run(argv, capsys)[0] == 0
    assert json.loads((tmp_path / "out" / "trace.json").read_text())["traceEvents"]
    assert _run(argv, capsys)[0] == 0            # the folder, trace included, is a result
    assert not _leftovers(tmp_path)


def test_a_trace_beside_is_written_whole(tmp_path: Path, capsys) -> None:
    argv = Case(tmp_path).v1() + ["--trace", str(tmp_path / "traces" / "t.json")]
    assert _run(argv, capsys)[0] == 0
    assert json.loads((tmp_path / "traces" / "t.json").read_text())["otherData"]["npus"] == 8
    assert not _leftovers(tmp_path / "traces")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staging_left_by_a_killed_run_is_removed_by_the_next(tmp_path: Path, capsys) -> None:
    dead = tmp_path / f".out.astra-cosim-tmp-{_dead_pid()}-abcd1234"
    dead.mkdir()
    (dead / "summary.json").write_text("{}")
    live = tmp_path / f".out.astra-cosim-tmp-{os.getppid()}-abcd1234"
    live.mkdir()
    assert _run(Case(tmp_path).v1(), capsys)[0] == 0
    assert not dead.exists(), "a dead run's staging folder was kept"
    assert live.exists(), "a live process's staging folder was removed"


@pytest.mark.parametrize("name", ["ex1", "results-2"])
def test_default_folder_is_results_name(tmp_path: Path, capsys, monkeypatch, name) -> None:
    case = Case(tmp_path)
    argv = case.experiment(f"name: {name}\nworkload: workload.txt\nsystem: system.txt\n"
                           "network: network.json\n")
    argv = argv[:argv.index("--out")] + ["--quiet"]
    monkeypatch.chdir(tmp_path)
    assert _run(argv, capsys)[0] == 0
    assert (tmp_path / "results" / name / "summary.json").is_file()
    assert not _leftovers(tmp_path / "results")


def test_a_folder_holding_the_inputs_is_refused_even_with_overwrite(tmp_path: Path, capsys,
                                                                   monkeypatch) -> None:
    argv = Case(tmp_path).v1()
    for out in (tmp_path, tmp_path.parent):
        argv[argv.index("--out") + 1] = str(out)
        code, err = _run(argv + ["--overwrite"], capsys)
        assert code == 2 and "contains" in err and "workload.txt" in err, err
    monkeypatch.chdir(tmp_path / "..")
    argv[argv.index("--out") + 1] = "."
    code, err = _run(argv + ["--overwrite"], capsys)
    assert code == 2 and "contains" in err, err
    assert (tmp_path / "workload.txt").is_file()


def test_a_link_to_a_folder_receives_the_result(tmp_path: Path, capsys) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    argv = Case(tmp_path).v1()
    argv[argv.index("--out") + 1] = str(tmp_path / "link")
    assert _run(argv, capsys)[0] == 0
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real" / "summary.json").is_file()


def test_a_folder_that_cannot_be_renamed_is_filled_in_place(tmp_path: Path, capsys,
                                                             monkeypatch) -> None:
    """A mount point (a container's results volume) cannot be renamed: the run stages inside
    it and still leaves only its own files."""
    from orchestrator.output import staging
    out = tmp_path / "out"
    monkeypatch.setattr(staging.os.path, "ismount", lambda path: str(path) == str(out))
    v1 = Case(tmp_path / "v1")
    (tmp_path / "v1").mkdir()
    argv = v1.v1()
    argv[argv.index("--out") + 1] = str(out)
    out.mkdir()
    inode = out.stat().st_ino
    assert _run(argv, capsys)[0] == 0
    (tmp_path / "v2").mkdir()
    argv = Case(tmp_path / "v2").v2()
    argv[argv.index("--out") + 1] = str(out)
    code, err = _run(argv, capsys)
    assert code == 0, err
    assert out.stat().st_ino == inode, "the folder itself was replaced"
    left = set(os.listdir(out))
    assert not set(V1_ONLY) & left and "summary.json" in left and not _leftovers(out)
    code, err = _run(argv[:argv.index("--workload") + 1] + ["/nonexistent"] +
                     argv[argv.index("--workload") + 2:], capsys)
    assert code == 2 and set(os.listdir(out)) == left
