"""A newcomer's first hour, replayed from a fresh clone (issue 15): the README's first command
literally, the nccl-tests mode on an 8-NPU ring, a sweep and its report, and the README's
container commands (`docker compose up --build`, v2 or v1) for the analytical and the ns-3
stacks. Slow: it installs the project into a new virtual environment and builds images."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.docker.stack import compose_command, docker_missing, image

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _readme_blocks() -> list[str]:
    """Fenced blocks, each from its opening fence (with or without a language) to its close."""
    return [block.strip("\n") for block in re.findall(
        r"^```[^\n]*\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"),
        re.S | re.M)]


def _sh(command: str, cwd: Path, timeout_s: float = 900, **env: str
        ) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout_s, env=os.environ | env)
    assert result.returncode == 0, (f"{command!r} failed ({result.returncode}):\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("a fresh clone needs git and this checkout's history")
    target = tmp_path_factory.mktemp("newcomer") / "astra-cosim"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True, timeout=300)
    return target


@pytest.fixture(scope="module")
def installed(clone) -> Path:
    """The README's first command, verbatim: venv, install, exercise 1."""
    first = _readme_blocks()[0]
    assert first.startswith("python3 -m venv .venv") and "astra-cosim run" in first
    done = _sh(first, clone)
    assert re.search(r"^ex1 +45\.681 +0\.000 +45\.681$", done.stdout, re.M), done.stdout
    return clone / ".venv" / "bin" / "astra-cosim"


def test_collective_mode_on_an_8_npu_ring(clone, installed):
    done = _sh(f"{installed} collective all-reduce -b 1K -e 1M -f 32 --platform ring8", clone)
    rows = [line.split() for line in done.stdout.splitlines()
            if line and not line.startswith("#")]
    assert [row[0] for row in rows] == ["1024", "32768", "1048576"]
    out = clone / "results" / "collective" / "all-reduce-ring8-analytical"
    with open(out / "collective.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    for row, line in zip(table, rows):
        assert float(row["busbw_GBps"]) == pytest.approx(
            int(row["size_bytes"]) / int(row["time_ns"]) * 2 * 7 / 8, abs=1e-6)
        assert line[7] == f"{float(row['busbw_GBps']):.2f}"


def test_a_sweep_and_its_report(clone, installed):
    _sh(f"{installed} sweep experiments/sweeps/ex2_1_allreduce_size.yaml --out results/ex2_1",
        clone)
    done = _sh(f"{installed} report results/ex2_1 --html", clone)
    assert "11 trials, 11 ok, 0 failed" in done.stdout
    assert re.search(r"│ 1 +│ +45\.681 │", done.stdout), done.stdout
    assert "<td>45.681</td>" in (clone / "results" / "ex2_1" / "report.html").read_text(
        encoding="utf-8")


def _compose(clone: Path, project: str) -> list[str]:
    command = compose_command()
    assert command is not None
    return [*command, "-p", project]


def _base_image() -> str:
    """The base the images here were built on (CI: a local one without a registry)."""
    label = subprocess.run(["docker", "image", "inspect", image("base"), "--format",
                            '{{index .Config.Labels "org.astra-cosim.base-image"}}'],
                           capture_output=True, text=True, timeout=30)
    return label.stdout.strip() or "python:3.11-slim"


def _container_commands() -> list[str]:
    """The README's two container commands: the plain `up --build` and the ns-3 stack's."""
    blocks = _readme_blocks()
    plain = [b for b in blocks if b.strip() == "docker compose up --build"]
    stack = [b.splitlines()[0] for b in blocks if "COMPOSE_PROFILES=ns3 docker compose up" in b]
    assert plain and stack, "README lost its container commands"
    return [plain[0].strip(), stack[0].strip()]


@pytest.mark.parametrize("index, name, total_ns", [(0, "containers-analytical", 45681),
                                                    (1, "containers-ns3", 46921)])
def test_readme_container_commands(clone, index, name, total_ns):
    """Each command as the README writes it, `docker compose` swapped for the compose this
    machine has (v1: docker-compose) and a project name of its own; BASE_IMAGE is the base
    the images here were built on (the README's local-base route when there is no registry)."""
    reason = docker_missing()
    if reason:
        pytest.skip(f"the container part of the newcomer path needs Docker: {reason}")
    project = f"astra-cosim-newcomer-{uuid.uuid4().hex[:8]}"
    compose = " ".join(_compose(clone, project))
    command = _container_commands()[index].replace("docker compose", compose)
    env = {"BASE_IMAGE": _base_image()}
    try:
        # the plain `up` must return by itself once the engine is done (the keys service
        # ends after it), long before the ns-3 image's first build could
        done = _sh(command, clone, timeout_s=1200 if index == 0 else 3600, **env)
    finally:
        subprocess.run(["bash", "-c", f"{compose} down -v --remove-orphans --timeout 5"],
                       cwd=clone, capture_output=True, timeout=300, env=os.environ | env)
    assert f"{name} " in done.stdout
    results = clone / "results" / name
    summary = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    assert summary["total_ns"] == total_ns
    for path in [results, *results.iterdir()]:
        assert path.stat().st_uid == os.getuid(), path        # yours, root or not
