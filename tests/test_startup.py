"""What a run imports: start-up is most of a small run's CPU time (issue 13, item 3).

A child interpreter runs ``astra-cosim run`` and lists the modules it ended up with. The
assertions name modules a run of that kind must not load, so a top-level import added in the
wrong place fails here rather than showing up later as a slower benchmark row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LIST_MODULES = """
import json, sys
from orchestrator.cli.main import main
code = main(sys.argv[1:])
sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""

# loaded only by other subcommands, other placements or other backends
NEVER_IN_AN_IN_PROCESS_RUN = ("zmq", "rich", "numpy", "matplotlib", "orchestrator.sweep",
                              "orchestrator.cosim.server", "orchestrator.cosim.client",
                              "adapters.ns3", "adapters.garnet", "adapters.scalesim")


def _modules_of_run(args: list[str], cwd: Path) -> set[str]:
    done = subprocess.run([sys.executable, "-c", LIST_MODULES, "run", *args, "--quiet"],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return set(json.loads(line.split(" ", 1)[1]))


def _loaded(modules: set[str], prefix: str) -> list[str]:
    return sorted(name for name in modules if name == prefix or name.startswith(prefix + "."))


def test_a_1_0_run_loads_no_protobuf_yaml_or_adapter_machinery(tmp_path):
    modules = _modules_of_run(["experiments/tutorial/ex1.yaml", "--out", str(tmp_path / "r")],
                              ROOT)
    assert "orchestrator.experiment.run_v1" in modules        # the probe saw a real run
    for name in NEVER_IN_AN_IN_PROCESS_RUN + ("google.protobuf", "orchestrator.workload.chakra",
                                              "orchestrator.experiment.run_v2",
                                              "adapters.analytical.config_v2",
                                              # ascending: no inter-dimension policy's code
                                              "orchestrator.system.scheduling.dimension_order",
                                              "orchestrator.system.scheduling.ordered"):
        assert not _loaded(modules, name), f"a 1.0 run imported {_loaded(modules, name)}"


def test_a_2_x_run_loads_no_1_0_network_or_adapter_machinery(tmp_path):
    prefix = tmp_path / "ar" / "ar"
    subprocess.run([sys.executable, "-m", "orchestrator", "trace", "collective", "--npus", "8",
                    "--collective", "all_reduce", "--size", "64KiB", "--out", str(prefix)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    (tmp_path / "sys.json").write_text(json.dumps({
        "scheduling-policy": "LIFO", "endpoint-delay": 10, "active-chunks-per-dimension": 1,
        "preferred-dataset-splits": 4, "all-reduce-implementation": ["ring"],
        "all-gather-implementation": ["ring"], "reduce-scatter-implementation": ["ring"],
        "all-to-all-implementation": ["ring"], "collective-optimization": "localBWAware",
        "local-mem-bw": 1600}))
    (tmp_path / "ring.yml").write_text("topology: [ Ring ]\nnpus_count: [ 8 ]\n"
                                       "bandwidth: [ 50.0 ]\nlatency: [ 500.0 ]\n")
    modules = _modules_of_run(["--workload", str(prefix), "--system", "sys.json",
                               "--network", "ring.yml", "--out", "r"], tmp_path)
    assert "orchestrator.experiment.run_v2" in modules
    for name in NEVER_IN_AN_IN_PROCESS_RUN + ("adapters.analytical.config_v1",
                                              "adapters.analytical.topology_v1",
                                              "orchestrator.experiment.run_v1"):
        assert not _loaded(modules, name), f"a 2.x run imported {_loaded(modules, name)}"


def test_the_installed_package_needs_no_import_hook_at_start_up():
    """An editable install of this project is a path in a .pth file, not setuptools' finder
    module, which imported pathlib, re, urllib and ipaddress into every process (about a
    fifth of a small run's start-up; pyproject.toml's package-dir says why)."""
    try:
        files = metadata.distribution("astra-cosim").files or []
    except metadata.PackageNotFoundError:
        pytest.skip("astra-cosim is not installed in this interpreter (pip install -e .)")
    finders = [str(path) for path in files if "__editable__" in str(path)
               and str(path).endswith("finder.py")]
    assert not finders, f"the editable install uses an import hook: {finders}"
    done = subprocess.run([sys.executable, "-c", "import sys; print(sorted(sys.modules))"],
                          capture_output=True, text=True, check=True, cwd=os.sep)
    assert "__editable__" not in done.stdout
    assert "'pathlib'" not in done.stdout and "'ipaddress'" not in done.stdout
