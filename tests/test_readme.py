"""README.md promises two commands; CI must run the second one verbatim."""

from __future__ import annotations

import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _readme_commands() -> list[str]:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    return re.findall(r"```\n(.+?)\n```", text)[:2]


def test_readme_starts_with_run_and_test_commands() -> None:
    run, test = _readme_commands()
    assert "astra-cosim run experiments/tutorial/" in run
    assert "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = _readme_commands()
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        assert test in handle.read().splitlines()


def test_readme_tutorial_experiment_exists() -> None:
    run, _ = _readme_commands()
    path = re.search(r"(experiments/\S+\.yaml)", run).group(1)
    assert os.path.isfile(os.path.join(ROOT, path))
