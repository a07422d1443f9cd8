"""``astra-cosim collective``: nccl-tests' sizes, layout and bus-bandwidth factors, with times
checked against ``astra-cosim run`` of the same collective."""

from __future__ import annotations

import csv
import os

import pytest

from adapters.ns3.loader import ns3_available
from orchestrator.cli.main import main
from orchestrator.errors import InputError
from orchestrator.nccl.sizes import parse_size, size_series

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INPUTS = os.path.join(ROOT, "experiments", "tutorial", "inputs")


def _csv(folder) -> list[dict[str, str]]:
    with open(os.path.join(folder, "collective.csv"), newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sizes_read_like_nccl_tests():
    assert parse_size("8", "-b") == 8
    assert parse_size("8G", "-e") == 8 << 30
    assert parse_size("64k", "-b") == 64 << 10
    assert parse_size("1MB", "-b") == 1 << 20
    assert size_series(8, 64, factor=2) == [8, 16, 32, 64]
    assert size_series(8, 100, factor=4) == [8, 32]
    assert size_series(100, 400, step=100) == [100, 200, 300, 400]
    with pytest.raises(InputError, match="-b: found '8X'"):
        parse_size("8X", "-b")
    with pytest.raises(InputError, match="expected a size >= -b"):
        size_series(64, 8, factor=2)


def test_exercise_1_all_reduce_has_the_tutorial_time(tmp_path, capsys):
    """1 MiB all-reduce on the tutorial's 8-NPU ring: the collective takes 45,680 ns of
    exercise 1's 45,681 (collectives.csv of `run ex1` says the same)."""
    out = tmp_path / "coll"
    assert main(["collective", "all-reduce", "-b", "1M", "-e", "1M",
                 "--system", os.path.join(INPUTS, "sys_ring.txt"),
                 "--network", os.path.join(INPUTS, "ring8.json"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    header = [line for line in text.splitlines() if line.startswith("#") and "busbw" in line]
    assert header and header[0].split()[1:9] == ["size", "count", "type", "redop", "root",
                                                 "time", "algbw", "busbw"]
    rows = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    assert rows == [["1048576", "262144", "float", "sum", "-1", "45.68", "22.95", "40.17",
                     "N/A"]]
    (row,) = _csv(out)
    assert int(row["time_ns"]) == 45680
    assert float(row["busbw_GBps"]) == pytest.approx(1048576 / 45680 * 2 * 7 / 8, rel=1e-6)
    with open(out / "busbw.png", "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name, kind, factor", [
    ("all-reduce", "ALLREDUCE", 2 * 7 / 8), ("all-gather", "ALLGATHER", 7 / 8),
    ("reduce-scatter", "REDUCESCATTER", 7 / 8), ("all-to-all", "ALLTOALL", 7 / 8)])
def test_every_collective_matches_run_and_uses_nccl_factors(tmp_path, name, kind, factor):
    """Each row equals `astra-cosim run` of that collective alone (an all-gather given its
    per-NPU size, size / 8), and busbw / algbw is nccl-tests' factor."""
    out = tmp_path / "coll"
    assert main(["collective", name, "-b", "64K", "-e", "4M", "-f", "8", "--platform",
                 "ring8", "--out", str(out), "--quiet"]) == 0
    rows = _csv(out)
    assert [int(row["size_bytes"]) for row in rows] == [65536, 524288, 4194304]
    for row in rows:
        assert float(row["busbw_GBps"]) == pytest.approx(
            float(row["algbw_GBps"]) * factor, rel=1e-6)
        assert float(row["algbw_GBps"]) == pytest.approx(
            int(row["size_bytes"]) / int(row["time_ns"]), rel=1e-6)
    # the largest row against a plain run of the same trace
    size = 4194304 // 8 if kind == "ALLGATHER" else 4194304
    from tests.workload import traces
    from orchestrator.nccl.presets import platform
    preset = platform("ring8")
    prefix = traces.write_micro(tmp_path, 8, getattr(traces.CT, {
        "ALLREDUCE": "ALL_REDUCE", "ALLGATHER": "ALL_GATHER", "REDUCESCATTER": "REDUCE_SCATTER",
        "ALLTOALL": "ALL_TO_ALL"}[kind]), size)
    sys_path, net_path = traces.write_configs(tmp_path, preset.system, preset.network)
    run_out = tmp_path / "run"
    assert main(traces.cli_argv(prefix, sys_path, net_path, run_out)) == 0
    with open(run_out / "collectives.csv", newline="", encoding="utf-8") as handle:
        (recorded,) = list(csv.DictReader(handle))
    assert recorded["kind"] == kind and int(recorded["size_bytes"]) == size
    assert int(rows[-1]["time_ns"]) == int(recorded["duration_ns"])


def test_aware_backend_and_sizes_below_one_element_per_npu(tmp_path, capsys):
    out = tmp_path / "coll"
    assert main(["collective", "all-gather", "-b", "8", "-e", "64", "--platform", "switch8",
                 "--network-backend", "analytical-aware", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "# skipped 2 size(s) below one float per NPU: 8, 16" in text
    assert [int(row["size_bytes"]) for row in _csv(out)] == [32, 64]


@pytest.mark.parametrize("argv, message", [
    (["collective", "broadcast"], "collective: found 'broadcast'; expected one of"),
    (["collective", "all-reduce", "--platform", "nope"], "--platform: found 'nope'; expected "
                                                          "one of fc8, ring16"),
    (["collective", "all-reduce", "-b", "1G", "-e", "1M"], "-e: found 1048576; expected a "
                                                           "size >= -b"),
    (["collective", "all-reduce", "--system", os.path.join(INPUTS, "sys_ring.txt"),
      "--network", os.path.join(INPUTS, "ring8.json"), "--network-backend",
      "analytical-aware"], "analytical-aware needs 2.x inputs"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    assert main(argv + ["--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.skipif(not ns3_available(), reason="ns-3's Python bindings are not installed "
                    "(pip install astra-cosim[ns3]; CI installs them in .ci/steps/20-ns3.sh)")
def test_ns3_backend_is_close_to_analytical(tmp_path):
    """On an uncontended 8-NPU ring ns-3's all-reduce of 4 MiB is within 15% of the
    analytical time (README, "How close to the analytical networks")."""
    times = {}
    for backend in ("analytical", "ns3"):
        out = tmp_path / backend
        assert main(["collective", "all-reduce", "-b", "4M", "-e", "4M", "--platform", "ring8",
                     "--network-backend", backend, "--out", str(out), "--quiet"]) == 0
        times[backend] = int(_csv(out)[0]["time_ns"])
    assert times["ns3"] == pytest.approx(times["analytical"], rel=0.15)
