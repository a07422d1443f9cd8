"""Build and run an ASTRA-sim 2.x experiment: Chakra traces ``<prefix>.<npu>.et``, a JSON system
file and a YAML network, on the congestion-unaware or congestion-aware analytical network.

2.x rules on top of the shared system layer (SEMANTICS §4): no phase barrier, reduction cost
3·floor(m / local-mem-bw), a chunk is at least one byte per NPU (except all-gather) and the last
chunk is not shrunk, localBWAware's all-gather phases run anticlockwise.
Reported as 2.x does: total = the last NPU to finish; NPU 0's compute and exposed time.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any

from adapters.analytical.config_v2 import NetworkConfigV2, parse_v2_network, read_v2_network_doc
from orchestrator.cosim.placement import open_compute_port, open_network
from orchestrator.errors import InputError, SimulationError
from orchestrator.experiment.execution import (adapter_stats, cosim_metrics,
                                               network_adapter, run_to_end)
from orchestrator.experiment.model import ComputeChoice, Experiment
from orchestrator.experiment.implementations import implementations
from orchestrator.experiment.system_json import load_v2_system, parse_v2_system
from orchestrator.output.instruments import Instruments, observe
from orchestrator.output.results import RunResult
from orchestrator.system.collective import CollectivePlanner
from orchestrator.system.config import SystemConfig
from orchestrator.system.costs import (ReductionCost, check_endpoint_delay,
                                       endpoint_delay_cycles)
from orchestrator.system.groups import load_groups
from orchestrator.system.npu import SystemContext
from orchestrator.system.topology import plan_dimensions
from orchestrator.workload import chakra
from orchestrator.workload.graph_driver import COLLECTIVES, GraphDriver
from orchestrator.symmetry.eligibility import orbit_group
from orchestrator.symmetry.group import OrbitGroup
from orchestrator.symmetry.reduced import (SymmetryBroken, derive_counts, engine_parts,
                                           fallback_reason,
                                           orbit_document, reduce_context, summary)
from orchestrator.symmetry.traces import why_traces_differ
from orchestrator.workload.trace_check import check_traces


def _compute_choice(experiment: Experiment, system: SystemConfig) -> ComputeChoice | None:
    """The compute adapter: the experiment's, or 2.x's roofline when the system file enables
    it; a roofline without its own settings takes the system file's peak-perf and
    local-mem-bw."""
    choice = experiment.compute
    if choice is None:
        if not system.roofline_enabled:
            return None
        where = experiment.placement       # the network's placement, without its endpoint
        choice = ComputeChoice("roofline", {}, dataclasses.replace(where, endpoint=None))
    if choice.backend == "roofline" and not choice.config:
        if not system.local_mem_bw_gb_per_s or not system.peak_perf_tflops:
            raise InputError("the roofline compute model needs local-mem-bw and peak-perf in "
                             "the system file (or a compute config)", system.path)
        return ComputeChoice("roofline", {"peak_tflops": system.peak_perf_tflops,
                                          "local_mem_bw_gb_per_s":
                                              system.local_mem_bw_gb_per_s},
                             choice.placement)
    return choice


def _system(spec: str | dict[str, Any], source: str) -> SystemConfig:
    return load_v2_system(spec) if isinstance(spec, str) else parse_v2_system(spec, source)


def _network(spec: str | dict[str, Any], source: str) -> tuple[NetworkConfigV2, Any]:
    """The validated network, and its document for the adapter."""
    if isinstance(spec, str):
        doc = read_v2_network_doc(spec)
        return parse_v2_network(doc, spec), doc
    return parse_v2_network(spec, source), spec


class _MissingMemoryBandwidth:
    """The reduction cost when the system file sets no local-mem-bw: upstream divides by
    zero there; we stop with an error the first time a reduction is charged."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, size_bytes: int) -> int:
        raise InputError("local-mem-bw is not set but this run reduces data; set it in GB/s "
                         "(e.g. \"local-mem-bw\": 1600)", self.path)


def simulate_v2(experiment: Experiment, instruments: Instruments | None = None) -> RunResult:
    options = experiment.options
    source = experiment.source or "<experiment>"
    if options.num_passes != 1:
        raise InputError("--num-passes applies to 1.0 text workloads; a Chakra trace describes "
                         "its iterations itself")
    if options.num_queues_per_dim != 1:
        raise InputError(f"--num-queues-per-dim {options.num_queues_per_dim}: astra-cosim "
                         "models several queues per dimension for ASTRA-sim 1.0 inputs only; "
                         "2.x inputs run with 1")
    if options.compute_scale != 1:
        warnings.warn("--compute-scale is not used by ASTRA-sim 2.x; compute times come from "
                      "the traces", stacklevel=2)
    system = _system(experiment.system, source)
    check_endpoint_delay(system, options.injection_scale)
    network_config, network_doc = _network(experiment.network, source)
    model, adapter_doc = network_adapter(experiment, "v2", network_doc)
    npus_count = network_config.npus_count
    prefix = experiment.workload
    for npu in range(npus_count):
        if not os.path.isfile(chakra.trace_path(prefix, npu)):
            raise InputError(f"missing execution trace for NPU {npu}: the network has "
                             f"{npus_count} NPUs, so {prefix}.0.et ... {prefix}.{npus_count - 1}.et "
                             "are needed", chakra.trace_path(prefix, npu))
    extra = [rank for rank in chakra.trace_ranks(prefix) if rank >= npus_count]
    if extra:
        raise InputError(f"execution trace {chakra.trace_path(prefix, extra[0])} is for NPU "
                         f"{extra[0]} but the network has {npus_count} NPUs (0 to "
                         f"{npus_count - 1}); expected one trace per NPU (the extra ranks would "
                         "be ignored)", network_config.path)
    groups = load_groups(experiment.comm_group, npus_count) if experiment.comm_group else None

    dims = [dim.npus for dim in network_config.dims]
    plans = {kind: plan_dimensions(dims, names)
             for kind, names in implementations(system, dims, None).items()}
    planner = CollectivePlanner(plans, system.collective_optimization == "localBWAware", system,
                                gather_anticlockwise=True)
    reduction = (ReductionCost(system.local_mem_bw_gb_per_s) if system.local_mem_bw_gb_per_s
                 else _MissingMemoryBandwidth(system.path))
    compute_choice = _compute_choice(experiment, system)

    group, reason = None, "--symmetry off"
    if experiment.symmetry != "off":
        # node names appear only in the spans of a trace: they must agree when the trace
        # shows other NPUs than NPU 0, whose spans a reduced run copies
        names_shown = instruments is not None and bool(
            instruments.traced(npus_count) - {0})
        group, reason = _orbit_group(experiment, model, network_config, dims, plans, groups,
                                     names_shown)
    if group is not None:
        try:
            return _execute(experiment, instruments, group, "", npus_count, model, adapter_doc,
                            network_config, system, planner, reduction, compute_choice, groups)
        except SymmetryBroken as exc:
            group, reason = None, fallback_reason(exc)
            if instruments is not None:
                instruments.recorder = type(instruments.recorder)()
    return _execute(experiment, instruments, None, reason, npus_count, model, adapter_doc,
                    network_config, system, planner, reduction, compute_choice, groups)


def _orbit_group(experiment: Experiment, model: str, network_config: NetworkConfigV2,
                 dims: list[int], plans: dict, groups: Any, names_shown: bool
                 ) -> tuple[OrbitGroup | None, str]:
    """The group to reduce this run by (orchestrator/symmetry), or None and why not."""
    if groups is not None:
        return None, "communicator groups are given"
    first = chakra.read_trace(chakra.trace_path(experiment.workload, 0))
    kinds = {COLLECTIVES.get(chakra.int_attribute(node, "comm_type", first.path))
             for node in first.nodes if node.type == chakra.NodeType.COMM_COLL_NODE}
    group, reason = orbit_group(model, [(dim.topology, dim.npus) for dim in network_config.dims],
                                dims, plans, {kind for kind in kinds if kind})
    if group is None:
        return None, reason
    differ = why_traces_differ(experiment.workload, network_config.npus_count, names_shown)
    return (None, differ) if differ else (group, "")


def _execute(experiment: Experiment, instruments: Instruments | None, group: OrbitGroup | None,
             reason: str, npus_count: int, model: str, adapter_doc: Any,
             network_config: NetworkConfigV2, system: SystemConfig,
             planner: CollectivePlanner, reduction: Any, compute_choice: ComputeChoice | None,
             groups: Any) -> RunResult:
    """Build the NPUs (all, or NPU 0 of a symmetric run) and run them to the end."""
    options = experiment.options
    prefix = experiment.workload
    simulated = 1 if group is not None else npus_count
    traces = [chakra.read_trace(chakra.trace_path(prefix, npu)) for npu in range(simulated)]
    # a reduced run's traces are NPU 0's up to numbering, without SEND/RECV: checking NPU 0's
    # checks them all
    check_traces(traces, npus_count, options.comm_scale, system.replay_only)
    clock, port_class, npu_class = engine_parts(group)
    network = open_network(clock, model, orbit_document(adapter_doc, group, model), npus_count,
                           "v2", experiment.placement, network_config.path, port_class)
    compute = None
    if compute_choice is not None and not system.replay_only:
        try:
            compute = open_compute_port(clock, compute_choice.backend, compute_choice.config,
                                        compute_choice.placement, experiment.source or
                                        "<experiment>")
        except BaseException:
            network.client.close()
            raise
    context = SystemContext(
        npus_count=npus_count, queues_count=len(network_config.dims), planner=planner,
        splits=system.preferred_dataset_splits, active_chunks=system.active_chunks_per_dimension,
        endpoint_delay=endpoint_delay_cycles(system.endpoint_delay, options.injection_scale),
        policy=system.scheduling_policy, reduction_cycles=reduction, phase_barrier=False,
        v2_chunking=True)
    if group is not None:
        reduce_context(context, network, group, model)
    drivers = [GraphDriver(npu_class(npu_id, context, clock, network), trace, compute=compute,
                           comm_scale=options.comm_scale, replay_only=system.replay_only,
                           groups=groups)
               for npu_id, trace in enumerate(traces)]
    if instruments is not None:
        instruments.link_gb_per_s = [dim.bandwidth_gb_per_s for dim in network_config.dims]
    if compute is not None:
        try:
            compute.prefetch(request for driver in drivers
                             for request in driver.compute_requests())
        except BaseException:
            network.client.close()
            compute.client.close()
            raise
    try:
        with observe(instruments, clock, network, drivers, npus_count):
            finish_ns = run_to_end(clock, network, drivers, context,
                                   lambda driver: "nodes " + ", ".join(driver.outstanding()[:4]),
                                   compute, reduced=group is not None)
    except SimulationError as exc:
        stuck = next(d for d in drivers if d.finished_ns is None)
        raise SimulationError(f"{stuck.trace.path}: {exc}") from None
    first = drivers[0]
    stats = adapter_stats(network, compute)
    if group is not None:
        finish_ns = finish_ns * npus_count
        stats["network"] = derive_counts(stats["network"], network, npus_count)
    return RunResult(
        name=experiment.name,
        input_format="v2",
        total_ns=max(finish_ns),
        finish_ns=finish_ns,
        compute_ns=first.gpu_compute_ns,
        exposed_comm_ns=first.exposed_comm_ns,
        payload_bytes=network.bytes_sent[0],
        events_processed=clock.events_processed,
        cosim=cosim_metrics(network, compute),
        adapter_stats=stats,
        symmetry=summary(group, reason, npus_count),
    )
