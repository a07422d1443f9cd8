"""Bad input through the CLI contract: a non-zero exit, no traceback, and one line on stderr
that names the file (``path:line:`` when there is a line) and says what was expected.

Every test writes its own small inputs into ``tmp_path``: a valid 8-NPU ring all-reduce (MICRO,
1 MiB) that each case breaks in exactly one place, so a failure points at that one check.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli.main import main

LAYER = "micro -1 1 NONE 0 1 NONE 0 1 ALLREDUCE 1048576 1"
MICRO = f"MICRO\n1\n{LAYER}\n"

SYSTEM = {
    "scheduling-policy": "LIFO",
    "endpoint-delay": "10",
    "active-chunks-per-dimension": "1",
    "preferred-dataset-splits": "4",
    "boost-mode": "0",
    "all-reduce-implementation": "ring",
    "all-gather-implementation": "ring",
    "reduce-scatter-implementation": "ring",
    "all-to-all-implementation": "direct",
    "collective-optimization": "localBWAware",
}


def network(topology: str = "Ring", npus: int = 8, links: int = 2, **extra: object) -> str:
    """A 1-D 1.0 network: 500 ns links of 50 GB/s; ``extra`` adds or overrides keys."""
    doc = {"dimensions-count": 1, "topologies-per-dim": [topology], "units-count": [npus],
           "links-count": [links], "link-latency": [500], "link-bandwidth": [50]}
    return json.dumps(doc | extra)


def system(**changes: str) -> str:
    """``SYSTEM`` as a 1.0 system file; keyword names use ``_`` for ``-``."""
    values = SYSTEM | {key.replace("_", "-"): value for key, value in changes.items()}
    return "".join(f"{key}: {value}\n" for key, value in values.items())


class Inputs:
    """The three upstream files of one run, written into a test's ``tmp_path``."""

    def __init__(self, root: Path, workload: str = MICRO, system_text: str | None = None,
                 network_text: str | None = None) -> None:
        self.root = root
        self.workload = self.write("workload.txt", workload)
        self.system = self.write("system.txt", system() if system_text is None else system_text)
        self.network = self.write("network.json",
                                  network() if network_text is None else network_text)

    def write(self, name: str, text: str) -> str:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def argv(self) -> list[str]:
        return ["run", "--workload", self.workload, "--system", self.system,
                "--network", self.network, "--out", str(self.root / "out"), "--quiet"]


def expect_error(capsys: pytest.CaptureFixture[str], argv: list[str], path: str,
                 line: int | None, *fragments: str) -> str:
    """Run the CLI and check the error contract; returns the message for further checks."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert lines[0].startswith(f"astra-cosim: error: {where}"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} missing from: {lines[0]}"
    return lines[0]


# -- workload file ----------------------------------------------------------------------------

@pytest.mark.parametrize("workload, line, fragments", [
    pytest.param("MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 ALLREDUCE 1048576\n", 3,
                 ("found 11 columns", "expected 12", "update_delay"), id="too-few-columns"),
    pytest.param("MICRO\n1\nmicro -1 ten NONE 0 1 NONE 0 1 ALLREDUCE 1048576 1\n", 3,
                 ("fwd_compute", "'ten'", "whole number"), id="non-numeric-compute"),
    pytest.param("MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 ALLREDUS 1048576 1\n", 3,
                 ("wg_comm_type", "'ALLREDUS'", "ALLREDUCE", "ALLTOALL", "NONE"),
                 id="unknown-comm-type"),
    pytest.param(f"MICRO\n3\n{LAYER}\n{LAYER}\n", 2,
                 ("layer count is 3", "2 layer line(s)"), id="fewer-layers-than-declared"),
    pytest.param(f"MICRO\n1\n{LAYER}\n{LAYER}\n", 2,
                 ("layer count is 1", "2 layer line(s)"), id="more-layers-than-declared"),
    pytest.param("MICRO\n1\nmicro -1 -5 NONE 0 1 NONE 0 1 ALLREDUCE 1048576 1\n", 3,
                 ("fwd_compute", "-5", ">= 0"), id="negative-compute"),
    pytest.param("MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 ALLREDUCE -8 1\n", 3,
                 ("wg_comm_bytes", "-8", ">= 0"), id="negative-size"),
    pytest.param("MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 ALLREDUCE 0 1\n", 3,
                 ("wg_comm_bytes", "ALLREDUCE of 0 bytes", "size > 0", "NONE 0"),
                 id="collective-of-zero-bytes"),
    pytest.param(f"DATAPARALLEL\n1\n{LAYER}\n", 1,
                 ("parallelism", "'DATAPARALLEL'", "DATA,", "HYBRID_TRANSFORMER", "MICRO"),
                 id="unknown-parallelism-token"),
    pytest.param(f"HYBRID_TRANSFORMER\n1\n{LAYER}\n", 1,
                 ("model_parallel_NPU_group:", "end of line"),
                 id="transformer-without-group"),
    pytest.param(f"HYBRID_DLRM\n2\n{LAYER}\n{LAYER}\n", 1,
                 ("found nothing", "last bottom-MLP layer"), id="dlrm-missing-last-bottom-layer"),
    pytest.param(f"HYBRID_DLRM x\n2\n{LAYER}\n{LAYER}\n", 1,
                 ("'x'", "last bottom-MLP layer", "whole number"),
                 id="dlrm-non-numeric-last-bottom-layer"),
    pytest.param(f"HYBRID_DLRM 1\n2\n{LAYER}\n{LAYER}\n", 1,
                 ("last bottom-MLP layer 1", "0..0"), id="dlrm-last-bottom-layer-is-last"),
])
def test_bad_workload(tmp_path: Path, capsys: pytest.CaptureFixture[str], workload: str,
                      line: int, fragments: tuple[str, ...]) -> None:
    inputs = Inputs(tmp_path, workload)
    expect_error(capsys, inputs.argv(), inputs.workload, line, *fragments)


TRANSFORMER_LAYER = "attn -1 10 ALLREDUCE 4096 10 ALLREDUCE 4096 10 ALLREDUCE 4096 1"


def test_transformer_group_larger_than_network(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    inputs = Inputs(tmp_path, f"HYBRID_TRANSFORMER model_parallel_NPU_group: 32\n1\n"
                              f"{TRANSFORMER_LAYER}\n", network_text=network(npus=16))
    expect_error(capsys, inputs.argv(), inputs.workload, 1, "model_parallel_NPU_group is 32",
                 "16 NPUs")


def test_transformer_group_that_does_not_divide_the_ring(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = Inputs(tmp_path, f"HYBRID_TRANSFORMER model_parallel_NPU_group: 3\n1\n"
                              f"{TRANSFORMER_LAYER}\n", network_text=network(npus=16))
    expect_error(capsys, inputs.argv(), inputs.workload, 1, "model_parallel_NPU_group 3",
                 "16 NPUs")


def test_collective_smaller_than_dataset_splits(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    inputs = Inputs(tmp_path, "MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 ALLREDUCE 3 1\n")
    expect_error(capsys, inputs.argv(), inputs.workload, 3, "3 bytes",
                 "preferred-dataset-splits")


# -- system file ------------------------------------------------------------------------------

@pytest.mark.parametrize("system_text, line, fragments", [
    pytest.param(system() + "scheduling-polcy: LIFO\n", len(SYSTEM) + 1,
                 ("unknown system key", "'scheduling-polcy'", "scheduling-policy",
                  "endpoint-delay", "seprate-log"), id="unknown-key"),
    pytest.param(system(scheduling_policy="RANDOM"), 1,
                 ("scheduling-policy", "'RANDOM'", "FIFO, LIFO"), id="bad-choice"),
    pytest.param(system(endpoint_delay="-1"), 2,
                 ("endpoint-delay", "-1", ">= 0"), id="negative-endpoint-delay"),
    pytest.param(system(preferred_dataset_splits="four"), 4,
                 ("preferred-dataset-splits", "'four'", "whole number"), id="non-numeric"),
    pytest.param(system(all_reduce_implementation="ring_tree"), 6,
                 ("all-reduce-implementation", "'tree'", "halvingDoubling"),
                 id="unknown-algorithm"),
    pytest.param(system(all_reduce_implementation="direct0"), 6,
                 ("all-reduce-implementation", "'direct0'", "window N >= 1"),
                 id="direct-window-zero"),
    pytest.param(system().replace("scheduling-policy:", "scheduling-policy"), 1,
                 ("'scheduling-policy LIFO'", "'key: value'"), id="missing-colon"),
])
def test_bad_system_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], system_text: str,
                         line: int, fragments: tuple[str, ...]) -> None:
    inputs = Inputs(tmp_path, system_text=system_text)
    expect_error(capsys, inputs.argv(), inputs.system, line, *fragments)


def _line_of(key: str) -> int:
    return list(SYSTEM).index(key) + 1


@pytest.mark.parametrize("workload, system_text, network_text, line, fragments", [
    pytest.param(MICRO, system(all_reduce_implementation="halvingDoubling"),
                 network("Switch", npus=6, links=1), _line_of("all-reduce-implementation"),
                 ("halvingDoubling", "power-of-two", "6"), id="halving-doubling-on-6-npus"),
    pytest.param(MICRO.replace("ALLREDUCE", "ALLTOALL"),
                 system(all_to_all_implementation="halvingDoubling"),
                 network("Switch", links=1), _line_of("all-to-all-implementation"),
                 ("all-to-all-implementation", "halvingDoubling", "cannot run"),
                 id="halving-doubling-all-to-all"),
    pytest.param(MICRO, system(all_reduce_implementation="ring_ring"), network(),
                 _line_of("all-reduce-implementation"),
                 ("all-reduce-implementation", "2 algorithms", "1 dimension"),
                 id="more-algorithms-than-dimensions"),
])
def test_system_that_does_not_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  workload: str, system_text: str, network_text: str,
                                  line: int, fragments: tuple[str, ...]) -> None:
    """Checks that need the workload and the network too; the key's line is named."""
    inputs = Inputs(tmp_path, workload, system_text, network_text)
    expect_error(capsys, inputs.argv(), inputs.system, line, *fragments)


def test_ignored_system_key_warns_and_runs(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    inputs = Inputs(tmp_path, system_text=system() + "seprate-log: 1\n")
    assert main(inputs.argv()) == 0
    err = capsys.readouterr().err
    warning_lines = [line for line in err.splitlines() if line.startswith("astra-cosim: warning:")]
    assert len(warning_lines) == 1, err
    assert inputs.system in warning_lines[0] and "seprate-log" in warning_lines[0]
    assert (tmp_path / "out" / "summary.json").is_file()


def test_endpoint_delay_zero_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Upstream 1.0 crashes on ``endpoint-delay: 0``; we run it. 8-NPU ring, links 2, 50 GB/s,
    500 ns, 4 chunks of 256 KiB: each of the 14 ring steps takes d(32 KiB) = 805 ns, plus the
    workload loop's 1 ns: 4 * (14 * 805) + 1."""
    inputs = Inputs(tmp_path, system_text=system(endpoint_delay="0"))
    assert main(inputs.argv()) == 0
    assert "Traceback" not in capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["total_ns"] == 4 * (14 * 805) + 1 == 45081


# -- network file -----------------------------------------------------------------------------

def test_network_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = Inputs(tmp_path, network_text='{\n  "dimensions-count": 1,\n  "units-count": [8,]\n}')
    expect_error(capsys, inputs.argv(), inputs.network, 3, "not valid JSON", "column 21")


@pytest.mark.parametrize("network_text, fragments", [
    pytest.param(network(**{"link-bandwith": [50]}),
                 ("unknown key", "'link-bandwith'", "link-bandwidth", "units-count"),
                 id="unknown-key"),
    pytest.param(network(**{"units-count": [8, 8]}),
                 ("units-count", "2 entries", "dimensions-count 1"), id="list-longer-than-dims"),
    pytest.param(network(**{"dimensions-count": 2}),
                 ("dimensions-count is 2", "topologies-per-dim has 1"),
                 id="dims-count-mismatch"),
    pytest.param(network(**{"link-latency": []}),
                 ("link-latency", "0 entries", "dimensions-count 1"), id="empty-list"),
    pytest.param(network("Torus"),
                 ("topologies-per-dim[0]", "'Torus'", "FullyConnected, Ring, Switch"),
                 id="unknown-topology"),
    pytest.param(network(**{"topology-name": "Torus3D"}),
                 ("topology-name", "'Torus3D'", "Hierarchical"), id="unknown-topology-name"),
    pytest.param(network("FullyConnected", links=3),
                 ("links-count[0]", "FullyConnected of 8 NPUs", "at least 7"),
                 id="fully-connected-too-few-links"),
    pytest.param(network(links=3),
                 ("links-count[0]", "Ring", "even"), id="ring-odd-links"),
    pytest.param(network(**{"link-bandwidth": [0]}),
                 ("link-bandwidth[0]", "> 0"), id="zero-bandwidth"),
    pytest.param(network(**{"units-count": ["8"]}),
                 ("units-count[0]", "'8'", "expected a number"), id="string-number"),
    pytest.param(network(**{"links-count": None}),
                 ("links-count", "expected a list of 1"), id="null-list"),
])
def test_bad_network(tmp_path: Path, capsys: pytest.CaptureFixture[str], network_text: str,
                     fragments: tuple[str, ...]) -> None:
    inputs = Inputs(tmp_path, network_text=network_text)
    expect_error(capsys, inputs.argv(), inputs.network, None, *fragments)


# -- missing files ----------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["workload", "system", "network"])
def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str) -> None:
    inputs = Inputs(tmp_path)
    Path(getattr(inputs, which)).unlink()
    expect_error(capsys, inputs.argv(), getattr(inputs, which), None,
                 f"cannot read {which} file", "No such file")


def test_missing_file_through_the_installed_command(tmp_path: Path) -> None:
    """The console script itself: exit status 2 and the same single line, no traceback."""
    inputs = Inputs(tmp_path)
    Path(inputs.workload).unlink()
    done = subprocess.run([sys.executable, "-m", "orchestrator", *inputs.argv()],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"astra-cosim: error: {inputs.workload}: cannot read workload "
                               "file (No such file or directory)")


# -- experiment YAML --------------------------------------------------------------------------

def _experiment(tmp_path: Path, text: str) -> list[str]:
    Inputs(tmp_path)
    path = tmp_path / "experiment.yaml"
    path.write_text(text, encoding="utf-8")
    return ["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]


GOOD_EXPERIMENT = "workload: workload.txt\nsystem: system.txt\nnetwork: network.json\n"


def test_experiment_valid_baseline(tmp_path: Path) -> None:
    """The experiment the error cases below break: valid as written."""
    assert main(_experiment(tmp_path, GOOD_EXPERIMENT)) == 0


@pytest.mark.parametrize("text, line, fragments", [
    pytest.param(GOOD_EXPERIMENT + "netwrok: x\n", None,
                 ("unknown key", "'netwrok'", "network", "options"), id="unknown-top-key"),
    pytest.param(GOOD_EXPERIMENT + "options: [1, 2\n", 5, ("not valid YAML",), id="bad-yaml"),
    pytest.param("system: system.txt\nnetwork: network.json\n", None,
                 ("missing key 'workload'", "expected workload, system and network"),
                 id="missing-workload"),
    pytest.param("- workload.txt\n", None, ("expected a mapping", "workload"), id="not-a-mapping"),
    pytest.param(GOOD_EXPERIMENT + "options: {num_passes: 0}\n", None,
                 ("num_passes", "0", ">= 1"), id="bad-option"),
])
def test_bad_experiment(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                        line: int | None, fragments: tuple[str, ...]) -> None:
    argv = _experiment(tmp_path, text)
    expect_error(capsys, argv, argv[1], line, *fragments)


def test_system_missing_required_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "".join(line + "\n" for line in system().splitlines()
                   if not line.startswith("collective-optimization"))
    inputs = Inputs(tmp_path, system_text=text)
    expect_error(capsys, inputs.argv(), inputs.system, None, "missing required key",
                 "collective-optimization")


def test_inline_system_error_names_the_experiment(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    inputs = Inputs(tmp_path)
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        "workload: workload.txt\nnetwork: {config: network.json}\n"
        "system: {scheduling-policy: LIFO, endpoint-delay: 10, preferred-dataset-splits: 4,\n"
        "         all-reduce-implementation: ring, all-gather-implementation: ring,\n"
        "         reduce-scatter-implementation: ring, all-to-all-implementation: direct,\n"
        "         collective-optimization: localBWAware, active-chunks: 1}\n")
    assert inputs.workload  # the files the experiment points at exist
    expect_error(capsys, ["run", str(experiment), "--out", str(tmp_path / "out")],
                 experiment, None, "unknown system key", "'active-chunks'")
