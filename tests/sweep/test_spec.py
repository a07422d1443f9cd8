"""Sweep files: grid / zip / random expansion (deterministic for a seed) and bad-input errors
that name the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.sweep.spec import expand_points, load_sweep
from tests.sweep.sweeps import EX1, write_sweep

AXES = ("axes:\n"
        "  options.comm_scale: [1, 2, 4]\n"
        "  system.all-reduce-implementation: [ring, direct]\n")


def _points(tmp_path: Path, body: str) -> list[dict]:
    return expand_points(load_sweep(write_sweep(tmp_path, body)))


def test_grid_is_the_cartesian_product_first_axis_slowest(tmp_path: Path) -> None:
    points = _points(tmp_path, AXES)
    assert [(p["options.comm_scale"], p["system.all-reduce-implementation"]) for p in points] \
        == [(1, "ring"), (1, "direct"), (2, "ring"), (2, "direct"), (4, "ring"), (4, "direct")]


def test_mode_grid_is_the_default(tmp_path: Path) -> None:
    assert _points(tmp_path, "mode: grid\n" + AXES) == _points(tmp_path, AXES)


def test_zip_advances_axes_together(tmp_path: Path) -> None:
    points = _points(tmp_path, "mode: zip\naxes:\n  options.comm_scale: [1, 2]\n"
                               "  network.link-bandwidth[0]: [50, 100]\n")
    assert points == [{"options.comm_scale": 1, "network.link-bandwidth[0]": 50},
                      {"options.comm_scale": 2, "network.link-bandwidth[0]": 100}]


def test_zip_needs_equal_lengths(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, "mode: zip\n" + AXES)
    with pytest.raises(InputError, match=r"s\.yaml: axes: mode zip needs axes of one length; "
                                         r"found options.comm_scale: 3, "
                                         r"system.all-reduce-implementation: 2"):
        load_sweep(path)


def test_random_is_deterministic_for_a_seed_and_draws_distinct_grid_points(
        tmp_path: Path) -> None:
    body = ("mode: random\nsamples: 5\nseed: 7\naxes:\n"
            "  options.comm_scale: [1, 2, 4, 8, 16, 32]\n"
            "  system.all-reduce-implementation: [ring, direct, halvingDoubling]\n")
    first = _points(tmp_path, body)
    assert first == _points(tmp_path, body)
    assert len(first) == 5
    assert len({tuple(p.values()) for p in first}) == 5
    for point in first:
        assert point["options.comm_scale"] in (1, 2, 4, 8, 16, 32)
        assert point["system.all-reduce-implementation"] in ("ring", "direct", "halvingDoubling")
    other_seed = _points(tmp_path, body.replace("seed: 7", "seed: 8"))
    assert other_seed != first


def test_random_with_every_grid_point_is_a_permutation_of_the_grid(tmp_path: Path) -> None:
    grid = _points(tmp_path, AXES)
    drawn = _points(tmp_path, "mode: random\nsamples: 6\n" + AXES)
    assert sorted(map(str, drawn)) == sorted(map(str, grid))


@pytest.mark.parametrize("body, message", [
    ("mode: random\n" + AXES, "samples: missing; mode: random needs samples"),
    ("mode: random\nsamples: 7\n" + AXES, "samples: found 7; expected at most 6"),
    ("mode: random\nsamples: 0\n" + AXES, "samples: found 0; expected a whole number >= 1"),
    ("samples: 2\n" + AXES, "samples: only used with mode: random"),
    ("mode: lattice\n" + AXES, "mode: found 'lattice'; expected one of grid, random, zip"),
    ("axis:\n  options.comm_scale: [1]\n", "unknown key: found 'axis'; expected one of"),
    ("axes: {}\n", "axes: found {}; expected a mapping of key paths"),
    ("axes:\n  options.comm_scale: 4\n", "axes: options.comm_scale: found 4; expected a "
                                        "non-empty list"),
    ("axes:\n  name: [a, b]\n", "axes: name: found 'name'; expected one of comm_group, "
                                "network, options, system, workload as the first key"),
    ("axes:\n  network.link-bandwidth[x]: [1]\n", "axes: found 'network.link-bandwidth\\[x\\]'"),
    # a NaN reached the trial's JSON config and failed there, without file or axis
    ("axes:\n  options.comm_scale: [1, .nan]\n",
     "axes: options.comm_scale: value 2 of 2 is nan; expected a finite number"),
    ("axes:\n  network.link-bandwidth: [[50, -.inf]]\n",
     r"axes: network.link-bandwidth: value 1 of 1\[1\] is -inf; expected a finite number"),
    # 10^12 points were expanded into a list before the first trial: it never started
    ("axes:\n" + "".join(f"  {key}: [{', '.join(str(v) for v in range(1, 101))}]\n" for key in (
        "options.comm_scale", "options.compute_scale", "options.injection_scale",
        "options.num_passes", "network.link-latency[0]", "network.link-bandwidth[0]")),
     "axes: the grid has 1000000000000 points; expected at most 1000000"),
    ("mode: random\nsamples: 10000000\naxes:\n  options.comm_scale: [1, 2]\n",
     "samples: found 10000000; expected at most 1000000"),
    # a value that holds itself: a RecursionError traceback (refused as the file is read)
    ("axes:\n  options.comm_scale: &a [*a]\n", "an alias inside its own anchor"),
    # two spellings of one key: the table showed one value, the trial ran the other
    ("axes:\n  network.link-bandwidth[0]: [10, 20]\n"
     "  network.config.link-bandwidth[0]: [30, 40]\n",
     r"axes: network.link-bandwidth\[0\] and network.config.link-bandwidth\[0\] both edit "
     r"network.config.link-bandwidth\[0\]; expected one axis per key"),
    # a key no input of the generation has: every trial failed (exit 1) or ran unchanged
    ("axes:\n  options.comm_scal: [1, 2]\n",
     "axes: options.comm_scal: not an option: found 'comm_scal'; expected one of comm_scale"),
    ("axes:\n  system.endpoint-dealy: [1, 2]\n",
     "axes: system.endpoint-dealy: not an ASTRA-sim 1.0 system key: found 'endpoint-dealy'"),
    ("axes:\n  network.link-bandwith[0]: [1, 2]\n",
     "axes: network.link-bandwith\\[0\\]: not an ASTRA-sim 1.0 network key: found "
     "'link-bandwith'"),
])
def test_bad_sweep_files_name_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        load_sweep(write_sweep(tmp_path, body))
    assert str(info.value).startswith(str(tmp_path / "s.yaml") + ": ")


def test_a_missing_base_is_named(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, AXES, base="nowhere.yaml")
    with pytest.raises(InputError, match=r"nowhere\.yaml: cannot read base experiment"):
        load_sweep(path)


def test_a_broken_base_fails_before_any_trial(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("workload: w.txt\nsystem: s.txt\n", encoding="utf-8")
    path = write_sweep(tmp_path, AXES, base="base.yaml")
    with pytest.raises(InputError, match=r"base\.yaml: missing key 'network'"):
        load_sweep(path)


def test_an_inline_base_takes_paths_relative_to_the_sweep_file(tmp_path: Path) -> None:
    inputs = "../../experiments/tutorial/inputs"
    sweep_dir = tmp_path / "a" / "b"
    sweep_dir.mkdir(parents=True)
    shutil.copytree(Path(__file__).parents[2] / "experiments" / "tutorial" / "inputs",
                    tmp_path / "experiments" / "tutorial" / "inputs")
    path = sweep_dir / "inline.yaml"
    path.write_text(f"base:\n  workload: {inputs}/allreduce_1MiB.txt\n"
                    f"  system: {inputs}/sys_ring.txt\n"
                    f"  network: {inputs}/ring8.json\n" + AXES, encoding="utf-8")
    spec = load_sweep(str(path))
    assert spec.name == "inline"
    assert spec.base["workload"] == str(tmp_path / "experiments" / "tutorial" / "inputs"
                                        / "allreduce_1MiB.txt")
    assert spec.base["network"] == {"backend": "analytical",
                                    "config": str(tmp_path / "experiments" / "tutorial"
                                                  / "inputs" / "ring8.json")}


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/elsewhere", "'..'", "a/b"])
def test_a_sweep_name_that_leaves_results_is_refused(tmp_path: Path, name: str) -> None:
    """The sweep's name is the folder results/<name>: '../../escaped' wrote results.csv and
    trials/ two folders up, '..' into the working directory (issue 14, as for experiments)."""
    path = tmp_path / "s.yaml"
    path.write_text(f"name: {name}\nbase: {EX1}\n{AXES}", encoding="utf-8")
    with pytest.raises(InputError, match="name: found .*; expected a plain name") as info:
        load_sweep(str(path))
    assert str(info.value).startswith(f"{path}: ")


def test_an_axis_over_the_network_section_edits_the_section(tmp_path: Path) -> None:
    """network.transport (like backend, placement) is the experiment's network section, not a
    key of the network model: it was written into the model, and every trial failed."""
    from orchestrator.sweep.runner import make_trials
    spec = load_sweep(write_sweep(tmp_path, "axes:\n  network.transport: [tcp, pipe]\n"))
    trials, _ = make_trials(spec)
    assert [trial.config["network"]["transport"] for trial in trials] == ["tcp", "pipe"]
    assert all("transport" not in trial.config["network"]["config"] for trial in trials)
