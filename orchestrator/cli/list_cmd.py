"""``astra-cosim list``: what can be chosen by name: training loops, collective algorithms,
network and compute backends, the platform presets of ``astra-cosim collective`` and the GPU
platforms of ``astra-cosim predict``."""

from __future__ import annotations

import argparse

from orchestrator.experiment.model import COMPUTE_BACKENDS, NETWORK_BACKENDS
from orchestrator.nccl.presets import PLATFORMS
from orchestrator.system.algorithms.base import algorithms
from orchestrator.workload.loops.base import training_loops

# one line each; the names are those of --network-backend and --compute-backend
NETWORK_SUMMARIES = {
    "analytical": "congestion-unaware analytical network (1.0 and 2.x inputs; the default)",
    "analytical-aware": "congestion-aware analytical network, FIFO links (2.x inputs)",
    "ns3": "packet-level ns-3 3.44 over TCP (pip install 'astra-cosim[ns3]')",
    "garnet": "cycle-level gem5 Garnet routers, VCs, credits (scripts/build_garnet.sh)",
}
COMPUTE_SUMMARIES = {
    "roofline": "peak TFLOP/s and memory bandwidth (2.x nodes with num_ops/tensor_size)",
    "scalesim": "SCALE-Sim 3.0 systolic array, GEMM shapes (pip install 'astra-cosim[scalesim]')",
    "gpu-roofline": "one GPU's kernels on its datasheet peak and HBM bandwidth (predict's)",
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("list", help="list training loops, collective algorithms, "
                                              "network and compute backends, platform presets",
                                 description=__doc__)
    parser.set_defaults(handler=list_command)


def _section(title: str, entries: list[tuple[str, str]]) -> None:
    print(f"{title}:")
    for name, summary in entries:
        print(f"  {name:<34} {summary}")


def list_command(_args: argparse.Namespace) -> int:
    _section("training loops (workload header token)",
             [(e.name, e.summary) for e in training_loops.entries()])
    _section("collective algorithms (system file token)",
             [(e.name, e.summary) for e in algorithms.entries()])
    _section("network backends (--network-backend)",
             [(name, NETWORK_SUMMARIES.get(name, "")) for name in NETWORK_BACKENDS])
    _section("compute backends (--compute-backend)",
             [(name, COMPUTE_SUMMARIES.get(name, "")) for name in COMPUTE_BACKENDS])
    _section("platform presets (astra-cosim collective --platform)",
             [(p.name, p.summary) for p in PLATFORMS.values()])
    from orchestrator.platforms.gpu import platform_names
    _section("GPU platforms (astra-cosim predict --platform)",
             [(name, "orchestrator/platforms/presets/" + name + ".yaml")
              for name in platform_names()])
    return 0
