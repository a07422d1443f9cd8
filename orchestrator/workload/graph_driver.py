"""Runs one NPU's Chakra execution trace with ASTRA-sim 2.x's rules (SEMANTICS §3.2).

* Only ``data_deps`` hold a node back; ready nodes wait in a min-heap by node id, and every
  completion drains the heap: nodes that can start do, the others go back for the next
  completion on this NPU.
* Hardware resource: at most one CPU op, one GPU compute and one GPU communication (collective,
  send, memory op) in flight; receives take no slot.
* COMP nodes replay ``duration_micros`` x 1000 ns (1 ns when 0), or take the compute adapter's
  time for their shape (the roofline, for 2.x's roofline-enabled); a node
  with neither runtime nor ``num_ops`` is skipped at once, as are INVALID nodes. Traces that
  astra-cosim writes also carry the exact time in ns (attribute ``duration_ns``), which is
  used when present: microseconds cannot hold 1.0's cycle counts.
* There is no workload delay: successors start in the nanosecond their parent completes.
* The NPU finishes when no node is left and nothing is in flight; exposed communication is the
  finish time minus the GPU compute time (CPU-op time is not subtracted, as upstream).

Where upstream hangs silently (a collective type without an implementation, a GPU metadata
node, a collective spanning no dimension) we raise an error naming the trace and node.
"""

from __future__ import annotations

import heapq

from adapters.base import ComputeRequest
from orchestrator.cosim.compute_port import ComputePort
from orchestrator.errors import InputError
from orchestrator.output.recorder import Recorder
from orchestrator.system.groups import CommGroup, GroupTable
from orchestrator.system.npu import Npu
from orchestrator.system.streams import DataSet
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node

COLLECTIVES = {
    chakra.CollectiveCommType.ALL_REDUCE: "ALLREDUCE",
    chakra.CollectiveCommType.ALL_GATHER: "ALLGATHER",
    chakra.CollectiveCommType.REDUCE_SCATTER: "REDUCESCATTER",
    chakra.CollectiveCommType.ALL_TO_ALL: "ALLTOALL",
}
DEFAULT_INVOLVED_DIMS = (True, True, True, True)

CPU, GPU_COMPUTE, GPU_COMM, NO_SLOT = range(4)


class GraphDriver:
    """One NPU executing its execution trace."""

    def __init__(self, npu: Npu, trace: chakra.Trace, *, compute: ComputePort | None,
                 comm_scale: float = 1.0,
                 replay_only: bool = False, groups: GroupTable | None = None) -> None:
        self.npu = npu
        self.trace = trace
        self.compute = compute
        self.comm_scale = comm_scale
        self.replay_only = replay_only
        self.groups = groups
        self._nodes: dict[int, Node] = {}
        self._pending_deps: dict[int, list[int]] = {}
        self._children: dict[int, list[int]] = {}
        self._ready: list[int] = []
        self._busy = [0, 0, 0]
        self.gpu_compute_ns = 0
        self.cpu_compute_ns = 0
        self.finished_ns: int | None = None
        self._complete = self.complete
        self.recorder: Recorder | None = None      # statistics / trace hook, per node
        self._load(trace)

    def _load(self, trace: chakra.Trace) -> None:
        for node in trace.nodes:
            if node.id in self._nodes:
                raise InputError(f"node id {node.id} appears twice", trace.path)
            self._nodes[node.id] = node
        for node in trace.nodes:
            deps = list(node.data_deps)
            if len(set(deps)) != len(deps):
                twice = next(d for d in deps if deps.count(d) > 1)
                raise InputError(f"node {node.id} ({node.name!r}) lists dependency {twice} twice "
                                 "(upstream clears one per completion and would wait forever)",
                                 trace.path)
            self._pending_deps[node.id] = deps
            for parent in deps:
                if parent not in self._nodes:
                    raise InputError(f"node {node.id} ({node.name!r}) depends on node {parent}, "
                                     "which is not in the trace (upstream would wait forever)",
                                     trace.path)
                children = self._children.setdefault(parent, [])
                if node.id not in children:
                    children.append(node.id)
            if not deps:
                self._ready.append(node.id)
        heapq.heapify(self._ready)
        cycle = self._nodes_on_cycles()
        if cycle:
            shown = ", ".join(str(node_id) for node_id in cycle[:8])
            raise InputError(f"dependency cycle: nodes {shown}{' ...' if len(cycle) > 8 else ''} "
                             "depend on each other (upstream would wait forever)", trace.path)

    def _nodes_on_cycles(self) -> list[int]:
        """Nodes on dependency cycles: what Kahn's algorithm cannot order, minus the nodes that
        merely hang below a cycle (peeled off from the bottom)."""
        waiting = {node_id: len(deps) for node_id, deps in self._pending_deps.items()}
        ready = [node_id for node_id, count in waiting.items() if count == 0]
        while ready:
            node_id = ready.pop()
            for child in self._children.get(node_id, ()):
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        stuck = {node_id for node_id, count in waiting.items() if count > 0}
        changed = True
        while changed:
            changed = False
            for node_id in list(stuck):
                if not any(child in stuck for child in self._children.get(node_id, ())):
                    stuck.discard(node_id)
                    changed = True
        return sorted(stuck)

    # -- slots ------------------------------------------------------------------------------
    def _slot(self, node: Node) -> int:
        if self._is_cpu_op(node):
            return CPU
        if node.type == chakra.NodeType.COMP_NODE:
            return GPU_COMPUTE
        if node.type == chakra.NodeType.COMM_RECV_NODE:
            return NO_SLOT
        return GPU_COMM

    def _is_cpu_op(self, node: Node) -> bool:
        return chakra.bool_attribute(node, "is_cpu_op", self.trace.path)

    # -- running ----------------------------------------------------------------------------
    def start(self) -> None:
        self._issue_ready()
        self._check_finished()

    def complete(self, node_id: int) -> None:
        """A node finished: free its slot and children, issue what is ready."""
        node = self._nodes[node_id]
        slot = self._slot(node)
        if slot != NO_SLOT:
            self._busy[slot] -= 1
        self._free_children(node_id)
        self._issue_ready()
        del self._nodes[node_id]
        self._check_finished()

    def _free_children(self, node_id: int) -> None:
        for child in self._children.pop(node_id, ()):
            deps = self._pending_deps[child]
            deps.remove(node_id)
            if not deps:
                heapq.heappush(self._ready, child)

    def _issue_ready(self) -> None:
        held = []
        ready = self._ready
        while ready:
            node_id = heapq.heappop(ready)
            node = self._nodes[node_id]
            slot = self._slot(node)
            if slot != NO_SLOT and self._busy[slot]:
                held.append(node_id)
            else:
                self._issue(node, slot)
        for node_id in held:
            heapq.heappush(ready, node_id)

    def _skip(self, node: Node) -> None:
        self._free_children(node.id)
        del self._nodes[node.id]

    def _issue(self, node: Node, slot: int) -> None:
        kind = node.type
        path = self.trace.path
        if self.replay_only:
            # replay-only: every node, communication included, takes its recorded duration
            self._busy[slot if slot != NO_SLOT else GPU_COMM] += 1
            runtime = self._replay_ns(node)
            if slot == CPU:
                self.cpu_compute_ns += runtime
            else:
                self.gpu_compute_ns += runtime
            self.npu.register_event(runtime, self._complete, node.id)
            return
        if kind == chakra.NodeType.INVALID_NODE:
            self._skip(node)
            return
        if slot == CPU or kind == chakra.NodeType.COMP_NODE:
            request = self.compute_request(node) if self.compute is not None else None
            # upstream skips a node with neither a runtime nor num_ops; one that carries a
            # shape a compute model times is not empty
            if request is None and node.duration_micros == 0 and \
                    not chakra.int_attribute(node, "num_ops", path) and \
                    not chakra.int_attribute(node, chakra.DURATION_NS, path):
                self._skip(node)
                return
            runtime = self.compute.duration_ns(request) if request is not None \
                else self._replay_ns(node)
            self._busy[slot] += 1
            if slot == CPU:
                self.cpu_compute_ns += runtime
            else:
                self.gpu_compute_ns += runtime
            if self.recorder is not None:
                self.recorder.compute_span(self.npu.id, self.npu.now_ns, runtime, node.name,
                                           "cpu" if slot == CPU else "gpu")
            self.npu.register_event(runtime, self._complete, node.id)
            return
        if kind == chakra.NodeType.COMM_COLL_NODE:
            self._issue_collective(node, slot)
            return
        if kind in (chakra.NodeType.COMM_SEND_NODE, chakra.NodeType.COMM_RECV_NODE):
            self._issue_point_to_point(node, slot)
            return
        raise InputError(f"node {node.id} ({node.name!r}): {chakra.NodeType.Name(kind)} is not "
                         "supported (upstream never completes it and prints no result)", path)

    def compute_request(self, node: Node) -> ComputeRequest | None:
        """What a compute adapter is asked for a COMP node: its GEMM when the node carries
        ``gemm_m``/``gemm_n``/``gemm_k``, else its ``num_ops`` and ``tensor_size`` (2.x's
        roofline inputs); None for a node without a shape (its recorded time is replayed)."""
        path = self.trace.path
        m = chakra.int_attribute(node, "gemm_m", path)
        if m:
            return ComputeRequest.gemm(m, chakra.int_attribute(node, "gemm_n", path),
                                       chakra.int_attribute(node, "gemm_k", path))
        num_ops = chakra.int_attribute(node, "num_ops", path)
        if num_ops:
            return ComputeRequest.ops(num_ops, chakra.int_attribute(node, "tensor_size", path))
        return None

    def compute_requests(self) -> list[ComputeRequest]:
        """The shapes of this NPU's compute nodes, for prefetching their durations."""
        requests = []
        for node in self._nodes.values():
            if node.type == chakra.NodeType.COMP_NODE or self._is_cpu_op(node):
                request = self.compute_request(node)
                if request is not None:
                    requests.append(request)
        return requests

    def _issue_collective(self, node: Node, slot: int) -> None:
        path = self.trace.path
        comm_type = chakra.int_attribute(node, "comm_type", path)
        size = self._comm_size(node)
        self._busy[slot] += 1
        if comm_type == chakra.CollectiveCommType.BROADCAST:
            self.npu.register_event(self._replay_ns(node), self._complete, node.id)
            return
        collective = COLLECTIVES.get(comm_type)
        if collective is None:
            name = chakra.CollectiveCommType.Name(comm_type) \
                if comm_type in chakra.CollectiveCommType.values() else str(comm_type)
            raise InputError(f"node {node.id} ({node.name!r}): collective {name} has no "
                             "implementation in ASTRA-sim 2.x (upstream hangs without a result); "
                             f"supported: {', '.join(sorted(COLLECTIVES.values()))}, BROADCAST",
                             path)
        involved = chakra.bool_list_attribute(node, "involved_dim", path) or DEFAULT_INVOLVED_DIMS
        priority = chakra.int_attribute(node, "comm_priority", path)
        dataset = self.npu.generate_collective(collective, size, involved, "EXPLICIT",
                                               self._collective_done, node.id,
                                               explicit_priority=priority,
                                               group=self._group(node))
        if dataset is None:
            raise InputError(f"node {node.id} ({node.name!r}): the {collective} spans no "
                             f"dimension with more than one NPU (involved_dim {list(involved)}); "
                             "upstream hangs here", path)

    def _replay_ns(self, node: Node) -> int:
        """The recorded duration: ``duration_micros`` x 1000 (at least 1 ns), or the exact ns of
        astra-cosim's ``duration_ns`` attribute when a trace carries one."""
        exact = chakra.attribute(node, chakra.DURATION_NS)
        if exact is not None:
            return chakra.int_attribute(node, chakra.DURATION_NS, self.trace.path) or 1
        return node.duration_micros * 1000 or 1

    def _comm_size(self, node: Node) -> int:
        size = chakra.int_attribute(node, "comm_size", self.trace.path)
        return size if self.comm_scale == 1 else int(size * self.comm_scale)

    def _group(self, node: Node) -> CommGroup | None:
        """The node's ``pg_name`` group if it names one, else the NPU's group, if any."""
        if self.groups is None:
            return None
        attr = chakra.attribute(node, "pg_name")
        name = attr.string_val if attr is not None and attr.WhichOneof("value") == "string_val" \
            else ""
        group = self.groups.by_name.get(name) if name else None
        if group is None:
            return self.groups.default_of.get(self.npu.id)
        if self.npu.id not in group.members:
            raise InputError(f"node {node.id} ({node.name!r}) runs in group {name!r}, which "
                             f"does not contain NPU {self.npu.id}", self.trace.path)
        return group

    def _collective_done(self, dataset: DataSet) -> None:
        if self.recorder is not None:
            name = self._nodes[dataset.context].name
            self.recorder.collective_done(self.npu.id, dataset, name, name)
        self.complete(dataset.context)

    def _issue_point_to_point(self, node: Node, slot: int) -> None:
        path = self.trace.path
        size = self._comm_size(node)
        tag = chakra.int_attribute(node, "comm_tag", path)
        if slot != NO_SLOT:
            self._busy[slot] += 1
        network = self.npu.network
        if node.type == chakra.NodeType.COMM_SEND_NODE:
            dst = chakra.int_attribute(node, "comm_dst", path)
            network.send(self.npu.id, dst, size, tag, self._complete, node.id)
        else:
            src = chakra.int_attribute(node, "comm_src", path)
            network.recv(src, self.npu.id, size, tag, self._complete, node.id)

    def _check_finished(self) -> None:
        if self.finished_ns is None and not self._nodes and not any(self._busy):
            self.finished_ns = self.npu.now_ns

    @property
    def exposed_comm_ns(self) -> int:
        assert self.finished_ns is not None
        return self.finished_ns - self.gpu_compute_ns

    def outstanding(self) -> list[str]:
        return [f"{n.id} {n.name!r}" for n in self._nodes.values()]

    def nodes_left(self) -> int:
        """How many nodes have not completed. Safe from another thread while the run goes on
        (the progress display's): a length is read at once, a listing iterates the dict the
        run is changing."""
        return len(self._nodes)
