"""Build and run an ASTRA-sim 1.0 experiment (text workload, ``key: value`` system file,
network JSON).

build (read files, scale, plan the topology) -> start every NPU's loop at t = 0 in NPU order,
as 1.0's main does -> run the event queue until it drains -> check every NPU finished (a
collective that can never complete is reported, never a silent result) -> ``RunResult``.
"""

from __future__ import annotations

from typing import Any

from adapters.analytical.topology_v1 import HierarchicalTopologyV1
from orchestrator.errors import InputError
from orchestrator.experiment.implementations import implementations
from orchestrator.experiment.model import Experiment, RunOptions
from orchestrator.limits import INT64_MAX, check_bytes, check_time
from adapters.analytical.config_v1 import NetworkConfig, parse_v1_network, read_v1_network_doc
from orchestrator.cosim.placement import open_network
from orchestrator.experiment.execution import (adapter_stats, cosim_metrics,
                                               network_adapter, run_to_end)
from orchestrator.experiment.system_file import (
    SystemConfig, load_v1_system, system_from_mapping)
from orchestrator.output.instruments import Instruments, observe
from orchestrator.output.results import LayerStats, RunResult
from orchestrator.symmetry.eligibility import orbit_group
from orchestrator.symmetry.group import OrbitGroup
from orchestrator.symmetry.reduced import (SymmetryBroken, derive_counts, engine_parts,
                                           fallback_reason,
                                           reduce_context, summary)
from orchestrator.system.collective import CollectivePlanner
from orchestrator.system.costs import (V1_REDUCTION, check_endpoint_delay,
                                       endpoint_delay_cycles)
from orchestrator.system.npu import SystemContext
from orchestrator.system.scheduling.policies import OFFLINE_GREEDY, OFFLINE_GREEDY_FLEX
from orchestrator.system.scheduling.queue_levels import chunks_per_queue
from orchestrator.system.scheduling.setup import build_scheduling
from orchestrator.system.topology import break_dimension, plan_dimensions
from orchestrator.units import scale_float32
from orchestrator.workload.driver import LayerRuntime, WorkloadDriver
from orchestrator.workload.text_format import TextWorkload, load_text_workload



def _system(spec: str | dict[str, Any], source: str) -> SystemConfig:
    return load_v1_system(spec) if isinstance(spec, str) else system_from_mapping(spec, source)


def _network(spec: str | dict[str, Any], source: str) -> tuple[NetworkConfig, dict]:
    """The validated network, and its document for the adapter."""
    if isinstance(spec, str):
        doc = read_v1_network_doc(spec)
        return parse_v1_network(doc, spec), doc
    return parse_v1_network(spec, source), spec


def _scaled(value: int, scale: float, what: str, path: str, line: int) -> int:
    """``scale_float32`` for a workload field, refusing what leaves 1.0's float32 range."""
    try:
        return scale_float32(value, scale)
    except OverflowError:
        raise InputError(f"{what}: {value} x scale {scale:g} is beyond the 32-bit float "
                         "ASTRA-sim 1.0 scales in", path, line) from None


def check_ranges(workload: TextWorkload, options: RunOptions) -> None:
    """Every compute time (after compute-scale) must fit the simulated clock and every
    collective (after comm-scale) int64 bytes; a layer of 10^30 cycles or 2^70 bytes is
    refused here, naming its line, instead of stalling the synchronisation mid-run."""
    path = workload.path
    for layer in workload.layers:
        for kind, cycles in (("fwd", layer.fwd_compute_cycles), ("ig", layer.ig_compute_cycles),
                             ("wg", layer.wg_compute_cycles)):
            what = f"column {kind}_compute ({cycles} cycles)"
            check_time(_scaled(cycles, options.compute_scale, what, path, layer.line),
                       what, path, layer.line)
        check_time(layer.update_delay_cycles, "column update_delay", path, layer.line)
        for kind, spec in (("fwd", layer.fwd_comm), ("ig", layer.ig_comm), ("wg", layer.wg_comm)):
            if spec.is_none:
                continue
            what = f"column {kind}_comm_bytes ({spec.kind})"
            scaled = _scaled(spec.size_bytes, options.comm_scale, what, path, layer.line)
            if scaled > INT64_MAX:
                if scaled != spec.size_bytes:      # say where a number the file lacks came from
                    what += (f" = {spec.size_bytes} x comm-scale {options.comm_scale:g} in "
                             "1.0's 32-bit float")
                check_bytes(scaled, what, path, layer.line)


def _layer_costs(workload: TextWorkload, compute_scale: float, comm_scale: float
                 ) -> list[tuple[dict[str, int], dict[str, tuple[str, int]]]]:
    """Per layer, its scaled compute cycles and collectives: the same on every NPU, so
    worked out once and shared (read-only) by every NPU's ``LayerRuntime``."""
    costs = []
    for layer in workload.layers:
        compute = {"fwd": scale_float32(layer.fwd_compute_cycles, compute_scale),
                   "ig": scale_float32(layer.ig_compute_cycles, compute_scale),
                   "wg": scale_float32(layer.wg_compute_cycles, compute_scale)}
        comm = {kind: (spec.kind, scale_float32(spec.size_bytes, comm_scale))
                for kind, spec in (("fwd", layer.fwd_comm), ("ig", layer.ig_comm),
                                   ("wg", layer.wg_comm))}
        costs.append((compute, comm))
    return costs


def simulate_v1(experiment: Experiment, instruments: Instruments | None = None) -> RunResult:
    options = experiment.options
    if experiment.compute is not None:
        raise InputError("a compute backend times Chakra trace nodes; a 1.0 text workload "
                         "carries its compute cycles (write them from a model description with "
                         "`astra-cosim workload generate`)", experiment.source)
    if experiment.comm_group:
        raise InputError("--comm-group applies to ASTRA-sim 2.x (Chakra) workloads; a 1.0 "
                         "workload's parallelism sets its groups")
    workload = load_text_workload(experiment.workload)
    check_ranges(workload, options)
    source = experiment.source or "<experiment>"
    system = _system(experiment.system, source)
    check_endpoint_delay(system, options.injection_scale)
    network_config, network_doc = _network(experiment.network, source)
    network_model, network_adapter_doc = network_adapter(experiment, "v1", network_doc)
    topology = HierarchicalTopologyV1(network_config)
    npus_count = topology.npus_count

    physical_dims = [dim.npus for dim in network_config.dims]
    group = workload.loop_cls.model_parallel_group(workload.header)
    boundary: int | None = None
    logical_dims = physical_dims
    if group is not None:
        if group > npus_count:
            raise InputError(f"model_parallel_NPU_group is {group} but the network has only "
                             f"{npus_count} NPUs", workload.path, workload.header_line)
        try:
            boundary, logical_dims = break_dimension(physical_dims, group)
        except ValueError as exc:
            raise InputError(str(exc), workload.path, workload.header_line) from None
    split_at = boundary if logical_dims != physical_dims else None
    plans = {kind: plan_dimensions(logical_dims, names)
             for kind, names in implementations(system, logical_dims, split_at).items()}
    planner = CollectivePlanner(plans, system.collective_optimization == "localBWAware", system)
    dims = workload.loop_cls.dimensions(workload.header, boundary)
    loop_for_checks = workload.loop_cls(workload.layers, workload.header, dims)
    splits = system.preferred_dataset_splits
    for layer in workload.layers:
        for kind, spec in (("fwd", layer.fwd_comm), ("ig", layer.ig_comm), ("wg", layer.wg_comm)):
            if spec.is_none:
                continue
            planner.check(spec.kind, loop_for_checks.layer_dimensions(layer, kind))
            scaled = scale_float32(spec.size_bytes, options.comm_scale)
            if scaled // splits == 0:
                raise InputError(f"the {kind} {spec.kind} of {scaled} bytes (after comm-scale "
                                 f"{options.comm_scale:g}) is smaller than "
                                 f"preferred-dataset-splits = {splits}; each chunk would be 0 "
                                 "bytes (ASTRA-sim 1.0 loops forever here)",
                                 workload.path, layer.line)

    group, reason = None, "--symmetry off"
    if system.inter_dimension_scheduling in (OFFLINE_GREEDY, OFFLINE_GREEDY_FLEX):
        # Themis's scheduler is shared: which NPU issues a collective first decides its chunks
        reason = f"inter-dimension-scheduling {system.inter_dimension_scheduling} (Themis) " \
                 "decides chunks from the order in which all NPUs issue collectives"
    elif experiment.symmetry != "off":
        kinds_used = {spec.kind for layer in workload.layers
                      for spec in (layer.fwd_comm, layer.ig_comm, layer.wg_comm)
                      if not spec.is_none}
        group, reason = orbit_group(network_model,
                                    [(dim.topology, dim.npus) for dim in network_config.dims],
                                    logical_dims, plans, kinds_used)
    build = _Build(experiment, workload, system, network_config, network_model,
                   network_adapter_doc, planner, logical_dims, dims, npus_count, split_at)
    if group is not None:
        try:
            return build.run(group, "", instruments)
        except SymmetryBroken as exc:
            group, reason = None, fallback_reason(exc)
            if instruments is not None:
                instruments.recorder = type(instruments.recorder)()
    return build.run(None, reason, instruments)


class _Build:
    """What the checks produced; ``run`` builds the NPUs and runs them, all of them or one
    representative of a symmetric run (orchestrator/symmetry)."""

    def __init__(self, experiment: Experiment, workload: TextWorkload, system: SystemConfig,
                 network_config: NetworkConfig, network_model: str, network_doc: Any,
                 planner: CollectivePlanner, logical_dims: list[int], dims: Any,
                 npus_count: int, split_at: int | None) -> None:
        self.experiment = experiment
        self.workload = workload
        self.system = system
        self.network_config = network_config
        self.network_model = network_model
        self.network_doc = network_doc
        self.planner = planner
        self.logical_dims = logical_dims
        self.dims = dims
        self.npus_count = npus_count
        self.split_at = split_at

    def run(self, group: OrbitGroup | None, reason: str,
            instruments: Instruments | None) -> RunResult:
        experiment, workload, system = self.experiment, self.workload, self.system
        options = experiment.options
        npus_count = self.npus_count
        clock, port_class, npu_class = engine_parts(group)
        network = open_network(clock, self.network_model, self.network_doc, npus_count, "v1",
                               experiment.placement, self.network_config.path, port_class)
        queues_per_dim = options.num_queues_per_dim
        # dimension scheduling keeps state (round-robin counters, Themis's loads): per run
        ordered_chunking, queue_set = build_scheduling(
            system, self.planner, [(dim.topology, dim.npus, dim.links, dim.bandwidth_gb_per_s)
                                   for dim in self.network_config.dims],
            self.logical_dims, self.split_at, npus_count)
        context = SystemContext(
            npus_count=npus_count, queues_count=len(self.logical_dims) * queues_per_dim,
            planner=self.planner, splits=system.preferred_dataset_splits,
            active_chunks=chunks_per_queue(system.active_chunks_per_dimension, queues_per_dim),
            endpoint_delay=endpoint_delay_cycles(system.endpoint_delay,
                                                 options.injection_scale),
            policy=system.scheduling_policy, reduction_cycles=V1_REDUCTION, phase_barrier=True,
            v2_chunking=False, ordered_chunking=ordered_chunking, queue_set=queue_set,
            boost_mode=system.boost_mode == 1, queues_per_dim=queues_per_dim)
        if group is not None:
            reduce_context(context, network, group, self.network_model)
        drivers = []
        costs = _layer_costs(workload, options.compute_scale, options.comm_scale)
        for npu_id in range(1 if group is not None else npus_count):
            npu = npu_class(npu_id, context, clock, network)
            loop = workload.loop_cls(workload.layers, workload.header, self.dims)
            runtimes = [LayerRuntime(layer, compute, comm, LayerStats(layer.name))
                        for layer, (compute, comm) in zip(workload.layers, costs)]
            drivers.append(WorkloadDriver(npu, loop, runtimes, options.num_passes))
        with observe(instruments, clock, network, drivers, npus_count):
            finish_ns = run_to_end(clock, network, drivers, context, _waiting_on,
                                   reduced=group is not None)
        first = drivers[0]
        stats = adapter_stats(network)
        if group is not None:
            finish_ns = finish_ns * npus_count
            stats["network"] = derive_counts(stats["network"], network, npus_count,
                                             boost_mode=system.boost_mode == 1)
        return RunResult(
            name=experiment.name,
            input_format="v1",
            total_ns=first.finished_ns,
            finish_ns=finish_ns,
            compute_ns=first.compute_ns,
            exposed_comm_ns=first.finished_ns - first.compute_ns,
            payload_bytes=network.bytes_sent[0],
            events_processed=clock.events_processed,
            cosim=cosim_metrics(network),
            adapter_stats=stats,
            layers=[runtime.stats for runtime in first.layers],
            symmetry=summary(group, reason, npus_count),
        )


def _waiting_on(driver: WorkloadDriver) -> str:
    return ", ".join(f"layer {name} {kind} {ds.kind} ({ds.finished_streams}/"
                     f"{ds.total_streams} chunks done)"
                     for name, kind, ds in driver.outstanding()[:4])
