"""Where an adapter runs, and how the engine reaches it (SimBricks' "where").

* ``inprocess`` (default): the model is called directly; same rounds, no sockets.
* ``process``: the engine starts ``astra-cosim adapter serve KIND`` as a child and talks
  protos/cosim.proto to it, on a loopback TCP port, (``transport: ipc``) a Unix socket or
  (``transport: pipe``, the fastest: no ZeroMQ) a socket pair only the two of them hold.
* an endpoint (``tcp://host:port``, ``ipc://path``): an adapter server started elsewhere, e.g.
  a container.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.base import ComputeModel, ComputeRequest
from adapters.registry import PURE_NETWORK_MODELS, build_compute, build_network
from orchestrator.cosim.inprocess import AdapterError, InProcessClient, InProcessComputeClient
from orchestrator.cosim.compute_port import ComputePort
from orchestrator.cosim.port import NetworkPort
from orchestrator.engine.clock import EventQueue
from orchestrator.errors import InputError

if TYPE_CHECKING:
    from orchestrator.cosim.client import AdapterClient

PLACEMENTS = ("inprocess", "process")
TRANSPORTS = ("tcp", "ipc", "pipe")


@dataclass(frozen=True, slots=True)
class AdapterPlacement:
    placement: str = "inprocess"
    endpoint: str | None = None        # a running adapter server; overrides placement
    timeout_s: float = 30.0
    transport: str = "tcp"             # for placement "process": tcp loopback, ipc or pipe
    key_file: str | None = None        # CURVE key of a running adapter server (keys.py)
    key_origin: str = "--adapter-key"  # where key_file was given, for its errors


def _connect(kind: str, model: str, config: dict[str, Any], where: AdapterPlacement,
             clock_now) -> tuple[AdapterClient, Any]:
    """A handshaken client for an adapter out of process, and its Configured answer."""
    # ZeroMQ, protobuf, sockets and key files only for a run that has an adapter out of process
    from orchestrator.cosim import keys
    from orchestrator.cosim.client import PipeClient, ZmqClient
    from orchestrator.cosim.endpoints import check_resolvable
    from orchestrator.cosim.spawn import spawn_adapter
    if where.endpoint is None and where.placement not in PLACEMENTS:
        raise InputError(f"--placement: found {where.placement!r}; expected one of "
                         f"{', '.join(PLACEMENTS)}")
    if where.transport not in TRANSPORTS:
        raise InputError(f"transport: found {where.transport!r}; expected one of "
                         f"{', '.join(TRANSPORTS)}")
    process = channel = None
    endpoint = where.endpoint
    if endpoint is not None:
        check_resolvable(endpoint, kind)
    else:
        endpoint, process, channel = spawn_adapter(kind, where.timeout_s, where.transport,
                                                   model)
    client: AdapterClient
    if channel is not None:
        client = PipeClient(channel, f"{model} {kind}", where.timeout_s, process,
                            clock_now=clock_now)
    else:
        # a spawned child listens on loopback for this engine alone: it needs no key
        key_file = keys.key_file(where.key_file) if process is None else None
        origin = where.key_origin if where.key_file else f"${keys.ENV_KEY}"
        client = ZmqClient(endpoint, f"{model} {kind}", where.timeout_s, process,
                           clock_now=clock_now, key_file=key_file, key_origin=origin)
    try:
        return client, client.handshake(model, json.dumps(config))
    except BaseException:
        client.close()
        raise


def open_network(clock: EventQueue, model: str, config: dict[str, Any], npus_count: int,
                 semantics: str, where: AdapterPlacement, source: str,
                 port_class: type[NetworkPort] = NetworkPort) -> NetworkPort:
    """Connect the engine's network port (``port_class``: the reduced run's differs) to the
    model, wherever it is placed."""
    if where.endpoint is None and where.placement == "inprocess":
        network_model = build_network(model, config, source)
        port = port_class(clock, InProcessClient(network_model), network_model.lookahead_ns,
                          npus_count, semantics, network_model.decides_at_injection)
        if model in PURE_NETWORK_MODELS:
            port.reuse_delays()
        return port
    client, configured = _connect("network", model, config, where, lambda: clock.now_ns)
    try:
        port = port_class(clock, client, configured.lookahead_ns, npus_count, semantics,
                          configured.decides_at_injection)
    except BaseException:
        client.close()
        raise
    if configured.pure:
        port.reuse_delays()
    return port


def open_compute_port(clock: EventQueue, model: str, config: dict[str, Any],
                      where: AdapterPlacement, source: str) -> ComputePort:
    """Connect the engine's compute port to the model, wherever it is placed."""
    if where.endpoint is None and where.placement == "inprocess":
        compute_model = build_compute(model, config, source)
        return ComputePort(clock, InProcessComputeClient(compute_model), compute_model.pure)
    client, configured = _connect("compute", model, config, where, lambda: clock.now_ns)
    return ComputePort(clock, client, configured.pure)   # closes the client if it refuses


class RemoteComputeModel(ComputeModel):
    """A compute adapter out of process, used outside a simulation (e.g. by the workload
    generator): every ``durations_ns`` call is one round; ``close()`` ends the adapter."""

    def __init__(self, client: AdapterClient, pure: bool) -> None:
        self.client = client
        self.pure = pure
        self._next_op = 0

    def duration_ns(self, request: ComputeRequest) -> int:
        return self.durations_ns([request])[0]

    def durations_ns(self, requests: list[ComputeRequest]) -> list[int]:
        first = self._next_op
        self._next_op += len(requests)
        batch = [(first + index, 0, request) for index, request in enumerate(requests)]
        answered = dict(self.client.compute_round(0, batch))
        return [answered[op] for op, _, _ in batch]

    def stats(self) -> dict[str, float]:
        return self.client.final_stats

    def close(self) -> None:
        self.client.close()


def open_compute(model: str, config: dict[str, Any], where: AdapterPlacement,
                 source: str) -> ComputeModel:
    """A compute model to call directly, wherever it is placed. Close an out-of-process one
    with ``close()`` (in-process models need no closing; ``close`` is absent there)."""
    if where.endpoint is None and where.placement == "inprocess":
        return build_compute(model, config, source)
    client, configured = _connect("compute", model, config, where, lambda: 0)
    return RemoteComputeModel(client, configured.pure)


__all__ = ["AdapterError", "AdapterPlacement", "PLACEMENTS", "TRANSPORTS", "open_compute",
           "open_compute_port", "open_network"]
